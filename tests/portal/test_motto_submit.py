"""``portal.mottos.motto_submit`` decides itself who may submit a household's motto: before, only the page route
checked (a resident, for their own household), so any other caller of the service could submit for anyone."""

import pytest

from points.exceptions import OutOfScope
from portal.models import FamilyMottoPage
from portal.mottos import MSG_NOT_YOURS, motto_submit

pytestmark = pytest.mark.django_db


def submit(cast, site_pages, user, household):
    return motto_submit(index=site_pages.motto_index, user=user, household=household, motto="耕读传家，孝悌为本")


@pytest.mark.parametrize(
    ("who", "household"),
    [
        ("resident_a", "household_a2"),  # a resident, for another household of the same village
        ("resident_a", "household_b"),  # a resident, for a household of another village
        ("stranger", "household_a"),  # signed in, but no resident and no staff
        ("storekeeper_a", "household_a"),  # staff of the village who files no claims
        ("committee_b", "household_a"),  # staff of another village
    ],
)
def test_the_service_refuses_anyone_else(cast, site_pages, who, household):
    before = FamilyMottoPage.objects.count()
    with pytest.raises(OutOfScope) as refused:
        submit(cast, site_pages, cast[who], cast[household])
    assert str(refused.value.message) == str(MSG_NOT_YOURS)
    assert FamilyMottoPage.objects.count() == before


def test_the_service_refuses_an_anonymous_user(cast, site_pages):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(OutOfScope):
        submit(cast, site_pages, AnonymousUser(), cast.household_a)


def test_a_resident_submits_for_their_own_household(cast, site_pages):
    page = submit(cast, site_pages, cast.resident_a, cast.household_a)
    assert page.household == cast.household_a and not page.live


@pytest.mark.parametrize("who", ["committee_a", "grid_worker_a"])
def test_the_villages_staff_submit_for_a_household_without_a_phone(cast, site_pages, who):
    page = submit(cast, site_pages, cast[who], cast.household_a2)
    assert page.household == cast.household_a2 and not page.live

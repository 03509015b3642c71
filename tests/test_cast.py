"""The shared cast (tests/conftest.py): built once per worker, the same rows for every test, fresh objects per
test, and back after a transactional test's flush."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from wagtail.models import Collection, Page

from points.models import Household, Village

from .factories import shared_cast


def test_each_test_gets_its_own_copies_of_the_same_rows(cast):
    again = shared_cast()
    assert cast.village_a is not again["village_a"] and cast.village_a.pk == again["village_a"].pk
    # One copy per test, not per object: a household still points at the village object of the same copy.
    assert cast.household_a.village_id == cast.village_a.pk
    cast.village_a.name = "改了名"  # in memory only: the next test's copy, and the row, keep the name
    assert Village.objects.get(pk=cast.village_a.pk).name == again["village_a"].name != "改了名"


@pytest.mark.django_db(transaction=True)
def test_a_flush_puts_back_the_migrations_rows_and_the_cast_with_their_keys(cast):
    call_command("flush", interactive=False, verbosity=0)
    assert get_user_model().objects.get(pk=cast.committee_a.pk).username == "committee_a"
    assert Household.objects.filter(pk=cast.household_a.pk, head_name="张三丰").exists()
    assert Page.objects.filter(depth=1).exists()  # Wagtail's root page, made by a migration
    Village.objects.create(township=cast.township, name="新村", code="XC01")  # the key sequence is past the rows


def test_without_cast_is_the_database_as_the_migrations_left_it(without_cast):
    assert not Village.objects.exists() and not get_user_model().objects.exists()
    assert Page.objects.filter(depth=1).exists()
    Collection.get_first_root_node().add_child(name="新的")  # the key sequences are past the restored rows

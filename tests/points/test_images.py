"""Uploaded photos (points/images.py): re-encoded from their pixels, renamed, kept private, handed out only by
scoped views with the right headers (issue 12, hole 1: a PNG carrying <script> in a text chunk, named
evidence.html, was served as text/html from the site's own origin to the committee reviewing the claim)."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, PngImagePlugin

from campaigns.models import Campaign, Nomination
from campaigns.services import campaign_advance, campaign_create, nomination_review, nomination_submit
from points import clock
from points.images import MAX_SIDE, photo_clean
from points.ledger.claims import claim_submit
from points.models import ClaimPhoto, RubricCategory, RubricItem

pytestmark = pytest.mark.django_db
SCRIPT = b"<script>fetch('/admin/register/households/1/password/',{method:'POST'})</script>"


def hostile_png(name="evidence.html") -> SimpleUploadedFile:
    """A real PNG that also carries a script in a text chunk, under an HTML name: what an attacker uploads."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 60)).save(buffer, format="PNG", pnginfo=info)
    assert SCRIPT in buffer.getvalue()
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="text/html")


def phone_jpeg(size=(4000, 3000)) -> SimpleUploadedFile:
    """A phone-sized JPEG with EXIF (a GPS position, a camera): several megabytes, as phones send them."""
    image = Image.effect_noise(size, 60).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "HeheCam"  # Make
    exif[0x8825] = {2: (30.0, 40.0, 50.0), 4: (120.0, 10.0, 5.0)}  # GPS latitude and longitude
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, exif=exif)
    return SimpleUploadedFile("IMG_0001.JPG", buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def rubric_item(cast):
    category = RubricCategory.objects.create(name="孝老爱亲", order=1)
    return RubricItem.objects.create(category=category, district=cast.district, name="见义勇为", points=20)


@pytest.fixture
def claim_photo(cast, rubric_item, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "public")
    claim = claim_submit(
        actor=cast.resident_a,
        household=cast.household_a,
        rubric_item=rubric_item,
        text="救起落水儿童",
        photos=[hostile_png()],
    )
    return claim.photos.get()


# --- what is stored ----------------------------------------------------------------------------------------------


def test_a_hostile_png_is_stored_as_pixels_only_under_a_random_png_name(claim_photo):
    name = claim_photo.image.name
    assert re.fullmatch(r"claims/\d{4}/\d{2}/[0-9a-f]{32}\.png", name), name
    stored = claim_photo.image.open("rb").read()
    claim_photo.image.close()
    assert b"<script" not in stored and b"evidence" not in stored and b"Comment" not in stored
    assert Image.open(io.BytesIO(stored)).size == (40, 30)


def test_restricted_photos_live_outside_media_root_and_have_no_url(claim_photo):
    path = Path(claim_photo.image.path)
    assert path.is_file()
    assert Path(settings.PRIVATE_MEDIA_ROOT) in path.parents
    assert Path(settings.MEDIA_ROOT) not in path.parents
    with pytest.raises(ValueError):
        claim_photo.image.url  # noqa: B018  (no URL can leak into a page)


def test_a_phone_photo_over_the_old_limit_is_shrunk_and_loses_its_exif():
    upload = phone_jpeg()
    assert upload.size > 5 * 1024 * 1024  # refused before; 3–8 MB is what phones send

    cleaned = photo_clean(upload)

    image = Image.open(io.BytesIO(cleaned.read()))
    assert image.format == "JPEG" and max(image.size) == MAX_SIDE
    assert not image.getexif()  # no GPS position of a resident's home, no camera
    assert cleaned.name.endswith(".jpg") and "IMG_0001" not in cleaned.name


@pytest.mark.parametrize(
    "content",
    [b"<html><script>alert(1)</script></html>", b"GIF89a" + SCRIPT, b"\x89PNG\r\n\x1a\n" + SCRIPT],
    ids=["html", "gif-header-then-script", "png-header-then-script"],
)
def test_what_is_not_a_picture_is_refused(content):
    with pytest.raises(ValidationError):
        photo_clean(SimpleUploadedFile("x.png", content, content_type="image/png"))


# --- how it is handed out ----------------------------------------------------------------------------------------


def photo_url(photo):
    return reverse("points_ledger_claim_photo", args=[photo.claim_id, photo.pk])


def test_the_reviewing_committee_gets_the_photo_as_an_image_that_cannot_run(client_for, cast, claim_photo):
    response = client_for("committee_a").get(photo_url(claim_photo))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="photo.png"'
    assert (
        "sandbox" in response["Content-Security-Policy"] and "default-src 'none'" in response["Content-Security-Policy"]
    )
    assert "private" in response["Cache-Control"]
    assert b"<script" not in b"".join(response.streaming_content)


@pytest.mark.parametrize("role", ["committee_b", "storekeeper_a"])
def test_other_staff_get_not_found(client_for, cast, claim_photo, role):
    assert client_for(role).get(photo_url(claim_photo)).status_code == 404


@pytest.mark.parametrize("role", ["resident_a", "stranger", None])
def test_those_without_admin_access_are_sent_to_sign_in(client_for, cast, claim_photo, role):
    response = client_for(role).get(photo_url(claim_photo))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_photo_of_another_claim_is_not_found_through_this_claims_url(client_for, cast, claim_photo, rubric_item):
    other = claim_submit(
        actor=cast.resident_a,
        household=cast.household_a,
        rubric_item=rubric_item,
        text="又一次",
        photos=[hostile_png()],
    )
    url = reverse("points_ledger_claim_photo", args=[other.pk, claim_photo.pk])
    assert client_for("committee_a").get(url).status_code == 404
    assert ClaimPhoto.objects.count() == 2


def test_the_admin_claim_card_links_the_scoped_view_not_a_media_path(client_for, cast, claim_photo):
    page = client_for("committee_a").get(reverse("points_ledger_claim", args=[claim_photo.claim_id])).content.decode()
    assert photo_url(claim_photo) in page
    assert "/media/" not in page and claim_photo.image.name not in page


# --- nomination photos -------------------------------------------------------------------------------------------


@pytest.fixture
def nominee_photo(cast, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "public")
    now = clock.now()
    import datetime

    campaign = campaign_create(
        actor=cast.committee_a,
        campaign=Campaign(
            kind=Campaign.Kind.GOOD_MOTHER_IN_LAW,
            title="好婆婆",
            level=Campaign.Level.VILLAGE,
            village=cast.village_a,
            district=cast.district,
            nominee_type=Campaign.NomineeType.PERSON,
            choices_per_ballot=1,
            winners_count=1,
            nominating_starts=now - datetime.timedelta(days=1),
            voting_starts=now + datetime.timedelta(days=1),
            voting_ends=now + datetime.timedelta(days=7),
        ),
    )
    campaign_advance(actor=cast.committee_a, campaign=campaign, to=Campaign.Phase.NOMINATING)
    spouse = cast.household_a.members.get(name="李秀英")
    nomination = nomination_submit(
        actor=cast.resident_a,
        campaign=campaign,
        household=cast.household_a,
        member=spouse,
        story="孝顺公婆",
        photos=[hostile_png("me.svg")],
    )
    return nomination.photos.get()


def test_nomination_photos_are_cleaned_and_seen_by_the_campaigns_committee_only(client_for, cast, nominee_photo):
    assert re.fullmatch(r"nominations/\d{4}/\d{2}/[0-9a-f]{32}\.png", nominee_photo.image.name)
    url = reverse("campaigns_nomination_photo", args=[nominee_photo.nomination_id, nominee_photo.pk])
    response = client_for("committee_a").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert client_for("committee_b").get(url).status_code == 404


def test_voters_see_an_approved_nominees_photo_and_nothing_before(client_for, cast, nominee_photo):
    nomination = nominee_photo.nomination
    url = reverse("portal:nominee_photo", args=[nomination.campaign_id, nominee_photo.pk])
    assert client_for("resident_a").get(url).status_code == 404  # pending: not yet shown to anyone outside
    nomination_review(actor=cast.committee_a, nomination=nomination, approve=True)
    assert Nomination.objects.get(pk=nomination.pk).status == Nomination.Status.APPROVED
    response = client_for("resident_a").get(url)
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert client_for(None).get(url).status_code in (302, 404)

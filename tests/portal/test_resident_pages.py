"""The resident's phone pages and the public points notice: right numbers, own household only, no private numbers."""

import datetime
import io
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from points import clock
from points.ledger.awards import points_award
from points.ledger.claims import claim_approve, claim_reject, claim_submit
from points.ledger.notices import month_close, notice_publish, objection_answer
from points.models import Claim, ClaimPhoto, LedgerHead, Objection, RubricCategory, RubricItem

from .pages import PHONE, page_of

RESIDENT_PAGES = ["/me/", "/me/statement/", "/me/claims/", "/me/claims/new/", "/me/objections/"]


def at(year, month, day, hour=10):
    return timezone.make_aware(datetime.datetime(year, month, day, hour))


def form_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', html).group(1)


@pytest.fixture
def rubric(cast):
    category = RubricCategory.objects.create(name="孝老爱亲", order=1)
    other = RubricCategory.objects.create(name="环境卫生", order=2)
    return {
        "care": RubricItem.objects.create(category=category, district=cast.district, name="赡养照顾老人", points=10),
        "tidy": RubricItem.objects.create(category=other, district=cast.district, name="门前三包保持整洁", points=5),
        "litter": RubricItem.objects.create(
            category=other, district=cast.district, name="乱扔垃圾", points=5, kind="deduction"
        ),
        "other_village": RubricItem.objects.create(category=other, village=cast.village_b, name="柳溪护河", points=5),
        "brave": RubricItem.objects.create(
            category=category, district=cast.district, name="见义勇为", points=20, evidence_required=True
        ),
    }


def award(cast, item, households, key, **kwargs):
    return points_award(
        actor=cast.committee_a,
        village=cast.village_a,
        rubric_item=item,
        households=households,
        idempotency_key=key,
        **kwargs,
    )


def png(name="photo.png", size=(8, 8)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# --- who may see what ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", RESIDENT_PAGES + ["/me/objections/new/1/"])
def test_anonymous_is_sent_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("role", ["committee_a", "district_admin", "grid_worker_a", "storekeeper_a"])
def test_staff_get_the_staff_page_and_no_resident_data(client_for, cast, rubric, role):
    award(cast, rubric["care"], [cast.household_a], "s1")
    client = client_for(role)
    page = page_of(client.get("/me/"))
    assert "管理后台" in page
    assert "张三丰" not in page and "李秀英" not in page
    for url in RESIDENT_PAGES[1:]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "张三丰" not in page_of(response)


def test_a_resident_only_ever_sees_their_own_household(client_for, cast, rubric):
    award(cast, rubric["care"], [cast.household_a2], "other-1", memo="王家的加分")
    claim_submit(actor=cast.committee_a, household=cast.household_a2, rubric_item=rubric["care"], text="王家申报")
    client = client_for("resident_a")
    for url in RESIDENT_PAGES:
        page = page_of(client.get(url, {"household": cast.household_a2.pk, "household_id": cast.household_a2.pk}))
        assert "王建国" not in page and "王家" not in page, url
    statement = page_of(client.get("/me/statement/"))
    assert "还没有积分记录" in statement


def test_an_objection_page_for_another_villages_transfer_is_404(client_for, cast, rubric):
    other = points_award(
        actor=cast.committee_b,
        village=cast.village_b,
        rubric_item=rubric["care"],
        households=[cast.household_b],
        idempotency_key="b1",
    )[0]
    notice_publish(actor=cast.committee_b, village=cast.village_b, period=other.period)
    client = client_for("resident_a")
    assert client.get(f"/me/objections/new/{other.pk}/").status_code == 404
    response = client.post(f"/me/objections/new/{other.pk}/", {"text": "不对"})
    assert response.status_code == 404
    assert not Objection.objects.exists()


# --- /me/ and the statement ------------------------------------------------------------------------------------


def test_me_shows_balance_conduct_stars_and_members_without_phone(client_for, cast, rubric):
    cast.village_a.star_thresholds = [10, 20, 30, 40, 50]
    cast.village_a.save()
    with clock.frozen_at(at(2026, 3, 10)):
        award(cast, rubric["care"], [cast.household_a], "m1")
    with clock.frozen_at(at(2026, 5, 10)):
        award(cast, rubric["care"], [cast.household_a], "m2")
        award(cast, rubric["litter"], [cast.household_a], "m3")
    with clock.frozen_at(at(2026, 5, 20)):
        page = page_of(client_for("resident_a").get("/me/"))
    assert '<span class="big-number">15</span>' in page  # balance: 10 + 10 − 5
    assert '<span class="mid-number">5</span>' in page  # May: 10 − 5
    assert '<span class="mid-number">15</span>' in page  # 2026 so far
    assert "★☆☆☆☆" in page and "1 星文明户" in page
    assert "今年再得 5 分可评 2 星" in page
    assert "张三丰" in page and "李秀英" in page and "QS01-001" in page
    assert "/notice/QS01/2026-05/" in page and "/notice/QS01/2026-04/" in page


def test_statement_is_paginated_newest_first_with_signed_amounts(client_for, cast, rubric):
    for n in range(22):
        award(cast, rubric["tidy"], [cast.household_a], f"t{n}")
    award(cast, rubric["litter"], [cast.household_a], "t-last", memo=f"联系 {PHONE}")
    client = client_for("resident_a")
    first = page_of(client.get("/me/statement/"))
    assert first.count('class="line"') == 20
    assert "第 1 / 2 页" in first
    # Newest first: the deduction leads, shown with a minus sign and its word, not colour alone.
    assert first.index("乱扔垃圾") < first.index("门前三包保持整洁")
    assert '<span class="amount minus"><span class="visually-hidden">减</span>−5</span>' in first
    assert '<span class="amount plus"><span class="visually-hidden">加</span>+5</span>' in first
    second = page_of(client.get("/me/statement/", {"page": 2}))
    assert second.count('class="line"') == 3
    assert "第 2 / 2 页" in second
    assert page_of(client.get("/me/statement/", {"page": "abc"})).count('class="line"') == 20


# --- claims ----------------------------------------------------------------------------------------------------


def test_claims_list_shows_each_status_and_the_reason(client_for, cast, rubric):
    def submit(text):
        return claim_submit(actor=cast.resident_a, household=cast.household_a, rubric_item=rubric["care"], text=text)

    claim_approve(actor=cast.committee_a, claim=submit("照顾婆婆一个月"))
    claim_reject(actor=cast.committee_a, claim=submit("帮邻居收稻子"), reason="本月检查中已加过分")
    submit(f"打扫村道，电话 {PHONE}")
    page = page_of(client_for("resident_a").get("/me/claims/"))
    assert "已通过" in page and "未通过" in page and "待审核" in page
    assert "本月检查中已加过分" in page
    assert "打扫村道，电话 ***" in page


def test_a_good_claim_with_a_photo_is_pending(client_for, cast, rubric, media):
    client = client_for("resident_a")
    form = page_of(client.get("/me/claims/new/"))
    assert "赡养照顾老人" in form and "乱扔垃圾" not in form and "柳溪护河" not in form
    member = cast.household_a.members.get(name="李秀英")
    data = {"rubric_item": rubric["care"].pk, "member": member.pk, "text": "每天给婆婆做饭擦身", "photos": [png()]}
    response = client.post("/me/claims/new/", {**data, "idempotency_key": form_key(form)})
    assert response.status_code == 302 and response["Location"] == "/me/claims/"
    claim = Claim.objects.get()
    assert (claim.status, claim.household, claim.member, claim.submitted_by) == (
        Claim.Status.PENDING,
        cast.household_a,
        member,
        cast.resident_a,
    )
    assert claim.photos.count() == 1
    listing = page_of(client.get("/me/claims/"))
    assert "申报已提交" in listing and "待审核" in listing and "照片 1 张" in listing


def test_a_double_tap_on_the_claim_form_makes_one_claim(client_for, cast, rubric, media):
    """The form carries a key of its own; the same form sent twice is one claim, a new form another."""
    client = client_for("resident_a")
    key = form_key(page_of(client.get("/me/claims/new/")))
    data = {"rubric_item": rubric["care"].pk, "text": "帮邻居收稻谷", "idempotency_key": key}
    for _ in range(2):
        response = client.post("/me/claims/new/", {**data, "photos": [png()]})
        assert response.status_code == 302 and response["Location"] == "/me/claims/"
    assert Claim.objects.count() == 1 and Claim.objects.get().photos.count() == 1
    other = page_of(client.get("/me/claims/new/"))
    assert key not in other  # every form shown gets its own
    changed = client.post("/me/claims/new/", {**data, "text": "帮邻居晒稻谷"})  # the used key, another request
    assert changed.status_code == 200 and "同一个请求编号已用于另一项不同的操作" in page_of(changed)
    assert Claim.objects.count() == 1


def bad_claim(case, cast, rubric):
    """(posted data, the Chinese message expected next to the field) for each way a claim can be wrong."""
    good = {"rubric_item": rubric["care"].pk, "text": "帮邻居修屋顶", "idempotency_key": str(uuid.uuid4())}
    not_an_image = SimpleUploadedFile("photo.png", b"just some text, not a picture", content_type="image/png")
    too_big = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * (20 * 1024 * 1024), content_type="image/png")
    return {
        "empty text": ({**good, "text": "  "}, "请写明做了什么好事"),
        "four photos": ({**good, "photos": [png(f"p{n}.png") for n in range(4)]}, "最多上传 3 张照片"),
        "a .txt renamed .png": ({**good, "photos": [not_an_image]}, "photo.png 不是有效的图片"),
        "a photo over 20 MB": ({**good, "photos": [too_big]}, "big.png 超过 20 MB"),
        "another village's item": ({**good, "rubric_item": rubric["other_village"].pk}, "只能申报本村启用的加分细则"),
        "a deduction item": ({**good, "rubric_item": rubric["litter"].pk}, "只能申报本村启用的加分细则"),
        "a non-numeric item id": ({**good, "rubric_item": "abc"}, "只能申报本村启用的加分细则"),
        "no item": ({**good, "rubric_item": ""}, "请选择要申报的事项"),
        "an item that needs a photo, without one": ({**good, "rubric_item": rubric["brave"].pk}, "该细则需要照片佐证"),
        "another household's member": (
            {**good, "member": cast.household_a2.members.get().pk},
            "所选成员不属于您家",
        ),
        "no key (a page from before the key)": ({**good, "idempotency_key": ""}, "页面已过期"),
        "a malformed key": ({**good, "idempotency_key": "1" * 500}, "页面已过期"),
    }[case]


@pytest.mark.parametrize(
    "case",
    [
        "empty text",
        "four photos",
        "a .txt renamed .png",
        "a photo over 20 MB",
        "another village's item",
        "a deduction item",
        "a non-numeric item id",
        "no item",
        "an item that needs a photo, without one",
        "another household's member",
        "no key (a page from before the key)",
        "a malformed key",
    ],
)
def test_bad_claims_are_refused_in_chinese_and_write_nothing(client_for, cast, rubric, media, case):
    data, message = bad_claim(case, cast, rubric)
    response = client_for("resident_a").post("/me/claims/new/", data)
    assert response.status_code == 200
    page = page_of(response)
    assert message in page
    assert "没有提交成功" in page
    assert not Claim.objects.exists() and not ClaimPhoto.objects.exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


# --- the public notice and objections --------------------------------------------------------------------------


def test_the_notice_masks_names_and_shows_no_private_numbers(client, cast, rubric):
    with clock.frozen_at(at(2026, 4, 12)):
        member = cast.household_a.members.get(name="李秀英")
        (first,) = award(cast, rubric["care"], [cast.household_a], "n1", member=member, memo=f"电话 {PHONE}")
        award(cast, rubric["litter"], [cast.household_a2], "n2")
    with clock.frozen_at(at(2026, 5, 2)):
        notice_publish(actor=cast.committee_a, village=cast.village_a, period=datetime.date(2026, 4, 1))
    with clock.frozen_at(at(2026, 5, 3)):
        objection = Objection.objects.create(
            village=cast.village_a,
            notice=cast.village_a.notices.get(),
            transfer=first,
            household=cast.household_a2,
            filed_by=cast.resident_a,
            text=f"请核实，我的电话 {PHONE}，身份证 330110196001011234",
        )
        objection_answer(actor=cast.committee_a, objection=objection, upheld=False, answer="经入户核实，加分属实")
        response = client.get("/notice/QS01/2026-04/")
    assert response.status_code == 200
    page = page_of(response)
    assert "张*丰" in page and "王*国" in page
    assert "张三丰" not in page and "王建国" not in page and "李秀英" not in page
    assert "330110196001011234" not in page and "请核实，我的电话 ***，身份证 ***" in page
    assert "赡养照顾老人" in page and "+10" in page and "−5" in page
    assert "经入户核实，加分属实" in page and "异议不成立" in page
    assert LedgerHead.objects.get(village=cast.village_a).hash in page
    assert "/me/objections/new/" not in page  # anonymous visitors get no objection links


def test_an_unpublished_month_says_so_and_lists_nothing(client, cast, rubric):
    with clock.frozen_at(at(2026, 4, 12)):
        award(cast, rubric["care"], [cast.household_a], "u1")
    with clock.frozen_at(at(2026, 4, 20)):
        page = page_of(client.get("/notice/qs01/2026-04/"))
    assert "该月份尚未公示" in page
    assert "张*丰" not in page and "赡养照顾老人" not in page


@pytest.mark.parametrize("url", ["/notice/QS01/2026-13/", "/notice/QS01/26-01/", "/notice/XX99/2026-01/"])
def test_bad_notice_addresses_are_404(client, db, url):
    assert client.get(url).status_code == 404


def test_a_resident_objects_during_the_notice_period(client_for, cast, rubric):
    with clock.frozen_at(at(2026, 4, 12)):
        (line,) = award(cast, rubric["care"], [cast.household_a2], "o1")
    with clock.frozen_at(at(2026, 5, 2)):
        notice_publish(actor=cast.committee_a, village=cast.village_a, period=datetime.date(2026, 4, 1))
    client = client_for("resident_a")
    with clock.frozen_at(at(2026, 5, 5)):
        notice = page_of(client.get("/notice/QS01/2026-04/"))
        assert f'href="/me/objections/new/{line.pk}/"' in notice
        form = page_of(client.get(f"/me/objections/new/{line.pk}/"))
        assert "王*国" in form and "异议截止日期：2026-05-09" in form
        empty = page_of(client.post(f"/me/objections/new/{line.pk}/", {"text": ""}))
        assert "请写明异议的理由" in empty and not Objection.objects.exists()
        response = client.post(f"/me/objections/new/{line.pk}/", {"text": "这户上个月没有老人需要照顾"})
    assert response.status_code == 302 and response["Location"] == "/me/objections/"
    objection = Objection.objects.get()
    assert (objection.transfer, objection.household, objection.status) == (line, cast.household_a, "open")
    listing = page_of(client.get("/me/objections/"))
    assert "这户上个月没有老人需要照顾" in listing and "待答复" in listing
    with clock.frozen_at(at(2026, 5, 6)):
        objection_answer(actor=cast.committee_a, objection=objection, upheld=True, answer="核实有误，已冲正")
    listing = page_of(client.get("/me/objections/"))
    assert "异议成立" in listing and "核实有误，已冲正" in listing


def test_an_objection_after_the_deadline_is_refused_with_a_message(client_for, cast, rubric):
    with clock.frozen_at(at(2026, 4, 12)):
        (line,) = award(cast, rubric["care"], [cast.household_a2], "d1")
    with clock.frozen_at(at(2026, 5, 2)):
        notice_publish(actor=cast.committee_a, village=cast.village_a, period=datetime.date(2026, 4, 1))
    client = client_for("resident_a")
    with clock.frozen_at(at(2026, 5, 10)):  # the deadline was 2026-05-09
        notice = page_of(client.get("/notice/QS01/2026-04/"))
        assert "/me/objections/new/" not in notice and "公示期已过" in notice
        assert "公示期已过，不能再提出异议" in page_of(client.get(f"/me/objections/new/{line.pk}/"))
        response = client.post(f"/me/objections/new/{line.pk}/", {"text": "太晚了吗"})
        assert "公示期已过，不能再提出异议" in page_of(response)
    with clock.frozen_at(at(2026, 5, 11)):
        month_close(actor=cast.committee_a, village=cast.village_a, period=datetime.date(2026, 4, 1))
        response = client.post(f"/me/objections/new/{line.pk}/", {"text": "结账以后"})
        assert "公示期已过，不能再提出异议" in page_of(response)
        assert "已于 2026-05-11 结账" in page_of(client.get("/notice/QS01/2026-04/"))
    assert not Objection.objects.exists()


def test_staff_see_the_public_notice_without_objection_links(client_for, cast, rubric):
    with clock.frozen_at(at(2026, 4, 12)):
        award(cast, rubric["care"], [cast.household_a], "p1")
    with clock.frozen_at(at(2026, 5, 2)):
        notice_publish(actor=cast.committee_a, village=cast.village_a, period=datetime.date(2026, 4, 1))
    with clock.frozen_at(at(2026, 5, 3)):
        page = page_of(client_for("committee_b").get("/notice/QS01/2026-04/"))
    assert "张*丰" in page and "/me/objections/new/" not in page

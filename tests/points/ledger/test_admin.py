"""The ledger's admin screens end to end through the test client: what each role may do, and that bad input is
answered with a clear message while nothing changes."""

import datetime
import io
import json
import os
import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from points import clock
from points.ledger import books
from points.ledger.awards import points_award, transfer_reverse
from points.ledger.claims import claim_submit
from points.ledger.notices import notice_publish, objection_file
from points.ledger.selectors import household_balance
from points.models import (
    Claim,
    Household,
    Member,
    MonthlyNotice,
    Objection,
    RubricCategory,
    RubricItem,
    Transfer,
)
from tests.e2e.browser import CHROMIUM, NEEDS_CHROMIUM
from tests.factories import make_household

MANAGERS_ONLY = ["grid_worker_a", "storekeeper_a"]  # may see the ledger, may not move points
LOGGED_OUT = ["resident_a", "stranger", None]  # no admin at all: redirected to the login page


@pytest.fixture
def rubric(cast):
    category = RubricCategory.objects.create(name="孝老爱亲", order=1)
    hygiene = RubricCategory.objects.create(name="环境卫生", order=2)
    return {
        "care": RubricItem.objects.create(category=category, district=cast.district, name="照顾老人", points=10),
        "litter": RubricItem.objects.create(
            category=hygiene, district=cast.district, name="乱扔垃圾", points=5, kind="deduction"
        ),
        "capped": RubricItem.objects.create(
            category=category, district=cast.district, name="志愿服务", points=10, cap_period="month", cap_points=20
        ),
        "retired": RubricItem.objects.create(
            category=category, district=cast.district, name="旧细则", points=3, active=False
        ),
        "own_a": RubricItem.objects.create(category=hygiene, village=cast.village_a, name="门前三包", points=2),
        "own_b": RubricItem.objects.create(category=hygiene, village=cast.village_b, name="柳溪护河", points=4),
    }


def award_url(village):
    return reverse("points_ledger_award", args=[village.pk])


def award_data(item, *, target="households", households=(), key=None, **extra):
    data = {
        "rubric_item": item.pk if hasattr(item, "pk") else item,
        "target": target,
        "households": ",".join(str(h.pk if hasattr(h, "pk") else h) for h in households),
        "idempotency_key": key or str(uuid.uuid4()),
        "memo": "",
    }
    data.update(extra)
    return data


def balances(cast):
    return {name: household_balance(cast[name]) for name in ("household_a", "household_a2", "household_b")}


def seed_award(cast, item, households=None, key="seed"):
    (transfer, *_rest) = points_award(
        actor=cast.committee_a,
        village=cast.village_a,
        rubric_item=item,
        households=households or [cast.household_a],
        idempotency_key=key,
    )
    return transfer


def page(response) -> str:
    return response.content.decode()


# --- 加分/扣分 --------------------------------------------------------------------------------------------------


def test_award_form_groups_active_items_by_category_and_carries_a_fresh_key(client_for, cast, rubric):
    client = client_for("committee_a")
    first = page(client.get(award_url(cast.village_a)))
    assert '<optgroup label="孝老爱亲">' in first and '<optgroup label="环境卫生">' in first
    assert "照顾老人（+10）" in first and "乱扔垃圾（−5）" in first and "门前三包（+2）" in first
    assert "旧细则" not in first  # inactive
    assert "柳溪护河" not in first  # another village's own item
    assert "points/award.js" in first
    keys = re.findall(r'name="idempotency_key" value="([0-9a-f-]{36})"', first)
    second = re.findall(r'name="idempotency_key" value="([0-9a-f-]{36})"', page(client.get(award_url(cast.village_a))))
    assert len(keys) == 1 and len(second) == 1 and keys != second


def test_award_start_goes_straight_to_the_only_village_or_lets_township_staff_choose(client_for, cast):
    response = client_for("committee_a").get(reverse("points_ledger_award_start"))
    assert response.status_code == 302 and response["Location"] == award_url(cast.village_a)
    choices = page(client_for("township_staff").get(reverse("points_ledger_award_start")))
    assert award_url(cast.village_a) in choices and award_url(cast.village_b) in choices
    assert award_url(cast.village_c) not in choices


def test_award_to_one_household_with_member_and_memo(client_for, cast, rubric):
    spouse = Member.objects.get(household=cast.household_a, name="李秀英")
    data = award_data(rubric["care"], households=[cast.household_a], member=spouse.pk, memo="照顾邻居王奶奶")
    response = client_for("committee_a").post(award_url(cast.village_a), data, follow=True)
    text = page(response)
    assert "已为 1 户加分「照顾老人」，每户 10 分，共 10 分" in text
    assert reverse("points_ledger_statement", args=[cast.household_a.pk]) in text
    (transfer,) = Transfer.objects.all()
    assert (transfer.household, transfer.member, transfer.memo) == (cast.household_a, spouse, "照顾邻居王奶奶")
    assert transfer.actor == cast.committee_a
    assert balances(cast) == {"household_a": 10, "household_a2": 0, "household_b": 0}
    # Back on the form with the item kept, for the next entry.
    assert response.redirect_chain[-1][0].endswith(f"?item={rubric['care'].pk}")


def test_award_to_several_households_at_once(client_for, cast, rubric):
    data = award_data(rubric["care"], households=[cast.household_a, cast.household_a2])
    text = page(client_for("committee_a").post(award_url(cast.village_a), data, follow=True))
    assert "已为 2 户加分「照顾老人」，每户 10 分，共 20 分" in text
    assert balances(cast) == {"household_a": 10, "household_a2": 10, "household_b": 0}


def test_award_repeated_household_fields_work_too(client_for, cast, rubric):
    data = award_data(rubric["care"])
    data["households"] = [str(cast.household_a.pk), str(cast.household_a2.pk)]
    assert client_for("committee_a").post(award_url(cast.village_a), data).status_code == 302
    assert Transfer.objects.count() == 2


def test_award_to_a_group(client_for, cast, rubric):
    group = cast.household_a.group
    data = award_data(rubric["care"], target="group", group=group.pk)
    text = page(client_for("committee_a").post(award_url(cast.village_a), data, follow=True))
    assert "已为 2 户加分" in text
    assert set(Transfer.objects.values_list("household_id", flat=True)) == {cast.household_a.pk, cast.household_a2.pk}


def test_deduction_from_the_whole_village(client_for, cast, rubric):
    make_household(cast.village_a, number="003", head="赵六", group=cast.village_a.groups.last())
    data = award_data(rubric["litter"], target="village")
    text = page(client_for("committee_a").post(award_url(cast.village_a), data, follow=True))
    assert "已为 3 户扣分「乱扔垃圾」，每户 5 分，共 15 分" in text
    assert balances(cast) == {"household_a": -5, "household_a2": -5, "household_b": 0}
    assert not Transfer.objects.filter(village=cast.village_b).exists()


def test_a_resubmitted_award_form_awards_once(client_for, cast, rubric):
    client = client_for("committee_a")
    data = award_data(rubric["care"], households=[cast.household_a, cast.household_a2])
    assert client.post(award_url(cast.village_a), data).status_code == 302
    again = client.post(award_url(cast.village_a), data, follow=True)  # a double click, or back and resubmit
    assert "已为 2 户加分" in page(again)
    assert Transfer.objects.count() == 2
    assert balances(cast)["household_a"] == 10


def test_the_same_key_for_a_different_award_is_refused_and_the_form_gets_a_new_key(client_for, cast, rubric):
    client = client_for("committee_a")
    key = str(uuid.uuid4())
    client.post(award_url(cast.village_a), award_data(rubric["care"], households=[cast.household_a], key=key))
    response = client.post(
        award_url(cast.village_a), award_data(rubric["care"], households=[cast.household_a2], key=key)
    )
    assert response.status_code == 200
    assert "同一个请求编号已用于另一项不同的操作" in page(response)
    assert key not in page(response)
    assert Transfer.objects.count() == 1


HOUSEHOLD_ID_ERRORS = [
    ("0", "户的编号无效：0"),
    ("-3", "户的编号无效：-3"),
    ("abc", "户的编号无效：abc"),
    ("1.5", "户的编号无效：1.5"),
    ("99999999999999999999999999", "户的编号无效"),
    ("9223372036854775807", "所选的户不存在或不属于本村"),
    ("987654", "所选的户不存在或不属于本村（编号 987654）"),
    ("", "请至少选择一户"),
]


@pytest.mark.parametrize(("value", "message"), HOUSEHOLD_ID_ERRORS)
def test_bad_household_ids_are_refused_with_a_message(client_for, cast, rubric, value, message):
    data = award_data(rubric["care"])
    data["households"] = value
    response = client_for("committee_a").post(award_url(cast.village_a), data)
    assert response.status_code == 200
    assert message in page(response)
    assert Transfer.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rubric_item", "", "请选择细则"),
        ("rubric_item", "0", "编号无效"),
        ("rubric_item", "-1", "编号无效"),
        ("rubric_item", "x1", "编号无效"),
        ("rubric_item", "1" * 30, "编号无效"),
        ("rubric_item", "987654", "所选细则不存在或不适用于本村"),
        ("target", "everyone", "请选择记分对象"),
        ("idempotency_key", "", "表单已失效"),
        ("idempotency_key", "not-a-uuid", "表单已失效"),
        ("member", "abc", "编号无效"),
        ("memo", "长" * 201, "200"),
    ],
)
def test_bad_award_fields_are_refused_with_a_message(client_for, cast, rubric, field, value, message):
    data = award_data(rubric["care"], households=[cast.household_a])
    data[field] = value
    response = client_for("committee_a").post(award_url(cast.village_a), data)
    assert response.status_code == 200
    assert message in page(response)
    assert Transfer.objects.count() == 0


def test_bad_group_input(client_for, cast, rubric):
    client = client_for("committee_a")
    empty_group = cast.village_a.groups.last()
    other_village_group = cast.household_b.group
    for value, message in [
        ("", "请选择组"),
        ("0", "编号无效"),
        (str(10**25), "编号无效"),
        (str(other_village_group.pk), "所选的组不存在或不属于本村"),
        (str(empty_group.pk), "该组没有在册的户"),
    ]:
        response = client.post(award_url(cast.village_a), award_data(rubric["care"], target="group", group=value))
        assert message in page(response), value
    assert Transfer.objects.count() == 0


def test_another_villages_item_and_household_are_refused(client_for, cast, rubric):
    client = client_for("committee_a")
    response = client.post(award_url(cast.village_a), award_data(rubric["own_b"], households=[cast.household_a]))
    assert "所选细则不存在或不适用于本村" in page(response)
    response = client.post(award_url(cast.village_a), award_data(rubric["care"], households=[cast.household_b]))
    assert f"所选的户不存在或不属于本村（编号 {cast.household_b.pk}）" in page(response)
    assert Transfer.objects.count() == 0


def test_an_inactive_item_is_refused(client_for, cast, rubric):
    response = client_for("committee_a").post(
        award_url(cast.village_a), award_data(rubric["retired"], households=[cast.household_a])
    )
    assert response.status_code == 200
    assert "该细则已停用" in page(response)
    assert Transfer.objects.count() == 0


def test_a_cap_exceeded_refuses_the_whole_batch(client_for, cast, rubric):
    client = client_for("committee_a")
    seed_award(cast, rubric["capped"], [cast.household_a], key="c1")
    seed_award(cast, rubric["capped"], [cast.household_a], key="c2")
    before = balances(cast)
    data = award_data(rubric["capped"], households=[cast.household_a2, cast.household_a])
    response = client.post(award_url(cast.village_a), data)
    assert response.status_code == 200
    assert "「志愿服务」每月每户最多 20 分，以下户已达上限：001 张三丰" in page(response)
    assert Transfer.objects.count() == 2
    assert balances(cast) == before


def test_a_member_needs_exactly_one_household_of_their_own(client_for, cast, rubric):
    client = client_for("committee_a")
    spouse = Member.objects.get(household=cast.household_a, name="李秀英")
    both = award_data(rubric["care"], households=[cast.household_a, cast.household_a2], member=spouse.pk)
    assert "只有给一户记分时才能选择成员" in page(client.post(award_url(cast.village_a), both))
    wrong = award_data(rubric["care"], households=[cast.household_a2], member=spouse.pk)
    assert "所选成员不属于该户" in page(client.post(award_url(cast.village_a), wrong))
    assert Transfer.objects.count() == 0


def test_an_archived_household_is_refused(client_for, cast, rubric):
    from points.register.services import household_archive

    household_archive(household=cast.household_a2, actor=cast.committee_a, reason="迁出")
    response = client_for("committee_a").post(
        award_url(cast.village_a), award_data(rubric["care"], households=[cast.household_a2])
    )
    assert "已归档，不能记分" in page(response)
    assert Transfer.objects.count() == 0


def test_committee_b_cannot_award_to_village_a(client_for, cast, rubric):
    client = client_for("committee_b")
    data = award_data(rubric["care"], households=[cast.household_a, cast.household_a2])
    assert client.get(award_url(cast.village_a)).status_code == 404
    assert client.post(award_url(cast.village_a), data).status_code == 404
    # Posting village A's ids to its own form: they are simply not households it can find.
    response = client.post(award_url(cast.village_b), data)
    assert response.status_code == 200
    assert "所选的户不存在或不属于本村" in page(response)
    assert Transfer.objects.count() == 0


@pytest.mark.parametrize("role", MANAGERS_ONLY)
def test_grid_workers_and_storekeepers_cannot_award(client_for, cast, rubric, role):
    client = client_for(role)
    data = award_data(rubric["care"], households=[cast.household_a])
    assert client.get(reverse("points_ledger_award_start")).status_code == 404
    assert client.get(award_url(cast.village_a)).status_code == 404
    assert client.post(award_url(cast.village_a), data).status_code == 404
    assert Transfer.objects.count() == 0


@pytest.mark.parametrize("role", LOGGED_OUT)
def test_residents_and_anonymous_are_sent_to_the_login_page(client_for, cast, rubric, role):
    client = client_for(role)
    data = award_data(rubric["care"], households=[cast.household_a])
    for url in (
        award_url(cast.village_a),
        reverse("points_ledger_claims"),
        reverse("points_ledger_objections"),
        reverse("points_ledger_notices", args=[cast.village_a.pk]),
        reverse("points_ledger_statement", args=[cast.household_a.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url
    assert client.post(award_url(cast.village_a), data).status_code == 302
    assert Transfer.objects.count() == 0


def test_an_empty_post_shows_the_required_fields(client_for, cast, rubric):
    response = client_for("committee_a").post(award_url(cast.village_a), {})
    assert response.status_code == 200
    assert "请选择细则" in page(response) and "表单已失效" in page(response)
    assert Transfer.objects.count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "/admin/ledger/award/99999999999999999999999/",
        "/admin/ledger/award/0/",
        "/admin/ledger/households/99999999999999999999999/statement/",
        "/admin/ledger/transfers/99999999999999999999999/reverse/",
        "/admin/ledger/claims/99999999999999999999999/",
        "/admin/ledger/objections/99999999999999999999999/",
        "/admin/ledger/notices/99999999999999999999999/",
    ],
)
def test_huge_and_zero_ids_in_urls_are_not_found(client_for, cast, url):
    assert client_for("committee_a").get(url).status_code == 404


def test_a_photo_is_attached_only_by_someone_who_may_choose_images(client_for, cast, rubric, settings, tmp_path):
    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    from tests.factories import superuser

    settings.MEDIA_ROOT = str(tmp_path)
    upload = png_upload()
    image = get_image_model().objects.create(title="照片", file=ImageFile(upload.file, name="award.png"))
    # A committee has no image permission (yet): the field is not offered and a posted id is ignored.
    committee = client_for("committee_a")
    assert 'name="photo"' not in page(committee.get(award_url(cast.village_a)))
    data = award_data(rubric["care"], households=[cast.household_a], photo=image.pk)
    assert committee.post(award_url(cast.village_a), data).status_code == 302
    assert Transfer.objects.get().photo is None
    # A superuser may choose it; an unknown image id is refused with a message.
    client = committee
    client.force_login(superuser())
    assert 'name="photo"' in page(client.get(award_url(cast.village_a)))
    bad = award_data(rubric["care"], households=[cast.household_a2], photo=987654)
    assert "所选照片不存在或您无权使用" in page(client.post(award_url(cast.village_a), bad))
    good = award_data(rubric["care"], households=[cast.household_a2], photo=image.pk)
    assert client.post(award_url(cast.village_a), good).status_code == 302
    assert Transfer.objects.get(household=cast.household_a2).photo == image


# --- the household picker -----------------------------------------------------------------------------------


def search(client, village, query):
    response = client.get(reverse("points_ledger_household_search", args=[village.pk]), {"q": query})
    assert response.status_code == 200
    return response.json()["results"]


def test_picker_finds_by_number_name_member_and_pinyin_initials(client_for, cast):
    client = client_for("committee_a")
    for query in ("zsf", "001", "张三", "lxy", "李秀英"):
        results = search(client, cast.village_a, query)
        assert [r["head"] for r in results] == ["张三丰"], query
    (result,) = search(client, cast.village_a, "zsf")
    assert result["id"] == cast.household_a.pk and result["number"] == "001"
    assert {m["name"] for m in result["members"]} == {"张三丰", "李秀英"}
    assert search(client, cast.village_a, "") == []


def test_picker_never_shows_private_data_or_another_village(client_for, cast):
    client = client_for("committee_a")
    response = client.get(reverse("points_ledger_household_search", args=[cast.village_a.pk]), {"q": "001"})
    assert "13800138001" not in response.content.decode()
    assert search(client, cast.village_a, "cyl") == []  # 陈玉兰 lives in village B
    assert (
        client_for("committee_b")
        .get(reverse("points_ledger_household_search", args=[cast.village_a.pk]), {"q": "zsf"})
        .status_code
        == 404
    )
    assert (
        client_for("storekeeper_a")
        .get(reverse("points_ledger_household_search", args=[cast.village_a.pk]), {"q": "zsf"})
        .status_code
        == 404
    )


def test_picker_returns_at_most_twenty(client_for, cast):
    for n in range(21):
        make_household(cast.village_a, number=f"5{n:02d}", head="钱多多")
    assert len(search(client_for("committee_a"), cast.village_a, "qdd")) == 20


# --- 积分明细 --------------------------------------------------------------------------------------------------


def statement_url(household):
    return reverse("points_ledger_statement", args=[household.pk])


def test_statement_shows_balance_scores_stars_and_transfers_newest_first(client_for, cast, rubric):
    cast.village_a.star_thresholds = [5, 100]
    cast.village_a.save()
    first = seed_award(cast, rubric["care"], key="s1")
    seed_award(cast, rubric["litter"], key="s2")
    text = page(client_for("committee_a").get(statement_url(cast.household_a)))
    assert 'data-testid="balance">5<' in text
    assert 'data-testid="month-score">5<' in text and 'data-testid="year-score">5<' in text
    assert "★☆☆☆☆" in text
    assert text.index("扣分：乱扔垃圾") < text.index("加分：照顾老人")
    assert "+10" in text and "-5" in text and "committee_a" in text
    assert reverse("points_ledger_reverse", args=[first.pk]) in text


@pytest.mark.parametrize("role", [*MANAGERS_ONLY, "township_staff", "district_admin"])
def test_statement_is_readable_by_ledger_viewers_but_only_managers_reverse(client_for, cast, rubric, role):
    transfer = seed_award(cast, rubric["care"])
    response = client_for(role).get(statement_url(cast.household_a))
    assert response.status_code == 200
    assert 'data-testid="balance">10<' in page(response)
    can_reverse = role in ("township_staff", "district_admin")
    assert (reverse("points_ledger_reverse", args=[transfer.pk]) in page(response)) == can_reverse


def test_statement_of_another_village_is_not_found(client_for, cast):
    assert client_for("committee_b").get(statement_url(cast.household_a)).status_code == 404
    assert client_for("committee_a").get(reverse("points_ledger_statement", args=[987654])).status_code == 404


def test_statement_pages_twenty_at_a_time(client_for, cast, rubric):
    for n in range(21):
        seed_award(cast, rubric["care"], key=f"p{n}")
    client = client_for("committee_a")
    first = page(client.get(statement_url(cast.household_a)))
    assert "第 1 / 2 页" in first and first.count('data-transfer="') == 20
    second = page(client.get(statement_url(cast.household_a), {"p": "2"}))
    assert second.count('data-transfer="') == 1
    assert page(client.get(statement_url(cast.household_a), {"p": "x"})).count('data-transfer="') == 20


def test_household_listing_links_the_statement(client_for, cast):
    listing = page(client_for("storekeeper_a").get("/admin/snippets/points/household/"))
    assert statement_url(cast.household_a) in listing


# --- 冲正 -------------------------------------------------------------------------------------------------------


def reverse_url(transfer):
    return reverse("points_ledger_reverse", args=[transfer.pk])


def key_in(response) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', page(response)).group(1)


def test_reverse_a_transfer(client_for, cast, rubric):
    transfer = seed_award(cast, rubric["care"])
    client = client_for("committee_a")
    form = client.get(reverse_url(transfer))
    assert form.status_code == 200 and "冲正第 1 号记录" in page(form)
    data = {"reason": "记错了户", "idempotency_key": key_in(form)}
    response = client.post(reverse_url(transfer), data, follow=True)
    assert response.redirect_chain[-1][0] == statement_url(cast.household_a)
    assert "已冲正第 1 号记录（照顾老人 10 分）" in page(response)
    reversal = Transfer.objects.get(code=Transfer.Code.REVERSAL)
    assert (reversal.reverses, reversal.reason, reversal.actor) == (transfer, "记错了户", cast.committee_a)
    assert household_balance(cast.household_a) == 0
    # The resubmitted form replays the first result: still one reversal.
    assert client.post(reverse_url(transfer), data).status_code == 302
    assert Transfer.objects.filter(code=Transfer.Code.REVERSAL).count() == 1


@pytest.mark.parametrize("bad_key", ["", "not-a-uuid"])
def test_a_reversal_form_with_a_malformed_key_is_refused_in_chinese(client_for, cast, rubric, bad_key):
    transfer = seed_award(cast, rubric["care"])
    response = client_for("committee_a").post(reverse_url(transfer), {"reason": "记错了户", "idempotency_key": bad_key})
    assert response.status_code == 200
    assert "表单已失效，请刷新页面后重新填写" in page(response)
    assert Transfer.objects.count() == 1


def test_reversal_refusals_are_shown_and_change_nothing(client_for, cast, rubric):
    transfer = seed_award(cast, rubric["care"])
    reversal = transfer_reverse(actor=cast.committee_a, transfer=transfer, reason="重复", idempotency_key="r1")
    client = client_for("committee_a")
    cases = [
        (transfer, "又一次", "该记录已经冲正过，不能重复冲正"),
        (reversal, "反冲", "冲正记录本身不能再冲正"),
        (transfer, "", "请填写冲正原因"),
        (transfer, "   ", "请填写冲正原因"),
    ]
    for target, reason, message in cases:
        response = client.post(reverse_url(target), {"reason": reason, "idempotency_key": str(uuid.uuid4())})
        assert response.status_code == 200
        assert message in page(response), message
    assert Transfer.objects.count() == 2
    assert household_balance(cast.household_a) == 0


@pytest.mark.any_day
def test_reversal_into_a_closed_month_is_refused(client_for, cast, rubric):
    transfer = seed_award(cast, rubric["care"])
    MonthlyNotice.objects.create(
        village=cast.village_a,
        period=books.month_of(),
        published_at=transfer.created_at,
        published_by=cast.committee_a,
        objection_deadline=transfer.created_at.date(),
        closed_at=transfer.created_at,
        head_hash="x",
    )
    response = client_for("committee_a").post(
        reverse_url(transfer), {"reason": "晚了", "idempotency_key": str(uuid.uuid4())}
    )
    assert "该月份已结账" in page(response)
    assert Transfer.objects.count() == 1


@pytest.mark.parametrize("role", [*MANAGERS_ONLY, "committee_b"])
def test_reversal_refused_outside_manage_points(client_for, cast, rubric, role):
    transfer = seed_award(cast, rubric["care"])
    client = client_for(role)
    assert client.get(reverse_url(transfer)).status_code == 404
    response = client.post(reverse_url(transfer), {"reason": "x", "idempotency_key": str(uuid.uuid4())})
    assert response.status_code == 404
    assert Transfer.objects.count() == 1


# --- 积分申报审核 ------------------------------------------------------------------------------------------------


def png_upload(name="photo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def submit_claim(cast, item, text="扶老人过马路", photos=(), household=None):
    return claim_submit(
        actor=cast.resident_a if household is None else cast.grid_worker_a,
        household=household or cast.household_a,
        rubric_item=item,
        text=text,
        photos=photos,
    )


def test_claims_queue_lists_pending_oldest_first_with_photos(client_for, cast, rubric, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    with clock.frozen_at(clock.now() - datetime.timedelta(days=2)):
        older = submit_claim(cast, rubric["care"], text="打扫村道", photos=[png_upload()])
    submit_claim(cast, rubric["care"], text="帮邻居收稻谷", household=cast.household_a2)
    text = page(client_for("committee_a").get(reverse("points_ledger_claims")))
    assert "待审核 2 条" in text
    assert text.index("打扫村道") < text.index("帮邻居收稻谷")
    photo = older.photos.get()
    assert reverse("points_ledger_claim_photo", args=[older.pk, photo.pk]) in text
    assert reverse("points_ledger_claim_approve", args=[older.pk]) in text


def test_approve_a_claim(client_for, cast, rubric):
    claim = submit_claim(cast, rubric["care"])
    client = client_for("committee_a")
    response = client.post(reverse("points_ledger_claim_approve", args=[claim.pk]), follow=True)
    assert "已通过：001 张三丰「照顾老人」，已加 10 分" in page(response)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED and claim.reviewed_by == cast.committee_a
    assert household_balance(cast.household_a) == 10
    # A second click: refused with a message, no second award.
    again = client.post(reverse("points_ledger_claim_approve", args=[claim.pk]))
    assert again.status_code == 200 and "该申报已审核（已通过）" in page(again)
    assert Transfer.objects.count() == 1
    assert "已通过" in page(client.get(reverse("points_ledger_claims")))  # among the recently reviewed


def test_reject_a_claim_needs_a_reason(client_for, cast, rubric):
    claim = submit_claim(cast, rubric["care"])
    client = client_for("committee_a")
    url = reverse("points_ledger_claim_reject", args=[claim.pk])
    for reason in ("", "   "):
        response = client.post(url, {"reason": reason})
        assert response.status_code == 200 and "请填写未通过的原因" in page(response)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PENDING
    response = client.post(url, {"reason": "照片看不清"}, follow=True)
    assert "已退回" in page(response) and "照片看不清" in page(response)
    claim.refresh_from_db()
    assert (claim.status, claim.reject_reason) == (Claim.Status.REJECTED, "照片看不清")
    assert Transfer.objects.count() == 0


def test_approving_a_claim_whose_item_was_retired_shows_why(client_for, cast, rubric):
    claim = submit_claim(cast, rubric["care"])
    RubricItem.objects.filter(pk=rubric["care"].pk).update(active=False)
    response = client_for("committee_a").post(reverse("points_ledger_claim_approve", args=[claim.pk]))
    assert response.status_code == 200 and "该细则已停用" in page(response)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PENDING and Transfer.objects.count() == 0


@pytest.mark.parametrize("role", [*MANAGERS_ONLY, "committee_b"])
def test_claims_refused_outside_manage_points(client_for, cast, rubric, role):
    claim = submit_claim(cast, rubric["care"])
    client = client_for(role)
    assert client.post(reverse("points_ledger_claim_approve", args=[claim.pk])).status_code == 404
    assert client.post(reverse("points_ledger_claim_reject", args=[claim.pk]), {"reason": "不行"}).status_code == 404
    assert client.get(reverse("points_ledger_claim", args=[claim.pk])).status_code == 404
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PENDING and Transfer.objects.count() == 0
    if role == "committee_b":
        assert "扶老人过马路" not in page(client.get(reverse("points_ledger_claims")))


# --- 异议答复 ---------------------------------------------------------------------------------------------------


@pytest.fixture
def objection(cast, rubric):
    transfer = seed_award(cast, rubric["care"])
    notice_publish(actor=cast.committee_a, village=cast.village_a, period=books.month_of())
    return objection_file(actor=cast.resident_a, transfer=transfer, text="这条记错了，我家没有参加")


def answer_url(objection):
    return reverse("points_ledger_objection_answer", args=[objection.pk])


def test_objections_queue_shows_the_questioned_transfer(client_for, cast, objection):
    text = page(client_for("committee_a").get(reverse("points_ledger_objections")))
    assert "待答复 1 条" in text
    assert "这条记错了，我家没有参加" in text and "照顾老人" in text
    assert answer_url(objection) in text


@pytest.mark.any_day
def test_uphold_an_objection_reverses_the_transfer(client_for, cast, objection):
    data = {"decision": "upheld", "answer": "经核实确属误记，已冲正"}
    response = client_for("committee_a").post(answer_url(objection), data, follow=True)
    assert "异议成立，已冲正第 1 号记录" in page(response)
    objection.refresh_from_db()
    assert objection.status == Objection.Status.UPHELD and objection.reversal.reverses == objection.transfer
    assert household_balance(cast.household_a) == 0


def test_dismiss_an_objection(client_for, cast, objection):
    data = {"decision": "dismissed", "answer": "有照片和签到表为证"}
    response = client_for("committee_a").post(answer_url(objection), data, follow=True)
    assert "已答复：异议不成立" in page(response)
    objection.refresh_from_db()
    assert (objection.status, objection.answer) == (Objection.Status.DISMISSED, "有照片和签到表为证")
    assert Transfer.objects.count() == 1 and household_balance(cast.household_a) == 10


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "upheld", "answer": ""}, "请填写答复"),
        ({"decision": "dismissed", "answer": "   "}, "请填写答复"),
        ({"answer": "理由"}, "请选择异议是否成立"),
        ({"decision": "maybe", "answer": "理由"}, "请选择异议是否成立"),
    ],
)
def test_bad_answers_are_refused(client_for, cast, objection, data, message):
    response = client_for("committee_a").post(answer_url(objection), data)
    assert response.status_code == 200 and message in page(response)
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN and Transfer.objects.count() == 1


def test_upholding_an_already_reversed_transfer_is_refused(client_for, cast, objection):
    transfer_reverse(actor=cast.committee_a, transfer=objection.transfer, reason="已改", idempotency_key="r")
    response = client_for("committee_a").post(answer_url(objection), {"decision": "upheld", "answer": "同意"})
    assert "该记录已经冲正过" in page(response)
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN and Transfer.objects.count() == 2


@pytest.mark.parametrize("role", [*MANAGERS_ONLY, "committee_b"])
def test_objections_refused_outside_manage_points(client_for, cast, objection, role):
    response = client_for(role).post(answer_url(objection), {"decision": "upheld", "answer": "同意"})
    assert response.status_code == 404
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN and Transfer.objects.count() == 1


# --- 积分公示与结账 ---------------------------------------------------------------------------------------------


def notices_url(village, action=None):
    name = {"publish": "points_ledger_notice_publish", "close": "points_ledger_month_close"}.get(
        action, "points_ledger_notices"
    )
    return reverse(name, args=[village.pk])


def this_month():
    return f"{books.month_of():%Y-%m}"


def after_deadline(notice):
    moment = datetime.datetime.combine(notice.objection_deadline + datetime.timedelta(days=1), datetime.time(12))
    return clock.frozen_at(moment.replace(tzinfo=datetime.UTC))


@pytest.mark.any_day
def test_publish_then_close_a_month(client_for, cast, rubric):
    seed_award(cast, rubric["care"])
    client = client_for("committee_a")
    listing = page(client.get(notices_url(cast.village_a)))
    assert f'data-month="{this_month()}"' in listing and "未公示" in listing
    response = client.post(notices_url(cast.village_a, "publish"), {"period": this_month()}, follow=True)
    assert f"已公示 {this_month()} 的积分" in page(response)
    notice = MonthlyNotice.objects.get(village=cast.village_a)
    assert notice.published_by == cast.committee_a
    month = this_month()
    with after_deadline(notice):
        response = client.post(notices_url(cast.village_a, "close"), {"period": month}, follow=True)
    assert f"{month} 已结账" in page(response)
    notice.refresh_from_db()
    assert notice.is_closed and notice.closed_by == cast.committee_a


def test_month_refusals_are_shown(client_for, cast, objection):
    client = client_for("committee_a")
    notice = objection.notice
    again = client.post(notices_url(cast.village_a, "publish"), {"period": this_month()})
    assert again.status_code == 200 and "已经公示过" in page(again)
    month = this_month()
    early = client.post(notices_url(cast.village_a, "close"), {"period": month})
    assert f"公示期到 {notice.objection_deadline.isoformat()} 才结束" in page(early)
    with after_deadline(notice):
        blocked = client.post(notices_url(cast.village_a, "close"), {"period": month})
    assert "还有 1 条异议未答复，不能结账" in page(blocked)
    notice.refresh_from_db()
    assert not notice.is_closed
    assert MonthlyNotice.objects.count() == 1


@pytest.mark.parametrize("period", ["", "2025-13", "abc", "2025/03", "1999-01", "20250-1"])
def test_bad_months_are_refused(client_for, cast, period):
    response = client_for("committee_a").post(notices_url(cast.village_a, "publish"), {"period": period})
    assert response.status_code == 200 and "月份格式应为 2025-03" in page(response)
    assert not MonthlyNotice.objects.exists()


@pytest.mark.any_day
def test_future_month_and_unpublished_close_are_refused(client_for, cast):
    client = client_for("committee_a")
    future = books.month_of() + datetime.timedelta(days=40)
    response = client.post(notices_url(cast.village_a, "publish"), {"period": f"{future:%Y-%m}"})
    assert "不能公示未来的月份" in page(response)
    response = client.post(notices_url(cast.village_a, "close"), {"period": this_month()})
    assert "该月份尚未公示，不能结账" in page(response)
    assert not MonthlyNotice.objects.exists()


@pytest.mark.parametrize("role", [*MANAGERS_ONLY, "committee_b"])
def test_notices_refused_outside_manage_points(client_for, cast, role):
    client = client_for(role)
    assert client.get(notices_url(cast.village_a)).status_code == 404
    assert client.post(notices_url(cast.village_a, "publish"), {"period": this_month()}).status_code == 404
    assert not MonthlyNotice.objects.exists()


# --- 积分细则 ---------------------------------------------------------------------------------------------------

ITEMS = "/admin/snippets/points/rubricitem/"
CATEGORIES = "/admin/snippets/points/rubriccategory/"


def item_form(category, **fields):
    data = {
        "category": category.pk,
        "name": "孝敬公婆",
        "kind": "award",
        "points": 8,
        "cap_period": "none",
        "cap_points": "",
        "village": "",
        "overrides": "",
        "evidence_required": "",
        "active": "on",
        "order": 0,
    }
    data.update(fields)
    return data


def test_committee_sees_district_and_own_items_and_edits_only_its_own(client_for, cast, rubric):
    client = client_for("committee_a")
    listing = page(client.get(ITEMS))
    for name in ("照顾老人", "乱扔垃圾", "门前三包"):
        assert name in listing
    assert "柳溪护河" not in listing
    assert f"{ITEMS}edit/{rubric['own_a'].pk}/" in listing
    assert f"{ITEMS}edit/{rubric['care'].pk}/" not in listing
    assert client.get(f"{ITEMS}edit/{rubric['care'].pk}/").status_code == 404  # a district item
    assert client.get(f"{ITEMS}edit/{rubric['own_b'].pk}/").status_code == 404  # another village's
    assert client.get(f"{ITEMS}edit/{rubric['own_a'].pk}/").status_code == 200


def test_committee_creates_a_village_item_and_an_override(client_for, cast, rubric):
    client = client_for("committee_a")
    category = rubric["care"].category
    response = client.post(f"{ITEMS}add/", item_form(category, village=cast.village_a.pk))
    assert response.status_code == 302
    created = RubricItem.objects.get(name="孝敬公婆")
    assert (created.village, created.district) == (cast.village_a, None)
    # An override starts from a copy of the district item.
    prefilled = page(client.get(f"{ITEMS}add/", {"overrides": rubric["care"].pk}))
    assert 'value="照顾老人"' in prefilled
    data = item_form(category, name="照顾老人", points=15, village=cast.village_a.pk, overrides=rubric["care"].pk)
    assert client.post(f"{ITEMS}add/", data).status_code == 302
    override = RubricItem.objects.get(overrides=rubric["care"])
    assert (override.village, override.points) == (cast.village_a, 15)
    # A second override of the same item in the same village would leave two items in force.
    response = client.post(f"{ITEMS}add/", data)
    assert response.status_code == 200 and "本村已经替代过这条全区细则" in page(response)
    assert RubricItem.objects.filter(overrides=rubric["care"]).count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"village": ""}, "细则须属于一个村或一个区"),
        ({"points": "1001"}, "分值应在 1 到 1000 之间"),
        ({"cap_period": "month", "cap_points": ""}, "设了上限周期就要填每户上限"),
    ],
)
def test_bad_rubric_items_are_refused(client_for, cast, rubric, fields, message):
    data = item_form(rubric["care"].category, village=cast.village_a.pk)
    data.update(fields)
    before = RubricItem.objects.count()
    response = client_for("committee_a").post(f"{ITEMS}add/", data)
    assert response.status_code == 200
    assert message in page(response)
    assert RubricItem.objects.count() == before


def test_committee_cannot_create_items_for_another_village_or_the_district(client_for, cast, rubric):
    client = client_for("committee_a")
    before = RubricItem.objects.count()
    response = client.post(f"{ITEMS}add/", item_form(rubric["care"].category, village=cast.village_b.pk))
    assert response.status_code == 200 and "所选的村不存在或不在您的管辖范围内" in page(response)
    # Overriding a village item (or another district's item) is refused too.
    data = item_form(rubric["care"].category, village=cast.village_a.pk, overrides=rubric["own_b"].pk)
    assert "只能替代本区的全区细则" in page(client.post(f"{ITEMS}add/", data))
    # No district field for a committee: a posted district is ignored and a village is still required.
    response = client.post(f"{ITEMS}add/", item_form(rubric["care"].category, district=cast.district.pk))
    assert response.status_code == 200 and "细则须属于一个村或一个区" in page(response)
    assert RubricItem.objects.count() == before


def test_committee_deactivates_its_own_item(client_for, cast, rubric):
    item = rubric["own_a"]
    data = item_form(item.category, name=item.name, points=item.points, village=cast.village_a.pk, active="")
    assert client_for("committee_a").post(f"{ITEMS}edit/{item.pk}/", data).status_code == 302
    item.refresh_from_db()
    assert not item.active


def test_an_item_in_use_cannot_be_deleted_but_an_unused_one_can(client_for, cast, rubric):
    client = client_for("committee_a")
    used = rubric["own_a"]
    seed_award(cast, used)
    listing = page(client.get(ITEMS))
    assert f"{ITEMS}delete/{used.pk}/" not in listing
    response = client.post(f"{ITEMS}delete/{used.pk}/", follow=True)
    assert "已被使用" in page(response) and "取消「启用」" in page(response)
    assert RubricItem.objects.filter(pk=used.pk).exists()
    unused = RubricItem.objects.create(category=used.category, village=cast.village_a, name="临时", points=1)
    assert f"{ITEMS}delete/{unused.pk}/" in page(client.get(ITEMS))
    assert client.post(f"{ITEMS}delete/{unused.pk}/").status_code == 302
    assert not RubricItem.objects.filter(pk=unused.pk).exists()
    # A district item: not the committee's to delete.
    assert client.post(f"{ITEMS}delete/{rubric['care'].pk}/").status_code == 404
    assert RubricItem.objects.filter(pk=rubric["care"].pk).exists()


def test_district_admin_edits_district_items(client_for, cast, rubric):
    item = rubric["care"]
    data = item_form(item.category, name="照顾孤寡老人", points=12, district=cast.district.pk)
    response = client_for("district_admin").post(f"{ITEMS}edit/{item.pk}/", data)
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.name, item.points, item.village) == ("照顾孤寡老人", 12, None)


def test_only_the_district_admin_edits_categories(client_for, cast, rubric):
    data = {"name": "邻里互助", "order": 3}
    response = client_for("committee_a").post(f"{CATEGORIES}add/", data)
    assert response.status_code in (302, 403) and not RubricCategory.objects.filter(name="邻里互助").exists()
    assert client_for("district_admin").post(f"{CATEGORIES}add/", data).status_code == 302
    assert RubricCategory.objects.filter(name="邻里互助").exists()
    used = rubric["care"].category
    response = client_for("district_admin").post(f"{CATEGORIES}delete/{used.pk}/", follow=True)
    assert "下还有细则，不能删除" in page(response)
    assert RubricCategory.objects.filter(pk=used.pk).exists()


# --- the menu -----------------------------------------------------------------------------------------------


def in_menu(label, html) -> bool:
    """The sidebar is JSON in the page: labels appear escaped."""
    return f'"label": {json.dumps(label)}' in html


def test_menu_shows_the_ledger_to_those_who_may_use_it(client_for, cast, rubric):
    submit_claim(cast, rubric["care"])
    committee = page(client_for("committee_a").get("/admin/"))
    for label in ("积分管理", "加分扣分", "申报审核（1）", "异议答复", "积分公示与结账", "积分细则"):
        assert in_menu(label, committee), label
    committee_b = page(client_for("committee_b").get("/admin/"))
    assert in_menu("申报审核", committee_b) and not in_menu("申报审核（1）", committee_b)  # the count is scoped
    storekeeper = page(client_for("storekeeper_a").get("/admin/"))
    assert in_menu("积分细则", storekeeper)  # may read the rubric
    assert not in_menu("加分扣分", storekeeper) and not in_menu("申报审核", storekeeper)


def test_admin_pages_render_for_township_staff(client_for, cast, rubric, objection):
    client = client_for("township_staff")
    for url in (
        reverse("points_ledger_claims"),
        reverse("points_ledger_objections"),
        reverse("points_ledger_notices_start"),
        notices_url(cast.village_a),
        award_url(cast.village_b),
        ITEMS,
        CATEGORIES,
    ):
        assert client.get(url).status_code == 200, url
    assert Household.objects.count() == 4


# --- the award form in a real browser -----------------------------------------------------------------------


def shot(page, name):
    """HEHE_SCREENSHOTS=/some/dir keeps a screenshot of each step (never inside the repository)."""
    folder = os.environ.get("HEHE_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


@pytest.mark.slow
@NEEDS_CHROMIUM
def test_award_form_picker_in_a_browser(live_server, cast, rubric):
    """Pick households by pinyin initials and name as you type, choose the member, read the summary, double click:
    one award. Then a whole group, through the confirm dialog. No console errors, no request off the server."""
    import playwright.sync_api as sync_api

    sync_api.expect.set_options(timeout=20_000)  # assertions wait longer on a loaded machine
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    expect = sync_api.expect
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(locale="zh-CN", viewport={"width": 400, "height": 900})  # a phone
        context.set_default_timeout(30_000)  # a loaded 2-core CI machine is slow
        page = context.new_page()
        errors, requested = [], []
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda request: requested.append(request.url))
        page.on("dialog", lambda dialog: dialog.accept())
        try:
            url = award_url(cast.village_a)
            page.goto(f"{live_server.url}/admin/login/?next={url}")
            page.fill("input[name=username]", "committee_a")
            page.fill("input[name=password]", "pw-staff-123")
            page.click("button[type=submit]")
            page.wait_for_url(f"**{url}")

            page.select_option("select[name=rubric_item]", str(rubric["care"].pk))
            search = page.locator("#household-search")
            search.press_sequentially("zsf")
            expect(page.locator("#household-results button", has_text="张三丰")).to_have_count(1)
            search.press("Enter")
            search.press_sequentially("王建")
            page.locator("#household-results button", has_text="王建国").click()
            expect(page.locator("#household-chosen li")).to_have_count(2)
            expect(page.locator("#award-summary")).to_have_text("将为 2 户各加 10 分，合计 20 分")
            expect(page.locator("select[name=member]")).to_be_disabled()

            page.locator("#household-chosen li", has_text="王建国").get_by_role("button").click()
            expect(page.locator("#award-summary")).to_have_text("将为 1 户各加 10 分，合计 10 分")
            page.select_option("select[name=member]", label="李秀英")
            page.fill("input[name=memo]", "照顾邻居")
            shot(page, "award-1-form")
            page.locator("[data-award-submit]").dblclick()
            expect(page.locator(".messages")).to_contain_text("已为 1 户加分「照顾老人」")
            shot(page, "award-2-done")

            (transfer,) = Transfer.objects.all()
            assert (transfer.household_id, transfer.member.name, transfer.memo) == (
                cast.household_a.pk,
                "李秀英",
                "照顾邻居",
            )

            page.locator(".messages a", has_text="查看明细").click()
            page.wait_for_url(f"**{statement_url(cast.household_a)}")
            expect(page.get_by_test_id("balance")).to_have_text("10")
            shot(page, "award-3-statement")
            page.go_back()  # the form again, the item still chosen
            expect(page.locator("select[name=rubric_item]")).to_have_value(str(rubric["care"].pk))

            page.check("input[name=target][value=group]")
            page.select_option("select[name=group]", str(cast.household_a.group_id))
            expect(page.locator("#award-summary")).to_have_text("将为 2 户各加 10 分，合计 20 分")
            page.locator("[data-award-submit]").click()
            expect(page.locator(".messages")).to_contain_text("已为 2 户加分")
            assert Transfer.objects.count() == 3

            # The other screens render on a phone without script errors.
            submit_claim(cast, rubric["care"], text="打扫村道")
            for name, other in [
                ("claims", reverse("points_ledger_claims")),
                ("notices", reverse("points_ledger_notices", args=[cast.village_a.pk])),
                ("rubric", ITEMS),
            ]:
                page.goto(f"{live_server.url}{other}")
                shot(page, f"award-5-{name}")
            expect(page.locator("body")).to_contain_text("门前三包")
        finally:
            context.close()
            browser.close()
    assert errors == []
    server = urlsplit(live_server.url).netloc
    assert [u for u in requested if not u.startswith("data:") and urlsplit(u).netloc != server] == []

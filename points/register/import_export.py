"""Importing and exporting the household register as .xlsx or .csv with Chinese headers.

An import is all or nothing: the whole file is read and checked first, every problem is collected with its row
and column, and only a file with no problem at all is written, in one transaction.
"""

import csv
import io
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from points import spreadsheets
from points.exceptions import ImportRefused, OutOfScope, RowError
from points.models import Household, HouseholdEvent, Member, Village, VillageGroup
from points.register import validators
from points.register.pinyin import initials
from points.scope import Capability, scope_for

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# An .xlsx is a zip: refuse one that would inflate past this before openpyxl sees it (a zip bomb).
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
# What is read at most, blank cells and rows included. An .xlsx declares its own size (``<dimension
# ref="A1:XFD1048576">``) and may place one cell at row 1,048,576: openpyxl then pads every row to 16,384 columns
# and yields every missing row, so a 1.5 KB file could make the server build billions of empty cells. Columns
# past MAX_COLUMNS are never read (the template has nine), and a file is refused once MAX_READ_ROWS rows were
# read from an .xlsx, whether they held anything or not.
MAX_COLUMNS = 30
MAX_READ_ROWS = 2 * MAX_ROWS

COL_NUMBER = "户号"
COL_GROUP = "组"
COL_ADDRESS = "地址"
COL_NAME = "姓名"
COL_RELATION = "与户主关系"
COL_GENDER = "性别"
COL_BIRTH_YEAR = "出生年份"
COL_PHONE = "手机号"
COL_ID = "身份证号"
COL_STATUS = "状态"  # written by export, ignored by import
COLUMNS = [COL_NUMBER, COL_GROUP, COL_ADDRESS, COL_NAME, COL_RELATION, COL_GENDER, COL_BIRTH_YEAR, COL_PHONE, COL_ID]
REQUIRED = [COL_NUMBER, COL_GROUP, COL_NAME, COL_RELATION, COL_GENDER]
IGNORED = {COL_STATUS}

GENDERS = {"男": Member.Gender.MALE, "女": Member.Gender.FEMALE}
# Both the Chinese labels and the stored values: the labels are fixed Chinese words in the file format,
# whatever language the committee member's screen is in.
RELATION_LABELS_ZH = {
    "户主": "head",
    "配偶": "spouse",
    "儿子": "son",
    "女儿": "daughter",
    "儿媳": "daughter_in_law",
    "女婿": "son_in_law",
    "孙子": "grandson",
    "孙女": "granddaughter",
    "父亲": "father",
    "母亲": "mother",
    "兄弟姐妹": "sibling",
    "其他": "other",
}
RELATION_ZH = {value: label for label, value in RELATION_LABELS_ZH.items()}
GENDER_ZH = {"M": "男", "F": "女"}


@dataclass
class ParsedHousehold:
    number: str
    group: VillageGroup | None
    address: str
    first_row: int
    members: list[Member] = field(default_factory=list)


def _cell(value) -> str:
    """A cell as text: Excel hands numbers over as int or float (1956.0), text as str."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _read_rows(name: str, data: bytes) -> list[list[str]]:
    """The file's rows as lists of text, header first. Raises ImportRefused for a file that cannot be read."""
    if not data:
        raise ImportRefused([RowError(0, "", _("文件是空的"))])
    if len(data) > MAX_BYTES:
        raise ImportRefused([RowError(0, "", _("文件超过 2 MB，请分批导入"))])
    lower = name.lower()
    if lower.endswith(".xlsx"):
        return _read_xlsx(data)
    if lower.endswith(".csv"):
        return _read_csv(data)
    raise ImportRefused([RowError(0, "", _("不支持的文件类型：请上传 .xlsx 或 .csv 文件"))])


def _read_xlsx(data: bytes) -> list[list[str]]:
    not_excel = ImportRefused([RowError(0, "", _("文件不是有效的 Excel (.xlsx) 文件"))])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise ImportRefused([RowError(0, "", _("Excel 文件解压后过大，已拒绝"))])
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportRefused:
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise not_excel from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the file's own <dimension> is not believed: read the rows that are there
        return _capped(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), max_read=MAX_READ_ROWS)
    except ImportRefused:
        raise
    except Exception as exc:  # a damaged sheet can fail in many ways deep inside openpyxl
        raise not_excel from exc
    finally:
        workbook.close()


def _read_csv(data: bytes) -> list[list[str]]:
    text = None
    # Excel in China saves CSV as GBK; other tools as UTF-8, with or without a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text:
        raise ImportRefused([RowError(0, "", _("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV"))])
    try:
        # newline="" lets the csv module see every line ending (\r\n, \n and an old Mac's lone \r).
        return _capped(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportRefused([RowError(0, "", _("文件不是有效的 CSV 文件：%(error)s") % {"error": exc})]) from exc


def _capped(source, *, max_read: int | None = None) -> list[list[str]]:
    """Rows as text (at most MAX_COLUMNS cells each), refusing as soon as the data rows (blank rows not counted)
    pass MAX_ROWS, or the rows read (blank ones too) pass ``max_read``. A CSV needs no ``max_read``: every row
    it has is in its (at most 2 MB of) bytes; an .xlsx can declare rows it does not hold."""
    rows = []
    data_rows = 0
    for values in source:
        if max_read is not None and len(rows) >= max_read:
            raise ImportRefused(
                [
                    RowError(
                        0,
                        "",
                        _("文件行数过多（含空行，最多读取 %(max)s 行）：请删去空行或分批导入") % {"max": MAX_READ_ROWS},
                    )
                ]
            )
        cells = [_cell(v) for v in values[:MAX_COLUMNS]]
        rows.append(cells)
        if any(cells):
            data_rows += 1
            if data_rows > MAX_ROWS + 1:  # + 1: the header
                raise ImportRefused([RowError(0, "", _("文件超过 %(max)s 行，请分批导入") % {"max": MAX_ROWS})])
    return rows


def register_import_parse(*, village: Village, name: str, data: bytes) -> list[ParsedHousehold]:
    """Read and check a whole file; return the households to create, or raise ImportRefused with every problem."""
    rows = [row for row in _read_rows(name, data)]
    # Trailing empty rows are common in spreadsheets; they are not data.
    while rows and not any(rows[-1]):
        rows.pop()
    if len(rows) < 2:
        raise ImportRefused([RowError(0, "", _("文件中没有数据行"))])
    header = rows[0]
    errors: list[RowError] = []
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        if not title:
            continue
        if title in positions:
            errors.append(RowError(1, title, _("列名重复")))
        elif title not in COLUMNS and title not in IGNORED:
            errors.append(RowError(1, title, _("未知的列，请使用模板中的列名")))
        positions[title] = index
    for title in REQUIRED:
        if title not in positions:
            errors.append(RowError(1, title, _("缺少这一列")))
    if errors:
        raise ImportRefused(errors)

    groups = {g.name: g for g in VillageGroup.objects.filter(village=village)}
    existing = set(Household.objects.filter(village=village).values_list("number", flat=True))
    households: OrderedDict[str, ParsedHousehold] = OrderedDict()

    for row_number, values in enumerate(rows[1:], start=2):
        if not any(values):
            continue

        def get(title, values=values):
            index = positions.get(title)
            return values[index] if index is not None and index < len(values) else ""

        def problem(title, message, row_number=row_number):
            errors.append(RowError(row_number, title, message))

        number = get(COL_NUMBER)
        if not number:
            problem(COL_NUMBER, _("不能为空"))
        elif message := validators.household_number_error(number):
            problem(COL_NUMBER, message)
        elif number in existing:
            problem(COL_NUMBER, _("户号 %(number)s 在本村已存在") % {"number": number})

        group_name = get(COL_GROUP)
        group = groups.get(group_name)
        if not group_name:
            problem(COL_GROUP, _("不能为空"))
        elif group is None:
            problem(
                COL_GROUP,
                _("本村没有「%(group)s」，现有的组：%(groups)s")
                % {"group": group_name, "groups": "、".join(groups) or _("无")},
            )

        name = get(COL_NAME)
        if not name:
            problem(COL_NAME, _("不能为空"))
        elif len(name) > 50:
            problem(COL_NAME, _("姓名过长（最多 50 字）"))

        relation = RELATION_LABELS_ZH.get(get(COL_RELATION))
        if relation is None:
            problem(COL_RELATION, _("应为以下之一：%(choices)s") % {"choices": "、".join(RELATION_LABELS_ZH)})
        gender = GENDERS.get(get(COL_GENDER))
        if gender is None:
            problem(COL_GENDER, _("应为「男」或「女」"))

        birth_year = None
        if raw_year := get(COL_BIRTH_YEAR):
            if raw_year.isdigit():
                birth_year = int(raw_year)
                if message := validators.birth_year_error(birth_year):
                    problem(COL_BIRTH_YEAR, message)
            else:
                problem(COL_BIRTH_YEAR, validators.MSG_BIRTH_YEAR)
        phone = get(COL_PHONE)
        if message := validators.phone_error(phone):
            problem(COL_PHONE, message)
        id_number = get(COL_ID).upper()
        if message := validators.id_number_error(id_number):
            problem(COL_ID, message)
        address = get(COL_ADDRESS)
        if len(address) > 200:
            problem(COL_ADDRESS, _("地址过长（最多 200 字）"))

        if not number:
            continue
        parsed = households.get(number)
        if parsed is None:
            parsed = households[number] = ParsedHousehold(number, group, address, row_number)
        else:
            if group_name and parsed.group and group and group != parsed.group:
                problem(COL_GROUP, _("与第 %(row)s 行同一户号的组不一致") % {"row": parsed.first_row})
            if address and parsed.address and address != parsed.address:
                problem(COL_ADDRESS, _("与第 %(row)s 行同一户号的地址不一致") % {"row": parsed.first_row})
            parsed.address = parsed.address or address
        parsed.members.append(
            Member(
                village=village,
                name=name,
                name_initials=initials(name),
                relation=relation or Member.Relation.OTHER,
                gender=gender or Member.Gender.MALE,
                birth_year=birth_year,
                phone=phone,
                id_number=id_number,
            )
        )

    for parsed in households.values():
        heads = [m for m in parsed.members if m.relation == Member.Relation.HEAD]
        if len(heads) != 1:
            message = _("户号 %(number)s 应有且只有一位户主，现有 %(count)s 位") % {
                "number": parsed.number,
                "count": len(heads),
            }
            errors.append(RowError(parsed.first_row, COL_RELATION, message))
    if errors:
        errors.sort(key=lambda error: error.row)  # stable: problems on one row keep their column order
        raise ImportRefused(errors)
    return list(households.values())


@transaction.atomic
def register_import(*, village: Village, name: str, data: bytes, actor) -> int:
    """Import a register file into ``village``; returns the number of households created. All or nothing."""
    if not scope_for(actor).can(Capability.IMPORT_REGISTER, village.id):
        raise OutOfScope()
    parsed = register_import_parse(village=village, name=name, data=data)
    households = []
    for item in parsed:
        head = next(m for m in item.members if m.relation == Member.Relation.HEAD)
        households.append(
            Household(
                village=village,
                number=item.number,
                group=item.group,
                address=item.address,
                head_name=head.name,
                head_initials=head.name_initials,
            )
        )
    Household.objects.bulk_create(households, batch_size=500)
    members = []
    for household, item in zip(households, parsed, strict=True):
        for member in item.members:
            member.household = household
            members.append(member)
    Member.objects.bulk_create(members, batch_size=500)
    detail = _("从文件 %(name)s 导入") % {"name": name[:100]}
    HouseholdEvent.objects.bulk_create(
        [
            HouseholdEvent(household=h, village=village, kind=HouseholdEvent.Kind.IMPORTED, actor=actor, detail=detail)
            for h in households
        ],
        batch_size=500,
    )
    return len(households)


def register_template() -> bytes:
    """An empty register workbook with the headers, an example household and the allowed values."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "户籍"
    sheet.append(COLUMNS)
    sheet.append(["001", "一组", "幸福路 1 号", "张三丰", "户主", "男", 1958, "13800138000", ""])
    sheet.append(["001", "一组", "幸福路 1 号", "李秀英", "配偶", "女", 1960, "", ""])
    for column in ("A", "H", "I"):
        for cell in sheet[column]:
            cell.number_format = "@"  # text, so Excel keeps leading zeros and all 18 ID digits
    notes = workbook.create_sheet("说明")
    notes.append(["列", "说明"])
    notes.append([COL_NUMBER, "必填；字母和数字；同一户的每位成员各占一行，户号相同"])
    notes.append([COL_GROUP, "必填；须是本村已有的组"])
    notes.append([COL_RELATION, "必填；" + "、".join(RELATION_LABELS_ZH) + "；每户一位户主"])
    notes.append([COL_GENDER, "必填；男 或 女"])
    notes.append([COL_PHONE, "选填；11 位手机号；仅村委可见"])
    notes.append([COL_ID, "选填；18 位身份证号；仅村委可见"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def register_export(*, village: Village, actor) -> bytes:
    """The village's register as .xlsx, in the import's columns plus the status; streamed row by row."""
    if not scope_for(actor).can(Capability.IMPORT_REGISTER, village.id):
        raise OutOfScope()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("户籍")
    sheet.append(spreadsheets.row(sheet, [*COLUMNS, COL_STATUS]))
    members = (
        Member.objects.filter(village=village)
        .select_related("household", "household__group")
        .order_by("household__number", "id")
    )
    for member in members.iterator(chunk_size=2000):
        household = member.household
        sheet.append(
            spreadsheets.row(
                sheet,
                [
                    household.number,
                    household.group.name,
                    household.address,
                    member.name,
                    RELATION_ZH.get(member.relation, "其他"),
                    GENDER_ZH.get(member.gender, ""),
                    member.birth_year or "",
                    member.phone,
                    member.id_number,
                    "已归档" if household.is_archived else "在册",
                ],
            )
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

"""``points.privacy``: the one masking of names and of phone and ID numbers in free text.

Every way people type a number is masked; the numbers a village's public text is full of (years, dates,
household and receipt numbers, points) are left alone. The copies this replaced disagreed: the portal's pages
knew ``138 0013 8000`` but not ``+86 138 0013 8000``, full-width digits or an ID number with spaces, and the API
knew none of them.
"""

import pytest

from points.privacy import MASK, mask_name, mask_numbers

PRIVATE = [
    # mobiles
    "13800138000",
    "138 0013 8000",
    "138-0013-8000",
    "138 - 0013 - 8000",
    "138.0013.8000",
    "+86 138 0013 8000",
    "+86-138-0013-8000",
    "+8613800138000",
    "008613800138000",
    "0086 138 0013 8000",
    "86 13800138000",
    "１３８００１３８０００",
    "＋８６ １３８ ００１３ ８０００",
    "138\u30000013\u30008000",  # full-width spaces
    "138－0013－8000",  # full-width hyphens
    "138\u20140013\u20148000",  # em dashes
    # ID numbers
    "110101199003071234",
    "11010119900307123X",
    "11010119900307123x",
    "130102199003071234",  # starts like a mobile (Hebei): masked whole, not as a phone and four digits
    "110101900307123",  # the old 15 digits
    "110101 19900307 123X",
    "110101-1990-0307-123X",
    "110101 1990 0307 123x",
    "１１０１０１１９９００３０７１２３Ｘ",
    # landlines with their area code
    "0571-88881234",
    "010 6512 3456",
    "02188881234",
]

PUBLIC = [
    "2026",
    "2026年",
    "2026-03-07",
    "2026.03.07",
    "2026年3月7日",
    "2026-03-07 2026-03-08",
    "2026-03-07 10:00 至 2026-03-08 09:00",
    "QS01-001",
    "QS01-000012",
    "加 100 分",
    "+10 -5",
    "1380 分",
    "12.50 元",
    "第 3 户 13 人",
    "12345678901234567890",  # a 20-digit order number is no ID number
    "1380013800",  # ten digits: not a phone
]


@pytest.mark.parametrize("number", PRIVATE)
def test_every_way_a_number_is_typed_is_masked(number):
    assert mask_numbers(number) == MASK
    assert mask_numbers(f"照顾婆婆十年，电话{number}，欢迎联系。") == f"照顾婆婆十年，电话{MASK}，欢迎联系。"
    assert mask_numbers(f"联系人 {number} 张大姐") == f"联系人 {MASK} 张大姐"


@pytest.mark.parametrize("text", PUBLIC)
def test_years_dates_household_numbers_and_points_stay(text):
    assert mask_numbers(text) == text
    assert mask_numbers(f"{text}，电话 13800138000") == f"{text}，电话 {MASK}"


def test_a_number_beside_a_date_or_another_number():
    assert mask_numbers("13800138000 2026-03-07 登记") == f"{MASK} 2026-03-07 登记"
    assert mask_numbers("13800138000 13900139000") == f"{MASK} {MASK}"
    assert mask_numbers("2026-03-07 0571-88881234") == f"2026-03-07 {MASK}"
    assert mask_numbers("身份证 110101199003071234，手机 +86 138 0013 8000。") == f"身份证 {MASK}，手机 {MASK}。"


def test_empty_text():
    assert mask_numbers("") == ""
    assert mask_numbers(None) == ""


def test_names_are_masked_in_the_middle():
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("李四") == "李*"
    assert mask_name("欧阳小锋") == "欧**锋"
    assert mask_name(" 王 ") == "王"

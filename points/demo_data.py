"""Realistic, deterministic demo data for the seeder: names, villages, generations. Not used by tests."""

import random

from .validators import make_id_number

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁沈任"
    "姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严"
)
MALE_GIVEN = [
    "建国",
    "建华",
    "国强",
    "志强",
    "永福",
    "德明",
    "文斌",
    "海涛",
    "立新",
    "春生",
    "长青",
    "振华",
    "家旺",
    "宏伟",
    "伟",
    "军",
    "勇",
    "强",
    "磊",
    "涛",
    "浩然",
    "子轩",
    "宇航",
    "俊杰",
    "明轩",
    "志远",
    "新民",
    "福生",
    "有才",
    "树林",
    "金山",
    "保国",
    "守义",
    "三丰",
]
FEMALE_GIVEN = [
    "秀英",
    "桂英",
    "玉兰",
    "秀兰",
    "凤英",
    "淑珍",
    "翠花",
    "丽华",
    "红梅",
    "春燕",
    "美玲",
    "慧敏",
    "丽娟",
    "小芳",
    "静",
    "敏",
    "婷",
    "雪梅",
    "晓燕",
    "雨涵",
    "欣怡",
    "梓涵",
    "诗琪",
    "佳怡",
    "玉珍",
    "金凤",
]
ROADS = ["幸福路", "和谐路", "兴村路", "桃园巷", "柳溪街", "青石巷", "丰收路", "文明路"]

DISTRICT = ("和安区", "HA")
TOWNSHIPS = [
    ("青山镇", "QSZ", [("青山村", "QS01"), ("柳溪村", "LX02")]),
    ("白水乡", "BSX", [("白水村", "BS01"), ("桃源村", "TY02")]),
]
GROUPS = ["一组", "二组", "三组", "四组"]
HOUSEHOLDS_PER_VILLAGE = 75


def _name(rng, surname, female):
    return surname + rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)


def _phone(rng):
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def _id_number(rng, year, female):
    region = "330110"
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    seq = rng.randint(10, 99) * 10 + (rng.choice([0, 2, 4, 6, 8]) if female else rng.choice([1, 3, 5, 7, 9]))
    return make_id_number(f"{region}{year:04d}{month:02d}{day:02d}{seq:03d}")


def household_members(rng: random.Random) -> list[dict]:
    """A family of two to four generations around a head born 1948–1980."""
    surname = rng.choice(SURNAMES)
    head_female = rng.random() < 0.15
    head_year = rng.randint(1948, 1980)
    members = []

    def add(name, relation, female, year, with_phone):
        members.append(
            {
                "name": name,
                "relation": relation,
                "gender": "F" if female else "M",
                "birth_year": year,
                "phone": _phone(rng) if with_phone else "",
                "id_number": _id_number(rng, year, female) if rng.random() < 0.7 else "",
            }
        )

    add(_name(rng, surname, head_female), "head", head_female, head_year, True)
    if rng.random() < 0.85:
        spouse_female = not head_female
        add(
            _name(rng, rng.choice(SURNAMES), spouse_female),
            "spouse",
            spouse_female,
            head_year + rng.randint(-3, 3),
            rng.random() < 0.5,
        )
    if head_year > 1965 and rng.random() < 0.5:
        add(_name(rng, surname, True), "mother", True, head_year - rng.randint(22, 30), False)
    for _ in range(rng.randint(0, 3)):
        female = rng.random() < 0.5
        year = min(head_year + rng.randint(20, 32), 2020)
        add(_name(rng, surname, female), "daughter" if female else "son", female, year, rng.random() < 0.8)
        if not female and year < 1998 and rng.random() < 0.6:
            add(_name(rng, rng.choice(SURNAMES), True), "daughter_in_law", True, year + rng.randint(-2, 3), True)
            if rng.random() < 0.7:
                grandchild_female = rng.random() < 0.5
                add(
                    _name(rng, surname, grandchild_female),
                    "granddaughter" if grandchild_female else "grandson",
                    grandchild_female,
                    min(year + rng.randint(22, 30), 2024),
                    False,
                )
    return members


def address(rng: random.Random, number: int) -> str:
    return f"{rng.choice(ROADS)} {number} 号"

"""Realistic, deterministic demo data for the seeder: names, villages, generations, and the texts of a year of
points history (rubric, inspection memos, claims, objections). Test fixtures never use it; only the seeder's own
test runs it, through ``seed_demo``."""

import random

from points.register.validators import make_id_number

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


# --- the points ledger: rubric and a year of history (used by points/demo_ledger.py) --------------------------

STAR_THRESHOLDS = [30, 60, 90, 120, 150]

# (category, [(key, name, kind, points, cap_period, cap_points, evidence_required)]). District-wide: 和安区.
RUBRIC = [
    (
        "孝老爱亲",
        [
            ("elder_care", "赡养照顾老人", "award", 10, "none", None, False),
            ("elder_visit", "陪伴看望独居老人", "award", 5, "month", 10, False),
            ("harmony", "家庭和睦无纠纷", "award", 5, "none", None, False),
        ],
    ),
    (
        "环境卫生",
        [
            ("doorstep", "门前三包保持整洁", "award", 5, "none", None, False),
            ("courtyard", "庭院整洁美观", "award", 3, "none", None, False),
            ("sorting", "垃圾分类投放正确", "award", 3, "none", None, False),
            ("litter", "乱扔垃圾", "deduction", 5, "none", None, False),
            ("clutter", "乱堆乱放柴草杂物", "deduction", 5, "none", None, False),
            ("burning", "违规焚烧秸秆", "deduction", 10, "none", None, False),
        ],
    ),
    (
        "遵纪守法",
        [
            ("law_class", "参加法治宣传教育", "award", 3, "none", None, False),
            ("insurance", "按时参加城乡居民医保", "award", 3, "year", 3, False),
            ("village_rules", "违反村规民约", "deduction", 10, "none", None, False),
            ("illegal_building", "私搭乱建", "deduction", 20, "none", None, False),
        ],
    ),
    (
        "移风易俗",
        [
            ("simple_wedding", "婚事新办简办", "award", 10, "none", None, False),
            ("simple_funeral", "丧事简办", "award", 10, "none", None, False),
            ("civil_tomb", "文明祭扫", "award", 3, "none", None, False),
            ("extravagance", "大操大办", "deduction", 20, "none", None, False),
        ],
    ),
    (
        "志愿服务",
        [
            ("volunteer", "参加志愿服务", "award", 5, "month", 20, False),
            ("labour", "参加义务劳动", "award", 3, "none", None, False),
            ("flood_duty", "防汛抗旱值守", "award", 10, "none", None, False),
        ],
    ),
    (
        "邻里互助",
        [
            ("help_needy", "帮扶困难群众", "award", 5, "none", None, False),
            ("mediate", "调解邻里纠纷", "award", 5, "none", None, False),
            ("honest", "拾金不昧", "award", 5, "none", None, False),
            ("brave", "见义勇为", "award", 20, "none", None, True),
        ],
    ),
]

# One village's own version of a district item: 柳溪村 lies along the stream and punishes dumping harder.
OVERRIDES = {"LX02": ("litter", "乱扔垃圾（含向溪河倾倒）", 10)}

SANITATION_MEMO = "{month}月人居环境检查 · {group}"
COURTYARD_MEMO = "{season}季“美丽庭院”评比"
SORTING_MEMO = "{month}月垃圾分类入户抽查"
HARMONY_MEMO = "第{quarter}季度文明家庭评议"
ELDER_MEMO = "第{quarter}季度孝老爱亲评议，村民代表会议通过"

# What the village's volunteers did, month by month (1 = January).
VOLUNTEER_MEMOS = {
    1: ["春节前清扫村道、帮孤寡老人贴春联", "冬季森林防火巡查"],
    2: ["元宵节文艺汇演现场服务", "返乡人员登记和交通疏导"],
    3: ["学雷锋日义务理发、量血压", "植树节在村口补种香樟"],
    4: ["清明节山林防火值守", "文明祭扫劝导"],
    5: ["农忙时节帮留守老人抢收油菜", "卫生院体检日引导老人排队"],
    6: ["防溺水巡查水塘、张贴警示牌", "帮五保户抢收小麦"],
    7: ["汛期巡堤查险", "暑期看护留守儿童"],
    8: ["人居环境整治，清理沟渠杂草", "高温天气给独居老人送防暑药品"],
    9: ["秋收期间道路疏导、防止打场占道", "开学季护送留守儿童"],
    10: ["重阳节敬老宴端菜服务", "秸秆禁烧巡查"],
    11: ["医保缴费入户宣传", "冬季征兵政策宣传"],
    12: ["冬季防火巡查、检查老人家电线", "年底清扫村道和公共厕所"],
}
LABOUR_MEMOS = ["清理村前河道漂浮物", "修补村组道路坑洼", "疏通灌溉沟渠", "清理背街小巷卫生死角"]
SEASONAL = {
    # month: (rubric key, share of households, memo)
    3: ("law_class", 0.4, "“3·15”及民法典进村宣讲会"),
    4: ("civil_tomb", 0.35, "清明节文明祭扫、不烧纸钱"),
    7: ("flood_duty", 0.1, "汛期轮流值守村口水闸"),
    11: ("insurance", 0.8, "按时缴纳本年度城乡居民医保"),
    12: ("law_class", 0.35, "“12·4”宪法日法治讲座"),
}
LITTER_MEMOS = ["在村道边乱扔生活垃圾", "将建筑垃圾倾倒在路边", "垃圾未入桶，劝导后仍未改正"]
CLUTTER_MEMOS = ["门前堆放柴草占用村道", "杂物堆放在公共晾晒场", "旧家具长期堆在屋后沟边"]
BURNING_MEMOS = ["田间焚烧秸秆，镇巡查组发现", "在自家地头焚烧麦秸，劝阻后熄灭"]
EXTRAVAGANCE_MEMO = "操办寿宴超过村规民约规定的桌数，经劝导未改"
SIMPLE_WEDDING_MEMO = "婚礼只请亲属，礼金不超过村规标准"
SIMPLE_FUNERAL_MEMO = "丧事简办，不请乐队，三天内办完"

# What residents (or grid workers for elders) claim, by rubric key.
CLAIM_TEXTS = {
    "elder_care": [
        "婆婆卧床两年，我每天给她擦身、喂饭、翻身。",
        "父亲住院半个月，我一直在医院陪护。",
        "每天给瘫痪的母亲做三顿饭，按时喂药。",
    ],
    "elder_visit": [
        "每周去看望隔壁独居的周奶奶，帮她买菜、打扫屋子。",
        "冬天给村东头的五保户老人送去棉被和米面。",
    ],
    "help_needy": [
        "帮残疾邻居家收了两亩稻子。",
        "给大病户捐了五百元，并帮忙联系了医保报销。",
        "帮困难户修好了漏雨的屋顶。",
    ],
    "mediate": [
        "两家为宅基地边界争吵，我出面劝和，双方签了协议。",
        "劝和了一对闹离婚的小夫妻。",
    ],
    "honest": [
        "在村口捡到一个钱包，内有现金八百元和身份证，已交还失主。",
        "赶集时捡到一部手机，交给了村委会。",
    ],
}
REJECT_REASONS = [
    "经网格员核实，该事项已在本月检查中加过分，不重复计分。",
    "未能核实，请补充照片或证明人后重新申报。",
    "经村民小组长核实，情况与申报不符。",
]
CAP_REJECT_REASON = "本月该项已达到每户上限，不能再加分。"

# The one committee reversal of the year: a household number typed wrong.
WRONG_HOUSEHOLD_REASON = "录入时户号选错，应记给 {number} 户，已冲正并改记。"

# The scripted objections: one upheld (with a reversal), one dismissed.
UPHELD_OBJECTION_TEXT = "门口那堆柴草是邻居家的，我家门前早就清理干净了，网格员可以来看。"
UPHELD_ANSWER = "经网格员入户核实，柴草确属邻户堆放，扣分记错了户，予以冲正。"
DISMISSED_OBJECTION_TEXT = "这户上个季度并没有怎么照顾老人，为什么加 10 分？"
DISMISSED_ANSWER = "经核实，该户儿媳常年照顾卧床婆婆，村民代表会议评议通过，加分属实。"


# --- the store (used by points/demo_store.py) --------------------------------------------------------------------

# (name, category, unit, points, par stock for 75 households, receipt pack, popularity, icon, colour).
# Prices follow the common rule of thumb of the villages' points supermarkets: about one point per yuan.
STORE_PRODUCTS = [
    ("洗衣粉", "cleaning", "袋", 10, 30, 10, 8, "bag", "#2f7fd1"),
    ("肥皂", "cleaning", "块", 4, 40, 20, 8, "bar", "#f2b632"),
    ("牙膏", "daily", "支", 8, 30, 10, 7, "tube", "#19a39a"),
    ("牙刷", "daily", "支", 3, 30, 10, 4, "toothbrush", "#4fa3e0"),
    ("毛巾", "daily", "条", 10, 24, 12, 6, "towel", "#e8789a"),
    ("食用油 5L", "grain_oil", "桶", 50, 10, 5, 5, "jug", "#e0a21b"),
    ("大米 10斤", "grain_oil", "袋", 30, 12, 6, 6, "sack", "#c49a5a"),
    ("挂面", "grain_oil", "包", 6, 30, 10, 6, "bag", "#e4b84f"),
    ("食盐", "food", "袋", 2, 40, 20, 4, "bag", "#5b8def"),
    ("酱油", "food", "瓶", 8, 24, 12, 7, "bottle", "#7a3e1d"),
    ("醋", "food", "瓶", 6, 20, 12, 5, "bottle", "#a23b3b"),
    ("洗洁精", "cleaning", "瓶", 8, 24, 12, 6, "squeeze", "#3cb371"),
    ("洗发水", "cleaning", "瓶", 18, 12, 6, 3, "squeeze", "#8e6cc7"),
    ("卫生纸", "daily", "包", 15, 20, 10, 7, "roll", "#5e9fd6"),
    ("作业本", "stationery", "本", 2, 60, 20, 5, "book", "#3c9d5d"),
    ("铅笔", "stationery", "支", 1, 80, 20, 4, "pencil", "#f4b400"),
    ("雨伞", "daily", "把", 25, 8, 4, 2, "umbrella", "#d64545"),
    ("搪瓷杯", "daily", "个", 12, 10, 5, 2, "cup", "#c0392b"),
    ("蚊香", "daily", "盒", 5, 20, 10, 3, "box", "#2e8b57"),
]
# Each village stocks a few things of its own as well.
STORE_EXTRAS = {
    "QS01": [
        ("暖水瓶", "daily", "个", 30, 6, 3, 2, "thermos", "#e0584f"),
        ("老花镜", "other", "副", 10, 8, 4, 2, "glasses", "#5a6675"),
    ],
    "LX02": [
        ("鸡蛋", "food", "盒", 12, 12, 6, 5, "eggs", "#d9904a"),
        ("垃圾袋", "cleaning", "卷", 3, 30, 10, 4, "roll", "#4a9c5d"),
    ],
    "BS01": [
        ("拖把", "cleaning", "把", 15, 6, 3, 2, "mop", "#3f7fbf"),
        ("手电筒", "daily", "个", 15, 6, 3, 2, "torch", "#4b5563"),
    ],
    "TY02": [
        ("保温杯", "daily", "个", 20, 6, 3, 2, "thermos", "#2a9d8f"),
        ("针线包", "daily", "包", 3, 15, 5, 2, "box", "#d17a9b"),
    ],
}
# Donations: (calendar month, product, quantity for 75 households, donor, consents to be listed publicly).
STORE_DONATIONS = {
    "QS01": [
        (1, "食用油 5L", 10, "乡贤 王德明（在外经商）", True),
        (1, "大米 10斤", 10, "乡贤 王德明（在外经商）", True),
        (6, "毛巾", 20, "李建华", False),
        (9, "作业本", 100, "青山镇供销社", True),
        (9, "铅笔", 200, "青山镇供销社", True),
        (12, "卫生纸", 20, "青山村便民超市", True),
    ],
    "LX02": [
        (2, "食用油 5L", 8, "柳溪农家乐 陈老板", True),
        (5, "洗衣粉", 30, "柳溪村便民超市", True),
        (8, "作业本", 80, "乡贤 陈志远（退休教师）", True),
        (10, "搪瓷杯", 10, "陈国强", False),
    ],
    "BS01": [
        (1, "大米 10斤", 12, "白水乡粮油店", True),
        (4, "肥皂", 40, "乡贤 刘永福", True),
        (9, "铅笔", 150, "白水乡中心小学", True),
        (11, "毛巾", 20, "刘建华", False),
    ],
    "TY02": [
        (2, "挂面", 30, "桃源挂面厂", True),
        (6, "蚊香", 20, "桃源村卫生室", True),
        (9, "作业本", 100, "乡贤 杨振华", True),
        (12, "雨伞", 6, "杨立新", False),
    ],
}
STORE_WRITE_OFFS = [
    ("洗衣粉", 2, "仓库屋顶漏雨，包装受潮结块"),
    ("酱油", 1, "上货时不慎摔破"),
    ("挂面", 3, "超过保质期"),
    ("搪瓷杯", 1, "磕掉了瓷，不能再兑换"),
    ("卫生纸", 2, "老鼠咬破包装"),
]
STOCKTAKE_NOTE = "第{quarter}季度末盘点"

"""Demo campaigns, written through the campaign services at their own moments.

- 青山村 好婆婆: finished. Nominated by the committee and by residents (one nomination turned down), voted on
  phones and on paper, results released, winners confirmed with citations and a drawn photo (a Wagtail image in
  the collection 光荣榜), so the honor roll has names.
- 柳溪村 最美家庭: open for voting now (until a week ahead), with approved nominees and some ballots already cast.
- 青山镇 好媳妇 (township level): taking nominations from both of its villages; voting starts next week.

The two village campaigns are planned into their village's ledger year (``points.demo_ledger``), because ballots
and wins credit points: each credit then lands in the hash chain at its moment, before its month is closed. The
township campaign moves no points yet and is written after the villages (``finish``). ``seed_demo`` finds this
module by autodiscovery; points never imports campaigns. Residents who vote on their phones get a sign-in from
``resident_password_issue``; paper ballots are entered by the committee.
"""

import datetime
import itertools
import math
import random
from collections import Counter

from django.db import transaction
from django.utils import timezone
from PIL import ImageDraw

from campaigns.ballots import ballot_cast
from campaigns.policy import eligibility_problem
from campaigns.results import results_release, winners_confirm
from campaigns.selectors import tally
from campaigns.services import campaign_advance, campaign_create, nomination_review, nomination_submit
from points import clock
from points.demo import ledger as demo_ledger
from points.demo.store import cjk_font, dark, light, png_bytes, rgb, save_image, shadow, soft_background
from points.models import Household, Member, ResidentAccount, StaffRole, Township
from points.register.services import resident_password_issue

from .models import Campaign, Nomination, Winner

Phase = Campaign.Phase
WINNER_COLLECTION = "光荣榜"
# The household whose resident login ``demo_logins`` prints for the open campaign: it has not voted yet.
OPEN_CAMPAIGN_VOTER = ("LX02", "001")
PHONE_VOTERS = 8  # at most this many new resident sign-ins per campaign (each costs a password hash)

STORIES = {
    Campaign.Kind.GOOD_MOTHER_IN_LAW: [
        "{name}今年{age}岁。儿子儿媳常年在外打工，她一个人把两个孙子拉扯大，接送上学、辅导作业从不叫苦。"
        "儿媳{partner}说：“婆婆待我像亲闺女，家里大事小事都和我们商量。”",
        "儿媳{partner}前年生病住院，{name}天天熬汤送饭，在医院陪护了一个多月，还把家里的鸡鸭、菜地照看得"
        "井井有条。邻居都说，这样的婆婆打着灯笼也难找。",
        "{name}是村里有名的“和事佬”，自家从不为琐事红脸，还常去劝和邻里的婆媳矛盾。她常说：“婆媳相处，"
        "将心比心，多看对方的好。”",
        "家里攒下的积分，{name}总让儿媳去超市给孩子兑换文具。她带头参加垃圾分类和门前三包，家里连续几年评上文明户。",
        "{name}年轻时孝顺公婆，如今当了婆婆，把这份家风传了下去。儿媳{partner}在家开网店，她主动承担做饭"
        "带娃，让年轻人安心创业。",
        "{name}识字不多，却坚持每晚给孙辈讲“孝”字的故事。儿媳说，家里从没吵过架，婆婆就是全家的主心骨。",
        "{name}的老伴走得早，她和儿媳{partner}一起撑起这个家，把责任田种得比谁家都好。儿媳常说：“有婆婆在，家就在。”",
        "孙子考上大学那年，{name}把攒了多年的积分和养老钱都拿了出来。她说：“一家人不说两家话，孩子有出息比什么都强。”",
    ],
    Campaign.Kind.BEAUTIFUL_FAMILY: [
        "{surname}家三代同堂，{name}夫妇照顾年迈的老母亲无微不至，一家人和和睦睦，房前屋后收拾得干干净净，"
        "是村里出了名的“美丽庭院”。",
        "{name}一家热心公益，汛期主动报名值守，农忙时帮留守老人抢收。孩子考上大学后，每年寒暑假回村给小学生义务补课。",
        "{surname}家坚持“婚事新办、丧事简办”，去年儿子结婚只办了三桌，省下的钱捐给村里修了路灯。",
        "{name}家门前屋后种满了花草，垃圾分类做得最好，多次在人居环境检查中加分。一家人孝老爱亲，"
        "邻里有事总是第一个到。",
        "{surname}家家风淳朴，“勤俭持家、与人为善”八个字挂在堂屋正中。{name}常年帮村里的五保户挑水劈柴。",
        "{name}夫妇把患病的侄子接到家中照顾多年，供他读完职高。一家人省吃俭用，却从不亏待老人孩子。",
        "{surname}家是村里的“调解之家”，{name}退休后义务帮邻里调解纠纷，一家人跟着做志愿者，逢年过节给孤寡老人送年货。",
        "{name}家三代人都爱读书，堂屋里的小书架向全村孩子开放。家里的积分大多兑换成作业本和铅笔，送给了留守儿童。",
    ],
    Campaign.Kind.GOOD_DAUGHTER_IN_LAW: [
        "{name}嫁到{surname}家十几年，婆婆卧病在床，她每天擦身、喂饭、按摩，从没让老人生过一次褥疮。",
        "丈夫在外务工，{name}一人操持家务、照顾公婆和孩子，还在村里的合作社上班，是远近闻名的“能干媳妇”。",
        "{name}把公婆当亲爹娘，每年给老人过生日、陪老人体检。村里办“好媳妇”夜校，她总是第一个报名。",
        "婆婆说：“我这个儿媳，比亲闺女还亲。”{name}不仅孝顺老人，还带着妯娌们一起参加志愿服务。",
        "{name}婆家原本经济困难，她办起了小养殖场，带着全家过上了好日子，还带动邻居一起增收。",
        "{name}照顾患病的公公八年如一日，从不抱怨。村民都说她是“孝老爱亲”的榜样。",
        "{name}结婚后一直和公婆住在一起，公公中风后行动不便，她学会了推拿，每天扶着老人在院子里走上几圈。",
        "{name}是村里的网格员，白天走村串户，晚上回家照顾公婆。婆婆逢人便夸：“我家媳妇，是全村最好的媳妇。”",
    ],
}
REJECT_REASON = "经村民代表评议，事迹材料不够具体，请补充后参加下一届评选。"
CITATIONS = [
    "她把儿媳当闺女，把邻里当亲人。一声“妈”，叫出了一家人的温暖；一碗汤，熬出了婆媳间的真情。",
    "岁月染白了她的头发，却染不淡她对家人的爱。她用慈爱与包容，撑起了一个和睦的家。",
    "不是母女，胜似母女。她用一言一行诠释了“家和万事兴”，是全村婆婆们学习的榜样。",
    "一辈子勤劳善良，一家人和和美美。她的好家风，在村里口口相传。",
    "她用半生的操劳，换来满堂的欢笑；用无声的付出，教会儿孙孝与爱。",
]
TIE_NOTE = "与其他候选票数相同，经村民代表会议评议，按事迹材料和群众评价确定。"


def _day(now: datetime.datetime, days_ago: float, hour: int, minute: int = 0) -> datetime.datetime:
    """``hour:minute`` (Asia/Shanghai) on the day ``days_ago`` before ``now`` (negative: ahead)."""
    local = timezone.localtime(now - datetime.timedelta(days=days_ago))
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _story(kind: str, index: int, household: Household, member: Member | None, year: int) -> str:
    members = list(household.members.all())
    # The mother-in-law's daughter-in-law: the son's wife, or the head's wife when she is the head's mother.
    wife_of = Member.Relation.SPOUSE if member and member.relation == Member.Relation.MOTHER else "daughter_in_law"
    partner = next((m.name for m in members if m.relation == wife_of and m.gender == Member.Gender.FEMALE), "")
    person = member or next((m for m in members if m.relation == Member.Relation.HEAD), members[0])
    age = year - person.birth_year if person.birth_year else 60
    template = STORIES[kind][index % len(STORIES[kind])]
    return template.format(name=person.name, age=age, partner=partner, surname=household.head_name[:1])


def candidates(
    kind: str, households: list[Household], rng: random.Random | None = None
) -> list[tuple[Household, Member | None]]:
    """Who could stand: mothers-in-law, daughters-in-law (those living with their in-laws first), or families of
    three or more; the looser matches (for a small village) after the clear ones, each part shuffled by ``rng``."""
    clear, loose = [], []
    for household in households:
        members = list(household.members.all())
        relations = {m.relation for m in members}
        if kind == Campaign.Kind.BEAUTIFUL_FAMILY:
            (clear if len(members) >= 3 else loose).append((household, None))
            continue
        for member in members:
            if member.gender != Member.Gender.FEMALE:
                continue
            if kind == Campaign.Kind.GOOD_MOTHER_IN_LAW:
                if (member.relation in ("head", "spouse") and "daughter_in_law" in relations) or (
                    member.relation == "mother" and "spouse" in relations
                ):
                    clear.append((household, member))
                elif member.relation in ("head", "spouse") and "son" in relations:
                    loose.append((household, member))
            elif member.relation == "daughter_in_law" or (member.relation == "spouse" and "mother" in relations):
                clear.append((household, member))
            elif member.relation == "spouse":
                loose.append((household, member))  # married in: somebody's daughter-in-law all the same
    if rng is not None:
        rng.shuffle(clear)
        rng.shuffle(loose)
    return clear + loose


# --- the photo of a winner ----------------------------------------------------------------------------------


def winner_photo(name: str, honour: str, *, elder: bool = True) -> bytes:
    """A drawn portrait card (PNG, 480×600): a smiling figure with a red flower, a ribbon with the honour and
    the name on a plaque (with a Chinese font; without one, the same card without text)."""
    width, height = 960, 1200
    red, gold = rgb("#c8302c"), rgb("#d4a017")
    base = soft_background(rgb("#f08a5d"), (width, height))
    draw = ImageDraw.Draw(base)
    draw.ellipse((150, 250, 810, 910), fill=light(rgb("#f08a5d"), 0.62))
    shadow(base, (250, 1040, 710, 1100), strength=70)
    clothes = rgb("#7b4f9d") if elder else rgb("#3c8dbc")
    draw.chord((220, 760, 740, 1280), 180, 360, fill=clothes)
    draw.rectangle((220, 1020, 740, 1060), fill=clothes)
    draw.rounded_rectangle((430, 680, 530, 800), 30, fill=rgb("#f1c8a4"))
    hair = rgb("#b8b8b8") if elder else rgb("#2d2a26")
    if elder:
        draw.ellipse((430, 330, 530, 430), fill=hair)  # the bun
    draw.ellipse((320, 380, 640, 720), fill=hair)
    draw.ellipse((340, 430, 620, 730), fill=rgb("#f6d5b5"))
    draw.chord((330, 390, 630, 640), 180, 360, fill=hair)
    for x in (420, 540):
        draw.arc((x - 28, 560, x + 28, 600), 200, 340, fill=rgb("#4a3b30"), width=8)
        draw.ellipse((x - 40, 615, x + 10, 650), fill=light(red, 0.55))
    draw.arc((440, 630, 520, 690), 20, 160, fill=rgb("#a0412d"), width=8)
    # 大红花 on the chest, with its ribbons
    cx, cy = 600, 900
    draw.polygon([(cx - 20, cy + 20), (cx - 60, cy + 150), (cx - 10, cy + 120)], fill=red)
    draw.polygon([(cx + 20, cy + 20), (cx + 60, cy + 150), (cx + 10, cy + 120)], fill=red)
    for i in range(8):
        angle = i * 45
        dx, dy = round(48 * math.cos(math.radians(angle))), round(48 * math.sin(math.radians(angle)))
        draw.ellipse((cx + dx - 40, cy + dy - 40, cx + dx + 40, cy + dy + 40), fill=red)
    draw.ellipse((cx - 34, cy - 34, cx + 34, cy + 34), fill=dark(red, 0.15))
    draw.ellipse((cx - 14, cy - 14, cx + 14, cy + 14), fill=gold)
    # the frame and the ribbon
    draw.rounded_rectangle((24, 24, width - 24, height - 24), 40, outline=gold, width=14)
    draw.rounded_rectangle((50, 50, width - 50, height - 50), 30, outline=light(gold, 0.4), width=4)
    draw.polygon([(110, 110), (850, 110), (810, 165), (850, 220), (110, 220), (150, 165)], fill=red)
    plaque = (200, 1050, 760, 1150)
    draw.rounded_rectangle(plaque, 30, fill=(255, 252, 245), outline=gold, width=6)
    title_font, name_font = cjk_font(72), cjk_font(64)
    if title_font is not None:
        draw.text((width / 2, 167), honour, font=title_font, fill=light(gold, 0.6), anchor="mm")
        draw.text((width / 2, 1100), name, font=name_font, fill=dark(red, 0.2), anchor="mm")
    else:
        for x in range(300, 661, 90):
            draw.rounded_rectangle((x, 150, x + 60, 184), 17, fill=light(gold, 0.6))
        draw.rounded_rectangle((330, 1085, 630, 1115), 15, fill=dark(red, 0.2))
    return png_bytes(base, (480, 600))


# --- a village campaign, planned into the village's year ---------------------------------------------------------


class VillageCampaign:
    """One village campaign's steps. ``days`` are days before now of each phase; ``voting_ends`` may lie ahead."""

    def __init__(self, year, *, spec: dict):
        self.year = year
        self.village = year.village
        self.committee = year.committee
        self.spec = spec
        self.rng = random.Random(f"hehe-campaign-{self.village.code}-{spec['kind']}")
        self.campaign: Campaign | None = None
        self.weights: dict[int, int] = {}  # how popular each approved nominee is with the voters
        self.pending: dict[int, bool] = {}  # residents' nominations and whether the committee will approve
        self.sign_ins: list[Household] = []  # households that get a sign-in to vote on the phone
        self.stories = itertools.count()  # each nomination tells a different story
        self.counts: Counter = Counter()

    def at(self, moment: datetime.datetime, run) -> None:
        self.year.at(moment, run)

    def build(self) -> None:
        spec, now, rng = self.spec, self.year.now, self.rng
        days = spec["days"]
        self.at(_day(now, days["created"], 9), self.create)
        self.at(_day(now, days["nominating"], 8), self.advance(Phase.NOMINATING, "开始提名"))
        for index in range(spec["nominees"]):
            self.at(_day(now, days["nominating"] - 1 - index, 10, rng.randint(0, 50)), self.nominate(index))
        for offset, approve in ((2, True), (3, False)):
            self.at(_day(now, days["nominating"] - offset, 20, 15), self.resident_nominates(approve))
        self.at(_day(now, days["voting"] + 2, 9), self.review)
        self.at(_day(now, days["voting"] + 1, 16), self.issue_sign_ins)
        self.at(_day(now, days["voting"], 8), self.advance(Phase.VOTING, "开始投票"))
        voting_starts = _day(now, days["voting"], 8)
        last = min(_day(now, days["voting_ends"], 20), now - datetime.timedelta(minutes=15))
        voters = [h for h in self.year.households if (self.village.code, h.number) != OPEN_CAMPAIGN_VOTER]
        voters = [h for h in voters if rng.random() < spec["turnout"]]
        # Who votes on the phone: those with a sign-in already, and a few who ask for one before voting opens.
        signed_in = {household.id for household, _user in self.year.residents}
        without = [h for h in voters if h.id not in signed_in]
        wanted = round(len(voters) * spec["phone_share"]) - (len(voters) - len(without))
        self.sign_ins = rng.sample(without, k=max(0, min(PHONE_VOTERS, wanted, len(without))))
        on_phone = signed_in | {h.id for h in self.sign_ins}
        span = (last - voting_starts).total_seconds()
        paper_evenings = [_day(now, days["voting"] - d, 19) for d in (1, 3, 5)]
        paper_evenings = [m for m in paper_evenings if m < last] or [voting_starts + datetime.timedelta(hours=2)]
        for index, household in enumerate(voters):
            if household.id in on_phone:
                moment = voting_starts + datetime.timedelta(seconds=rng.uniform(0.02, 1) * span)
                self.at(moment, self.vote(household, phone=True))
            else:
                evening = paper_evenings[index % len(paper_evenings)]
                self.at(evening + datetime.timedelta(minutes=index), self.vote(household, phone=False))
        if "closed" in days:
            self.at(_day(now, days["voting_ends"], 20, 30), self.advance(Phase.CLOSED, "投票截止"))
            self.at(_day(now, days["released"], 10), self.release)
            self.at(_day(now, days["confirmed"], 10), self.confirm)

    # -- steps -----------------------------------------------------------------------------------------------------

    def create(self) -> None:
        spec, now = self.spec, self.year.now
        days = spec["days"]
        campaign = Campaign(
            kind=spec["kind"],
            title=spec["title"].format(year=clock.localdate().year, village=self.village.name),
            description=spec["description"],
            level=Campaign.Level.VILLAGE,
            village=self.village,
            nominee_type=spec["nominee_type"],
            choices_per_ballot=spec["choices"],
            winners_count=spec["winners"],
            participation_points=2,
            winner_points=spec["winner_points"],
            nominating_starts=_day(now, days["nominating"], 8),
            voting_starts=_day(now, days["voting"], 8),
            voting_ends=_day(now, days["voting_ends"], 20),
        )
        # "No deduction this year" unless that would leave too few to choose from (a small demo village).
        pool = candidates(spec["kind"], self.year.households)
        eligible = [pair for pair in pool if eligibility_problem(campaign, pair[0]) is None]
        campaign.rule_no_deduction = len(eligible) >= spec["nominees"]
        self.campaign = campaign_create(actor=self.committee, campaign=campaign)
        self.counts["campaigns"] += 1

    def advance(self, to: str, note: str):
        def run():
            if self.campaign is not None and (to != Phase.VOTING or self.nominations().exists()):
                self.campaign = campaign_advance(actor=self.committee, campaign=self.campaign, to=to, note=note)

        return run

    def nominations(self):
        return Nomination.objects.filter(campaign=self.campaign, status=Nomination.Status.APPROVED)

    def pick(self) -> tuple[Household, Member | None] | None:
        """The next candidate not yet nominated who meets the campaign's rules today."""
        taken = {(n.household_id, n.member_id) for n in Nomination.objects.filter(campaign=self.campaign)}
        for household, member in candidates(self.spec["kind"], self.year.households, self.rng):
            key = (household.id, member.id if member else None)
            if key not in taken and eligibility_problem(self.campaign, household) is None:
                return household, member
        return None

    def nominate(self, index: int):
        def run():
            if self.campaign is None or (picked := self.pick()) is None:
                return
            household, member = picked
            story = _story(self.spec["kind"], next(self.stories), household, member, clock.localdate().year)
            nomination = nomination_submit(
                actor=self.committee, campaign=self.campaign, household=household, member=member, story=story
            )
            self.weights[nomination.pk] = max(1, 10 - 2 * index) + self.rng.randint(0, 2)

        return run

    def resident_nominates(self, approve: bool):
        def run():
            if self.campaign is None or len(self.year.residents) < 2 or (picked := self.pick()) is None:
                return
            _household, user = self.year.residents[0 if approve else 1]
            household, member = picked
            story = _story(self.spec["kind"], next(self.stories), household, member, clock.localdate().year)
            nomination = nomination_submit(
                actor=user, campaign=self.campaign, household=household, member=member, story=story
            )
            self.pending[nomination.pk] = approve

        return run

    def review(self) -> None:
        for pk, approve in sorted(self.pending.items()):
            nomination = Nomination.objects.get(pk=pk)
            if approve and eligibility_problem(self.campaign, nomination.household) is not None:
                approve = False
            nomination_review(actor=self.committee, nomination=nomination, approve=approve, reason=REJECT_REASON)
            if approve:
                self.weights[pk] = 3 + self.rng.randint(0, 3)

    def issue_sign_ins(self) -> None:
        """Residents who want to vote on their phones ask the committee for a sign-in."""
        have = set(ResidentAccount.objects.filter(village=self.village).values_list("household_id", flat=True))
        for household in self.sign_ins:
            if household.id not in have:
                resident_password_issue(household=household, actor=self.committee)

    def vote(self, household: Household, *, phone: bool):
        def run():
            if self.campaign is None or self.campaign.phase != Phase.VOTING:
                return
            ids = [pk for pk in self.nominations().values_list("pk", flat=True)]
            if not ids:
                return
            chosen = []
            for _ in range(min(self.rng.randint(1, self.spec["choices"]), len(ids))):
                left = [pk for pk in ids if pk not in chosen]
                chosen.append(self.rng.choices(left, weights=[self.weights.get(pk, 2) for pk in left])[0])
            account = ResidentAccount.objects.filter(household=household).select_related("user").first()
            on_phone = phone and account is not None
            ballot_cast(
                actor=account.user if on_phone else self.committee,
                campaign=self.campaign,
                nominee_ids=sorted(chosen),
                household=None if on_phone else household,
                idempotency_key=f"demo-ballot-{self.campaign.pk}-{household.pk}",
            )
            self.counts["phone" if on_phone else "paper"] += 1

        return run

    def release(self) -> None:
        if self.campaign is not None and self.campaign.phase == Phase.CLOSED:
            self.campaign = results_release(actor=self.committee, campaign=self.campaign)

    def confirm(self) -> None:
        if self.campaign is None or self.campaign.results_released_at is None:
            return
        rows = [row for row in tally(self.campaign)["rows"] if row["votes"]][: self.campaign.winners_count]
        picks = []
        for index, row in enumerate(rows):
            nomination = row["nomination"]
            image = save_image(
                title=f"{self.campaign.get_kind_display()} {nomination.display_name}",
                data=winner_photo(nomination.display_name, self.campaign.get_kind_display()),
                collection_name=WINNER_COLLECTION,
                prefix="winner",
            )
            pick = {"nomination": nomination.pk, "citation": CITATIONS[index % len(CITATIONS)], "photo_id": image.pk}
            if row["tied_at_cut"]:
                pick["tie_note"] = TIE_NOTE
            picks.append(pick)
        if picks:
            winners_confirm(actor=self.committee, campaign=self.campaign, picks=picks)

    def report(self) -> str:
        if self.campaign is None:
            return ""
        campaign = Campaign.objects.get(pk=self.campaign.pk)
        winners = Winner.objects.filter(campaign=campaign).count()
        line = (
            f"评选「{campaign.title}」（{campaign.get_phase_display()}）：{self.nominations().count()} 位候选，"
            f"{self.counts['phone'] + self.counts['paper']} 张选票（手机 {self.counts['phone']}，"
            f"纸质 {self.counts['paper']}）"
        )
        return line + (f"，{winners} 位获奖" if winners else "")


VILLAGE_CAMPAIGNS = {
    "QS01": {
        "kind": Campaign.Kind.GOOD_MOTHER_IN_LAW,
        "nominee_type": Campaign.NomineeType.PERSON,
        "title": "{year}年{village}“好婆婆”评选",
        "description": "评选孝老爱亲、善待儿媳、家庭和睦的好婆婆。每户一票，每票最多选两位；投票即得 2 分，"
        "获评者所在户加 50 分。结果公示 5 天。",
        "choices": 2,
        "winners": 3,
        "winner_points": 50,
        "nominees": 5,
        "turnout": 0.65,
        "phone_share": 0.3,
        # days before now: created, nominations open, voting opens, voting ends, released, confirmed
        "days": {
            "created": 75,
            "nominating": 74,
            "voting": 62,
            "voting_ends": 55,
            "closed": 55,
            "released": 54,
            "confirmed": 48,
        },
    },
    "LX02": {
        "kind": Campaign.Kind.BEAUTIFUL_FAMILY,
        "nominee_type": Campaign.NomineeType.HOUSEHOLD,
        "title": "{year}年{village}“最美家庭”评选",
        "description": "评选家风好、邻里和、庭院美的最美家庭。每户一票，每票最多选三户；投票即得 2 分，"
        "获评家庭加 50 分。",
        "choices": 3,
        "winners": 3,
        "winner_points": 50,
        "nominees": 6,
        "turnout": 0.35,
        "phone_share": 0.5,
        "days": {"created": 26, "nominating": 25, "voting": 6, "voting_ends": -7},
    },
}


class CampaignDemo:
    """The campaigns' part of the demo (see ``points.demo_ledger.register`` for the protocol)."""

    name = "campaigns"

    def plan(self, year):
        spec = VILLAGE_CAMPAIGNS.get(year.village.code)
        if spec is None or Campaign.objects.filter(village=year.village, kind=spec["kind"]).exists():
            return None
        planner = VillageCampaign(year, spec=spec)
        planner.build()
        return planner.report

    def catch_up(self, village) -> str | None:
        """Ballots and wins move points, and a village's past months are closed: a campaign with a history cannot
        be added to a year written before. Run the seeder on a fresh database to get them."""
        return None

    def finish(self, villages) -> list[str]:
        line = township_campaign()
        return [line] if line else []


# --- the township campaign ----------------------------------------------------------------------------------------

TOWNSHIP = "QSZ"


def township_campaign(now: datetime.datetime | None = None) -> str | None:
    """青山镇 好媳妇: nominations open for a week, a few in from each village, voting starts in six days."""
    township = Township.objects.filter(code=TOWNSHIP).first()
    staff = (
        StaffRole.objects.filter(township=township, role=StaffRole.Role.TOWNSHIP_STAFF).select_related("user").first()
        if township
        else None
    )
    kind = Campaign.Kind.GOOD_DAUGHTER_IN_LAW
    if staff is None or Campaign.objects.filter(level=Campaign.Level.TOWNSHIP, township=township, kind=kind).exists():
        return None
    now = now or clock.now()  # seed_demo freezes the clock at the date the demo ends
    rng = random.Random("hehe-campaign-township")
    households = list(
        Household.objects.filter(village__township=township, status=Household.Status.ACTIVE)
        .select_related("village")
        .prefetch_related("members")
        .order_by("village__code", "number")
    )
    campaign = Campaign(
        kind=kind,
        description="全镇评选孝敬公婆、勤劳持家、热心公益的好媳妇。各村推荐候选，全镇农户投票，每票最多选三位；"
        "投票即得 2 分，获评者所在户加 100 分。",
        level=Campaign.Level.TOWNSHIP,
        township=township,
        district_id=township.district_id,
        nominee_type=Campaign.NomineeType.PERSON,
        choices_per_ballot=3,
        winners_count=5,
        participation_points=2,
        winner_points=100,
        nominating_starts=_day(now, 7, 8),
        voting_starts=_day(now, -6, 8),
        voting_ends=_day(now, -13, 20),
    )
    with transaction.atomic():
        with clock.frozen_at(_day(now, 8, 15)):
            campaign.title = f"{clock.localdate().year}年{township.name}“好媳妇”评选"
            eligible = [h for h, _m in candidates(kind, households) if eligibility_problem(campaign, h) is None]
            campaign.rule_no_deduction = len(eligible) >= 6  # else a small demo would have no one to nominate
            campaign = campaign_create(actor=staff.user, campaign=campaign)
        with clock.frozen_at(_day(now, 7, 8)):
            campaign = campaign_advance(actor=staff.user, campaign=campaign, to=Phase.NOMINATING, note="开始提名")
        nominated = 0
        for village_code in sorted({h.village.code for h in households}):
            pool = candidates(kind, [h for h in households if h.village.code == village_code], rng)
            picks = 0
            for household, member in pool:
                if picks == 3:
                    break
                moment = _day(now, 6 - min(nominated, 4), 10 + picks, rng.randint(0, 59))
                with clock.frozen_at(moment):
                    if eligibility_problem(campaign, household) is not None:
                        continue
                    nomination_submit(
                        actor=staff.user,
                        campaign=campaign,
                        household=household,
                        member=member,
                        story=_story(kind, nominated, household, member, clock.localdate().year),
                    )
                picks += 1
                nominated += 1
        pending = _resident_nomination(campaign, kind, households, now)
    return f"评选「{campaign.title}」（提名中）：{nominated} 位候选已推荐，{pending} 份居民提名待审核"


def _resident_nomination(campaign: Campaign, kind: str, households, now) -> int:
    """The demo resident (青山村 001) puts forward a neighbour's daughter-in-law: it waits for review."""
    account = ResidentAccount.objects.filter(household__village__code="QS01", household__number="001").first()
    if account is None:
        return 0
    taken = set(Nomination.objects.filter(campaign=campaign).values_list("member_id", flat=True))
    village_households = [h for h in households if h.village_id == account.village_id]
    for household, member in candidates(kind, village_households):
        with clock.frozen_at(_day(now, 1, 21, 5)):
            if member.id in taken or eligibility_problem(campaign, household) is not None:
                continue
            nomination_submit(
                actor=account.user,
                campaign=campaign,
                household=household,
                member=member,
                story=_story(kind, 6, household, member, clock.localdate().year),
            )
        return 1
    return 0


demo_ledger.register(CampaignDemo())

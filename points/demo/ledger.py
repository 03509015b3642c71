"""A year of demo points history for each demo village, written through the real services in time order.

The seeder builds a plan of dated events (inspections, volunteer days, claims and their review, one committee
reversal, monthly notices, one upheld and one dismissed objection, closing), sorts it, and runs each event under
``clock.frozen_at(its moment)``. Every transfer therefore goes through ``points.awards``, ``points.claims`` and
``points.notices``: hash chain, balances, caps, closed months and idempotency keys are exactly what a year of real
use would leave, and ``verify_ledger`` passes. Nothing here writes a ledger row itself.

Other parts of the demo add their own dated steps to the same plan (``extensions``): the store's receipts and
redemptions (``points.demo_store``) and the campaigns' ballots (``campaigns/demo.py``, found by ``register``, since
points never imports campaigns). A redemption or a vote credit is then written at its moment between the awards,
before its month is closed, exactly as a year of real use would have interleaved them.

Deterministic per village (a seeded ``random.Random``) except the resident passwords, which are random by design.
A village that already has transfers is skipped whole, so running the seeder twice doubles nothing; each
village's year is one transaction, so an interrupted run leaves no half-written village behind.
"""

import calendar
import datetime
import itertools
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from points import clock
from points.demo import data as demo_data
from points.ledger.awards import points_award, rubric_for_village, transfer_reverse
from points.ledger.claims import claim_approve, claim_reject, claim_submit
from points.ledger.notices import month_close, notice_publish, objection_answer, objection_file
from points.models import District, Household, ResidentAccount, RubricCategory, RubricItem, StaffRole, Transfer, Village
from points.register.services import resident_password_issue

MONTHS = 12
# The time of day a demo planned for a given date (``seed_demo --date``) ends at: the end of an office day, so that
# the day's counter and committee work lie behind it. Without ``--date`` the demo ends at the present moment.
DAY_ENDS_AT = datetime.time(18, 0)
# The month of the scripted objections and of the committee's reversal, counted back from the current month.
OBJECTION_MONTHS_AGO = 3
REVERSAL_MONTHS_AGO = 5
PUBLISH_DAY, FILE_DAY, ANSWER_DAY = 2, 4, 6  # of the month after the one published


# --- the rubric ------------------------------------------------------------------------------------------------


def seed_rubric(district: District) -> None:
    """The district-wide rubric and the village overrides; what exists (by name) is kept as it is."""
    for order, (category_name, items) in enumerate(demo_data.RUBRIC, start=1):
        category, _created = RubricCategory.objects.get_or_create(name=category_name, defaults={"order": order})
        for item_order, (_key, name, kind, points, cap_period, cap_points, evidence) in enumerate(items, start=1):
            RubricItem.objects.get_or_create(
                district=district,
                name=name,
                defaults={
                    "category": category,
                    "kind": kind,
                    "points": points,
                    "cap_period": cap_period,
                    "cap_points": cap_points,
                    "evidence_required": evidence,
                    "order": item_order,
                },
            )
    for code, (key, name, points) in demo_data.OVERRIDES.items():
        village = Village.objects.filter(code=code).first()
        if village is None:
            continue
        original = RubricItem.objects.get(district=district, name=_item_name(key))
        RubricItem.objects.get_or_create(
            village=village,
            name=name,
            defaults={
                "category": original.category,
                "kind": original.kind,
                "points": points,
                "overrides": original,
                "order": original.order,
            },
        )


def _item_name(key: str) -> str:
    for _category, items in demo_data.RUBRIC:
        for item in items:
            if item[0] == key:
                return item[1]
    raise KeyError(key)


def items_for(village: Village) -> dict[str, RubricItem]:
    """The demo rubric keys mapped to the items in force in ``village`` (an override replaces its original)."""
    in_force = {item.name: item for item in rubric_for_village(village)}
    items = {}
    for _category, specs in demo_data.RUBRIC:
        for key, name, *_rest in specs:
            if name in in_force:
                items[key] = in_force[name]
    override = demo_data.OVERRIDES.get(village.code)
    if override and override[1] in in_force:
        items[override[0]] = in_force[override[1]]
    return items


def seed_star_thresholds(village: Village) -> None:
    if not village.star_thresholds:
        village.star_thresholds = list(demo_data.STAR_THRESHOLDS)
        village.save(update_fields=["star_thresholds"])


# --- the plan --------------------------------------------------------------------------------------------------


@dataclass(order=True)
class Event:
    at: datetime.datetime
    order: int
    run: Callable[[], None] = field(compare=False)


@dataclass
class Summary:
    transfers: int = 0
    claims: int = 0
    notices: int = 0
    objections: int = 0
    extras: list[str] = field(default_factory=list)  # one line per extension that took part (store, campaigns)


class VillageYear:
    """The plan and its running state for one village. ``build`` lists events; ``run`` plays them in order."""

    def __init__(self, *, village: Village, committee, helper, residents: list, now: datetime.datetime):
        self.village = village
        self.committee = committee  # awards, reviews, publishes, answers, closes
        self.helper = helper  # submits claims for elders who do not use a phone (grid worker, else committee)
        self.residents = residents  # [(household, user)] who submit claims and file the objections
        self.now = now
        self.rng = random.Random(f"hehe-ledger-{village.code}")
        self.items = items_for(village)
        self.households = list(
            Household.objects.filter(village=village, status=Household.Status.ACTIVE)
            .select_related("group", "village")
            .prefetch_related("members")
            .order_by("number")
        )
        self.groups = defaultdict(list)
        for household in self.households:
            self.groups[household.group].append(household)
        self.events: list[Event] = []
        self._order = itertools.count()
        self._keys = itertools.count(1)
        self.claims: dict[str, object] = {}
        self.transfers: dict[str, Transfer] = {}
        self.objections: dict[str, object] = {}
        self.capped: dict[tuple[int, int, datetime.date], int] = defaultdict(int)
        self.summary = Summary()

    # -- time ----------------------------------------------------------------------------------------------------

    def months(self) -> list[datetime.date]:
        current = timezone.localtime(self.now).date().replace(day=1)
        months = [current]
        for _ in range(MONTHS - 1):
            months.append((months[-1] - datetime.timedelta(days=1)).replace(day=1))
        return months[::-1]

    @staticmethod
    def moment(month: datetime.date, day: int, hour: int, minute: int = 0) -> datetime.datetime:
        day = min(day, calendar.monthrange(month.year, month.month)[1])
        return timezone.make_aware(datetime.datetime(month.year, month.month, day, hour, minute))

    @staticmethod
    def next_month(month: datetime.date) -> datetime.date:
        return (month + datetime.timedelta(days=32)).replace(day=1)

    def at(self, moment: datetime.datetime, run: Callable[[], None]) -> None:
        """Plan ``run`` at ``moment``; what would happen after now is left out (it has not happened yet)."""
        if moment < self.now:
            self.events.append(Event(moment, next(self._order), run))

    # -- actions (each one service call) --------------------------------------------------------------------------

    def award(self, key: str, households, memo: str, *, member=None, ref: str | None = None):
        def run():
            item = self.items[key]
            period = clock.localdate().replace(day=1)
            chosen = [h for h in households if self._fits_cap(item, h, period)]
            if not chosen:
                return
            transfers = points_award(
                actor=self.committee,
                village=self.village,
                rubric_item=item,
                households=chosen,
                memo=memo,
                member=member,
                idempotency_key=f"demo-{self.village.code}-{next(self._keys)}",
            )
            self._count_cap(item, chosen, period)
            self.summary.transfers += len(transfers)
            if ref:
                self.transfers[ref] = transfers[0]

        return run

    def _fits_cap(self, item: RubricItem, household: Household, period: datetime.date) -> bool:
        if item.cap_period == RubricItem.CapPeriod.NONE:
            return True
        window = period if item.cap_period == RubricItem.CapPeriod.MONTH else period.replace(month=1)
        return self.capped[(household.id, item.id, window)] + item.points <= item.cap_points

    def _count_cap(self, item: RubricItem, households, period: datetime.date) -> None:
        if item.cap_period != RubricItem.CapPeriod.NONE:
            window = period if item.cap_period == RubricItem.CapPeriod.MONTH else period.replace(month=1)
            for household in households:
                self.capped[(household.id, item.id, window)] += item.points

    def reverse(self, ref: str, reason: str):
        def run():
            transfer_reverse(
                actor=self.committee,
                transfer=self.transfers[ref],
                reason=reason,
                idempotency_key=f"demo-{self.village.code}-{next(self._keys)}",
            )
            self.summary.transfers += 1

        return run

    def submit_claim(self, ref: str, household, key: str, text: str, *, actor, member=None):
        def run():
            self.claims[ref] = claim_submit(
                actor=actor, household=household, rubric_item=self.items[key], text=text, member=member
            )
            self.summary.claims += 1

        return run

    def review_claim(self, ref: str, *, reject_reason: str = ""):
        def run():
            claim = self.claims[ref]
            period = clock.localdate().replace(day=1)
            if not reject_reason and not self._fits_cap(claim.rubric_item, claim.household, period):
                claim_reject(actor=self.committee, claim=claim, reason=demo_data.CAP_REJECT_REASON)
            elif reject_reason:
                claim_reject(actor=self.committee, claim=claim, reason=reject_reason)
            else:
                claim_approve(actor=self.committee, claim=claim)
                self._count_cap(claim.rubric_item, [claim.household], period)
                self.summary.transfers += 1

        return run

    def publish(self, period: datetime.date):
        def run():
            notice_publish(actor=self.committee, village=self.village, period=period)
            self.summary.notices += 1

        return run

    def close(self, period: datetime.date):
        return lambda: month_close(actor=self.committee, village=self.village, period=period)

    def file_objection(self, ref: str, user, transfer_ref: str, text: str):
        def run():
            self.objections[ref] = objection_file(actor=user, transfer=self.transfers[transfer_ref], text=text)
            self.summary.objections += 1

        return run

    def answer_objection(self, ref: str, *, upheld: bool, answer: str):
        def run():
            objection_answer(actor=self.committee, objection=self.objections[ref], upheld=upheld, answer=answer)
            if upheld:
                self.summary.transfers += 1

        return run

    # -- the year -----------------------------------------------------------------------------------------------

    def sample(self, households, share: float) -> list[Household]:
        return [h for h in households if self.rng.random() < share]

    def elderly(self, household: Household) -> bool:
        year = timezone.localtime(self.now).year
        return any(m.birth_year and year - m.birth_year >= 70 for m in household.members.all())

    def carer(self, household: Household):
        """The member who most likely does the caring: a daughter-in-law, a daughter, the spouse, or nobody."""
        members = {m.relation: m for m in household.members.all()}
        for relation in ("daughter_in_law", "daughter", "spouse"):
            if relation in members:
                return members[relation]
        return None

    def build(self) -> None:
        months = self.months()
        for index, month in enumerate(months):
            self.plan_month(month)
            if index < len(months) - 1:
                self.plan_notice(month)
        self.plan_current_notice(months)
        self.plan_reversal(months[-1 - REVERSAL_MONTHS_AGO])
        self.plan_objections(months[-1 - OBJECTION_MONTHS_AGO])
        self.plan_pending_claims()

    def plan_month(self, month: datetime.date) -> None:
        rng, n = self.rng, month.month
        # Volunteer days: once or twice a month, a quarter of the households per group take part.
        memos = demo_data.VOLUNTEER_MEMOS[n]
        for number, day in enumerate((rng.randint(3, 7), rng.randint(16, 21))[: 1 + (rng.random() < 0.5)]):
            memo = memos[number % len(memos)]
            for offset, group in enumerate(self.groups.values()):
                self.at(
                    self.moment(month, day, 17, offset * 5), self.award("volunteer", self.sample(group, 0.25), memo)
                )
        # The monthly inspection, group by group (one batch each), then the few deductions it found.
        day = rng.randint(8, 12)
        for offset, (group, households) in enumerate(self.groups.items()):
            memo = demo_data.SANITATION_MEMO.format(month=n, group=group.name)
            self.at(self.moment(month, day, 9 + offset), self.award("doorstep", self.sample(households, 0.65), memo))
        for household in rng.sample(self.households, k=min(len(self.households), rng.randint(0, 2))):
            self.at(self.moment(month, day, 15), self.award("litter", [household], rng.choice(demo_data.LITTER_MEMOS)))
        if rng.random() < 0.4 and self.households:
            household = rng.choice(self.households)
            self.at(
                self.moment(month, day, 16), self.award("clutter", [household], rng.choice(demo_data.CLUTTER_MEMOS))
            )
        if n in (6, 10) and self.households:
            for household in rng.sample(self.households, k=min(len(self.households), rng.randint(1, 2))):
                memo = rng.choice(demo_data.BURNING_MEMOS)
                self.at(self.moment(month, rng.randint(13, 25), 11), self.award("burning", [household], memo))
        # Every other month a sorting check; each season a courtyard contest; a labour day now and then.
        if n % 2:
            memo = demo_data.SORTING_MEMO.format(month=n)
            self.at(self.moment(month, 14, 10), self.award("sorting", self.sample(self.households, 0.5), memo))
        if n in (3, 6, 9, 12):
            season = {3: "春", 6: "夏", 9: "秋", 12: "冬"}[n]
            memo = demo_data.COURTYARD_MEMO.format(season=season)
            self.at(self.moment(month, 22, 10), self.award("courtyard", self.sample(self.households, 0.3), memo))
            quarter = n // 3
            memo = demo_data.HARMONY_MEMO.format(quarter=quarter)
            self.at(self.moment(month, 26, 10), self.award("harmony", self.sample(self.households, 0.7), memo))
            memo = demo_data.ELDER_MEMO.format(quarter=quarter)
            with_elders = [h for h in self.households if self.elderly(h)]
            self.at(self.moment(month, 26, 11), self.award("elder_care", self.sample(with_elders, 0.5), memo))
        if rng.random() < 0.3:
            memo = rng.choice(demo_data.LABOUR_MEMOS)
            self.at(
                self.moment(month, rng.randint(1, 27), 8), self.award("labour", self.sample(self.households, 0.3), memo)
            )
        if n in demo_data.SEASONAL:
            key, share, memo = demo_data.SEASONAL[n]
            self.at(self.moment(month, 20, 14), self.award(key, self.sample(self.households, share), memo))
        # Customs: a simple wedding or funeral now and then; one lavish banquet a year, around the new year.
        if rng.random() < 0.25 and self.households:
            key, memo = rng.choice(
                [("simple_wedding", demo_data.SIMPLE_WEDDING_MEMO), ("simple_funeral", demo_data.SIMPLE_FUNERAL_MEMO)]
            )
            self.at(self.moment(month, rng.randint(1, 27), 10), self.award(key, [rng.choice(self.households)], memo))
        if n == 2 and self.households:
            memo = demo_data.EXTRAVAGANCE_MEMO
            self.at(self.moment(month, 18, 10), self.award("extravagance", [rng.choice(self.households)], memo))
        self.plan_claims(month)

    def plan_claims(self, month: datetime.date) -> None:
        """Two to four claims a month; reviewed two to five days later: mostly approved, some rejected."""
        rng = self.rng
        for number in range(rng.randint(2, 4)):
            key = rng.choice(list(demo_data.CLAIM_TEXTS))
            text = rng.choice(demo_data.CLAIM_TEXTS[key])
            if self.residents and rng.random() < 0.7:
                household, actor = rng.choice(self.residents)
            elif self.households:
                household, actor = rng.choice(self.households), self.helper
            else:
                return
            member = self.carer(household) if key == "elder_care" else None
            ref = f"{month:%Y%m}-{number}"
            submitted = self.moment(month, rng.randint(1, 27), rng.randint(8, 20), rng.randint(0, 59))
            self.at(submitted, self.submit_claim(ref, household, key, text, actor=actor, member=member))
            reviewed = submitted + datetime.timedelta(days=rng.randint(2, 5), hours=1)
            reason = rng.choice(demo_data.REJECT_REASONS) if rng.random() < 0.25 else ""
            if submitted < self.now:
                self.at(reviewed, self.review_claim(ref, reject_reason=reason))

    def plan_pending_claims(self) -> None:
        """A few claims from the last days, not yet reviewed: the committee's queue when the demo opens."""
        for days, (key, text_index) in enumerate((("help_needy", 0), ("elder_visit", 0)), start=1):
            if self.residents:
                household, actor = self.residents[(days - 1) % len(self.residents)]
            elif self.households:
                household, actor = self.households[0], self.helper
            else:
                return
            moment = self.now - datetime.timedelta(days=days, hours=2)
            text = demo_data.CLAIM_TEXTS[key][text_index]
            self.at(moment, self.submit_claim(f"pending-{days}", household, key, text, actor=actor))

    def plan_notice(self, month: datetime.date) -> None:
        """Publish early next month (or, if that is still ahead, right now), close once the period is over."""
        publish_at, close_at = self.notice_moments(month)
        self.at(publish_at, self.publish(month))
        self.at(close_at, self.close(month))  # if publishing had to wait until now, this is still ahead: left out

    def notice_moments(self, month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
        """When ``month`` is published and when it can be closed: the day after its objection deadline."""
        scheduled = self.moment(self.next_month(month), PUBLISH_DAY, 9, 30)
        publish_at = min(scheduled, self.now - datetime.timedelta(minutes=10))
        close_day = timezone.localtime(publish_at) + datetime.timedelta(days=self.village.notice_days + 1)
        return publish_at, close_day.replace(hour=10, minute=0, second=0, microsecond=0)

    def plan_current_notice(self, months: list[datetime.date]) -> None:
        """When every past month is closed, publish the current one, so residents always have a notice to read
        and object to in the demo."""
        _published, closes = self.notice_moments(months[-2])
        if closes < self.now - datetime.timedelta(minutes=10):
            self.at(self.now - datetime.timedelta(minutes=5), self.publish(months[-1]))

    def plan_reversal(self, month: datetime.date) -> None:
        """The committee awards the wrong household, notices the next day, reverses with a reason and re-awards."""
        candidates = [h for h in self.households if self.elderly(h)] or self.households
        if len(candidates) < 2:
            return
        wrong, right = candidates[0], candidates[1]
        memo = demo_data.ELDER_MEMO.format(quarter=(month.month - 1) // 3 + 1)
        self.at(self.moment(month, 14, 10), self.award("elder_care", [wrong], memo, ref="wrong"))
        reason = demo_data.WRONG_HOUSEHOLD_REASON.format(number=right.number)
        self.at(self.moment(month, 15, 9), self.reverse("wrong", reason))
        self.at(self.moment(month, 15, 9, 5), self.award("elder_care", [right], memo, member=self.carer(right)))

    def plan_objections(self, month: datetime.date) -> None:
        """One objection upheld (a deduction charged to the wrong household) and one dismissed, both answered
        within the notice period of ``month``."""
        if len(self.residents) < 2:
            return
        (objector, objector_user), (watcher, watcher_user) = self.residents[0], self.residents[1]
        memo = demo_data.CLUTTER_MEMOS[0]
        self.at(self.moment(month, 9, 16, 30), self.award("clutter", [objector], memo, ref="charged"))
        others = [h for h in self.households if h.id not in (objector.id, watcher.id)]
        target = next((h for h in others if self.elderly(h)), others[0] if others else None)
        if target is None:
            return
        memo = demo_data.ELDER_MEMO.format(quarter=(month.month - 1) // 3 + 1)
        self.at(
            self.moment(month, 20, 10),
            self.award("elder_care", [target], memo, member=self.carer(target), ref="doubted"),
        )
        following = self.next_month(month)
        self.at(
            self.moment(following, FILE_DAY, 19),
            self.file_objection("upheld", objector_user, "charged", demo_data.UPHELD_OBJECTION_TEXT),
        )
        self.at(
            self.moment(following, FILE_DAY, 20),
            self.file_objection("dismissed", watcher_user, "doubted", demo_data.DISMISSED_OBJECTION_TEXT),
        )
        self.at(
            self.moment(following, ANSWER_DAY, 10),
            self.answer_objection("upheld", upheld=True, answer=demo_data.UPHELD_ANSWER),
        )
        self.at(
            self.moment(following, ANSWER_DAY, 10, 30),
            self.answer_objection("dismissed", upheld=False, answer=demo_data.DISMISSED_ANSWER),
        )

    def run(self, *, progress: bool = True) -> Summary:
        self.events.sort()
        for event in tqdm(
            self.events,
            desc=f"{self.village.name} 积分流水",
            unit="项",
            leave=False,
            disable=None if progress else True,
        ):
            with clock.frozen_at(event.at):
                event.run()
        return self.summary


# --- extensions: other parts of the demo that add steps to each village's year ----------------------------------

_EXTENSIONS: dict[str, object] = {}


def register(extension):
    """Add a part of the demo that plans its own dated steps into every village's year (``campaigns/demo.py``
    registers itself when ``seed_demo`` autodiscovers ``demo`` modules). Registering the same name again replaces.

    An extension has a ``name`` and three methods:
    ``plan(year: VillageYear)`` adds events with ``year.at(moment, run)`` and returns a callable that, after the
    year has run, returns one line for the seeder's output (or None to take no part in this village);
    ``catch_up(village)`` is called instead for a village whose history was written before (returns a line or
    None); ``finish(villages)`` runs once after every village (returns lines).
    """
    _EXTENSIONS[extension.name] = extension
    return extension


def registered() -> list:
    return list(_EXTENSIONS.values())


# --- entry point -----------------------------------------------------------------------------------------------

RESIDENTS_PER_VILLAGE = 2  # who file the objections and most claims; each costs a password hash


def _residents(village: Village, committee, rng: random.Random) -> list:
    """Households with a sign-in (the demo resident's first), issuing passwords where there are too few."""
    accounts = list(
        ResidentAccount.objects.filter(village=village, household__status=Household.Status.ACTIVE)
        .select_related("household__village", "user")
        .order_by("household__number")
    )
    have = {a.household_id for a in accounts}
    candidates = [h for h in Household.objects.filter(village=village, status="active") if h.id not in have]
    rng.shuffle(candidates)
    for household in candidates[: max(0, RESIDENTS_PER_VILLAGE - len(accounts))]:
        resident_password_issue(household=household, actor=committee)
    accounts = ResidentAccount.objects.filter(village=village, household__status=Household.Status.ACTIVE)
    return [(a.household, a.user) for a in accounts.select_related("household__village", "user").order_by("id")]


def _staff(village: Village, role: str):
    staff = StaffRole.objects.filter(village=village, role=role).select_related("user").order_by("id").first()
    return staff.user if staff else None


def demo_moment(text: str | None) -> datetime.datetime:
    """When the demo's history ends: ``YYYY-MM-DD`` (at ``DAY_ENDS_AT``) or ``YYYY-MM-DDTHH:MM`` in the project's
    time zone; None is now. Raises ValueError on anything else (``seed_demo`` and ``seed_pages`` turn it into their
    usage error)."""
    if not text:
        return clock.now()
    parsed = datetime.datetime.fromisoformat(text)
    if len(text) == 10:
        parsed = datetime.datetime.combine(parsed.date(), DAY_ENDS_AT)
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def seed_history(
    village: Village, *, now: datetime.datetime | None = None, progress: bool = True, extensions=()
) -> Summary | None:
    """Write ``village``'s year, ending ``now`` (the clock's time by default: ``seed_demo`` freezes it at the date
    it is given), with the steps ``extensions`` plan into it (see ``register``). Returns None (and writes nothing)
    if it has transfers already."""
    if Transfer.objects.filter(village=village).exists():
        return None
    committee = _staff(village, StaffRole.Role.COMMITTEE)
    if committee is None:
        return None
    helper = _staff(village, StaffRole.Role.GRID_WORKER) or committee
    now = now or clock.now()
    with transaction.atomic():
        seed_star_thresholds(village)
        residents = _residents(village, committee, random.Random(f"hehe-residents-{village.code}"))
        year = VillageYear(village=village, committee=committee, helper=helper, residents=residents, now=now)
        year.build()
        reports = [report for extension in extensions if (report := extension.plan(year)) is not None]
        summary = year.run(progress=progress)
        summary.extras = [line for report in reports if (line := report())]
        return summary

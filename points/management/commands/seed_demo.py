"""Build a realistic demo district. Safe to run again: what exists is kept, what is missing is added.

The whole demo is written as of one moment, ``--date`` (the present by default), with the clock frozen there: the
same date gives the same demo whatever day it is run on, and every date gives a demo that keeps the promises
``tests/points/demo/test_seed_demo.py`` checks. After the register and the staff, each village gets a year of
points history (``points.demo_ledger``), written
through the real services, with the store's year (``points.demo_store``) and the campaigns (``campaigns/demo.py``,
found by autodiscovering ``demo`` modules: points never imports campaigns) planned into it. A village that already
has transfers keeps them and gets nothing more, except the store's catch-up if it has no products yet.
"""

import random
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import autodiscover_modules
from tqdm import tqdm

from points import clock
from points.demo import data as demo_data
from points.demo import ledger as demo_ledger
from points.demo import store as demo_store
from points.ledger.verify import verify_ledger
from points.models import District, Household, Member, StaffRole, Township, Village, VillageGroup
from points.register.services import household_save, resident_password_issue, staff_role_save

DEMO_PASSWORD = "hehe2026"
# Residents with a known password: 青山村 001 (the demo resident) and 柳溪村 001, who has not voted yet in the
# campaign open for voting there (campaigns/demo.py leaves that household out of the ballots).
DEMO_RESIDENTS = [("QS01", "001"), ("LX02", "001")]

# (username, role, unit code, display name)
STAFF = [
    ("qu_admin", StaffRole.Role.DISTRICT_ADMIN, "HA", "区妇联 周主任"),
    ("zhen_qingshan", StaffRole.Role.TOWNSHIP_STAFF, "QSZ", "青山镇 吴干事"),
    ("cun_qingshan", StaffRole.Role.COMMITTEE, "QS01", "青山村 村委 李主任"),
    ("cun_liuxi", StaffRole.Role.COMMITTEE, "LX02", "柳溪村 村委 陈主任"),
    ("cun_baishui", StaffRole.Role.COMMITTEE, "BS01", "白水村 村委 刘主任"),
    ("cun_taoyuan", StaffRole.Role.COMMITTEE, "TY02", "桃源村 村委 杨主任"),
    ("wangge_qingshan", StaffRole.Role.GRID_WORKER, "QS01", "青山村 网格员 赵大姐"),
    ("chaoshi_qingshan", StaffRole.Role.STOREKEEPER, "QS01", "青山村 超市管理员 孙师傅"),
]


class Command(BaseCommand):
    help = (
        "Seed the demo district: townships, villages, ~300 households, a user for every role, a year of points "
        "history per village with its store's trade, and the selection campaigns."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--households",
            type=int,
            default=demo_data.HOUSEHOLDS_PER_VILLAGE,
            help=f"households per village (default {demo_data.HOUSEHOLDS_PER_VILLAGE}; fewer for a quick try)",
        )
        parser.add_argument("--no-history", action="store_true", help="skip the year of points history")
        parser.add_argument(
            "--date",
            help="the day the demo's year ends, YYYY-MM-DD (at 18:00) or YYYY-MM-DDTHH:MM (default: now)",
        )

    def handle(self, *args, households=demo_data.HOUSEHOLDS_PER_VILLAGE, no_history=False, date=None, **options):
        if not 1 <= households <= 999:
            raise CommandError("--households must be between 1 and 999")
        try:
            moment = demo_ledger.demo_moment(date)
        except ValueError as exc:
            raise CommandError(f"--date: {exc}") from exc
        self.households = households
        # Frozen, not ticking: the plan puts each event at its own moment (``frozen_at`` inside), and what runs
        # between them (the register, the catalogue, the check at the end) is dated at the demo's moment too.
        with clock.frozen_at(moment):
            self._seed(no_history)

    def _seed(self, no_history):
        User = get_user_model()
        root, created = User.objects.get_or_create(
            username="admin", defaults={"is_superuser": True, "is_staff": True, "first_name": "系统管理员"}
        )
        if created:
            root.set_password(DEMO_PASSWORD)
            root.save()

        district, _ = District.objects.get_or_create(
            code=demo_data.DISTRICT[1], defaults={"name": demo_data.DISTRICT[0]}
        )
        villages = []
        for township_name, township_code, village_specs in demo_data.TOWNSHIPS:
            township, _ = Township.objects.get_or_create(
                code=township_code, defaults={"name": township_name, "district": district}
            )
            for village_name, village_code in village_specs:
                village, _ = Village.objects.get_or_create(
                    code=village_code, defaults={"name": village_name, "township": township}
                )
                for group_name in demo_data.GROUPS:
                    VillageGroup.objects.get_or_create(village=village, name=group_name)
                villages.append(village)

        for village in villages:
            self._seed_households(village, root)
        self._seed_staff(root, district)
        self._seed_resident(root)
        if not no_history:
            self._seed_history(district, villages)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _seed_history(self, district, villages):
        demo_ledger.seed_rubric(district)
        autodiscover_modules("demo")  # campaigns/demo.py registers its part of the plan
        extensions = [demo_store.StoreDemo(), *demo_ledger.registered()]
        for village in villages:
            started = time.monotonic()
            summary = demo_ledger.seed_history(village, extensions=extensions)
            if summary is None:
                self.stdout.write(f"{village.name}: 已有积分流水，保持不变")
                for extension in extensions:
                    line = extension.catch_up(village)
                    if line:
                        self.stdout.write(f"  {line}（补建）")
                continue
            self.stdout.write(
                f"{village.name}: {summary.transfers} 条流水，{summary.claims} 条申报，{summary.notices} 期公示，"
                f"{summary.objections} 条异议（{time.monotonic() - started:.1f} 秒）"
            )
            for line in summary.extras:
                self.stdout.write(f"  {line}")
        for extension in extensions:
            for line in extension.finish(villages):
                self.stdout.write(line)
        # Records the check on each village's ledger head: the public notice shows when it was last verified.
        result = verify_ledger()
        if not result.ok:
            raise CommandError(f"verify_ledger: {result.problem}")
        self.stdout.write(f"账本校验通过：{result.villages} 个村，{result.transfers} 条流水")

    def _seed_households(self, village, actor):
        rng = random.Random(f"hehe-{village.code}")
        groups = list(village.groups.order_by("id"))
        existing = set(Household.objects.filter(village=village).values_list("number", flat=True))
        todo = list(range(1, self.households + 1))
        for n in tqdm(todo, desc=f"{village.name} 户籍", unit="户", leave=False, disable=None):
            members = demo_data.household_members(rng)  # drawn for every n, so reruns stay deterministic
            address = demo_data.address(rng, n)
            number = f"{n:03d}"
            if number in existing:
                continue
            household = Household(village=village, number=number, group=groups[(n - 1) % len(groups)], address=address)
            household.members = [Member(**m) for m in members]
            with transaction.atomic():
                household_save(household=household, actor=actor)

    def _seed_staff(self, actor, district):
        User = get_user_model()
        units = {
            "district": {district.code: district},
            "township": {t.code: t for t in Township.objects.all()},
            "village": {v.code: v for v in Village.objects.all()},
        }
        for username, role, unit_code, display in STAFF:
            user, created = User.objects.get_or_create(username=username, defaults={"first_name": display})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            if StaffRole.objects.filter(user=user).exists():
                continue
            staff = StaffRole(user=user, role=role)
            if role == StaffRole.Role.DISTRICT_ADMIN:
                staff.district = units["district"][unit_code]
            elif role == StaffRole.Role.TOWNSHIP_STAFF:
                staff.township = units["township"][unit_code]
            else:
                staff.village = units["village"][unit_code]
            staff_role_save(role=staff, actor=actor)

    def _seed_resident(self, actor):
        for code, number in DEMO_RESIDENTS:
            household = Household.objects.filter(village__code=code, number=number).first()
            if household is None:
                continue
            if not hasattr(household, "account"):
                resident_password_issue(household=household, actor=actor)
                household.refresh_from_db()
            user = household.account.user
            if not user.check_password(DEMO_PASSWORD):
                # The demo residents get a known password so the logins can be printed; real ones are random.
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])

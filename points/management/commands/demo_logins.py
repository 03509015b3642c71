"""Print the demo's addresses and one login per role (used by `make demo`)."""

from django.core.management.base import BaseCommand

from points.management.commands.seed_demo import DEMO_PASSWORD, DEMO_RESIDENTS, STAFF
from points.models import Household

# What each demo resident is good for trying out.
RESIDENT_NOTES = {
    "QS01": "可查看积分、兑换和预约，可在青山镇“好媳妇”评选中提名",
    "LX02": "尚未投票：可在柳溪村“最美家庭”评选中投票",
}


class Command(BaseCommand):
    help = "Print the demo URLs and logins."

    def handle(self, *args, **options):
        out = self.stdout.write
        out("")
        out("和合积分 demo — http://127.0.0.1:8000/")
        out("  门户 portal:        http://127.0.0.1:8000/")
        out("  管理后台 admin:     http://127.0.0.1:8000/admin/")
        out("  居民登录 residents: http://127.0.0.1:8000/login/")
        out("")
        out(f"  {'username':<20} {'password':<10} role")
        out(f"  {'admin':<20} {DEMO_PASSWORD:<10} superuser (技术管理员)")
        for username, _role, _unit, display in STAFF:
            out(f"  {username:<20} {DEMO_PASSWORD:<10} {display}")
        for code, number in DEMO_RESIDENTS:
            household = Household.objects.filter(village__code=code, number=number).select_related("village").first()
            if household:
                note = RESIDENT_NOTES.get(code, "")
                out(
                    f"  {household.login_number:<20} {DEMO_PASSWORD:<10} {household.village.name}居民 "
                    f"{household.head_name}（户号登录，/login/）{'：' + note if note else ''}"
                )
        out("")

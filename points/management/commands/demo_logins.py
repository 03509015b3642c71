"""Print the demo's addresses and one login per role (used by `make demo`)."""

from django.core.management.base import BaseCommand

from points.models import Household

from .seed_demo import DEMO_PASSWORD, STAFF


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
        household = Household.objects.filter(village__code="QS01", number="001").select_related("village").first()
        if household:
            out(f"  {household.login_number:<20} {DEMO_PASSWORD:<10} 居民 {household.head_name}（户号登录，/login/）")
        out("")

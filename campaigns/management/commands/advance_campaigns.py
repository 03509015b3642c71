"""Move campaigns whose dates have come (nominating → voting → closed). Safe to run often."""

from django.core.management.base import BaseCommand

from campaigns.services import campaigns_advance_by_date


class Command(BaseCommand):
    help = "Advance campaign phases by their dates. Run it from cron every few minutes."

    def handle(self, *args, **options):
        moves = campaigns_advance_by_date()
        self.stdout.write(f"moved {moves} campaign(s)")

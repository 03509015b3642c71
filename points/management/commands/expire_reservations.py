"""Expire reservations past their pickup deadline: refund the points, restock the goods. Safe to run often."""

from django.core.management.base import BaseCommand

from points.store.services import reservations_expire


class Command(BaseCommand):
    help = "Expire overdue reservations (refund and restock exactly once). Run it from cron every few minutes."

    def handle(self, *args, **options):
        count = reservations_expire()
        self.stdout.write(f"expired {count} reservation(s)")

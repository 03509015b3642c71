"""Recompute every hash and balance; exit non-zero at the first mismatch, naming it."""

from django.core.management.base import BaseCommand, CommandError

from points.ledger.verify import verify_ledger
from points.models import Village


class Command(BaseCommand):
    help = "Verify the ledger: hash chains, balances, monthly summaries and the zero sum of all accounts."

    def add_arguments(self, parser):
        parser.add_argument("--village", help="village code (default: every village, plus the zero sum)")

    def handle(self, *args, village=None, **options):
        target = None
        if village:
            target = Village.objects.filter(code__iexact=village).first()
            if target is None:
                raise CommandError(f"no village with code {village!r}")
        result = verify_ledger(village=target)
        if not result.ok:
            raise CommandError(f"MISMATCH: {result.problem}")
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {result.villages} villages, {result.transfers} transfers, balances and hashes match"
            )
        )

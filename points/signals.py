"""Signals sent after a commit that changed what the public sees. Upper layers (the portal's page cache) listen;
points never knows who listens.

``ledger_changed``: transfers landed in a village (awards, deductions, reversals, redemptions, ballot credits).
``store_changed``: a product's stock moved in a village.
Both carry ``village_id`` and are sent once per transaction per village, after the commit (never on rollback),
and ``batch``: one object shared by every signal sent after the same commit, so that a receiver doing the same
work for each (the portal's page-cache purge: a redemption sends both) can do it once.
"""

from django.db import DEFAULT_DB_ALIAS, transaction
from django.dispatch import Signal

ledger_changed = Signal()
store_changed = Signal()


def send_after_commit(signal: Signal, village_id: int, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Queue ``signal`` for after the commit of the current transaction on ``using`` (the alias the writer's
    router chose), once per (signal, village) per transaction.

    The queue is Django's own on-commit list, so a rollback drops the pending send with everything else."""
    connection = transaction.get_connection(using)
    key = (id(signal), village_id)
    batch = None
    for entry in connection.run_on_commit:
        queued = getattr(entry[1], "hehe_key", None)
        if queued == key:
            return
        if queued is not None:
            batch = entry[1].hehe_batch
    if batch is None:
        batch = object()

    def send():
        signal.send(sender=signal, village_id=village_id, batch=batch)

    send.hehe_key, send.hehe_batch = key, batch
    transaction.on_commit(send, using=using, robust=True)

"""Reads the public pages share: winners with their photos and mottos, masked rankings, the red and black list,
open campaigns, villages in order, "this month". Thin wrappers over the selectors of ``points`` and
``campaigns`` (portal -> campaigns -> points); each asks a fixed number of queries however many rows there are.
"""

import datetime

from django.urls import reverse

from portal.models.mottos import FamilyMottoPage
from portal.renditions import with_renditions

RED_BLACK_LIMIT = 10


def winners_for_pages(*, villages=None, year=None, limit: int, with_photo: bool = False):
    from campaigns.selectors import published_winners

    winners = published_winners(villages=villages, year=year)
    if with_photo:
        winners = winners.filter(photo__isnull=False)
    return with_family_mottos(with_renditions(winners[:limit], "photo"))


def with_family_mottos(winners: list) -> list:
    """One more query for every winner's family motto (the newest published one of the household)."""
    mottos = {}
    rows = FamilyMottoPage.objects.live().filter(household_id__in={w.nomination.household_id for w in winners})
    for household_id, motto in rows.order_by("first_published_at", "id").values_list("household_id", "motto"):
        mottos[household_id] = motto
    for winner in winners:
        winner.family_motto = mottos.get(winner.nomination.household_id, "")
    return winners


def masked_ranking(*, villages, start, end, limit: int) -> list[dict]:
    """``points.selectors.ranking`` with each head's name masked where the village masks names."""
    from points.ledger.selectors import ranking
    from points.models import Village
    from points.privacy import mask_name

    rows = ranking(villages=villages, start=start, end=end, limit=limit)
    masks = dict(Village.objects.filter(pk__in={r["village_id"] for r in rows}).values_list("pk", "mask_names"))
    for row in rows:
        row["name"] = mask_name(row["head_name"]) if masks.get(row["village_id"], True) else row["head_name"]
        row["stars_range"] = range(row["stars"])
        del row["head_name"]
    return rows


def red_black(village, start: datetime.date, end: datetime.date) -> dict | None:
    """红黑榜 of ``village`` for the months ``start``..``end``, or None when the village has not switched it on.
    Beside it the pages show the way to object: the month's public notice, where a resident of the village files
    an objection against a line while the notice is open, and the resident's own objections page."""
    from points.ledger.selectors import red_black_list

    if village is None or not village.red_black_list:
        return None
    data = red_black_list(village, start, end, limit=RED_BLACK_LIMIT)
    notice_month = min(data["end"], this_month())
    data["notice_month"] = notice_month
    data["notice_url"] = reverse("portal:notice", args=[village.code, f"{notice_month:%Y-%m}"])
    data["objections_url"] = reverse("portal:objections")
    return data


def open_campaigns(limit: int = 5):
    from campaigns.models import Campaign

    open_phases = [Campaign.Phase.NOMINATING, Campaign.Phase.VOTING]
    return list(
        Campaign.objects.filter(phase__in=open_phases)
        .select_related("village", "township")
        .order_by("voting_ends", "id")[:limit]
    )


def villages_in_order():
    from points.models import Village

    return list(Village.objects.select_related("township").order_by("township__code", "code"))


def this_month() -> datetime.date:
    from points import clock

    return clock.localdate().replace(day=1)


def previous_month(month: datetime.date) -> datetime.date:
    return (month - datetime.timedelta(days=1)).replace(day=1)


def all_villages():
    from points.models import Village

    return Village.objects.all()

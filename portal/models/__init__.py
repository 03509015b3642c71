"""Models of the portal app; Django loads them from here. Pages, family mottos, the moderation workflow, API tokens."""

from portal.models.mottos import FamilyMottoIndexPage, FamilyMottoPage, MottoCredit  # noqa: F401
from portal.models.pages import (  # noqa: F401
    HomePage,
    HonorRollIndexPage,
    NewsIndexPage,
    NewsPage,
    RankingPage,
    StoreCataloguePage,
    VillageIndexPage,
    VillagePage,
)
from portal.models.tokens import ApiToken  # noqa: F401
from portal.models.workflow import CommitteeApprovalTask, motto_workflow_for  # noqa: F401

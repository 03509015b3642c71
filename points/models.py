"""Models of the points app, loaded by Django from here; each is written in its domain's folder: the register
(``points/register/models.py``), the ledger (``points/ledger/models.py``) and the store (``points/store/models.py``)."""

from points.ledger.models import (  # noqa: F401
    GENESIS_HASH,
    Account,
    Claim,
    ClaimPhoto,
    IdempotencyKey,
    LedgerHead,
    MonthlyNotice,
    Objection,
    PeriodSummary,
    RubricCategory,
    RubricItem,
    Transfer,
)
from points.register.models import (  # noqa: F401
    District,
    Household,
    HouseholdEvent,
    Member,
    ResidentAccount,
    StaffRole,
    Township,
    Village,
    VillageGroup,
)
from points.store.models import (  # noqa: F401
    Product,
    Redemption,
    RedemptionLine,
    StockMovement,
    Stocktake,
)

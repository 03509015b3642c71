"""Models of the points app: the register (``register``) and the ledger (``ledger``)."""

from .ledger import (  # noqa: F401
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
from .register import (  # noqa: F401
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
from .store import (  # noqa: F401
    Product,
    Redemption,
    RedemptionLine,
    StockMovement,
    Stocktake,
)

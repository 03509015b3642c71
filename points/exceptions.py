"""Domain exceptions: callers catch meaning, not IntegrityError. Messages are user-facing and translated."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


class HeheError(Exception):
    """A rule refused the request; ``message`` is fit to show the user."""

    default_message = _("请求被拒绝")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class OutOfScope(HeheError):
    default_message = _("您无权操作该村的数据")


class RegisterError(HeheError):
    """The register refused a change (archived household, bad group, ...)."""


@dataclass(frozen=True)
class RowError:
    """One problem in an import: row 0 means the whole file."""

    row: int
    column: str
    message: str

    def __str__(self):
        if self.row == 0:
            return str(self.message)
        if self.column:
            return str(
                _("第 %(row)s 行「%(column)s」：%(message)s")
                % {"row": self.row, "column": self.column, "message": self.message}
            )
        return str(_("第 %(row)s 行：%(message)s") % {"row": self.row, "message": self.message})


class ImportRefused(HeheError):
    """An import file was refused whole; ``errors`` lists every problem found."""

    default_message = _("导入失败，文件中没有任何数据被写入")

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__()


class LedgerError(HeheError):
    """The ledger refused a movement of points; nothing was written."""


class InsufficientPoints(LedgerError):
    default_message = _("积分不足")


class MonthClosed(LedgerError):
    default_message = _("该月份已结账，不能再记入；更正请记入当前月份")


class AlreadyReversed(LedgerError):
    default_message = _("该记录已经冲正过，不能重复冲正")


class NotReversible(LedgerError):
    default_message = _("冲正记录本身不能再冲正")


class CapExceeded(LedgerError):
    default_message = _("超过该细则的每户上限")


class InactiveItem(LedgerError):
    default_message = _("该细则已停用")


class InvalidAmount(LedgerError):
    default_message = _("分值必须是 1 到 100000 之间的整数")


class IdempotencyKeyInvalid(HeheError):
    """The request carries no idempotency key, or one that is too long: a malformed request (400)."""

    default_message = _("缺少请求编号（Idempotency-Key），或长度超过 100")


class IdempotencyConflict(LedgerError):
    default_message = _("同一个请求编号已用于另一项不同的操作")


class ClaimError(HeheError):
    """A claim cannot move to the requested state."""


class NoticeError(HeheError):
    """A monthly notice, objection or month close was refused."""


class StoreError(HeheError):
    """The store refused: a bad line, an inactive or foreign product, a reservation in the wrong state."""


class OutOfStock(StoreError):
    default_message = _("库存不足")

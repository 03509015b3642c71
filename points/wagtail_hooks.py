"""Wagtail finds an app's hooks in ``<app>.wagtail_hooks``; the points app's admin lives in its domains.

Importing each domain's ``admin/hooks.py`` registers its menus, viewsets and URLs: the register (户籍管理),
the ledger (积分管理) and the store (积分超市). The shared admin base is ``points/admin/``.
"""

from points.ledger.admin import hooks as ledger_hooks  # noqa: F401
from points.register.admin import hooks as register_hooks  # noqa: F401
from points.store.admin import hooks as store_hooks  # noqa: F401

"""The village store (积分超市) in the Wagtail admin: the catalogue, the counter, reservations, stock, cards, reports.

One menu group, 积分超市, holds the Product snippet viewset and the store's own pages; every item is shown only to
users who run a store (``Capability.OPERATE_STORE``). The catalogue uses a scoped permission policy, so a product
of another village is neither listed nor editable (404); stock is never a form field, it moves only through
``points.store`` services (receipts, donations, write-offs, redemptions, stock-takes).
"""

import django_filters
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.widgets import ListingButton
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import IndexView, SnippetViewSetGroup

from points.admin.menu import ScopedMenuItem
from points.admin.policy import ScopedPermissionPolicy
from points.admin.views import ScopedSnippetViewSet
from points.models import Product
from points.scope import Capability, scope_for
from points.store.admin import views as admin_store
from points.store.admin.forms import ProductForm

STORE_ACTIONS = {
    "view": Capability.OPERATE_STORE,
    "add": Capability.OPERATE_STORE,
    "change": Capability.OPERATE_STORE,
    # No "delete": a product with history is protected by the database; take it off the shelf (上架) instead.
}
STORE_MENU_HOOK = "register_store_menu_item"


def _store_villages(request):
    return scope_for(request.user if request else None).villages()


class ProductFilterSet(WagtailFilterSet):
    village = django_filters.ModelChoiceFilter(label=_("村"), queryset=_store_villages)
    category = django_filters.ChoiceFilter(label=_("类别"), choices=Product.Category.choices)
    active = django_filters.BooleanFilter(label=_("上架"))

    class Meta:
        model = Product
        fields = ["village", "category", "active"]


def stock_label(product: Product) -> str:
    if product.is_low and product.active:
        return _("%(stock)s %(unit)s（库存低）") % {"stock": product.stock, "unit": product.unit}
    return f"{product.stock} {product.unit}"


class ProductIndexView(IndexView):
    """The catalogue listing, with the stock actions of each product one click away."""

    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if scope_for(self.request.user).can(Capability.OPERATE_STORE, instance.village_id):
            for label, url_name, icon, priority in (
                (_("入库"), "points_store_receive", "download", 40),
                (_("捐赠入库"), "points_store_donate", "plus", 41),
                (_("报损"), "points_store_write_off", "bin", 42),
            ):
                buttons.append(
                    ListingButton(label, url=reverse(url_name, args=[instance.pk]), icon_name=icon, priority=priority)
                )
        return buttons


class ProductViewSet(ScopedSnippetViewSet):
    model = Product
    icon = "tag"
    menu_label = _("商品")
    menu_name = "store_products"
    menu_order = 3
    index_view_class = ProductIndexView
    filterset_class = ProductFilterSet
    copy_view_enabled = False
    inspect_view_enabled = True
    list_per_page = 50
    list_display = [
        "name",
        "village",
        Column("category", label=_("类别"), accessor="get_category_display"),
        "price",
        Column("stock", label=_("库存"), accessor=stock_label),
        BooleanColumn("active", label=_("上架")),
    ]
    ordering = ["village", "order", "id"]
    search_fields = ["name"]
    search_backend_name = None
    # Wagtail 8 builds the form from ``edit_handler``; a viewset's ``base_form_class`` is not consulted, so the
    # scoped form is named here.
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("village"), FieldPanel("name")]),
                    FieldRowPanel([FieldPanel("category"), FieldPanel("unit")]),
                    FieldPanel("photo"),
                ],
                heading=_("商品"),
            ),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("price"), FieldPanel("low_stock_threshold")]),
                    FieldRowPanel([FieldPanel("active"), FieldPanel("order")]),
                ],
                heading=_("兑换与库存"),
                help_text=_("库存不能在这里修改：请用入库、捐赠、报损或盘点，每次变动都有记录"),
            ),
        ],
        base_form_class=ProductForm,
    )

    def get_queryset(self, request):
        return Product.objects.filter(village__in=scope_for(request.user).villages()).select_related("village")


class StoreGroup(SnippetViewSetGroup):
    menu_label = _("积分超市")
    menu_icon = "tag"
    menu_name = "store"
    menu_order = 300
    submenu_hook = STORE_MENU_HOOK
    items = (ProductViewSet,)


register_permission_policy(Product, ScopedPermissionPolicy(Product, actions=STORE_ACTIONS))
register_snippet(StoreGroup)


@hooks.register("register_admin_urls")
def register_store_urls():
    v = admin_store
    return [
        path("store/counter/", v.counter, name="points_store_counter"),
        path("store/counter/search/", v.counter_search, name="points_store_counter_search"),
        path("store/counter/<int:pk>/", v.counter_household, name="points_store_counter_household"),
        path("store/receipts/<int:pk>/", v.receipt, name="points_store_receipt"),
        path("store/reservations/", v.reservations, name="points_store_reservations"),
        path("store/reservations/<int:pk>/fulfil/", v.reservation_fulfil, name="points_store_reservation_fulfil"),
        path("store/reservations/<int:pk>/cancel/", v.reservation_cancel, name="points_store_reservation_cancel"),
        path("store/products/<int:pk>/receive/", v.stock_receive, name="points_store_receive"),
        path("store/products/<int:pk>/donate/", v.stock_donate, name="points_store_donate"),
        path("store/products/<int:pk>/write-off/", v.stock_write_off, name="points_store_write_off"),
        path("store/stocktake/", v.stocktake, name="points_store_stocktake"),
        path("store/stocktake/<int:pk>/", v.stocktake_detail, name="points_store_stocktake_detail"),
        path("store/cards/", v.household_cards, name="points_store_cards"),
        path("store/cards/<int:pk>/", v.household_card, name="points_store_card"),
        path("store/report/", v.report, name="points_store_report"),
    ]


def _store_item(label, url_name, icon, order):
    def register():
        return ScopedMenuItem(
            label, reverse(url_name), name=url_name, icon_name=icon, order=order, capability=Capability.OPERATE_STORE
        )

    return register


for _label, _url_name, _icon, _order in (
    (_("柜台兑换"), "points_store_counter", "form", 1),
    (_("预约领取"), "points_store_reservations", "date", 2),
    (_("盘点"), "points_store_stocktake", "list-ul", 4),
    (_("打印户卡"), "points_store_cards", "user", 5),
    (_("超市报表"), "points_store_report", "table", 6),
):
    hooks.register(STORE_MENU_HOOK, _store_item(_label, _url_name, _icon, _order))

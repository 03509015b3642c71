"""Forms of the store's admin pages (积分超市): the catalogue, stock receipts and write-offs, stock-takes, the counter.

They parse and label what was typed (whole numbers, in range, named after the product) so that a mistake is
answered next to the field; every business rule (stock, points, the product's village, active) is still checked
by the services in ``points.store``, whose refusals the views show.
"""

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from points.admin.forms import IdempotentForm, villages_for
from points.ledger.books import MAX_AMOUNT
from points.scope import Capability
from points.store.services import MAX_QUANTITY

MAX_COUNT = 1_000_000  # the largest counted quantity stocktake_record accepts
QTY_PREFIX = "qty-"
COUNT_PREFIX = "count-"
_QTY_KEY = re.compile(r"^qty-(.*)$")


def quantity_field(label, *, name=None, minimum=1, maximum=MAX_QUANTITY, required=True, **kwargs) -> forms.IntegerField:
    """A whole number in range, with messages that name the product (``name``). Build it per request (in a
    form's ``__init__``): the messages are formatted at once, in the request's language."""
    name = name or label
    return forms.IntegerField(
        label=label,
        min_value=minimum,
        max_value=maximum,
        required=required,
        error_messages={
            "required": _("请填写「%(name)s」的数量") % {"name": name},
            "invalid": _("「%(name)s」的数量必须是整数") % {"name": name},
            "min_value": _("「%(name)s」的数量不能小于 %(limit)s") % {"name": name, "limit": minimum},
            "max_value": _("「%(name)s」的数量不能超过 %(limit)s") % {"name": name, "limit": maximum},
        },
        **kwargs,
    )


class ProductForm(WagtailAdminModelForm):
    """The catalogue entry. Stock is not a field: it changes only through stock movements."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        villages = villages_for(self.for_user, Capability.OPERATE_STORE)
        if "village" in self.fields:
            field = self.fields["village"]
            field.queryset = villages
            field.error_messages["invalid_choice"] = _("请选择您管理的村")
            if self.instance.pk:
                # Its movements and past redemptions belong to its village: a product never moves.
                field.disabled = True
            elif villages.count() == 1:
                field.initial = villages.first()
        if "price" in self.fields:
            self.fields["price"].min_value = 1
            self.fields["price"].max_value = MAX_AMOUNT

    def clean_price(self):
        price = self.cleaned_data.get("price")
        if price is not None and not 1 <= price <= MAX_AMOUNT:
            raise forms.ValidationError(_("兑换积分应在 1 到 %(max)s 之间") % {"max": MAX_AMOUNT})
        return price

    def clean_name(self):
        name = (self.cleaned_data.get("name") or "").strip()
        if not name:
            raise forms.ValidationError(_("请填写商品名称"))
        return name


class StockReceiveForm(IdempotentForm):
    """入库, or 捐赠 when ``donation`` (the donor must be named; listing them publicly needs their consent)."""

    donor_name = forms.CharField(label=_("捐赠人"), max_length=60, required=False)
    donor_public = forms.BooleanField(
        label=_("捐赠人同意在公开的爱心捐赠榜上列出姓名"),
        required=False,
        help_text=_("未勾选时，捐赠只记在账上，不公开捐赠人姓名"),
    )

    field_order = ["quantity", "donor_name", "donor_public"]

    def __init__(self, *args, product, donation: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"] = quantity_field(
            _("数量"), name=product.name, help_text=_("单位：%(unit)s") % {"unit": product.unit}
        )
        self.order_fields(self.field_order)
        self.donation = donation
        if donation:
            self.fields["donor_name"].required = True
            self.fields["donor_name"].error_messages["required"] = _("请填写捐赠人姓名或单位")
            self.fields["donor_name"].help_text = _("个人或单位名称")
        else:
            del self.fields["donor_name"]
            del self.fields["donor_public"]

    def clean_donor_name(self):
        name = (self.cleaned_data.get("donor_name") or "").strip()
        if self.donation and not name:
            raise forms.ValidationError(_("请填写捐赠人姓名或单位"))
        return name


class WriteOffForm(IdempotentForm):
    """报损: quantity and a reason (broken, spoiled, expired ...)."""

    reason = forms.CharField(
        label=_("报损原因"),
        max_length=200,
        help_text=_("如：破损、过期、受潮"),
        error_messages={"required": _("请填写报损原因")},
    )

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"] = quantity_field(
            _("数量"), name=product.name, help_text=_("单位：%(unit)s") % {"unit": product.unit}
        )
        self.order_fields(["quantity", "reason"])

    def clean_reason(self):
        reason = (self.cleaned_data.get("reason") or "").strip()
        if not reason:
            raise forms.ValidationError(_("请填写报损原因"))
        return reason


class StocktakeForm(IdempotentForm):
    """盘点: a counted quantity for every product of the village (0 if none is left)."""

    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = list(products)
        for product in self.products:
            self.fields[f"{COUNT_PREFIX}{product.pk}"] = quantity_field(
                product.name,
                minimum=0,
                maximum=MAX_COUNT,
                widget=forms.NumberInput(attrs={"min": 0, "max": MAX_COUNT, "inputmode": "numeric"}),
            )

    def rows(self):
        return [(product, self[f"{COUNT_PREFIX}{product.pk}"]) for product in self.products]

    def counts(self) -> dict[int, int]:
        return {product.pk: self.cleaned_data[f"{COUNT_PREFIX}{product.pk}"] for product in self.products}


class HouseholdSearchForm(forms.Form):
    """The counter's one search box: number, name, pinyin initials or a scanned card (``QS01-001``)."""

    q = forms.CharField(label=_("查找户"), max_length=60, required=False, strip=True)


class CounterForm(IdempotentForm):
    """The cart: a quantity box per product of the village (0 = not taken).

    Every ``qty-<id>`` in the request becomes a line, also for ids that are not in this village's catalogue (a
    stale page, a product taken off the shelf, a forged id): those go to ``redemption_create``, which refuses
    them by name, rather than being dropped silently from what the household receives.
    """

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = list(products)
        known = set()
        for product in self.products:
            known.add(str(product.pk))
            self.fields[f"{QTY_PREFIX}{product.pk}"] = self._qty_field(product.name)
        self.unknown_keys = []
        for key in self.data.keys() if self.is_bound else ():
            match = _QTY_KEY.match(key)
            if match and match.group(1) not in known:
                self.unknown_keys.append(key)
                self.fields[key] = self._qty_field(f"#{match.group(1)[:20]}")

    @staticmethod
    def _qty_field(label):
        attrs = {"min": 0, "max": MAX_QUANTITY, "inputmode": "numeric", "class": "counter-qty"}
        return quantity_field(label, minimum=0, required=False, widget=forms.NumberInput(attrs=attrs), initial=0)

    def rows(self):
        return [(product, self[f"{QTY_PREFIX}{product.pk}"]) for product in self.products]

    def clean(self):
        cleaned = super().clean()
        for key in self.unknown_keys:
            raw = key[len(QTY_PREFIX) :]
            if not raw.isdigit() or int(raw) < 1:
                raise forms.ValidationError(_("商品编号无效：%(value)s") % {"value": raw[:20]})
        if not self.errors and not self.lines():
            raise forms.ValidationError(_("请至少选择一件商品"))
        return cleaned

    def lines(self) -> list[tuple[int, int]]:
        """(product id, quantity) for every box above zero."""
        lines = []
        for name, value in self.cleaned_data.items():
            if name.startswith(QTY_PREFIX) and value:
                lines.append((int(name[len(QTY_PREFIX) :]), value))
        return lines

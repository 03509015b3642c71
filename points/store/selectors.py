"""Reads of the village store: the catalogue, a household's reservations, the store report (stock value against
points outstanding, low stock, top products), the public donor list."""

from django.db.models import BigIntegerField, Case, F, Q, Sum, When

from points.models import (
    Account,
    Household,
    Product,
    Redemption,
    RedemptionLine,
    StockMovement,
    Transfer,
    Village,
)


def catalogue(village: Village, *, include_inactive: bool = False):
    products = Product.objects.filter(village=village).select_related("photo")
    if not include_inactive:
        products = products.filter(active=True)
    return products.order_by("order", "id")


def household_reservations(household: Household):
    return (
        Redemption.objects.filter(household=household)
        .select_related("village")
        .prefetch_related("lines")
        .order_by("-id")
    )


def store_report(village: Village, *, top: int = 10) -> dict:
    """Stock on hand and its points value against the points households hold; low stock; top products;
    donations received."""
    products = list(Product.objects.filter(village=village).order_by("order", "id"))
    stock_value = sum(p.stock * p.price for p in products)
    outstanding = (
        Account.objects.filter(village=village, kind=Account.Kind.HOUSEHOLD, balance__gt=0).aggregate(
            total=Sum("balance")
        )["total"]
        or 0
    )
    sold = (
        RedemptionLine.objects.filter(village=village)
        .exclude(redemption__status__in=[Redemption.Status.CANCELLED, Redemption.Status.EXPIRED])
        .values("product_id", "product__name")
        .annotate(quantity=Sum("quantity"), points=Sum("points"))
        .order_by("-quantity", "product_id")[:top]
    )
    donations = (
        StockMovement.objects.filter(village=village, kind=StockMovement.Kind.DONATION)
        .select_related("product")
        .order_by("-id")
    )
    return {
        "products": products,
        "stock_value": stock_value,
        "points_outstanding": outstanding,
        "coverage": (stock_value / outstanding) if outstanding else None,
        "low_stock": [p for p in products if p.active and p.is_low],
        "top_products": list(sold),
        "donations": list(donations[:100]),
    }


def public_donors(village: Village) -> list[dict]:
    """爱心捐赠榜: donors who agreed to be named, with what they gave."""
    return list(
        StockMovement.objects.filter(village=village, kind=StockMovement.Kind.DONATION, donor_public=True)
        .values("donor_name", "product__name", "product__unit")
        .annotate(quantity=Sum("quantity"))
        .order_by("-quantity", "donor_name")
    )


def redemption_balance_after(redemption: Redemption) -> int:
    """The household's balance right after this redemption's transfer (a reprinted receipt stays true).

    Reads the household's transfers up to it; the village's writes are serialised by the ledger head, so ids
    follow the order the balance moved in.
    """
    account_id = Account.objects.filter(household_id=redemption.household_id).values_list("id", flat=True).first()
    signed = Case(
        When(credit_account_id=account_id, then=F("amount")),
        When(debit_account_id=account_id, then=-F("amount")),
        default=0,
        output_field=BigIntegerField(),
    )
    total = (
        Transfer.objects.filter(Q(debit_account_id=account_id) | Q(credit_account_id=account_id))
        .filter(id__lte=redemption.transfer_id)
        .aggregate(total=Sum(signed))["total"]
    )
    return total or 0

"""Customer lifetime value: each fit of the shop's models, and each customer's predicted figures.

Predicted amounts (expected spend, CLV) are stored in whole fen, rounded once when the fit writes
them: they are forecasts for ranking and segments, never money that moves. Probabilities and
expected order counts are floats.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.customers.models import Customer
from siyu.shops.models import Shop


class ClvFit(models.Model):
    """One fit of BG/NBD and Gamma-Gamma for a shop, successful or not (then `error_code` says why)."""

    class Status(models.TextChoices):
        OK = "ok", _("Fitted")
        FAILED = "failed", _("Not fitted")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="clv_fits")
    fitted_at = models.DateTimeField()
    calibration_end = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=200, blank=True)
    # {"r", "alpha", "a", "b" (BG/NBD, time in days), "p", "q", "gamma" (Gamma-Gamma, spend in fen),
    #  "ll_bgnbd", "ll_gamma_gamma", "horizon_months", "monthly_discount_bp", "win_back_p_alive",
    #  "win_back_clv_from" (the CLV, fen, from which a customer is in the shop's top third)}
    parameters = models.JSONField(default=dict, blank=True)
    customers = models.PositiveIntegerField(default=0)
    repeaters = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-fitted_at", "-id"]
        indexes = [models.Index(fields=["shop", "-fitted_at"])]


class CustomerValue(models.Model):
    """A customer's purchase summary at the last fit and what the models predict from it."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="value")
    frequency = models.PositiveIntegerField()  # repeat purchase days
    recency_days = models.PositiveIntegerField()  # first to last purchase day
    age_days = models.PositiveIntegerField()  # first purchase day to the calibration end (T)
    mean_spend = models.BigIntegerField()  # fen, mean of the repeat purchase days (0 without any)
    p_alive = models.FloatField()
    expected_orders_90 = models.FloatField()
    expected_orders_365 = models.FloatField()
    expected_spend = models.BigIntegerField()  # fen per future order
    clv = models.BigIntegerField()  # fen, discounted, over the fit's horizon
    win_back = models.BooleanField(default=False)
    fitted_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["shop", "-clv"]),
            models.Index(fields=["shop", "win_back", "-clv"]),
        ]


class BuyerSummary(models.Model):
    """One row per shopper who has placed an order in the shop: what the dashboards need of their
    whole order history, so cohorts, the funnel and trends read one row per buyer instead of
    ranking every order.

    Kept by siyu.analytics.buyers from the order events (recomputed from the shopper's own orders
    in the worker, so it always equals a recomputation from scratch once their events have run) and
    rebuilt for whole shops by `manage.py analytics_rebuild_buyers`. "Paid" means `paid_at` is
    set, as on every dashboard; the first and second paid orders are ordered by (paid_at, id).
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    shopper = models.ForeignKey("accounts.Shopper", on_delete=models.CASCADE, related_name="+")
    first_placed_at = models.DateTimeField(null=True)  # the first order placed, paid or not
    first_paid_at = models.DateTimeField(null=True)
    first_order = models.ForeignKey("orders.Order", null=True, on_delete=models.SET_NULL, related_name="+")
    first_ref_code = models.CharField(max_length=12, blank=True, default="")  # of the first paid order
    second_paid_at = models.DateTimeField(null=True)
    paid_orders = models.PositiveIntegerField(default=0)
    revenue = models.BigIntegerField(default=0)  # fen: paid − refunded over the paid orders

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "shopper"], name="buyer_summary_unique")]
        indexes = [models.Index(fields=["shop", "first_paid_at"], name="buyer_summary_first_paid")]

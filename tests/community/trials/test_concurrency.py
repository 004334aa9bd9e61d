"""PostgreSQL, real threads: one application per shopper, selections never above the trial's units
or the stock."""

import pytest

from siyu.catalog.models import Sku
from siyu.community.trials.applications import trial_apply
from siyu.community.trials.models import ApplicationStatus, Trial, TrialApplication
from siyu.community.trials.selection import applications_select, trial_draw
from siyu.community.trials.services import trial_move
from siyu.orders.models import Order

from ...concurrency import run_parallel
from .conftest import apply_many

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_shopper_applying_eight_times_at_once_applies_once(postgres_only, trial, shopper, address):
    results = run_parallel(
        lambda: trial_apply(shop=trial.shop, shopper=shopper, public_id=trial.public_id, address_id=address.public_id),
        [() for _ in range(8)],
    )
    made = [r for r in results if isinstance(r, TrialApplication)]
    assert len(made) == 1
    assert {r.code for r in results if not isinstance(r, TrialApplication)} == {"trial_applied"}
    assert TrialApplication.objects.count() == 1 and Trial.objects.get(pk=trial.pk).application_count == 1


def test_parallel_selections_never_exceed_units(postgres_only, owner, trial):
    apps = apply_many(trial, 8)  # the trial gives 3 units
    trial_move(actor=owner, shop=trial.shop, public_id=trial.public_id, to="selecting")

    def select(app):
        return applications_select(
            actor=owner, shop=trial.shop, public_id=trial.public_id, application_ids=[app.public_id]
        )

    results = run_parallel(select, [(a,) for a in apps])
    assert sum(isinstance(r, list) for r in results) == 3
    assert TrialApplication.objects.filter(status=ApplicationStatus.SELECTED).count() == 3
    assert Order.objects.filter(total=0, status="paid").count() == 3
    assert Trial.objects.get(pk=trial.pk).selected_count == 3


def test_parallel_draws_never_oversell_a_short_stock(postgres_only, owner, trial, product):
    apply_many(trial, 8)
    trial_move(actor=owner, shop=trial.shop, public_id=trial.public_id, to="selecting")
    Sku.objects.filter(product=product).update(stock=2)
    results = run_parallel(
        lambda: trial_draw(actor=owner, shop=trial.shop, public_id=trial.public_id, count=1), [() for _ in range(6)]
    )
    assert sum(not hasattr(r, "code") for r in results) <= 2
    stock = Sku.objects.get(product=product).stock
    selected = TrialApplication.objects.filter(status=ApplicationStatus.SELECTED).count()
    assert stock >= 0 and stock + selected == 2
    assert Order.objects.count() == selected

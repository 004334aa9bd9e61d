"""The minimum advertised price also guards the catalogue's own SKU price edits."""

import pytest

from siyu.catalog.models import Sku
from siyu.catalog.services import sku_update_many
from siyu.core.errors import Conflict
from siyu.core.models import AuditEntry
from siyu.distribution.prices import price_floor_set

pytestmark = pytest.mark.django_db


def test_sku_price_below_floor_needs_an_audited_override(shop, owner, product):
    sku = product.skus.get()
    price_floor_set(actor=owner, sku=sku, min_price=1500)
    with pytest.raises(Conflict) as exc:
        sku_update_many(actor=owner, product=product, rows=[{"id": sku.pk, "price": 1200}])
    assert exc.value.code == "below_price_floor" and Sku.objects.get(pk=sku.pk).price == 1990
    sku_update_many(actor=owner, product=product, rows=[{"id": sku.pk, "price": 1600}])
    sku_update_many(actor=owner, product=product, rows=[{"id": sku.pk, "price": 1200, "price_override_reason": "清仓"}])
    assert Sku.objects.get(pk=sku.pk).price == 1200
    assert AuditEntry.objects.filter(target_id=str(sku.pk), data__reason="清仓").exists()

from siyu.catalog import services
from siyu.catalog.models import Sku


def test_product_specs_build_matrix(shop, owner):
    p = services.product_create(actor=owner, shop=shop, data={"name": "T恤", "price": "59.00", "stock": 5})
    skus = services.product_set_specs(
        actor=owner,
        product=p,
        specs=[{"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["S", "M", "L"]}],
    )
    assert len(skus) == 6
    assert sorted(s.spec_key for s in skus) == sorted(f"{c}/{s}" for c in "红蓝" for s in "SML")
    assert Sku.objects.filter(product=p, is_active=False).count() == 1  # the spec-less SKU is switched off

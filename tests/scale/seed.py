"""`python -m tests.scale.seed`: one default shop with one product on sale, in the database the
environment names (DATABASE_URL); prints the ids as JSON. Used by tests/scale's cluster."""

import json

import django


def main() -> None:
    django.setup()
    from siyu.catalog.models import Product, Sku
    from siyu.shops.services import shop_create

    shop = shop_create(slug="scale", name="两台服务器小店", is_default=True)
    product = Product.objects.create(shop=shop, name="云南小粒咖啡豆", status="on_sale", price_min=4900, price_max=4900)
    sku = Sku.objects.create(shop=shop, product=product, price=4900, stock=10)
    print(json.dumps({"shop": shop.pk, "product": product.public_id, "sku": sku.pk}))


if __name__ == "__main__":
    main()

from django.core.management.base import BaseCommand, CommandError

from siyu.analytics.buyers import buyer_summaries_rebuild
from siyu.shops.models import Shop


class Command(BaseCommand):
    help = (
        "Recompute the buyer summary the dashboards read (first and second paid order per shopper) "
        "from the orders, for one shop or all. The order events keep it current; run this after "
        "loading orders straight into the database or to repair it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--shop", default="", help="the shop's slug (default: every shop)")

    def handle(self, *args, shop, **options):
        shop_ids = None
        if shop:
            found = Shop.objects.filter(slug=shop).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"no shop with slug {shop!r}")
            shop_ids = [found]
        written = buyer_summaries_rebuild(shop_ids=shop_ids)
        self.stdout.write(self.style.SUCCESS(f"{written} buyer rows rebuilt."))

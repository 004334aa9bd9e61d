import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from siyu.cli import demo_data
from siyu.cli.demo import DEFAULT_SEED, build_demo
from siyu.core.errors import DomainError
from siyu.shops.models import Shop


class Command(BaseCommand):
    help = "Build the demo shop: products with pictures, categories, shipping templates, staff and shoppers."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the database already has a shop")
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="random seed for stock levels, costs and pictures (same seed, same shop)",
        )
        parser.add_argument(
            "--products",
            type=int,
            default=None,
            metavar="N",
            help="build only the first N products (default: all, about 40)",
        )

    def handle(self, *args, if_empty: bool, seed: int, products: int | None, **options):
        if if_empty and Shop.objects.exists():
            self.stdout.write(_("A shop exists already; the demo shop was not built."))
            return
        if products is not None and products < 0:
            raise CommandError("--products must be 0 or more")
        started = time.monotonic()
        verbose = options.get("verbosity", 1) > 1
        try:
            result = build_demo(
                seed=seed,
                products=products,
                progress=(lambda step: self.stdout.write(f"  … {step}")) if verbose else None,
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {exc.detail}") from None
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo shop '%(name)s' built in %(seconds).1f s: %(products)d products, %(featured)d featured.")
                % {
                    "name": result.shop.name,
                    "seconds": seconds,
                    "products": len(result.products),
                    "featured": len(result.featured),
                }
            )
        )
        self.stdout.write(
            _("  owner:  %(user)s / %(password)s")
            % {"user": demo_data.OWNER["username"], "password": demo_data.OWNER["password"]}
        )
        for member in result.staff[1:]:
            self.stdout.write(
                _("  %(role)s:  %(user)s / %(password)s")
                % {
                    "role": member.get_role_display(),
                    "user": member.user.username,
                    "password": demo_data.STAFF_PASSWORD,
                }
            )

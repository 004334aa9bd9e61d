import secrets

from django.core.management.base import BaseCommand, CommandError

from siyu.accounts.roles import OWNER
from siyu.accounts.services import staff_create
from siyu.core.errors import DomainError
from siyu.shops.services import shop_create


class Command(BaseCommand):
    help = "Add a shop with its first owner. It is served at /s/<slug>/ and, with --host, on its own host."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--host", default="")
        parser.add_argument("--owner", default="", help="owner's username (default: <slug>-owner)")
        parser.add_argument("--password", default="", help="owner's password (default: generated)")

    def handle(self, *args, slug, name, host, owner, password, **options):
        password = password or secrets.token_urlsafe(12)
        try:
            shop = shop_create(slug=slug, name=name, host=host)
            member = staff_create(
                actor=None,
                shop=shop,
                username=owner or f"{slug}-owner",
                password=password,
                role=OWNER,
                display_name=name,
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {exc.detail}") from None
        self.stdout.write(self.style.SUCCESS(f"Shop '{shop.name}' created."))
        self.stdout.write(f"  storefront: /s/{shop.slug}/" + (f"  and http://{shop.host}/" if shop.host else ""))
        self.stdout.write(f"  console:    /s/{shop.slug}/console/")
        self.stdout.write(f"  owner:      {member.user.username} / {password}")

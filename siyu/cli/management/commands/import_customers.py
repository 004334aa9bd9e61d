from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from siyu.core.errors import DomainError
from siyu.customers.import_values import reject_reason_label
from siyu.customers.importer import import_rejected_csv, import_run
from siyu.customers.layouts import FIELDS, LAYOUTS
from siyu.shops.models import Shop


class Command(BaseCommand):
    help = (
        "Import past buyers and their orders from a Taobao/Tmall, JD or Pinduoduo order export, or any "
        "CSV/Excel file with --layout generic and --map. Only sales count: closed, cancelled, unpaid and "
        "fully refunded orders are rejected with their reason. Re-importing the same file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv (UTF-8 or GBK) or .xlsx file")
        parser.add_argument("--shop", default="", help="shop slug (default: the default shop)")
        parser.add_argument("--layout", choices=sorted(LAYOUTS), help="default: recognised from the header")
        parser.add_argument(
            "--map",
            action="append",
            dest="pairs",
            default=[],
            metavar="COLUMN=FIELD",
            help=f"feed a column into a field ({', '.join(FIELDS)}); repeatable",
        )
        parser.add_argument("--rejected", default="", help="write the rejected rows as CSV here")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, file, shop, layout, pairs, rejected, no_progress, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        the_shop = self._shop(shop)
        mapping = self._mapping(pairs)
        bar = None
        if not no_progress:
            from tqdm import tqdm

            bar = tqdm(total=0, unit="rows", desc="import", file=self.stderr._out, leave=True)

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.total = total
                bar.update(done - bar.n)

        try:
            job = import_run(
                shop=the_shop,
                actor=None,
                filename=path.name,
                path=path,  # streamed: an export of any size costs one batch of memory
                layout=layout,
                mapping=mapping,
                progress=progress,
            )
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {exc.detail}") from None
        finally:
            if bar is not None:
                bar.close()
        self._report(job, rejected)

    def _shop(self, slug: str) -> Shop:
        shop = Shop.objects.filter(slug=slug).first() if slug else Shop.objects.filter(is_default=True).first()
        if shop is None:
            raise CommandError(f"no shop {slug!r}" if slug else "no default shop; give --shop")
        return shop

    def _mapping(self, pairs: list[str]) -> dict[str, str]:
        mapping = {}
        for pair in pairs:
            column, sep, field = pair.rpartition("=")
            if not sep or not column.strip() or not field.strip():
                raise CommandError(f"--map {pair!r}: use COLUMN=FIELD")
            mapping[column.strip()] = field.strip()
        return mapping

    def _report(self, job, rejected: str) -> None:
        self.stdout.write(self.style.SUCCESS(f"Import #{job.pk} ({job.layout}) of {job.filename}: {job.status}"))
        self.stdout.write(f"  rows:      {job.total_rows}")
        self.stdout.write(f"  imported:  {job.imported}  (new customers)")
        self.stdout.write(f"  merged:    {job.merged}  (customers already in the pool, with new orders)")
        self.stdout.write(f"  orders:    {job.orders_added}  (new orders; the rows of one order number are one order)")
        self.stdout.write(f"  unchanged: {job.unchanged}  (rows already imported)")
        self.stdout.write(f"  rejected:  {job.rejected}  (rows)")
        for reason, count in sorted((job.rejected_reasons or {}).items(), key=lambda item: -item[1]):
            self.stdout.write(f"    {count:>6}  {reject_reason_label(reason)}")
        if job.rejected and rejected:
            Path(rejected).write_bytes(import_rejected_csv(job=job))
            self.stdout.write(f"  rejected rows with reasons written to {rejected}")
        elif job.rejected:
            self.stdout.write("  (give --rejected FILE.csv to save the rejected rows with their reasons)")

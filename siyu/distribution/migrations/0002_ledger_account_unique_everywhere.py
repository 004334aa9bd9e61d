"""One ledger account per (shop, promoter, kind) on SQLite too.

The NULLS NOT DISTINCT constraint it replaces was never created on SQLite (models.W047), so an
embedded install may hold duplicate accounts, most likely two shop-level ones made at once. They
are merged first: every entry of a duplicate moves to the oldest account of its key (a balance is
the sum of entries, so balances are unchanged), then the duplicates go and the two partial unique
indexes are created.
"""

from django.db import migrations, models


def merge_duplicate_accounts(apps, schema_editor):
    LedgerAccount = apps.get_model("distribution", "LedgerAccount")
    LedgerEntry = apps.get_model("distribution", "LedgerEntry")
    keep: dict[tuple, int] = {}
    for pk, shop_id, promoter_id, kind in (
        LedgerAccount.objects.order_by("pk").values_list("pk", "shop_id", "promoter_id", "kind").iterator()
    ):
        first = keep.setdefault((shop_id, promoter_id, kind), pk)
        if first != pk:
            LedgerEntry.objects.filter(account_id=pk).update(account_id=first)
            LedgerAccount.objects.filter(pk=pk).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0001_initial"),
        ("shops", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="ledgeraccount",
            name="one_account_per_kind",
        ),
        migrations.RunPython(merge_duplicate_accounts, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="ledgeraccount",
            constraint=models.UniqueConstraint(
                condition=models.Q(("promoter__isnull", True)),
                fields=("shop", "kind"),
                name="one_shop_account_per_kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgeraccount",
            constraint=models.UniqueConstraint(
                condition=models.Q(("promoter__isnull", False)),
                fields=("shop", "promoter", "kind"),
                name="one_promoter_account_per_kind",
            ),
        ),
    ]

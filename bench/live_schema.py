"""Raw INSERTs for the benchmarks' baselines, with their columns read from the live models.

A baseline that lists its columns by hand rots the day a migration adds a NOT NULL column: the
bench then dies with a NotNullViolation (or, worse, measures a different row). Here the column
list comes from the model's concrete fields: the caller names the columns it fills, every other
column gets the model's default (or "now" for auto timestamps), and a NOT NULL column with no
default that the caller does not fill stops the bench with its name, before anything is timed.

Needs Django set up against the database the rows go to: values are adapted by that connection
(a datetime becomes UTC text on SQLite, a JSON value a jsonb parameter on PostgreSQL).
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Model
from django.db.models.fields import NOT_PROVIDED, AutoFieldMixin
from django.utils import timezone


class SchemaDrift(RuntimeError):
    """The model has a column the benchmark's baseline cannot fill."""


def _defaults(model: type[Model], filled: Iterable[str]) -> dict[str, Any]:
    """Default values (by attname) of every concrete column of `model` the caller does not fill."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = sorted(set(filled) - set(fields))
    if unknown:
        raise SchemaDrift(f"{model._meta.db_table} has no column(s) {', '.join(unknown)}")
    values, missing = {}, []
    for name, field in fields.items():
        if name in filled or isinstance(field, AutoFieldMixin):
            continue
        if field.has_default() or (field.blank and field.empty_strings_allowed and not field.null):
            values[name] = field.get_default()  # for an optional text column, "" as the ORM writes it
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values[name] = timezone.now()
        elif not (field.null or field.db_default is not NOT_PROVIDED):
            missing.append(field.column)
    if missing:
        raise SchemaDrift(
            f"{model._meta.db_table}: NOT NULL column(s) without a default that the benchmark's baseline "
            f"does not set: {', '.join(missing)}. Give the baseline a value for them."
        )
    return values


class RawInsert:
    """One INSERT of `model` rows for a bare DB-API driver.

    `per_row` names (attnames, e.g. "shop_id") the values each row brings, in the order of the
    tuples given to `params`; `fixed` gives values shared by every row; the rest are defaults.
    """

    def __init__(
        self,
        model: type[Model],
        *,
        connection,
        per_row: Sequence[str],
        fixed: dict[str, Any] | None = None,
        mark: str = "%s",
    ):
        fixed = dict(fixed or {})
        fields = {f.attname: f for f in model._meta.concrete_fields}
        values = {**_defaults(model, [*per_row, *fixed]), **fixed}
        self.connection = connection
        self.row_fields = [fields[name] for name in per_row]
        self.fixed_params = tuple(fields[name].get_db_prep_save(v, connection) for name, v in values.items())
        self.columns = [fields[name].column for name in [*per_row, *values]]
        quoted = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        self.sql = f"INSERT INTO {model._meta.db_table} ({quoted}) VALUES ({', '.join([mark] * len(self.columns))})"

    def params(self, row: Sequence[Any]) -> tuple:
        """The parameters of one row: its own values adapted for the database, then the shared ones."""
        own = tuple(f.get_db_prep_save(v, self.connection) for f, v in zip(self.row_fields, row, strict=True))
        return own + self.fixed_params


def insert_select(model: type[Model], *, connection, select: dict[str, str], rest: str) -> tuple[str, dict]:
    """`INSERT INTO <table> (…) SELECT … <rest>` for bulk-generated rows, with defaults filled in.

    `select` maps attnames to SQL expressions (pyformat: write %% for %, %(name)s for a parameter);
    columns it leaves out get the model's default as parameters `_default_<n>`, returned to pass
    along with the caller's own.
    """
    fields = {f.attname: f for f in model._meta.concrete_fields}
    defaults = _defaults(model, select)
    params = {f"_default_{n}": fields[k].get_db_prep_save(v, connection) for n, (k, v) in enumerate(defaults.items())}
    columns = [fields[name].column for name in [*select, *defaults]]
    exprs = [*select.values(), *(f"%({key})s" for key in params)]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    return f"INSERT INTO {model._meta.db_table} ({quoted})\nSELECT {', '.join(exprs)}\n{rest}", params


def all_columns(model: type[Model], *, connection) -> str:
    """Every concrete column of `model`, quoted, in model order: for copying rows back verbatim."""
    return ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)

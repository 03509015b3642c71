"""Multi-row INSERT for the hot write paths (a redemption, a ballot), without the ORM's per-statement compiling.

``bulk_create`` compiles its INSERT field by field on every call; on the counter's path that Python costs more than
the database's work (see bench/store.py). ``insert`` writes the same rows the same way — every concrete field's
value through ``pre_save`` (``auto_now_add``, defaults) and ``get_db_prep_save`` (the backend's own adaptation) —
from an SQL string built once per model and row count, and sets the new primary keys from ``RETURNING``.
Model ``save()`` is not called and no signals are sent, exactly as with ``bulk_create``.
"""

import contextlib
import contextvars
import functools
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

# --- one cursor per service call ----------------------------------------------------------------------------------

_shared: contextvars.ContextVar = contextvars.ContextVar("hehe_shared_cursor", default=None)


def shared_cursor_for_call(func):
    """Decorator for a hot service (under its ``transaction.atomic``): every statement the fast path sends during
    the call (``cursor_for(db)``: ledger, fastsql, the store's stock UPDATE, the scope) goes through ONE cursor,
    opened at the start and closed at the end of the call. Opening a Django cursor costs ~5 µs; a redemption sends
    a dozen statements. Each use fetches its rows at once, so no statement is left half-read between uses (on
    SQLite an unfinished SELECT would hold its read snapshot); the ORM's own queries keep their own cursors."""

    @functools.wraps(func)
    def call(*args, **kwargs):
        if _shared.get() is not None:  # nested: the outer call's cursor serves
            return func(*args, **kwargs)
        db = connections[DEFAULT_DB_ALIAS]
        with db.cursor() as shared:
            token = _shared.set((db, shared))
            try:
                return func(*args, **kwargs)
            finally:
                _shared.reset(token)

    return call


def cursor_for(db):
    """The call's shared cursor (``shared_cursor_for_call``) as a context manager that leaves it open, or a new
    cursor of ``db`` outside such a call."""
    shared = _shared.get()
    if shared is not None and shared[0] is db:
        return contextlib.nullcontext(shared[1])
    return db.cursor()


# Fields whose Python value (by attname) is already what both backends take: no per-row adaptation needed.
PLAIN = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


@cache
def _fields(model):
    return [f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]


def _is_plain(field) -> bool:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return False
    while field.is_relation:  # a foreign key is sent as its target's value (an int, or a UUID to adapt)
        field = field.target_field
    return field.get_internal_type() in PLAIN


@cache
def _plain(model) -> tuple[bool, ...]:
    """Per field: True if its value can be sent as it is (no pre_save hook, no adaptation)."""
    return tuple(_is_plain(f) for f in _fields(model))


@cache
def _sql(model, vendor: str, rows: int, on_conflict: tuple[str, ...] | None) -> str:
    quote = connection.ops.quote_name
    fields = _fields(model)
    pk = model._meta.pk
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([placeholder] * rows)}"
    )
    if on_conflict is not None:
        sql += f" ON CONFLICT ({', '.join(quote(c) for c in on_conflict)}) DO NOTHING"
    return sql + f" RETURNING {quote(pk.column)}"


def insert(objs: list, *, on_conflict_do_nothing: tuple[str, ...] | None = None) -> bool:
    """INSERT ``objs`` (instances of one model) in one statement and set their primary keys.

    With ``on_conflict_do_nothing`` (the columns of a unique constraint), a conflicting row is skipped: the return
    value is False if any row was skipped (and then no primary key is set), True otherwise.
    """
    if not objs:
        return True
    model = type(objs[0])
    db = connections[DEFAULT_DB_ALIAS]
    fields = _fields(model)
    params = []
    plain = _plain(model)
    for obj in objs:
        values = obj.__dict__
        params += [
            values[f.attname] if is_plain else f.get_db_prep_save(f.pre_save(obj, True), db)
            for f, is_plain in zip(fields, plain, strict=True)
        ]
    sql = _sql(model, db.vendor, len(objs), on_conflict_do_nothing)
    with cursor_for(db) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) != len(objs):
        return False
    pk = model._meta.pk
    for obj, (value,) in zip(objs, rows, strict=True):
        if pk.auto_created or getattr(obj, pk.attname) is None:
            setattr(obj, pk.attname, pk.to_python(value))
        obj._state.adding = False
        obj._state.db = db.alias
    return True


def insert_rows(model, rows: list[dict], *, on_conflict_do_nothing: tuple[str, ...] | None = None) -> list | None:
    """INSERT ``rows`` of ``model`` in one statement, without building instances: each row maps field attnames
    (``village_id``, not ``village``) to values; a field left out takes its default (``auto_now`` /
    ``auto_now_add``: the time now). Returns the new primary keys in row order, or None if
    ``on_conflict_do_nothing`` (the columns of a unique constraint) skipped any row."""
    return insert_chain([], model, rows, on_conflict_do_nothing=on_conflict_do_nothing)


def insert_chain(
    first: list[tuple], model, rows: list[dict], *, on_conflict_do_nothing: tuple[str, ...] | None = None
) -> list | None:
    """``insert_rows(model, rows)`` after plain inserts ``first`` = [(model, rows), ...], whose keys are not returned
    (give them in the rows where the caller needs them, e.g. UUIDs). On PostgreSQL all in ONE statement, each of
    ``first`` a data-modifying ``WITH`` (foreign keys are checked at commit): one round trip instead of several.
    On SQLite one statement each (no round trips to save). A conflict in ``first`` raises IntegrityError as a
    plain INSERT would; only the last step may skip rows (``on_conflict_do_nothing``: then None is returned, and
    the caller rolls back)."""
    db = connections[DEFAULT_DB_ALIAS]
    steps = [(m, r) for m, r in first if r]
    if not rows:  # nothing to answer for: the first steps alone, one statement each
        with cursor_for(db) as cursor:
            for step_model, step_rows in steps:
                cursor.execute(
                    _plain_insert_sql(step_model, db.vendor, len(step_rows)), _row_params(db, step_model, step_rows)
                )
        return []
    with cursor_for(db) as cursor:
        if db.vendor == "postgresql" and steps:
            parts, params = [], []
            for index, (step_model, step_rows) in enumerate(steps):
                parts.append(f"s{index} AS ({_plain_insert_sql(step_model, db.vendor, len(step_rows))})")
                params += _row_params(db, step_model, step_rows)
            sql = f"WITH {', '.join(parts)} {_sql(model, db.vendor, len(rows), on_conflict_do_nothing)}"
            cursor.execute(sql, params + _row_params(db, model, rows))
        else:
            for step_model, step_rows in steps:
                sql = _plain_insert_sql(step_model, db.vendor, len(step_rows))
                cursor.execute(sql, _row_params(db, step_model, step_rows))
            cursor.execute(_sql(model, db.vendor, len(rows), on_conflict_do_nothing), _row_params(db, model, rows))
        found = cursor.fetchall()
    if len(found) != len(rows):
        return None
    return [model._meta.pk.to_python(value) for (value,) in found]


@cache
def _plain_insert_sql(model, vendor: str, rows: int) -> str:
    """INSERT without RETURNING, for ``insert_chain``'s first steps."""
    return _sql(model, vendor, rows, None).rsplit(" RETURNING ", 1)[0]


def _row_params(db, model, rows: list[dict]) -> list:
    spec, known = _row_spec(model)
    unknown = [name for row in rows for name in row if name not in known]
    if unknown:
        raise TypeError(f"{model.__name__} has no field(s) {sorted(set(unknown))} (give attnames, e.g. village_id)")
    now = None
    params = []
    for row in rows:
        for attname, field, is_plain, automatic in spec:
            value = row.get(attname, _MISSING)
            if value is _MISSING:
                if automatic:
                    value = now = now or timezone.now()
                else:
                    value = field.get_default()
            params.append(value if is_plain else field.get_db_prep_save(value, db))
    return params


_MISSING = object()


@cache
def _row_spec(model) -> tuple[tuple, frozenset]:
    """Per field (attname, field, sent as it is?, auto_now(_add)?), and every attname a row may give."""
    fields = _fields(model)
    spec = tuple(
        (f.attname, f, is_plain, bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)))
        for f, is_plain in zip(fields, _plain(model), strict=True)
    )
    return spec, frozenset(f.attname for f in fields) | {model._meta.pk.attname}


@cache
def _columns(model, vendor: str, alias: str):
    """The model's columns as ``alias.column`` and the converters the ORM would apply to each."""
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        col = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
        if found:
            converters.append((index, col, found))
    return [f"{alias}.{quote(f.column)}" for f in fields], [f.attname for f in fields], converters


def _build(db, model, row, attnames, converters):
    values = list(row)
    for index, col, functions in converters:
        value = values[index]
        for converter in functions:
            value = converter(value, col, db)
        values[index] = value
    return model.from_db(db.alias, attnames, values)


@cache
def _fetch_sql(model, vendor: str, count: int) -> str:
    quote = connection.ops.quote_name
    columns, _attnames, _converters = _columns(model, vendor, "t")
    return (
        f"SELECT {', '.join(columns)} FROM {quote(model._meta.db_table)} t "
        f"WHERE t.{quote(model._meta.pk.column)} IN ({', '.join(['%s'] * count)})"
    )


def fetch(model, pks) -> dict:
    """``model.objects.in_bulk(pks)`` without the ORM's compiling: one SELECT of the concrete fields, each value
    through the converters the ORM applies, each instance built by ``Model.from_db``. {pk: instance}."""
    pks = list(dict.fromkeys(pks))
    if not pks:
        return {}
    db = connections[DEFAULT_DB_ALIAS]
    _columns_sql, attnames, converters = _columns(model, db.vendor, "t")
    with cursor_for(db) as cursor:
        cursor.execute(_fetch_sql(model, db.vendor, len(pks)), pks)
        rows = cursor.fetchall()
    found = {}
    for row in rows:
        instance = _build(db, model, row, attnames, converters)
        found[instance.pk] = instance
    return found


@cache
def _get_with_sql(model, relation: str, vendor: str) -> str:
    quote = connection.ops.quote_name
    field = model._meta.get_field(relation)
    related = field.related_model
    own = _columns(model, vendor, "t")[0]
    theirs = _columns(related, vendor, "r")[0]
    return (
        f"SELECT {', '.join(own + theirs)} FROM {quote(model._meta.db_table)} t "
        f"JOIN {quote(related._meta.db_table)} r ON r.{quote(related._meta.pk.column)} = t.{quote(field.column)} "
        f"WHERE t.{quote(model._meta.pk.column)} = %s"
    )


def get_with(model, pk, relation: str):
    """``model.objects.select_related(relation).get(pk=pk)`` for one foreign key, in one SELECT with a JOIN."""
    db = connections[DEFAULT_DB_ALIAS]
    field = model._meta.get_field(relation)
    related = field.related_model
    own, own_names, own_converters = _columns(model, db.vendor, "t")
    _theirs, their_names, their_converters = _columns(related, db.vendor, "r")
    with cursor_for(db) as cursor:
        cursor.execute(_get_with_sql(model, relation, db.vendor), [pk])
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"{model.__name__} {pk} does not exist")
    instance = _build(db, model, row[: len(own)], own_names, own_converters)
    # As select_related leaves it: the related row in the relation's cache (no descriptor work).
    instance._state.fields_cache[field.name] = _build(db, related, row[len(own) :], their_names, their_converters)
    return instance


def get_and_scalar(model, pk, scalar_sql: str, params: list):
    """``model.objects.get(pk=pk)`` and one scalar subquery in the same statement: (instance, the subquery's
    value); raises ``model.DoesNotExist``. ``scalar_sql`` is a ``SELECT`` of one value that may refer to the row as
    ``t`` (e.g. ``SELECT COUNT(*) FROM x WHERE x.parent_id = t.id``); ``params`` are its parameters. One round trip
    instead of two on the hot paths."""
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    columns, attnames, converters = _columns(model, db.vendor, "t")
    with cursor_for(db) as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)}, ({scalar_sql}) FROM {quote(model._meta.db_table)} t "
            f"WHERE t.{quote(model._meta.pk.column)} = %s",
            [*params, pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"{model.__name__} {pk} does not exist")
    return _build(db, model, row[:-1], attnames, converters), row[-1]

"""Statements a hot path runs on every request, built once and run many times.

peewee builds a statement's SQL from its expression tree on every execution; for the join's reads that
cost more than SQLite took to run them (a join's profile: 28 % of its CPU in peewee's `sql()`). A
`Prepared` builds its query once per database kind on sentinel values (values nothing real holds, so each
parameter can be told apart by value), keeps the SQL and which parameter is which, and afterwards only
executes: rows come back exactly as the query would return them (models with their joins, or dicts).
`tests/integration/test_prepared.py` pins each prepared statement to the one peewee builds afresh.
"""
import datetime as dt

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from .models import db


_PER_CURSOR = {'cursor', 'count', 'index', 'initialized', 'populated', 'row_cache'}  # peewee's CursorWrapper


class _Slot(str):
    """A parameter of the built statement, filled per call by name."""


def _sentinel(kind, k: int):
    if kind is int:
        return -900_000 - k
    if kind is str:
        return f'\x01sentinel{k}'
    if kind is dt.datetime:
        return dt.datetime(1901, 1, 1, 0, 0, k)
    raise TypeError(f'no sentinel for {kind!r}')


class Prepared:
    """`Prepared(build, user_id=int, ...)`: `build(**values)` returns a peewee query on those values;
    `rows(**values)` runs it with real ones, `first(**values)` returns its first row or None."""

    def __init__(self, build, **kinds):
        self.build = build
        self.sentinels = {name: _sentinel(kind, k + 1) for k, (name, kind) in enumerate(kinds.items())}
        self._built: dict[str, tuple] = {}  # database class -> (sql, slots, query)
        self._row_shapes: dict[str, dict] = {}  # database class -> the row converter's worked-out state

    def _compiled(self) -> tuple:
        kind = type(db.obj).__name__
        if kind not in self._built:
            query = self.build(**self.sentinels)
            sql, params = query.sql()
            names = {(type(v), v): _Slot(n) for n, v in self.sentinels.items()}
            names.update({(str, str(v)): _Slot(n) for n, v in self.sentinels.items() if isinstance(v, dt.datetime)})
            slots = [names.get((type(p), p), p) for p in params]
            unmapped = set(self.sentinels) - set(s for s in slots if isinstance(s, _Slot))
            if unmapped:  # peewee turned a value into something we cannot recognise: never run with a sentinel
                raise RuntimeError(f'{self.build.__qualname__}: parameters not found in the statement: {unmapped}')
            self._built[kind] = (sql, slots, query)
        return self._built[kind]

    def rows(self, **values):
        sql, slots, query = self._compiled()
        cursor = db.execute_sql(sql, [values[s] if isinstance(s, _Slot) else s for s in slots])
        wrapper = query._get_cursor_wrapper(cursor)
        # How rows become models is worked out from the statement's columns, the same every time: once, then copied
        # (it cost as much as building the SQL: `tests/integration/test_prepared.py` compares the rows).
        kind = type(db.obj).__name__
        shape = self._row_shapes.get(kind)
        if shape is None:
            wrapper.initialize()
            shape = self._row_shapes[kind] = {k: v for k, v in vars(wrapper).items() if k not in _PER_CURSOR}
        else:
            vars(wrapper).update(shape)
        wrapper.initialized = True
        return wrapper

    def first(self, **values):
        return next(iter(self.rows(**values)), None)

    def sql(self, **values) -> tuple[str, list]:
        """The statement and parameters it runs for these values (what the tests compare)."""
        sql, slots, _ = self._compiled()
        return sql, [values[s] if isinstance(s, _Slot) else s for s in slots]


_INSERTS: dict[tuple, tuple] = {}  # (model, columns, database class) -> (sql, columns in parameter order, returning?)


def create(model, **values):
    """`model.create(**values)`, its INSERT built once per model, set of columns and database kind (an insert on
    the join's path cost peewee ~0.3 ms to build). Returns the saved instance, as `create` does."""
    instance = model(**values)
    data = instance.__data__
    fields = model._meta.fields
    # a yes/no column cannot hold a value told apart from a real one: its value is part of the statement's key
    flags = tuple(sorted((n, v if v is None else bool(v)) for n, v in data.items()
                         if isinstance(fields[n], BooleanField)))
    key = (model, tuple(sorted(data)), flags, type(db.obj).__name__)
    if key not in _INSERTS:
        _INSERTS[key] = _compile_insert(model, key[1], dict(flags))
    sql, order, returning = _INSERTS[key]
    cursor = db.execute_sql(sql, [fields[name].db_value(data[name]) if isinstance(name, str) else name.value
                                  for name in order])
    instance._pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    instance._dirty.clear()
    return instance


class _Fixed:
    """A parameter that is the same for every run of the statement (a yes/no column, in the key)."""

    def __init__(self, value):
        self.value = value


def _compile_insert(model, names: tuple, flags: dict) -> tuple:
    fields = model._meta.fields
    sentinels = {name: _sentinel(_kind_of(fields[name]), k + 1) for k, name in enumerate(names) if name not in flags}
    query = model.insert({fields[name]: sentinels.get(name, flags.get(name)) for name in names})
    returning = db.returning_clause
    if returning:
        query = query.returning(model._meta.primary_key)
    sql, params = query.sql()
    by_value = {}
    for name, value in sentinels.items():
        converted = fields[name].db_value(value)
        by_value[type(converted), converted] = name
        by_value[str, str(converted)] = name
    fixed = {(type(v), v) for v in (fields[name].db_value(value) for name, value in flags.items())}
    order = [by_value.get((type(p), p)) or (_Fixed(p) if (type(p), p) in fixed else None) for p in params]
    if None in order or sorted(n for n in order if isinstance(n, str)) != sorted(sentinels):
        raise RuntimeError(f'{model.__name__} insert: parameters not mapped: {params!r}')
    return sql, order, returning


def _kind_of(field):
    for classes, kind in (((ForeignKeyField, IntegerField), int), ((CharField, TextField), str),
                          ((DateTimeField,), dt.datetime)):
        if isinstance(field, classes):
            return kind
    raise TypeError(f'{field.name}: no sentinel for a {type(field).__name__}')

"""Statements a hot path runs on every request, built once and run many times.

peewee builds a statement's SQL from its expression tree on every execution; for the join's reads that
cost more than SQLite took to run them (a join's profile: 28 % of its CPU in peewee's `sql()`). A
`Prepared` builds its query once per database kind on sentinel values (values nothing real holds, so each
parameter can be told apart by value), keeps the SQL and which parameter is which, and afterwards only
executes: rows come back exactly as the query would return them (models with their joins, or dicts).
`tests/integration/test_prepared.py` pins each prepared statement to the one peewee builds afresh.
"""
import datetime as dt
import re

from peewee import (BooleanField, CharField, DateTimeField, FieldAccessor, ForeignKeyAccessor, ForeignKeyField,
                    IntegerField, ModelCursorWrapper, ModelObjectCursorWrapper, SqliteDatabase, TextField)

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
            if isinstance(db.obj, SqliteDatabase):
                sql, slots = inline_constants(sql, slots)
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
            shape = {k: v for k, v in vars(wrapper).items() if k not in _PER_CURSOR}
            builder = _row_builder(wrapper)
            if builder is not None:
                shape['process_row'] = builder
            self._row_shapes[kind] = shape
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


_PLAIN_WORD = re.compile(r'[A-Za-z0-9_-]{1,64}')


def inline_constants(sql: str, params: list) -> tuple[str, list]:
    """SQLite: the statement with its constant parameters (the same in every run: a status, a LIMIT) written into
    it as literals, and the parameters left to bind. SQLite re-prepares a statement each time it is run when its
    plan looked at a bound value (here: `status IN (?, ?, ?)` against the order table's partial index): the join's
    "may they buy" read cost 130 µs bound, 25 µs with its statuses written in. Only plain words and whole numbers
    are written in, and only where every `?` in the text is a parameter."""
    pieces = sql.split('?')
    if len(pieces) != len(params) + 1:
        return sql, params
    text, kept = [pieces[0]], []
    for value, rest in zip(params, pieces[1:]):
        if type(value) is int:
            text.append(str(value))
        elif type(value) is str and _PLAIN_WORD.fullmatch(value):
            text.append(f"'{value}'")
        else:
            text.append('?')
            kept.append(value)
        text.append(rest)
    return ''.join(text), kept


def _row_builder(wrapper):
    """A faster `process_row` for this statement's rows, or None (peewee's own stays). peewee fills a fresh model
    through its attribute descriptors, one `setattr` per column, then clears what that marked as changed; for a
    model read from the database that is the same as writing the column's value into `__data__` (what
    FieldAccessor.__set__ does, and ForeignKeyAccessor.__set__ for an id on a fresh instance), which costs a
    fraction. Joins are linked as peewee links them. Pinned against peewee's own rows by test_prepared."""
    if type(wrapper) is ModelObjectCursorWrapper and wrapper.is_model:
        model = wrapper.constructor
        names = wrapper.unique_columns
        if not all(_plain_field(model, n) for n in names):
            return None
        spec = tuple((i, names[i], wrapper.converters[i]) for i in range(wrapper.ncols))

        def one_model(row):
            data = {name: (row[i] if convert is None else convert(row[i])) for i, name, convert in spec}
            return _loaded(model, data)
        return one_model
    if type(wrapper) is ModelCursorWrapper:
        if not all(is_model for _, _, is_model in wrapper._constructor_list):
            return None
        spec = tuple((i, key, column, convert, _plain_field(key, column)) for i, key, column, convert in wrapper._row_spec)
        constructors = tuple((key, constructor) for key, constructor, _ in wrapper._constructor_list)
        links, reachable, root = wrapper.src_to_dest, wrapper._dest_reachable, wrapper.model

        def joined_models(row):
            objects = {key: _loaded(constructor, {}) for key, constructor in constructors}
            default = objects[root]
            set_keys = set()
            for i, key, column, convert, plain in spec:
                instance = objects.get(key, default)
                value = row[i]
                if value is not None:
                    set_keys.add(key)
                if convert is not None:
                    value = convert(value)
                if plain:
                    instance.__data__[column] = value
                else:
                    setattr(instance, column, value)
            for src, attr, dest, _, is_outer, is_fk in links:  # as peewee's ModelCursorWrapper.process_row
                instance, joined = objects.get(src), objects.get(dest)
                if joined is None and dest not in objects:
                    continue
                assign = dest not in set_keys and dest in reachable and bool(reachable[dest] & set_keys)
                if dest not in set_keys and not assign:
                    if not is_outer:
                        continue
                    joined = None
                if src not in set_keys and dest not in set_keys and is_outer:
                    continue
                if is_fk and joined is None:
                    instance.__rel__[attr] = None
                else:
                    setattr(instance, attr, joined)
            for instance in objects.values():  # linking marked the foreign keys as changed: they are as read
                instance._dirty.clear()
            return objects[root]
        return joined_models
    return None


def _plain_field(model, name: str) -> bool:
    """Whether `name` is one of the model's columns whose descriptor only stores the value."""
    accessor = None
    for klass in model.__mro__:
        accessor = klass.__dict__.get(name)
        if accessor is not None:
            break
    return type(accessor) in (FieldAccessor, ForeignKeyAccessor)


def _loaded(model, data: dict):
    """A model instance holding a row read from the database (nothing changed since, nothing joined yet)."""
    instance = model.__new__(model)
    instance.__data__ = data
    instance._dirty = set()
    instance.__rel__ = {}
    return instance


_INSERTS: dict[tuple, tuple] = {}
_PLAIN_COLUMNS: dict[type, set] = {}  # model -> its columns whose descriptor only stores the value  # (model, columns, database class) -> (sql, columns in parameter order, returning?)


def create(model, **values):
    """`model.create(**values)`, its INSERT built once per model, set of columns and database kind (an insert on
    the join's path cost peewee ~0.3 ms to build). Returns the saved instance, as `create` does."""
    meta = model._meta  # what model(**values) makes (peewee's get_default_dict, then a setattr per column), without
    defaults = meta._default_by_name.copy()  # calling a default the values replace (created_at's clock) or a setattr
    for name, default in meta._default_callable_list:
        if name not in values:
            defaults[name] = default()
    instance = _loaded(model, defaults)
    data = instance.__data__
    plain = _PLAIN_COLUMNS.get(model)
    if plain is None:
        plain = _PLAIN_COLUMNS[model] = {n for n in model._meta.fields if type(model.__dict__.get(n)) is FieldAccessor}
    for name, value in values.items():
        if name in plain:
            data[name] = value
        else:
            setattr(instance, name, value)  # a foreign key (a model or an id), or not a column
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

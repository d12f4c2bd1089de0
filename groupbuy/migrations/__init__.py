"""Schema migrations: numbered modules `NNNN_name.py`, each with `up(database, migrator)`.

Applied in order, each in its own transaction, and recorded in `schema_migrations`, so running
`flask migrate` again does nothing. A new change to `groupbuy/models.py` gets a new module
using `playhouse.migrate` (add_column, add_index, ...); applied modules are never edited.
"""
import datetime as dt
import importlib
import pkgutil

from peewee import CharField, DateTimeField, Model, PostgresqlDatabase
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator


def _history_model(database):
    class SchemaMigration(Model):
        name = CharField(max_length=128, primary_key=True)
        applied_at = DateTimeField()

        class Meta:
            table_name = 'schema_migrations'

    SchemaMigration._meta.set_database(database)
    return SchemaMigration


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name[:4].isdigit())


def migrate(database) -> list[str]:
    """Apply every migration not yet applied. Returns the names applied now."""
    history = _history_model(database)
    database.create_tables([history], safe=True)
    done = {row.name for row in history.select()}
    migrator = (PostgresqlMigrator if isinstance(database, PostgresqlDatabase) else SqliteMigrator)(database)
    applied = []
    for name in available():
        if name in done:
            continue
        module = importlib.import_module(f'{__name__}.{name}')
        with database.atomic():
            module.up(database, migrator)
            history.create(name=name, applied_at=dt.datetime.utcnow())
        applied.append(name)
    return applied

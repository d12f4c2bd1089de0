"""A broadcast whose job crashed says so: status `failed` and why (`last_error`), never `running` for ever."""
from peewee import TextField
from playhouse.migrate import migrate


def up(database, migrator):
    migrate(migrator.add_column('broadcast', 'last_error', TextField(null=True)))

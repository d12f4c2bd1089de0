"""The first schema: every table of DESIGN.md §2."""
from groupbuy.models import ALL_MODELS


def up(database, migrator):
    with database.bind_ctx(ALL_MODELS):
        database.create_tables(ALL_MODELS)

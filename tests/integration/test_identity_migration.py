"""Migration 0002 on a database that already has people in it (SQLite, and PostgreSQL when
DATABASE_URL points at one): nothing that points at a user is lost, and openid may now be empty."""
import datetime as dt
import importlib
import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from peewee import PostgresqlDatabase, SqliteDatabase
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator

from groupbuy.migrations import _history_model, migrate
from groupbuy.models import ALL_MODELS, User


@pytest.fixture(params=['sqlite', 'postgresql'])
def blank_database(request, tmp_path):
    """A database of its own: SQLite in tmp_path, or a new PostgreSQL database beside DATABASE_URL's."""
    if request.param == 'sqlite':
        yield SqliteDatabase(str(tmp_path / 'm.db'), pragmas={'foreign_keys': 1})
        return
    base = os.environ.get('DATABASE_URL', '')
    if not base.startswith(('postgres://', 'postgresql://')):
        pytest.skip('set DATABASE_URL to a PostgreSQL server to run this on PostgreSQL')
    name, parts = f'pinke_mig_{secrets.token_hex(4)}', urlsplit(base)
    admin = psycopg2.connect(urlunsplit(parts._replace(path='/postgres')))
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    database = PostgresqlDatabase(name, host=parts.hostname, port=parts.port or 5432,
                                  user=parts.username, password=parts.password)
    try:
        yield database
    finally:
        database.close()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def _at_0001_with_people(database):
    first = importlib.import_module('groupbuy.migrations.0001_initial')
    migrator = (PostgresqlMigrator if isinstance(database, PostgresqlDatabase) else SqliteMigrator)(database)
    with database.atomic():
        first.up(database, migrator)
        history = _history_model(database)
        database.create_tables([history])
        history.create(name='0001_initial', applied_at=dt.datetime(2026, 1, 1))
    with database.bind_ctx(first.MODELS):
        sharer = first.User.create(openid='o-sharer')
        friend = first.User.create(openid='o-friend', referred_by=sharer)
        first.Event.create(kind='user_registered', user=friend, props='{}')
    return sharer.id, friend.id


def test_migrating_a_populated_database_keeps_every_reference_to_users(blank_database):
    database = blank_database
    sharer_id, friend_id = _at_0001_with_people(database)
    migrate(database)
    with database.bind_ctx(ALL_MODELS):
        friend = User.get_by_id(friend_id)
        assert (friend.referred_by_id, friend.follows_oa, friend.oa_openid) == (sharer_id, False, None)
        assert database.execute_sql('SELECT user_id FROM event').fetchone()[0] == friend_id
        oa_only = User.create(oa_openid='oa-1', follows_oa=True)  # openid may be empty now
        assert User.get_by_id(oa_only.id).openid is None
        with pytest.raises(Exception):
            with database.atomic():
                User.create(oa_openid='oa-1')  # one person per official-account openid
    columns = {c.name: c.null for c in database.get_columns('user')}
    assert columns['openid'] is True and columns['follows_oa'] is False

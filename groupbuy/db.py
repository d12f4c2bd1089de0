"""Transactions that behave the same on SQLite and PostgreSQL.

SQLite: BEGIN IMMEDIATE takes the write lock up front, so two writers never deadlock upgrading
a read lock. PostgreSQL: SELECT ... FOR UPDATE on the row that serializes the decision.
"""
from peewee import PostgresqlDatabase

from .models import db


def transaction():
    """One atomic unit of work for a domain operation."""
    if isinstance(db.obj, PostgresqlDatabase):
        return db.atomic()
    return db.atomic(lock_type='IMMEDIATE')


def ping() -> None:
    """One round trip to the database (liveness checks)."""
    db.execute_sql('SELECT 1')


def drop_connection() -> None:
    """Let go of this thread's connection after a database error (the server restarted, the connection broke): a
    long-lived process — the scheduler, a worker — would otherwise keep failing on it; the next use takes a
    connection from the pool, which checks it with a round trip first."""
    try:
        if not db.is_closed():
            db.close()
    except Exception:  # noqa: BLE001 — a broken connection may fail to close; the pool discards it either way
        pass


def locked(query, of=None):
    """The query with a row lock where the database has one (SQLite's lock is the transaction).
    With joins, `of` names the one table whose rows are locked (not the campaign every group shares)."""
    if isinstance(db.obj, PostgresqlDatabase):
        return query.for_update(of=of) if of is not None else query.for_update()
    return query

"""Counting the SQL statements an operation runs (peewee logs each one it executes), for the query
budgets: a join, a payment, a settlement, a listing each cost a fixed number, whatever the data."""
import contextlib
import logging

TRANSACTION_CONTROL = ('BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE')


class Statements(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record):
        if isinstance(record.msg, tuple) and record.msg and isinstance(record.msg[0], str):
            self.sql.append(record.msg[0])

    @property
    def queries(self) -> list[str]:
        """Every statement but transaction control."""
        return [s for s in self.sql if not s.lstrip().upper().startswith(TRANSACTION_CONTROL)]

    @property
    def selects(self) -> list[str]:
        return [s for s in self.queries if s.lstrip().upper().startswith('SELECT')]

    @property
    def writes(self) -> list[str]:
        return [s for s in self.queries if not s.lstrip().upper().startswith('SELECT')]


@contextlib.contextmanager
def counted():
    """`with counted() as seen: ...` — then `seen.queries`, `seen.selects`, `seen.writes`."""
    logger = logging.getLogger('peewee')
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)

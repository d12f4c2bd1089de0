"""One domain transition: its transaction, its moment, and the events it emits.

    with transition(deps) as t:
        ...conditional UPDATEs...
        t.emit(GroupFailed(...))

`emit` runs the event's in-transaction handlers at once (they commit or roll back with the rows) and
queues its after-commit handlers, which run once the transaction has committed — never after a
rollback. Which handlers those are is groupbuy/subscribers.py's table, nowhere else."""
from contextlib import contextmanager

from . import subscribers
from .after_commit import AfterCommit
from .db import transaction


class Transition:
    def __init__(self, deps, now=None):
        self.deps = deps
        self.now = now or deps.now()
        self.after = AfterCommit()

    def emit(self, event) -> None:
        subscribers.deliver(self, event)


@contextmanager
def transition(deps, now=None):
    t = Transition(deps, now)
    with transaction():
        yield t
    t.after.run()

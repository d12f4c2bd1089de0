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
from .models import db
from .progress import Progress, progress_of_group


class Transition:
    def __init__(self, deps, now=None):
        self.deps = deps
        self.now = now or deps.now()
        self.after = AfterCommit()
        self.committed = False
        self._committed_progress: dict[int, Progress] = {}

    def emit(self, event) -> None:
        subscribers.deliver(self, event)

    def committed_progress(self, group_id: int) -> Progress:
        """The group's progress as committed, read once after commit. An open group's counts move under
        concurrent joins (which do not lock the group), so what is published live is read after them."""
        if group_id not in self._committed_progress:
            self._committed_progress[group_id] = progress_of_group(group_id)
        return self._committed_progress[group_id]


@contextmanager
def transition(deps, now=None):
    if db.in_transaction():  # after-commit handlers would run at the savepoint, before the real commit
        raise RuntimeError('a transition runs in a transaction of its own, not inside another')
    t = Transition(deps, now)
    with transaction():
        yield t
    t.committed = True
    t.after.run(deps.redis)

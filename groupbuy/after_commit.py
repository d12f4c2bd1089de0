"""Work to do once a transaction has committed: Redis updates, follow-up jobs, WeChat calls.

Every such action can be lost (a crash right after the commit, Redis down) without losing money:
the database already holds the decision, and the sweeper re-finds whatever a lost action left
undone. So a failing action is logged and the rest still run.
"""
import logging

from .redis_batch import batched

log = logging.getLogger(__name__)


class AfterCommit:
    def __init__(self):
        self._actions = []

    def add(self, fn, *args, **kwargs) -> None:
        self._actions.append((fn, args, kwargs))

    def run(self, redis=None) -> None:
        """`redis`: the client whose deadline and live-event writes go out together at the end (redis_batch.py)."""
        with batched(redis):
            for fn, args, kwargs in self._actions:
                try:
                    fn(*args, **kwargs)
                except Exception:  # noqa: BLE001 — recovered by the sweeper, see module docstring
                    log.exception('after-commit action %s failed; the sweeper will redo it',
                                  getattr(fn, '__name__', fn))
        self._actions.clear()

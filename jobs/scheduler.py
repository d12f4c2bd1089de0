"""The clock of the system: polls the deadline index and sweeps the database (DESIGN.md §5)."""
import logging

from apscheduler.schedulers.blocking import BlockingScheduler

from groupbuy.clock import to_ms
from groupbuy.sweeper import restore_redis, sweep

log = logging.getLogger(__name__)
KIND_TO_JOB = {'settle': 'settle_group', 'release': 'release_seat'}


def dispatch_due(deps) -> int:
    """Claim every item due now and enqueue its job. Returns how many."""
    due = deps.deadlines.claim_due(to_ms(deps.now()))
    for kind, item_id in due:
        job = KIND_TO_JOB.get(kind)
        if job:
            deps.enqueue(job, item_id)
    return len(due)


def run_scheduler(runtime) -> None:
    """Block forever: rebuild Redis from the DB, then poll and sweep on their intervals."""
    deps, settings = runtime.deps, runtime.settings
    log.info('restored from the database: %s', restore_redis(deps))
    scheduler = BlockingScheduler(job_defaults={'coalesce': True, 'max_instances': 1,
                                                'misfire_grace_time': None})
    scheduler.add_job(_guarded(dispatch_due, deps), 'interval', seconds=settings.scheduler_poll_s,
                      id='dispatch_due')
    scheduler.add_job(_guarded(sweep, deps), 'interval', seconds=settings.sweep_interval_s, id='sweep')
    scheduler.start()


def _guarded(fn, deps):
    """One failed tick (Redis restarting, DB busy) must not stop the clock."""
    def tick():
        try:
            fn(deps)
        except Exception:  # noqa: BLE001
            log.exception('%s failed; next tick retries', fn.__name__)
    tick.__name__ = fn.__name__
    return tick

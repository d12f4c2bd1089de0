"""The clock of the system: polls the deadline index and sweeps the database (DESIGN.md §5)."""
import functools
import logging

from apscheduler.schedulers.blocking import BlockingScheduler

from groupbuy import job_catalogue
from groupbuy.clock import to_ms
from groupbuy.db import drop_connection
from groupbuy.deadline_index import ids_of
from groupbuy.sweeper import redis_forgot, restore_redis, sweep

from . import metrics

log = logging.getLogger(__name__)
CLAIM_BATCH = 500
SETTLE_BATCH = 20  # groups per settlement job when many fall due at once


def dispatch_due(deps) -> int:
    """Claim every item due now (in batches, until none is left) and enqueue its job.
    Restores Redis from the database first if Redis has forgotten everything."""
    if redis_forgot(deps):
        log.warning('Redis lost its data: rebuilt from the database: %s', restore_redis(deps))
    total = 0
    while True:
        now_ms = to_ms(deps.now())
        due_ms = due_times(deps.deadlines, now_ms)
        if not due_ms:
            return total
        due = deps.deadlines.claim_due(now_ms, limit=CLAIM_BATCH)
        metrics.observe_lag(due, due_ms, now_ms)
        deps.enqueue_many(batched([job for job in map(job_for, due) if job]))
        total += len(due)
        if len(due) < CLAIM_BATCH:
            return total


def due_times(deadlines, now_ms: int) -> dict[str, float]:
    """item -> due time (ms) of what a claim at `now_ms` would take: the deadline lag's other end (an idle
    tick costs this one read instead of the claim). The claim itself answers items only; when it answers
    their due times too (groupbuy/deadline_index.py), this read can go."""
    items = deadlines.redis.zrangebyscore(deadlines.key, '-inf', now_ms, start=0, num=CLAIM_BATCH, withscores=True)
    return {(item.decode() if isinstance(item, bytes) else item): score for item, score in items}


def batched(jobs: list) -> list:
    """Fold single-group settlements into `settle_groups` jobs of up to SETTLE_BATCH groups, so a busy
    deadline second costs a few queue round trips instead of one per group."""
    one, many = job_catalogue.SETTLE_GROUP.name, job_catalogue.SETTLE_GROUPS.name
    groups = [args[0] for name, args in jobs if name == one]
    if len(groups) < 2:
        return jobs
    rest = [job for job in jobs if job[0] != one]
    chunks = [(many, (groups[i:i + SETTLE_BATCH],)) for i in range(0, len(groups), SETTLE_BATCH)]
    return chunks + rest


def job_for(item: tuple[str, str]):
    """(job name, args) for a deadline-index item — the catalogue's job for its kind, its ids as the
    arguments — or None for a kind no job handles or ids that are not ids."""
    kind, item_id = item
    job = job_catalogue.for_deadline(kind)
    try:
        args = ids_of(item_id)
    except ValueError:
        job = None
    if job is None:
        log.warning('unknown deadline item %s:%s', kind, item_id)
        return None
    return job.name, args


def run_scheduler(runtime) -> None:
    """Block forever: rebuild Redis from the DB, then poll and sweep on their intervals."""
    deps, settings = runtime.deps, runtime.settings
    log.info('restored from the database: %s', restore_redis(deps))
    scheduler = BlockingScheduler(job_defaults={'coalesce': True, 'max_instances': 1,
                                                'misfire_grace_time': None})
    scheduler.add_job(_guarded(dispatch_due, deps), 'interval', seconds=settings.scheduler_poll_s,
                      id='dispatch_due')
    sweep_now = functools.partial(sweep, stale_s=settings.sweep_stale_s,
                                  refund_overdue_s=settings.refund_check_after_s)
    sweep_now.__name__ = 'sweep'
    scheduler.add_job(_guarded(sweep_now, deps), 'interval', seconds=settings.sweep_interval_s, id='sweep')
    scheduler.start()


def _guarded(fn, deps):
    """One failed tick (Redis restarting, DB busy) must not stop the clock."""
    def tick():
        try:
            fn(deps)
        except Exception:  # noqa: BLE001
            log.exception('%s failed; next tick retries', fn.__name__)
            drop_connection()  # a database restarted under us: the next tick connects afresh
    tick.__name__ = fn.__name__
    return tick

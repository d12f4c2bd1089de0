"""The one RQ entry point: `run(name, *args)` looks the job up in the catalogue
(`groupbuy/job_catalogue.py`) and calls its function with this process's deps. Jobs take ids and
are harmless to run twice."""
import logging
import time

from peewee import InterfaceError, Model, OperationalError
from playhouse.shortcuts import model_to_dict
from rq import get_current_job

from groupbuy import job_catalogue
from groupbuy.db import drop_connection
from miniapp_api import request_id

from . import bot_tasks  # noqa: F401  (the bot's adapter jobs register themselves in the catalogue)
from .runtime import current

log = logging.getLogger(__name__)


def run(name: str, *args):
    """Run the catalogued job `name` under the id of the request that enqueued it (its meta), so its log
    lines carry that id; one line says how it went. A failure propagates, so RQ retries per the catalogue's
    policy."""
    rq_job = get_current_job()
    started, call = time.perf_counter(), f'{name}({", ".join(map(str, args))})'
    with request_id.bound(rq_job.meta.get('request_id') if rq_job else None):
        try:
            result = _run(name, *args)
        except Exception as exc:
            log.warning('job %s failed: %s', call, exc, extra=_facts(name, args, started, 'failed'))
            if isinstance(exc, (OperationalError, InterfaceError)):
                drop_connection()  # the database restarted: the worker's next job connects afresh
            raise
        log.info('job %s done', call, extra=_facts(name, args, started, result))
        return result


def _facts(name: str, args: tuple, started: float, result) -> dict:
    return {'job': name, 'job_args': list(args), 'ms': round((time.perf_counter() - started) * 1000, 1),
            'result': result if isinstance(result, (str, int, float, bool, type(None))) else type(result).__name__}


def _run(name: str, *args):
    """Domain jobs get the process's deps (and a paced job the broadcast rate limiter); adapter jobs bind
    their own clients."""
    job = job_catalogue.get(name)
    function = job.load()
    if job.adapter:
        return function(*args)
    runtime = current()
    pace = {'pace': Pacer(runtime.settings.broadcast_rate_per_s)} if job.paced else {}
    result = function(runtime.deps, *args, **pace)
    return model_to_dict(result, recurse=False) if isinstance(result, Model) else result


def _previous_release(name: str):
    """`jobs.tasks.<name>`, the RQ path jobs were enqueued under before `run`: jobs already waiting in
    Redis when this release deploys still run (through the catalogue). Remove one release later."""
    def job(*args):
        return run(name, *args)
    job.__name__ = job.__qualname__ = name
    return job


settle_group = _previous_release('settle_group')
settle_groups = _previous_release('settle_groups')
release_seat = _previous_release('release_seat')
refund_order = _previous_release('refund_order')
check_refund = _previous_release('check_refund')
close_payment = _previous_release('close_payment')
deliver_notification = _previous_release('deliver_notification')
send_nudge = _previous_release('send_nudge')
run_broadcast = _previous_release('run_broadcast')


class Pacer:
    """Lets at most `rate` pushes per second through (WeChat and SMS providers throttle senders)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = time.monotonic()

    def __call__(self) -> None:
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.interval

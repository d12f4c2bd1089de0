"""The RQ worker, kept alive across a Redis restart.

RQ's work loop quits on any error it did not expect, and Redis going away while a job's bookkeeping is
written (after the job ran) is one of them: the worker logs "found an unhandled exception, quitting" and
exits, and with no supervisor nothing settles again. Jobs are idempotent and the sweeper re-finds any work a
lost job left in the database, so the safe answer is to start a fresh worker once Redis answers again. A
SIGTERM/SIGINT still stops it (RQ's warm shutdown)."""
import logging
import signal
import time

import redis
from rq import SimpleWorker

log = logging.getLogger(__name__)


class Worker(SimpleWorker):
    """A SimpleWorker that remembers whether a signal asked it to stop (RQ keeps that private)."""
    asked_to_stop = False

    def request_stop(self, signum, frame):
        self.asked_to_stop = True
        super().request_stop(signum, frame)


def run_worker(make_worker, burst: bool = False, first_wait_s: float = 0.5, max_wait_s: float = 15.0) -> None:
    """Run `make_worker()` until a signal stops it (or, `burst`, until the queues are empty); after a quit on
    an error, wait for Redis (doubling the wait up to `max_wait_s`) and start a new one."""
    while True:
        worker = make_worker()
        try:
            worker.work(burst=burst, with_scheduler=True, logging_level='INFO')
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            log.warning('worker %s lost Redis (%s)', worker.name, exc)
        else:
            if burst:
                return
        if worker.asked_to_stop:
            return
        log.warning('worker %s quit on an error; a new worker starts once Redis answers', worker.name)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # RQ's handlers talk to Redis: a signal now just ends us
        signal.signal(signal.SIGINT, signal.default_int_handler)
        wait = first_wait_s
        while not _answers(worker.connection):
            time.sleep(wait)
            wait = min(wait * 2, max_wait_s)


def _answers(connection) -> bool:
    try:
        return bool(connection.ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        return False

"""Named RQ queues and the `enqueue(name, *args)` the domain is given: the job catalogue
(`groupbuy/job_catalogue.py`) turned into RQ queues, retries and timeouts."""
import re
import uuid
from collections.abc import Mapping

from rq import Queue, Retry

from groupbuy import job_catalogue
from miniapp_api import request_id

from .tasks import run  # the one RQ entry point; importing it also registers the adapter jobs

QUEUE_NAMES = job_catalogue.QUEUES  # workers take them in this order: money first


def retry_for(name: str, intervals: Mapping[str, str]) -> Retry | None:
    """Backoff between attempts of a job that may fail for a passing reason. `intervals` is
    `Settings.retry_intervals` (Retry.env -> '5,30,...'); an env it lacks takes the catalogue's default."""
    retry = job_catalogue.get(name).retry
    if retry is None:
        return None
    seconds = [max(int(float(x)), 1) for x in intervals.get(retry.env, retry.default_s).split(',')]
    return Retry(max=len(seconds), interval=seconds)


def id_prefix(key_prefix: str) -> str:
    """RQ's job and worker keys are not under our key prefix; ids that carry it let a shared
    Redis tell runs apart (and tests clean up after themselves)."""
    return re.sub(r'[^A-Za-z0-9_-]', '-', key_prefix)


class JobQueues:
    def __init__(self, redis, prefix: str, retry_intervals: Mapping[str, str] | None = None):
        self.redis = redis
        self.retry_intervals = retry_intervals or {}
        self.id_prefix = id_prefix(prefix)
        self.queues = {name: Queue(f'{prefix}{name}', connection=redis) for name in QUEUE_NAMES}

    def _options(self, name: str) -> dict:
        options = {'job_id': f'{self.id_prefix}{uuid.uuid4().hex}', 'result_ttl': 3600,
                   'failure_ttl': 7 * 24 * 3600}
        retry = retry_for(name, self.retry_intervals)
        if retry:
            options['retry'] = retry
        timeout = job_catalogue.get(name).timeout_s
        if timeout:
            options['timeout'] = timeout  # RQ's default limit is 180 s
        if request_id.current():  # the worker logs the job under the id of the request that made it (tasks.run)
            options['meta'] = {'request_id': request_id.current()}
        return options

    def enqueue(self, name: str, *args) -> None:
        options = self._options(name)
        if 'timeout' in options:
            options['job_timeout'] = options.pop('timeout')
        self.queues[job_catalogue.get(name).queue].enqueue(run, name, *args, **options)

    def enqueue_many(self, jobs: list[tuple[str, tuple]]) -> None:
        """Many jobs in one Redis round trip per queue (the scheduler's burst at a busy minute)."""
        by_queue: dict[str, list] = {}
        for name, args in jobs:
            by_queue.setdefault(job_catalogue.get(name).queue, []).append(
                Queue.prepare_data(run, args=(name, *args), **self._options(name)))
        for queue, datas in by_queue.items():
            with self.redis.pipeline() as pipe:
                self.queues[queue].enqueue_many(datas, pipeline=pipe)
                pipe.execute()

    def all(self, names=QUEUE_NAMES) -> list[Queue]:
        return [self.queues[name] for name in names]

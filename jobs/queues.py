"""Named RQ queues and the job catalogue: the `enqueue(name, *args)` the domain is given."""
import os
import re
import uuid

from rq import Queue, Retry

# job name -> (queue, function path). Jobs take ids, never objects (STYLE.md §5).
JOBS = {
    'settle_group': ('settlement', 'jobs.tasks.settle_group'),
    'release_seat': ('settlement', 'jobs.tasks.release_seat'),
    'refund_order': ('refunds', 'jobs.tasks.refund_order'),
    'close_payment': ('refunds', 'jobs.tasks.close_payment'),
}
QUEUE_NAMES = ('settlement', 'refunds')


def refund_retry() -> Retry:
    """Backoff between refund attempts (REFUND_RETRY_S overrides, e.g. '0.2,0.2' in tests)."""
    intervals = [int(float(x)) or 1 for x in os.environ.get('REFUND_RETRY_S', '5,30,120,600').split(',')]
    return Retry(max=len(intervals), interval=intervals)


def id_prefix(key_prefix: str) -> str:
    """RQ's job and worker keys are not under our key prefix; ids that carry it let a shared
    Redis tell runs apart (and tests clean up after themselves)."""
    return re.sub(r'[^A-Za-z0-9_-]', '-', key_prefix)


class JobQueues:
    def __init__(self, redis, prefix: str):
        self.redis = redis
        self.id_prefix = id_prefix(prefix)
        self.queues = {name: Queue(f'{prefix}{name}', connection=redis) for name in QUEUE_NAMES}

    def enqueue(self, name: str, *args) -> None:
        queue, func = JOBS[name]
        options = {'retry': refund_retry()} if name == 'refund_order' else {}
        self.queues[queue].enqueue(func, *args, job_id=f'{self.id_prefix}{uuid.uuid4().hex}', result_ttl=3600, failure_ttl=7 * 24 * 3600, **options)

    def all(self) -> list[Queue]:
        return list(self.queues.values())

"""Named RQ queues and the job catalogue: the `enqueue(name, *args)` the domain is given."""
import os
import re
import uuid

from rq import Queue, Retry

# job name -> (queue, function path). Jobs take ids, never objects (STYLE.md §5).
JOBS = {
    'settle_group': ('settlement', 'jobs.tasks.settle_group'),
    'settle_groups': ('settlement', 'jobs.tasks.settle_groups'),
    'release_seat': ('refunds', 'jobs.tasks.release_seat'),  # asks WeChat first: off the settlement queue
    'refund_order': ('refunds', 'jobs.tasks.refund_order'),
    'check_refund': ('refunds', 'jobs.tasks.check_refund'),
    'close_payment': ('refunds', 'jobs.tasks.close_payment'),
    'deliver_notification': ('notifications', 'jobs.tasks.deliver_notification'),
    'send_nudge': ('notifications', 'jobs.tasks.send_nudge'),
    'run_broadcast': ('broadcast', 'jobs.tasks.run_broadcast'),
    'link_follower': ('notifications', 'jobs.bot_tasks.link_follower'),  # the bot's slow work
    'send_group_card': ('notifications', 'jobs.bot_tasks.send_group_card'),
}
# Workers take queues in this order: money first, then messages, then bulk sends.
QUEUE_NAMES = ('settlement', 'refunds', 'notifications', 'broadcast')
RETRIED = {'refund_order': 'REFUND_RETRY_S', 'deliver_notification': 'NOTIFY_RETRY_S'}
DEFAULT_RETRY_S = {'REFUND_RETRY_S': '5,30,120,600', 'NOTIFY_RETRY_S': '10,60,300,1800'}
LONG_JOBS = {'run_broadcast': 6 * 3600}  # seconds; RQ's default limit is 180


def retry_for(name: str) -> Retry | None:
    """Backoff between attempts of a job that may fail for a passing reason (env overrides,
    e.g. REFUND_RETRY_S='1,1,1' in tests)."""
    env = RETRIED.get(name)
    if env is None:
        return None
    intervals = [max(int(float(x)), 1) for x in os.environ.get(env, DEFAULT_RETRY_S[env]).split(',')]
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

    def _options(self, name: str) -> dict:
        options = {'job_id': f'{self.id_prefix}{uuid.uuid4().hex}', 'result_ttl': 3600,
                   'failure_ttl': 7 * 24 * 3600}
        retry = retry_for(name)
        if retry:
            options['retry'] = retry
        if name in LONG_JOBS:
            options['timeout'] = LONG_JOBS[name]
        return options

    def enqueue(self, name: str, *args) -> None:
        queue, func = JOBS[name]
        options = self._options(name)
        if 'timeout' in options:
            options['job_timeout'] = options.pop('timeout')
        self.queues[queue].enqueue(func, *args, **options)

    def enqueue_many(self, jobs: list[tuple[str, tuple]]) -> None:
        """Many jobs in one Redis round trip per queue (the scheduler's burst at a busy minute)."""
        by_queue: dict[str, list] = {}
        for name, args in jobs:
            queue, func = JOBS[name]
            by_queue.setdefault(queue, []).append(Queue.prepare_data(func, args=args, **self._options(name)))
        for queue, datas in by_queue.items():
            with self.redis.pipeline() as pipe:
                self.queues[queue].enqueue_many(datas, pipeline=pipe)
                pipe.execute()

    def all(self, names=QUEUE_NAMES) -> list[Queue]:
        return [self.queues[name] for name in names]

"""Every background job, named once: the function that runs it, its queue, how it retries, how long it
may run, and which deadline-index item kind (if any) leads to it.

Everything else reads this: `jobs/queues.py` turns it into RQ queues and options, `jobs/tasks.py:run`
is the one RQ entry point, the scheduler maps a claimed deadline item to its job here, the sweeper
names the jobs it re-enqueues through it, and the test doubles run exactly its domain jobs.

Domain jobs are listed at the end and are called `function(deps, *args)`. Adapter jobs (they need clients
the domain does not know, e.g. the bot's WeChat calls) register themselves from outside the domain
with `@adapter_job(...)` and are called `function(*args)`. Args are ids and strings, never objects.
Adding a job is one line here (or one decorator on an adapter function).
"""
import importlib
from dataclasses import dataclass

# Workers take queues in this order: money first, then messages, then bulk sends.
QUEUES = ('settlement', 'refunds', 'notifications', 'broadcast')


def _load(path: str):
    module, _, attr = path.partition(':')
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class Retry:
    """Backoff between attempts, in seconds, from the environment variable `env` (else `default_s`);
    `on` is the failure the function raises for a passing reason (the test double catches only it)."""
    env: str
    default_s: str
    on: str  # 'module:ExceptionClass'

    def exception(self) -> type[Exception]:
        return _load(self.on)


@dataclass(frozen=True)
class Job:
    """One job. Functions are named by path and imported when run, so this module imports nothing of the
    domain and any module (the deadline index, the sweeper) can read it without an import cycle."""
    name: str
    function: str  # 'module:function'
    queue: str
    retry: Retry | None = None
    timeout_s: int | None = None  # None: the queue's default (RQ: 180 s)
    deadline_kind: str | None = None  # the deadline-index items `<kind>:<ids>` that lead to this job
    paced: bool = False  # takes `pace=`: the runner passes the process's rate limiter
    adapter: bool = False  # registered from outside the domain; called without deps

    def load(self):
        return _load(self.function)


_JOBS: dict[str, Job] = {}
_BY_KIND: dict[str, Job] = {}  # deadline-index item kind -> its job (looked up on every schedule and claim)


def register(job: Job) -> Job:
    """Add a job. A second, different job under a taken name, or a second job for one deadline kind,
    is a mistake."""
    if job.queue not in QUEUES:
        raise ValueError(f'job {job.name}: unknown queue {job.queue!r}')
    known = _JOBS.get(job.name)
    if known is not None:
        if known == job:
            return job  # the same module imported twice
        raise ValueError(f'job {job.name} is already registered as {known}')
    taken = _BY_KIND.get(job.deadline_kind) if job.deadline_kind else None
    if taken is not None:
        raise ValueError(f'deadline kind {job.deadline_kind!r} already leads to {taken.name}')
    _JOBS[job.name] = job
    if job.deadline_kind:
        _BY_KIND[job.deadline_kind] = job
    return job


def adapter_job(name: str, queue: str, retry: Retry | None = None, timeout_s: int | None = None):
    """Decorator for a job function outside the domain (it binds its own clients): registers it."""
    def add(fn):
        register(Job(name, f'{fn.__module__}:{fn.__qualname__}', queue, retry=retry, timeout_s=timeout_s,
                     adapter=True))
        return fn
    return add


def get(name: str) -> Job:
    """The job called `name`; KeyError names the unknown job."""
    try:
        return _JOBS[name]
    except KeyError:
        raise KeyError(f'no job {name!r} in the catalogue (groupbuy/job_catalogue.py)') from None


def all_jobs() -> list[Job]:
    return list(_JOBS.values())


def domain_jobs() -> list[Job]:
    return [job for job in _JOBS.values() if not job.adapter]


def deadline_kinds():
    """The kinds of deadline-index item some job handles (a live view: read on every schedule)."""
    return _BY_KIND.keys()


def for_deadline(kind: str) -> Job | None:
    """The job a claimed deadline item of `kind` runs, or None for a kind no job handles."""
    return _BY_KIND.get(kind)



# The domain's jobs, in queue order. A new job is one more line like these.
REFUND_RETRY = Retry('REFUND_RETRY_S', '5,30,120,600', 'groupbuy.refunds:RefundFailed')
NOTIFY_RETRY = Retry('NOTIFY_RETRY_S', '10,60,300,1800', 'groupbuy.notifications:DeliveryFailed')

SETTLE_GROUP = register(Job('settle_group', 'groupbuy.settlement:settle_group', 'settlement',
                            deadline_kind='settle'))
SETTLE_GROUPS = register(Job('settle_groups', 'groupbuy.settlement:settle_groups', 'settlement'))
# release_seat asks WeChat first (orderquery, closeorder), so it never runs on the settlement worker
RELEASE_SEAT = register(Job('release_seat', 'groupbuy.settlement:release_seat', 'refunds', deadline_kind='release'))
REFUND_ORDER = register(Job('refund_order', 'groupbuy.refunds:refund_order', 'refunds', retry=REFUND_RETRY))
CHECK_REFUND = register(Job('check_refund', 'groupbuy.refunds:check_refund', 'refunds'))
CLOSE_PAYMENT = register(Job('close_payment', 'groupbuy.refunds:close_payment', 'refunds'))
DELIVER_NOTIFICATION = register(Job('deliver_notification', 'groupbuy.notifications:deliver_notification',
                                    'notifications', retry=NOTIFY_RETRY, deadline_kind='notify'))
SEND_NUDGE = register(Job('send_nudge', 'groupbuy.nudges:send_nudge', 'notifications', deadline_kind='nudge'))
RUN_BROADCAST = register(Job('run_broadcast', 'groupbuy.broadcasts:run_broadcast', 'broadcast',
                             timeout_s=6 * 3600, paced=True))  # paced sends take long; RQ's default is 180 s
# Warm-up live rooms (groupbuy/rooms): the subscribers' reminder before the start, and the opening at it
REMIND_ROOM = register(Job('remind_room_subscribers', 'groupbuy.rooms.reminders:remind_subscribers', 'notifications',
                           deadline_kind='room_remind'))
OPEN_ROOM = register(Job('open_room', 'groupbuy.rooms.rooms:open_room', 'notifications', deadline_kind='room_open'))

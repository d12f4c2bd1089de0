"""The id of the request a log line or a job belongs to.

Taken from the caller's `X-Request-Id` when it is a usable one (a load balancer's, a client's), else made
here; answered in the same header, put on every log line of the request (config/logs.py), and carried into
the jobs the request enqueues (jobs/queues.py: the job's meta), whose log lines in the worker carry it too
(jobs/tasks.py). A context variable, so each request (thread or greenlet) and each job has its own.
"""
import contextlib
import contextvars
import re
import secrets

from flask import g, request

HEADER = 'X-Request-Id'
_USABLE = re.compile(r'[A-Za-z0-9._:-]{8,64}')  # token characters only: it is printed in every log line
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar('request_id', default=None)


def current() -> str | None:
    """The id of the request (or job) running here, or None (the scheduler's own work, start-up)."""
    return _current.get()


def usable(raw: str | None) -> str | None:
    """`raw` when it is 8–64 token characters (letters, digits, `.`, `_`, `:`, `-`), else None: a header
    could otherwise put anything, newlines and all, into our logs."""
    return raw if raw and _USABLE.fullmatch(raw) else None


def new() -> str:
    return secrets.token_hex(16)


@contextlib.contextmanager
def bound(request_id: str | None):
    """Within the block, `current()` is `request_id` (a job runs under the id of the request that made it)."""
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)


def init_app(app) -> None:
    """Every request gets its id, and answers it. Call it before any other `before_request` is registered
    (wsgi.create_app does), so whatever they log carries the id."""
    @app.before_request
    def take_request_id():
        g.request_id_token = _current.set(usable(request.headers.get(HEADER)) or new())

    @app.after_request
    def answer_request_id(response):
        if current():
            response.headers[HEADER] = current()
        return response

    @app.teardown_request
    def forget_request_id(exc):
        token = g.pop('request_id_token', None)
        try:
            if token is not None:
                _current.reset(token)
        except ValueError:  # torn down in another context than it began in: nothing of ours to undo there
            pass

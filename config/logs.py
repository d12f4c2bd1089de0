"""Every process's log lines, set up once by the composition root (`wsgi.create_app`; gunicorn's own lines
through `gunicorn_logger_class`).

LOG_FORMAT=json: one JSON object a line — `time` (UTC, ISO 8601), `level`, `logger`, `message`, `request_id`
(null outside a request or a job a request made), then the record's extra fields — for a log shipper.
LOG_FORMAT=text: the same facts on a readable line, for `make run`'s console.
"""
import datetime as dt
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from miniapp_api import request_id


class _Json(JsonFormatter):
    def __init__(self):
        super().__init__('{asctime}{levelname}{name}{message}{request_id}', style='{', json_ensure_ascii=False,
                         rename_fields={'asctime': 'time', 'levelname': 'level', 'name': 'logger'})

    def formatTime(self, record, datefmt=None):  # noqa: N802 (logging's name)
        return dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(
            timespec='milliseconds').replace('+00:00', 'Z')


class RequestIdField(logging.Filter):
    """Puts the current request's id on every record a handler writes (unless the record brings its own)."""

    def filter(self, record):
        if getattr(record, 'request_id', None) is None:
            record.request_id = request_id.current()
        return True


class _Text(logging.Formatter):
    def __init__(self):
        super().__init__('%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s')

    def format(self, record):
        record.request_tag = f' [{record.request_id}]' if getattr(record, 'request_id', None) else ''
        return super().format(record)


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment (as logging's last resort does), so a stream swapped
    later (a test's capture, a daemon's redirect) is the one written to."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def formatter(log_format: str) -> logging.Formatter:
    return _Json() if log_format == 'json' else _Text()


def setup(settings) -> None:
    """The root logger writes every line to stderr in LOG_FORMAT. Safe to call again (each app a test makes):
    the handler it put there before is replaced."""
    handler = _Stderr()
    handler.setFormatter(formatter(settings.log_format))
    handler.addFilter(RequestIdField())
    handler.pinke = True
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, 'pinke', False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger('apscheduler').setLevel(logging.WARNING)  # it logs every 0.1 s tick at INFO


class AccessFields(logging.Filter):
    """gunicorn's access line as fields: it logs its format with the request's atoms as the arguments (strings
    with `"` escaped for its text line; the JSON field takes the path as it was)."""

    def filter(self, record):
        atoms = record.args
        if isinstance(atoms, dict):
            path = atoms['U'].replace('\\"', '"') if isinstance(atoms['U'], str) else atoms['U']
            record.method, record.path, record.status = atoms['m'], path, _number(atoms['s'])
            record.bytes, record.ms, record.remote = _number(atoms['b']), atoms['M'], atoms['h']
            record.request_id = None if atoms['{x-request-id}o'] == '-' else atoms['{x-request-id}o']
        return True


def _number(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def gunicorn_logger_class():
    """gunicorn's logger, writing its error and access lines as JSON (with LOG_FORMAT=json). Where and whether
    it writes stays gunicorn's settings (WEB_ACCESS_LOG)."""
    from gunicorn.glogging import Logger

    class JsonLogger(Logger):
        def setup(self, cfg):
            super().setup(cfg)
            for log, extra in ((self.error_log, RequestIdField()), (self.access_log, AccessFields())):
                for handler in log.handlers:
                    handler.setFormatter(_Json())
                    handler.addFilter(extra)
    return JsonLogger

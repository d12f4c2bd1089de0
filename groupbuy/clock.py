"""The one source of time for domain code, so tests can move time without sleeping."""
import datetime as dt
import threading


class SystemClock:
    def now(self) -> dt.datetime:
        """Naive UTC, like every stored time."""
        return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class ManualClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, start: dt.datetime | None = None):
        self._now = start or SystemClock().now()
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> dt.datetime:
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)
            return self._now


def to_ms(t: dt.datetime) -> int:
    """Milliseconds since the epoch of a naive UTC datetime (the unit of Redis scores and ledgers)."""
    return int(t.replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


def iso(t: dt.datetime | None) -> str | None:
    """A naive UTC datetime as ISO 8601 with a Z (an aware one is turned to UTC first)."""
    if t is None:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return t.isoformat() + 'Z'

"""WeChat Pay's clock: the wall clock plus an offset tests can move (`POST /sandbox/clock`).

Order expiry is WeChat's to judge (time_expire, the cashier refusing a late payment, time_end), and
a test must be able to reach it without sleeping: it moves this clock, not the wall clock. The
offset lives in the store, so `/sandbox/reset` puts the clock back too.
"""
from datetime import timedelta

from . import ids

MAX_OFFSET_S = 366 * 86400


def now(store):
    """China time, as WeChat Pay sees it."""
    return ids.now() + timedelta(seconds=store.clock_offset_s)

"""WeChat-shaped identifiers and timestamps.

The app stores and displays these values, so they look like the real ones
(prepay ids start with "wx", transaction ids are 28 digits, times are China time).
"""
import secrets
import string
from datetime import datetime, timedelta, timezone

from wechatpy.utils import random_string

# China has no DST: a fixed +08:00 is exactly Asia/Shanghai and needs no tz database.
CST = timezone(timedelta(hours=8), "Asia/Shanghai")
COMPACT = "%Y%m%d%H%M%S"   # time_start, time_expire, time_end
SPACED = "%Y-%m-%d %H:%M:%S"  # success_time in refund notifications


def now():
    return datetime.now(CST)


def compact(dt):
    return dt.astimezone(CST).strftime(COMPACT)


def spaced(dt):
    return dt.astimezone(CST).strftime(SPACED)


def parse_compact(text):
    """yyyyMMddHHmmss in China time; raises ValueError on anything else."""
    if not (isinstance(text, str) and len(text) == 14 and text.isdigit()):
        raise ValueError(text)
    return datetime.strptime(text, COMPACT).replace(tzinfo=CST)


def _digits(n):
    return "".join(secrets.choice(string.digits) for _ in range(n))


def nonce():
    return random_string(32)


def prepay_id():
    return "wx" + compact(now()) + secrets.token_hex(10)


def transaction_id():
    return "42000" + _digits(5) + now().strftime("%Y%m%d") + _digits(10)


def refund_id():
    return "503" + _digits(7) + now().strftime("%Y%m%d") + _digits(11)

"""Every field we send to WeChat Pay v2, made to fit WeChat's rules before wechatpy sends it.

WeChat measures String(n) fields in UTF-8 bytes (a Chinese character is 3), refuses what does not
fit, and refuses a time_expire less than a minute ahead; tests against a lenient fake pass what
production refuses. So the gateway passes its fields through here, the one place that knows the
limits (docs/SANDBOX.md, "Pay rules", lists the same rules on the sandbox's side):

- body: String(127) bytes — fitted on a character boundary, ending in '…' when cut;
- attach: String(127) bytes — fitted the same way;
- out_trade_no: 1–32 of [0-9A-Za-z_-|*@] — ours are generated, so a bad one is a bug: refused;
- notify_url: http(s), no query or fragment, at most 256 bytes — refused (configuration error);
- spbill_create_ip: an IPv4 or IPv6 address — anything else becomes 127.0.0.1;
- time_expire: China time, at least a minute after WeChat's now — we send
  max(end of the seat's pay window, now + 60 s + a margin for clock skew and latency).
"""
import datetime as dt
import ipaddress
import math
import re
import unicodedata
from urllib.parse import urlsplit

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
BODY_MAX_BYTES = 127
ATTACH_MAX_BYTES = 127
NOTIFY_URL_MAX_BYTES = 256
OUT_TRADE_NO = re.compile(r'[0-9A-Za-z_\-|*@]{1,32}')
MIN_EXPIRY_S = 60   # WeChat refuses a time_expire closer than this ("time_expire时间过短")
EXPIRY_MARGIN_S = 15  # our clock may lag WeChat's, and the request takes time to arrive
ELLIPSIS = '…'
FALLBACK_IP = '127.0.0.1'


class PayFieldError(ValueError):
    """A field no fitting can make acceptable to WeChat (a bug or a misconfiguration)."""


def fit_bytes(text: str, limit: int) -> str:
    """`text` in at most `limit` UTF-8 bytes, cut on a character boundary and marked with '…'.
    Control characters (newlines in a title) become spaces: WeChat shows body on one line."""
    text = ' '.join(''.join(' ' if unicodedata.category(c) == 'Cc' else c for c in text).split())
    if len(text.encode('utf-8')) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode('utf-8'))
    cut = text.encode('utf-8')[:room].decode('utf-8', errors='ignore').rstrip()
    return cut + ELLIPSIS


def body(description: str) -> str:
    fitted = fit_bytes(description or '', BODY_MAX_BYTES)
    if not fitted:
        raise PayFieldError('body (the course title) must not be empty')
    return fitted


def attach(data: str | None) -> str | None:
    return None if data is None else fit_bytes(data, ATTACH_MAX_BYTES)


def out_trade_no(value: str) -> str:
    if not isinstance(value, str) or not OUT_TRADE_NO.fullmatch(value):
        raise PayFieldError(f'out_trade_no {value!r} is not 1-32 of [0-9A-Za-z_-|*@]')
    return value


def notify_url(url: str) -> str:
    try:
        parts = urlsplit(url or '')
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise PayFieldError(f'notify_url {url!r} is not a URL') from None
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        raise PayFieldError(f'notify_url {url!r} must be a full http(s) URL')
    if parts.query or parts.fragment or '?' in url or '#' in url:
        raise PayFieldError(f'notify_url {url!r} must not carry parameters')
    if len(url.encode('utf-8')) > NOTIFY_URL_MAX_BYTES:
        raise PayFieldError(f'notify_url is longer than {NOTIFY_URL_MAX_BYTES} bytes')
    return url


def client_ip(value: str | None) -> str:
    """The payer's address as WeChat accepts it (IPv4-mapped IPv6 as IPv4, no zone id)."""
    try:
        ip = ipaddress.ip_address((value or '').strip().split('%')[0])
    except ValueError:
        return FALLBACK_IP
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip)


def time_expire(pay_window_end: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When WeChat stops taking the payment (China time, whole seconds): the end of the seat's pay
    window, but never closer than WeChat allows. Both arguments are naive UTC. A payment WeChat takes
    after the window is the domain's to handle (it closes the order when the seat is released)."""
    earliest = now + dt.timedelta(seconds=MIN_EXPIRY_S + EXPIRY_MARGIN_S)
    end = max(pay_window_end, earliest)
    whole = end.replace(microsecond=0) + dt.timedelta(seconds=math.ceil(end.microsecond / 1e6))
    return whole.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)

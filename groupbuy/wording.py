"""The words people read on a phone for money, time left and dates — written one way, here, for every
door: pushes (groupbuy/facts.py fills templates_msg/), the H5 pages, the bot, the poster and share
titles (groupbuy/sharing.py). The same value always gives the same words (issue 9 §2).

The choices, for a person glancing at a phone:
- Prices in yuan, no trailing zeros: 9900 → '99', 9950 → '99.5', 9999 → '99.99', 1 → '0.01'
  (integer arithmetic: no float rounding on money).
- Time left, cut down (never promising more time than there is) to its two largest units, a zero
  second unit left out: ≥ 1 day '1天1小时' (or '2天'), ≥ 1 hour '3小时5分钟' (or '1小时'), ≥ 1 minute
  '25分钟', under a minute '不到1分钟', none left '0分钟'. '25小时1分钟' makes a reader do sums;
  '1分钟' for 30 s overstates.
- Dates and times in Beijing time (zoneinfo 'Asia/Shanghai'; stored times are naive UTC): '5月10日 14:30'
  — month and day unpadded as people write them, the clock 24-hour HH:MM. This is also a value WeChat's
  subscribe-message `time` keyword takes ('10月1日 15:01'), so a push can carry it unchanged.
"""
import datetime as dt
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo('Asia/Shanghai')


def yuan(fen: int) -> str:
    """9900 → '99', 9950 → '99.5', 9999 → '99.99'."""
    whole, cents = divmod(int(fen), 100)
    return str(whole) if not cents else f'{whole}.{cents:02d}'.rstrip('0')


def time_left(seconds: float) -> str:
    """90061 → '1天1小时', 11520 → '3小时12分钟', 3600 → '1小时', 600 → '10分钟', 30 → '不到1分钟'."""
    seconds = int(seconds)
    if seconds <= 0:
        return '0分钟'
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f'{days}天{hours}小时' if hours else f'{days}天'
    if hours:
        return f'{hours}小时{minutes}分钟' if minutes else f'{hours}小时'
    return f'{minutes}分钟' if minutes else '不到1分钟'


def beijing(t: dt.datetime) -> dt.datetime:
    """A stored (naive UTC) time as Beijing wall-clock time."""
    return t.replace(tzinfo=dt.timezone.utc).astimezone(BEIJING)


def beijing_time(t: dt.datetime | None) -> str:
    """'5月10日 20:00' for 2026-05-10 12:00 UTC; '' for no time."""
    if t is None:
        return ''
    local = beijing(t)
    return f'{local.month}月{local.day}日 {local:%H:%M}'


def deadline_text(deadline: dt.datetime | None) -> str:
    """'截止 5月10日 20:00（北京时间）': a deadline on a page or poster, where the reader may be anywhere."""
    return f'截止 {beijing_time(deadline)}（北京时间）' if deadline is not None else ''


def beijing_stamp(t: dt.datetime | None) -> str:
    """'2026-05-10 20:00:05': a moment in the operators' console (Beijing time, to the second); '' for none."""
    return f'{beijing(t):%Y-%m-%d %H:%M:%S}' if t is not None else ''

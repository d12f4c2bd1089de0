"""The group-buy rules as pure functions: no database, no Redis, no clock of their own. Transitions
gather the facts (one query each) and ask here, so each rule is stated once and unit-tested alone
(tests/unit/test_rules.py)."""
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class SeatFacts:
    """What decides whether a payment keeps its seat: the seat, its group, and who else holds room."""
    role: str  # leader | member
    seat_status: str  # reserved | paid | released
    reserved_until: dt.datetime
    group_status: str
    deadline_at: dt.datetime | None
    size: int
    paid_by_others: int  # paid seats of the group, this one aside
    holding_by_others: int  # others' reservations still inside their pay window
    holds_another_seat: bool  # the payer joined the group again with a new seat


def payment_keeps_seat(facts: SeatFacts, paid_at: dt.datetime) -> bool:
    """A payment is judged by when the payer paid, not when its notice arrives. Paid inside the pay
    window: the seat is kept (or taken back once released) while the group is live — for a member,
    paid before the deadline — and its paid seats leave room. Paid after the window: only if nobody
    else's live reservation needs the room. Never a second seat for one person."""
    on_time = paid_at <= facts.reserved_until
    if facts.seat_status == 'paid' or (facts.seat_status == 'released' and not on_time):
        return False
    if facts.role == 'leader':
        if facts.group_status != 'pending':
            return False
    elif facts.group_status != 'forming' or facts.deadline_at is None or paid_at >= facts.deadline_at:
        return False
    if facts.seat_status == 'released' and facts.holds_another_seat:
        return False
    if on_time and facts.seat_status == 'reserved':
        return facts.paid_by_others < facts.size
    return facts.paid_by_others + facts.holding_by_others < facts.size


def deadline_outcome(paid: int, size: int, auto_complete_ratio: float | None) -> tuple[str, bool]:
    """What a group's deadline decides: ('succeeded', virtual) when full, or when its paid share
    reaches the campaign's auto-complete ratio (模拟成团: virtual=True); else ('failed', False)."""
    if paid >= size:
        return 'succeeded', False
    if auto_complete_ratio is not None and paid > 0 and paid / size >= auto_complete_ratio:
        return 'succeeded', True
    return 'failed', False


def quiet_until(now: dt.datetime, deadline: dt.datetime | None, window: tuple[dt.time, dt.time] | None,
                tz: str) -> dt.datetime | None:
    """When quiet hours (`window`, local times in `tz`; it may wrap midnight) hold a push back: None if
    `now` is outside them, or if the deadline itself falls before they end (waiting would be too late).
    Otherwise the end of quiet hours, as naive UTC."""
    if not window:
        return None
    zone = ZoneInfo(tz)
    start, end = window
    here = now.replace(tzinfo=dt.timezone.utc).astimezone(zone)
    clock = here.time()
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return None
    wake = here.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if wake <= here:
        wake += dt.timedelta(days=1)
    wake_utc = wake.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if deadline is not None and deadline <= wake_utc:
        return None
    return wake_utc


def nudge_times(deadline: dt.datetime, duration_s: int, offsets: list[int], now: dt.datetime) -> dict[int, dt.datetime]:
    """{offset: when} for a group's deadline nudges: each offset (seconds before the deadline) inside the
    group's lifetime, not in the past (a late start nudges at once), and before the deadline."""
    due = {}
    for offset in offsets:
        if offset >= duration_s:
            continue
        at = max(deadline - dt.timedelta(seconds=offset), now)
        if at < deadline:
            due[offset] = at
    return due

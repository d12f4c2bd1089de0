"""The group-buy rules without a database (groupbuy/rules.py)."""
import datetime as dt
from dataclasses import replace

import pytest

from groupbuy.rules import SeatFacts, deadline_outcome, nudge_times, payment_keeps_seat, quiet_until

T0 = dt.datetime(2026, 11, 27, 12, 0)
WINDOW_END = T0 + dt.timedelta(minutes=5)
MEMBER = SeatFacts(role='member', seat_status='reserved', reserved_until=WINDOW_END, group_status='forming',
                   deadline_at=T0 + dt.timedelta(hours=1), size=3, paid_by_others=1, holding_by_others=0,
                   holds_another_seat=False)
IN_TIME, LATE = WINDOW_END - dt.timedelta(seconds=1), WINDOW_END + dt.timedelta(seconds=1)


@pytest.mark.parametrize('facts, paid_at, keeps', [
    (MEMBER, IN_TIME, True),
    (MEMBER, WINDOW_END, True),  # the window's last second counts
    (replace(MEMBER, paid_by_others=3), IN_TIME, False),  # full already
    (replace(MEMBER, holding_by_others=2), IN_TIME, True),  # in time: others' reservations don't matter
    (replace(MEMBER, holding_by_others=2), LATE, False),  # late: someone else is paying for that room
    (replace(MEMBER, holding_by_others=1), LATE, True),  # late, but there is room for both
    (replace(MEMBER, seat_status='released'), IN_TIME, True),  # released while the notice was on its way
    (replace(MEMBER, seat_status='released'), LATE, False),
    (replace(MEMBER, seat_status='released', holds_another_seat=True), IN_TIME, False),
    (replace(MEMBER, seat_status='paid'), IN_TIME, False),  # never twice
    (replace(MEMBER, group_status='succeeded'), IN_TIME, False),
    (replace(MEMBER, deadline_at=IN_TIME), IN_TIME, False),  # paid at the deadline: too late for the group
    (replace(MEMBER, role='leader', group_status='pending'), IN_TIME, True),
    (replace(MEMBER, role='leader', group_status='cancelled'), IN_TIME, False),
])
def test_a_payment_keeps_its_seat_by_when_it_was_paid(facts, paid_at, keeps):
    assert payment_keeps_seat(facts, paid_at) is keeps


@pytest.mark.parametrize('paid, size, ratio, decided', [
    (3, 3, None, ('succeeded', False)), (2, 3, None, ('failed', False)),
    (2, 3, 0.6, ('succeeded', True)), (1, 3, 0.6, ('failed', False)), (3, 3, 0.6, ('succeeded', False)),
    (0, 3, 0.01, ('failed', False)),
])
def test_a_deadline_decides_by_paid_seats_and_the_auto_complete_ratio(paid, size, ratio, decided):
    assert deadline_outcome(paid, size, ratio) == decided


NIGHT = (dt.time(22), dt.time(8))  # Beijing time; 22:00 there is 14:00 UTC


@pytest.mark.parametrize('now_utc, deadline_in_h, wake_utc', [
    (dt.datetime(2026, 11, 27, 13, 59), 12, None),  # 21:59 in Beijing: not quiet yet
    (dt.datetime(2026, 11, 27, 15, 0), 12, dt.datetime(2026, 11, 28, 0, 0)),  # 23:00 → wait for 08:00
    (dt.datetime(2026, 11, 27, 19, 0), 12, dt.datetime(2026, 11, 28, 0, 0)),  # 03:00, after midnight
    (dt.datetime(2026, 11, 27, 15, 0), 2, None),  # the deadline falls inside the night: send now
    (dt.datetime(2026, 11, 28, 0, 0), 12, None),  # 08:00 sharp: morning
])
def test_quiet_hours_hold_a_push_until_morning_unless_the_deadline_is_sooner(now_utc, deadline_in_h, wake_utc):
    deadline = now_utc + dt.timedelta(hours=deadline_in_h)
    assert quiet_until(now_utc, deadline, NIGHT, 'Asia/Shanghai') == wake_utc
    assert quiet_until(now_utc, deadline, None, 'Asia/Shanghai') is None  # QUIET_HOURS= turns them off


def test_nudges_fall_inside_the_groups_life_and_never_in_the_past():
    deadline = T0 + dt.timedelta(hours=3)
    assert nudge_times(deadline, 3 * 3600, [7200, 900], T0) == {
        7200: T0 + dt.timedelta(hours=1), 900: deadline - dt.timedelta(minutes=15)}
    assert nudge_times(deadline, 3600, [7200, 900], T0) == {900: deadline - dt.timedelta(minutes=15)}  # too long
    late = deadline - dt.timedelta(minutes=20)  # scheduled late (e.g. Redis rebuilt): the 2-hour nudge goes now
    assert nudge_times(deadline, 3 * 3600, [7200, 900], late) == {7200: late, 900: deadline - dt.timedelta(minutes=15)}

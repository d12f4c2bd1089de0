"""Deadline nudges at the right offsets, once each; broadcasts that never send twice."""
import datetime as dt

import pytest

from groupbuy import broadcasts, errors, groups, notifications, nudges
from groupbuy.clock import to_ms
from groupbuy.models import Broadcast, Event, Notification
from tests.support.builders import campaign, pay, user
from tests.support.doubles import RecordingMessenger


@pytest.fixture
def messenger(deps):
    deps.messenger = RecordingMessenger()
    return deps.messenger


def daytime(clock):
    """Move the manual clock to 10:00 Beijing time so quiet hours do not interfere."""
    now = clock.now()
    target = now.replace(hour=2, minute=0, second=0, microsecond=0)  # 02:00 UTC = 10:00 Beijing
    if target < now:
        target += dt.timedelta(days=1)
    clock.advance((target - now).total_seconds())


def formed_group(deps, c, members=1):
    leader = user()
    opened = groups.open_group(deps, leader, c.id, '127.0.0.1')
    pay(deps, opened.order)
    joined = [user() for _ in range(members)]
    for m in joined:
        pay(deps, groups.join_group(deps, m, opened.group.share_code, '127.0.0.1').order)
    return opened.group, leader, joined


def test_nudges_fire_at_each_offset_once_per_person_while_the_group_is_short(deps, clock, messenger):
    daytime(clock)
    c = campaign(group_size=4, duration_s=3 * 3600, nudge_offsets_s=[7200, 900])
    group, leader, members = formed_group(deps, c, members=1)
    deadline = to_ms(clock.now() + dt.timedelta(hours=3))
    due = {item: deps.deadlines.due_at(*item.split(':', 1)) for item in (f'nudge:{group.id}:7200',
                                                                         f'nudge:{group.id}:900')}
    assert due == {f'nudge:{group.id}:7200': deadline - 7200_000, f'nudge:{group.id}:900': deadline - 900_000}
    clock.advance(3600)
    assert nudges.send_nudge(deps, group.id, 7200) == 2
    assert nudges.send_nudge(deps, group.id, 7200) == 0  # once per offset and person
    clock.advance(2 * 3600 - 900)
    assert nudges.send_nudge(deps, group.id, 900) == 2
    deps.jobs.run()
    sent = Notification.select().where(Notification.kind == 'deadline_nudge')
    assert sent.count() == 4 and {n.status for n in sent} == {'sent'}
    assert Event.select().where(Event.kind == 'nudge_sent').count() == 2


def test_no_nudge_for_a_full_group_and_consent_is_honoured(deps, clock, messenger):
    daytime(clock)
    c = campaign(group_size=2, duration_s=3 * 3600, nudge_offsets_s=[3600])
    full, _, _ = formed_group(deps, c, members=1)
    assert nudges.send_nudge(deps, full.id, 3600) == 0
    c2 = campaign(group_size=3, duration_s=3 * 3600, nudge_offsets_s=[3600])
    group, leader, _ = formed_group(deps, c2, members=0)
    notifications.record_consents(deps, leader, ['tpl-deadline_nudge'])
    clock.advance(2 * 3600)
    assert nudges.send_nudge(deps, group.id, 3600) == 1
    deps.jobs.run()
    assert [(ch, kind) for ch, _, kind, _ in messenger.sent if kind == 'deadline_nudge'] == \
        [('subscribe', 'deadline_nudge')]
    assert '还差' not in str(messenger.sent[-1][3])  # facts, not text: the catalogue words them
    assert messenger.sent[-1][3]['seats_left'] == 2


def test_a_nudge_in_quiet_hours_waits_for_the_morning_and_is_dropped_if_the_group_fills(deps, clock, messenger):
    now = clock.now()
    night = now.replace(hour=15, minute=30, second=0, microsecond=0)  # 23:30 Beijing
    if night < now:
        night += dt.timedelta(days=1)
    clock.advance((night - now).total_seconds())
    c = campaign(group_size=2, duration_s=12 * 3600, nudge_offsets_s=[3600])
    group, leader, _ = formed_group(deps, c, members=0)
    clock.advance(600)  # 23:40 Beijing: quiet hours, and the 11:30 deadline is outside them
    assert nudges.send_nudge(deps, group.id, 3600) == 1
    n = Notification.get(Notification.kind == 'deadline_nudge')
    assert n.not_before is not None and (n.not_before + dt.timedelta(hours=8)).time() == dt.time(8, 0)
    assert notifications.deliver_notification(deps, n.id) == 'not_yet'
    pay(deps, groups.join_group(deps, user(), group.share_code, '127.0.0.1').order)  # the group fills overnight
    clock.advance(9 * 3600)
    assert notifications.deliver_notification(deps, n.id) == 'dropped'


def test_a_broadcast_run_twice_sends_to_each_person_once(deps, clock, messenger):
    c = campaign(group_size=3, duration_s=1800)
    group, leader, members = formed_group(deps, c, members=1)
    notifications.record_consents(deps, leader, ['tpl-broadcast'])
    b = broadcasts.create_broadcast(deps, {'type': 'expiring_short', 'within_s': 3600}, '最后半小时，快来拼！')
    deps.jobs.run(only={'run_broadcast'})
    first = Broadcast.get_by_id(b.id)
    assert (first.total, first.sent, first.skipped, first.failed) == (2, 1, 1, 0)
    pushes = len(messenger.sent)
    broadcasts.rerun_broadcast(deps, b.id)
    deps.jobs.run(only={'run_broadcast'})
    again = Broadcast.get_by_id(b.id)
    assert (again.total, again.sent, again.skipped) == (2, 1, 1)
    assert len(messenger.sent) == pushes
    assert Notification.select().where(Notification.kind == 'broadcast').count() == 2


def test_broadcast_segments_select_the_right_people(deps, clock, messenger):
    c = campaign(group_size=3, duration_s=7200)
    group, leader, members = formed_group(deps, c, members=1)
    other = user()
    assert broadcasts.recipients({'type': 'expiring_short', 'within_s': 3600}, clock.now()) == []
    assert broadcasts.recipients({'type': 'expiring_short', 'within_s': 7200}, clock.now()) == \
        sorted([leader.id, members[0].id])
    assert broadcasts.recipients({'type': 'campaign', 'campaign_id': c.id}, clock.now()) == \
        sorted([leader.id, members[0].id])
    assert broadcasts.recipients({'type': 'users', 'user_ids': [other.id, 10 ** 9]}, clock.now()) == [other.id]
    for bad in ({'type': 'everyone'}, {'type': 'users', 'user_ids': []}, {'type': 'campaign', 'campaign_id': '1'}):
        with pytest.raises(errors.InvalidInput):
            broadcasts.create_broadcast(deps, bad, 'x')

"""Members hear about every step, through the first channel that reaches them, once per fact."""
import datetime as dt

import pytest

from groupbuy import groups, notifications, settlement
from groupbuy.models import Notification
from tests.support.builders import campaign, pay, user
from tests.support.doubles import RecordingMessenger


@pytest.fixture
def messenger(deps):
    deps.messenger = RecordingMessenger()
    deps.quiet_hours = None
    return deps.messenger


def fill(deps, c, size):
    leader = user()
    opened = groups.open_group(deps, leader, c.id, '127.0.0.1')
    pay(deps, opened.order)
    members = [user() for _ in range(size - 1)]
    for m in members:
        pay(deps, groups.join_group(deps, m, opened.group.share_code, '127.0.0.1').order)
    return opened.group, leader, members


def test_every_step_reaches_members_once_and_shows_in_their_inbox(deps, messenger):
    c = campaign(group_size=3)
    group, leader, members = fill(deps, c, 3)
    deps.jobs.run()
    kinds = sorted((n.kind, n.user_id) for n in Notification.select())
    assert kinds == sorted([('group_opened', leader.id), ('member_joined', leader.id)]
                           + [('group_succeeded', u.id) for u in (leader, *members)])
    assert {n.status for n in Notification.select()} == {'sent'}
    assert {n.channel for n in Notification.select()} == {'inbox'}  # nobody gave consent, no phone
    deps.jobs.run()
    assert Notification.select().count() == 5
    assert notifications.unread_count(leader) == 3


def test_a_subscribe_message_uses_one_consent_and_then_falls_back(deps, messenger):
    c = campaign(group_size=3)
    leader = user()
    notifications.record_consents(deps, leader, ['tpl-group_opened', 'tpl-member_joined'])
    opened = groups.open_group(deps, leader, c.id, '127.0.0.1')
    pay(deps, opened.order)
    a, b = user(), user()
    pay(deps, groups.join_group(deps, a, opened.group.share_code, '127.0.0.1').order)
    deps.jobs.run()
    assert [(ch, kind) for ch, _, kind, _ in messenger.sent] == [('subscribe', 'group_opened'),
                                                                 ('subscribe', 'member_joined')]
    pay(deps, groups.join_group(deps, b, opened.group.share_code, '127.0.0.1').order)
    deps.jobs.run()
    channels = {n.kind: n.channel for n in Notification.select().where(Notification.user == leader.id)}
    assert channels['group_opened'] == 'subscribe'
    assert channels['group_succeeded'] == 'inbox'  # no consent for it, no follow, no phone


def test_a_refused_channel_passes_on_and_a_busy_one_is_retried(deps, messenger):
    c = campaign(group_size=2)
    leader = user()
    notifications.record_consents(deps, leader, ['tpl-group_opened'])
    messenger.refuse = {'subscribe'}
    opened = groups.open_group(deps, leader, c.id, '127.0.0.1')
    pay(deps, opened.order)
    deps.jobs.run()
    n = Notification.get(Notification.kind == 'group_opened')
    assert (n.status, n.channel) == ('sent', 'inbox')
    messenger.refuse = set()
    notifications.record_consents(deps, leader, ['tpl-group_succeeded'])
    messenger.fail = 1
    pay(deps, groups.join_group(deps, user(), opened.group.share_code, '127.0.0.1').order)
    results = deps.jobs.run()
    assert any(isinstance(r, notifications.DeliveryFailed) for _, _, r in results)
    retried = Notification.get(Notification.kind == 'group_succeeded', Notification.user == leader.id)
    assert retried.status == 'pending' and retried.attempts == 1
    assert notifications.deliver_notification(deps, retried.id) == 'subscribe'


def test_failed_group_message_tells_each_payer_their_refund(deps, messenger, clock):
    c = campaign(group_size=3, duration_s=60, leader_price_fen=8900)
    opened = groups.open_group(deps, user(), c.id, '127.0.0.1')
    pay(deps, opened.order)
    pay(deps, groups.join_group(deps, user(), opened.group.share_code, '127.0.0.1').order)
    clock.advance(61)
    settlement.settle_group(deps, opened.group.id)
    deps.jobs.run()
    import json
    amounts = sorted(json.loads(n.payload)['amount'] for n in Notification.select().where(
        Notification.kind == 'group_failed'))
    assert amounts == ['89', '99']


def test_reading_a_message_lowers_the_unread_count_and_others_cannot(deps, messenger):
    c = campaign(group_size=2)
    group, leader, _ = fill(deps, c, 2)
    deps.jobs.run()
    first = notifications.inbox(leader)[0]
    before = notifications.unread_count(leader)
    notifications.mark_read(deps, leader, first.id)
    assert notifications.unread_count(leader) == before - 1
    from groupbuy import errors
    with pytest.raises(errors.NotFound):
        notifications.mark_read(deps, user(), first.id)


@pytest.mark.parametrize('local_time, deadline_in_h, deferred', [
    ('23:30', 10, True),   # quiet, deadline 09:30: wait for the morning
    ('23:30', 2, False),   # quiet, but the deadline falls inside quiet hours: send now
    ('12:00', 5, False),   # daytime
    ('07:59', 3, True),
])
def test_quiet_hours_defer_a_push_unless_the_deadline_falls_inside_them(deps, local_time, deadline_in_h, deferred):
    hour, minute = map(int, local_time.split(':'))
    now = dt.datetime(2026, 11, 25, hour, minute) - dt.timedelta(hours=8)  # Beijing → UTC
    wake = notifications.quiet_until(deps, now, now + dt.timedelta(hours=deadline_in_h))
    assert (wake is not None) == deferred
    if deferred:
        assert (wake + dt.timedelta(hours=8)).time() == dt.time(8, 0)


def test_followers_get_a_template_message_and_people_with_a_phone_an_sms(deps, messenger):
    from groupbuy.models import User
    c = campaign(group_size=3)
    follower, texter, unfollowed = user(), user(), user()
    User.update(oa_openid='oa-follower', follows_oa=True).where(User.id == follower.id).execute()
    User.update(oa_openid='oa-gone', follows_oa=False, phone='13800000000').where(User.id == texter.id).execute()
    for leader in (follower, texter, unfollowed):
        pay(deps, groups.open_group(deps, leader, campaign(group_size=3).id if leader != follower else c.id,
                                    '127.0.0.1').order)
    deps.jobs.run()
    channels = {n.user_id: n.channel for n in Notification.select().where(Notification.kind == 'group_opened')}
    assert channels == {follower.id: 'oa_template', texter.id: 'sms', unfollowed.id: 'inbox'}
    assert ('oa_template', 'oa-follower') in [(ch, to) for ch, to, _, _ in messenger.sent]

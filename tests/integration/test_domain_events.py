"""Domain events (issue 9 §1, §3): a transition takes one progress snapshot and every door it reaches —
the push, the live event, the API — says the same; in-transaction handlers roll back with the change;
after-commit handlers run only after a commit, and one failing does not stop the rest."""
import json

import pytest
import redis

from groupbuy import groups, live_events
from groupbuy.domain_events import SeatReserved, UserRegistered
from groupbuy.members import seat_of
from groupbuy.models import Event, Notification
from groupbuy.progress import progress_of, progress_of_group
from groupbuy.transition import transition
from tests.integration.test_group_lifecycle import open_and_form
from tests.support.builders import campaign, pay, user


def live_history(deps, share_code):
    return live_events.history_since(deps.redis, deps.key_prefix, share_code, 0)


def test_a_member_payment_tells_the_push_the_live_page_and_the_api_the_same_progress(deps):
    deps.quiet_hours = None
    leader = user()
    group = open_and_form(deps, campaign(group_size=4), leader)
    paying, holding = user(), user()
    paid_checkout = groups.join_group(deps, paying, group.share_code, '127.0.0.1')
    groups.join_group(deps, holding, group.share_code, '127.0.0.1')
    assert pay(deps, paid_checkout.order) == 'seated'
    joined = [e for e in live_history(deps, group.share_code) if e['type'] == 'member_joined'][-1]
    pushed = json.loads(Notification.get(Notification.kind == 'member_joined', Notification.user == leader.id).payload)
    now = progress_of(group.share_code)
    assert (joined['paid_count'], joined['reserved_count'], joined['seats_left']) == (2, 1, 2)
    assert pushed['seats_left'] == joined['seats_left'] == now.seats_left
    assert (now.paid, now.reserved) == (joined['paid_count'], joined['reserved_count'])
    assert joined['member']['nickname'] == pushed['joiner']
    logged = Event.get(Event.kind == 'order_paid', Event.user == paying.id)
    assert json.loads(logged.props) == {'amount_fen': 9900, 'role': 'member'}


def test_the_last_seat_publishes_the_join_then_the_success_and_tells_nobody_a_seat_is_left(deps):
    deps.quiet_hours = None
    leader = user()
    group = open_and_form(deps, campaign(group_size=2), leader)
    assert pay(deps, groups.join_group(deps, user(), group.share_code, '127.0.0.1').order) == 'group_succeeded'
    kinds = [e['type'] for e in live_history(deps, group.share_code)]
    assert kinds[-2:] == ['member_joined', 'group_succeeded']
    assert live_history(deps, group.share_code)[-1]['status'] == 'succeeded'
    assert not Notification.select().where(Notification.kind == 'member_joined').exists()
    assert Notification.select().where(Notification.kind == 'group_succeeded').count() == 2


def test_a_transition_that_rolls_back_logs_nothing_and_runs_no_after_commit_handler(deps):
    group = open_and_form(deps, campaign(group_size=3), user())
    member = user()
    groups.join_group(deps, member, group.share_code, '127.0.0.1')
    seat = seat_of(group, member)
    before = len(live_history(deps, group.share_code))
    newcomer = user()
    with pytest.raises(RuntimeError):
        with transition(deps) as t:
            t.emit(UserRegistered(newcomer.id, None, 'test'))  # in the transaction: an analytics row
            t.emit(SeatReserved(group, seat))  # after commit: the live event
            raise RuntimeError('the transition failed after emitting')
    assert not Event.select().where(Event.user == newcomer.id, Event.kind == 'user_registered',
                                    Event.props.contains('test')).exists()
    assert len(live_history(deps, group.share_code)) == before


def test_an_after_commit_handler_that_fails_neither_undoes_the_join_nor_stops_the_live_event(deps, monkeypatch):
    group = open_and_form(deps, campaign(group_size=3), user())

    def redis_down(*args, **kwargs):
        raise redis.ConnectionError('deadline index unreachable')

    monkeypatch.setattr(deps.deadlines, 'schedule', redis_down)
    checkout = groups.join_group(deps, user(), group.share_code, '127.0.0.1')
    assert checkout.order.id and checkout.progress.reserved == 1
    assert progress_of_group(group.id).reserved == 1
    assert live_history(deps, group.share_code)[-1]['type'] == 'seat_reserved'

"""Open → join → pay → succeeded or failed, on the real database and Redis, with a manual clock."""
import pytest

from groupbuy import errors, groups, settlement
from groupbuy.audit import audit
from groupbuy.models import Enrollment, Group, Order, Refund, Seat
from groupbuy.refunds import RefundNotice, record_refund_notice
from tests.support.builders import campaign, pay, user


def open_and_form(deps, c, leader):
    checkout = groups.open_group(deps, leader, c.id, '127.0.0.1')
    assert pay(deps, checkout.order) == 'group_formed'
    return Group.get_by_id(checkout.group.id)


def confirm_refunds(deps):
    for refund in Refund.select().where(Refund.status == 'submitted'):
        record_refund_notice(deps, RefundNotice(refund.out_refund_no, 'SUCCESS', 'rf', refund.amount_fen))


def test_leader_pays_then_group_forms_with_deadline_from_payment(deps, clock):
    c = campaign(duration_s=600, leader_price_fen=8900)
    checkout = groups.open_group(deps, user(), c.id, '127.0.0.1')
    assert checkout.group.status == 'pending' and checkout.order.amount_fen == 8900
    clock.advance(10)
    assert pay(deps, checkout.order) == 'group_formed'
    group = Group.get_by_id(checkout.group.id)
    assert group.status == 'forming'
    assert (group.deadline_at - clock.now()).total_seconds() == 600


def test_last_seat_paid_enrolls_every_member(deps):
    c = campaign()
    leader, a, b = user(), user(), user()
    group = open_and_form(deps, c, leader)
    first = groups.join_group(deps, a, group.share_code, '127.0.0.1')
    second = groups.join_group(deps, b, group.share_code, '127.0.0.1')
    assert pay(deps, first.order) == 'seated'
    assert pay(deps, second.order) == 'group_succeeded'
    assert Group.get_by_id(group.id).status == 'succeeded'
    assert {o.status for o in Order.select()} == {'fulfilled'}
    assert {e.user_id for e in Enrollment.select()} == {leader.id, a.id, b.id}
    assert audit(deps.now(), grace_s=0) == []


def test_deadline_short_fails_group_and_refunds_every_payer(deps, clock):
    c = campaign(duration_s=60)
    group = open_and_form(deps, c, user())
    member = groups.join_group(deps, user(), group.share_code, '127.0.0.1')
    pay(deps, member.order)
    assert settlement.settle_group(deps, group.id) == 'not_due'
    clock.advance(61)
    assert settlement.settle_group(deps, group.id) == 'failed'
    assert settlement.settle_group(deps, group.id) == 'noop'
    deps.jobs.run()
    assert len(deps.gateway.refunds) == 2
    assert {r.status for r in Refund.select()} == {'submitted'}
    confirm_refunds(deps)
    assert {o.status for o in Order.select()} == {'refunded'}
    assert audit(deps.now(), grace_s=0) == []


def test_unpaid_seat_returns_to_the_group_when_the_pay_window_ends(deps, clock):
    c = campaign(group_size=2)
    group = open_and_form(deps, c, user())
    slow, fast = user(), user()
    groups.join_group(deps, slow, group.share_code, '127.0.0.1')
    with pytest.raises(errors.GroupFull):
        groups.join_group(deps, fast, group.share_code, '127.0.0.1')
    clock.advance(deps.pay_window_s + 1)
    seat = Seat.get(Seat.user == slow.id)
    assert settlement.release_seat(deps, seat.id) is True
    assert Seat.get_by_id(seat.id).status == 'released'
    assert Order.get(Order.user == slow.id).status == 'closed'
    checkout = groups.join_group(deps, fast, group.share_code, '127.0.0.1')
    assert pay(deps, checkout.order) == 'group_succeeded'


def test_payment_after_the_seat_was_released_is_refunded(deps, clock):
    c = campaign(group_size=2)
    group = open_and_form(deps, c, user())
    late = groups.join_group(deps, user(), group.share_code, '127.0.0.1')
    clock.advance(deps.pay_window_s + 1)
    settlement.release_seat(deps, Seat.get(Seat.order == late.order.id).id)
    assert pay(deps, late.order) == 'refunding'
    assert Order.get_by_id(late.order.id).status == 'refunding'
    deps.jobs.run()
    confirm_refunds(deps)
    assert Order.get_by_id(late.order.id).status == 'refunded'
    assert audit(deps.now(), grace_s=0) == []


def test_duplicate_payment_notification_changes_nothing(deps):
    c = campaign()
    group = open_and_form(deps, c, user())
    checkout = groups.join_group(deps, user(), group.share_code, '127.0.0.1')
    assert pay(deps, checkout.order) == 'seated'
    assert pay(deps, checkout.order) == 'duplicate'
    assert Seat.select().where(Seat.status == 'paid').count() == 2


def test_payment_with_a_different_amount_is_rejected_without_a_trace(deps):
    c = campaign()
    group = open_and_form(deps, c, user())
    checkout = groups.join_group(deps, user(), group.share_code, '127.0.0.1')
    with pytest.raises(errors.PaymentMismatch):
        pay(deps, checkout.order, amount=1)
    assert Order.get_by_id(checkout.order.id).status == 'created'


@pytest.mark.parametrize('who, error', [('leader', errors.OwnGroup), ('member', errors.AlreadyJoined)])
def test_a_user_cannot_join_their_own_group_or_twice(deps, who, error):
    c = campaign(per_user_limit=5)
    leader, member = user(), user()
    group = open_and_form(deps, c, leader)
    groups.join_group(deps, member, group.share_code, '127.0.0.1')
    with pytest.raises(error):
        groups.join_group(deps, leader if who == 'leader' else member, group.share_code, '127.0.0.1')


def test_one_live_order_per_course_and_max_groups_hold(deps):
    c = campaign(per_user_limit=5, max_groups=2)
    leader = user()
    open_and_form(deps, c, leader)
    with pytest.raises(errors.AlreadyBuying):  # a course is bought once, whatever per_user_limit says
        groups.open_group(deps, leader, c.id, '127.0.0.1')
    open_and_form(deps, c, user())
    with pytest.raises(errors.LimitReached):
        groups.open_group(deps, user(), c.id, '127.0.0.1')


def test_leader_who_never_pays_leaves_a_cancelled_group(deps, clock):
    c = campaign()
    checkout = groups.open_group(deps, user(), c.id, '127.0.0.1')
    clock.advance(deps.pay_window_s + 1)
    assert settlement.release_seat(deps, Seat.get(Seat.order == checkout.order.id).id)
    assert Group.get_by_id(checkout.group.id).status == 'cancelled'
    assert pay(deps, checkout.order) == 'refunding'


def test_failed_prepay_gives_the_seat_back_at_once(deps):
    c = campaign(group_size=2)
    group = open_and_form(deps, c, user())
    deps.gateway.fail_prepay = True
    with pytest.raises(errors.PaymentUnavailable):
        groups.join_group(deps, user(), group.share_code, '127.0.0.1')
    deps.gateway.fail_prepay = False
    assert groups.join_group(deps, user(), group.share_code, '127.0.0.1').order.status == 'created'


def test_redis_that_forgot_a_group_is_rebuilt_from_the_database(deps):
    c = campaign(group_size=2)
    group = open_and_form(deps, c, user())
    deps.redis.delete(*deps.redis.keys(f'{deps.key_prefix}*'))
    groups.join_group(deps, user(), group.share_code, '127.0.0.1')
    with pytest.raises(errors.GroupFull):
        groups.join_group(deps, user(), group.share_code, '127.0.0.1')


def test_open_groups_lists_short_groups_closest_to_filling_first(deps, clock):
    from groupbuy.open_groups import open_groups
    c = campaign(group_size=3, duration_s=600, per_user_limit=5)
    late_short = open_and_form(deps, c, user())            # 2 seats left, latest deadline
    clock.advance(-60)
    early_short = open_and_form(deps, c, user())           # 2 seats left, earlier deadline
    clock.advance(60)
    nearly = open_and_form(deps, c, user())                 # 1 seat left after a join
    pay(deps, groups.join_group(deps, user(), nearly.share_code, '127.0.0.1').order)
    full = open_and_form(deps, c, user())
    for _ in range(2):
        pay(deps, groups.join_group(deps, user(), full.share_code, '127.0.0.1').order)
    listed = open_groups(c.id, clock.now())
    assert [g['share_code'] for g in listed] == [nearly.share_code, early_short.share_code, late_short.share_code]
    assert listed[0]['seats_left'] == 1 and listed[0]['leader']['nickname'] == '微信用户'
    clock.advance(601)
    assert open_groups(c.id, clock.now()) == []

"""Money (issue 8 §2): one person never pays twice for one course, and a payment made inside its
pay window keeps its seat however late its notice arrives."""
import datetime as dt

import pytest

from groupbuy import catalog, errors, groups, payments, settlement
from groupbuy.account_merge import merge_users
from groupbuy.audit import audit
from groupbuy.models import Enrollment, Event, Group, Order, Refund, Seat
from tests.integration.test_group_lifecycle import confirm_refunds, open_and_form
from tests.support.builders import campaign, pay, user


def two_campaigns_of_one_course():
    """What the demo seeds: one course sold by a 24-hour and a 2-minute campaign."""
    first = campaign(group_size=2, per_user_limit=2)
    second = catalog.create_campaign(course_id=first.course_id, group_size=2, duration_s=120,
                                     group_price_fen=9900, per_user_limit=2)
    return first, second


def test_a_second_live_order_for_a_course_is_refused_in_any_campaign(deps):
    first, second = two_campaigns_of_one_course()
    buyer = user()
    group_a = open_and_form(deps, first, user())
    group_b = open_and_form(deps, second, user())
    groups.join_group(deps, buyer, group_a.share_code, '127.0.0.1')  # paying now (order created)
    with pytest.raises(errors.AlreadyBuying):
        groups.join_group(deps, buyer, group_b.share_code, '127.0.0.1')
    with pytest.raises(errors.AlreadyBuying):
        groups.open_group(deps, buyer, second.id, '127.0.0.1')
    with pytest.raises(errors.AlreadyBuying):  # per_user_limit=2 does not buy the course twice
        groups.open_group(deps, buyer, first.id, '127.0.0.1')
    assert Order.select().where(Order.user == buyer.id).count() == 1
    assert not deps.ledger.seats(group_b.id).get(buyer.id)  # the refused join left no reservation


def test_after_a_failed_group_the_course_can_be_bought_again(deps, clock):
    c = campaign(group_size=2)
    leader = user()
    group = open_and_form(deps, c, leader)
    clock.advance(c.duration_s + 1)
    assert settlement.settle_group(deps, group.id) == 'failed'
    assert groups.open_group(deps, leader, c.id, '127.0.0.1').order.status == 'created'


def test_a_double_that_slips_through_is_refunded_when_its_group_succeeds(deps):
    """One person with two mini-program accounts buys the course in two groups; the accounts are
    merged (WeChat reveals one unionid); both groups fill. One order gives the course, the other is
    refunded (`already_enrolled`), and the audit stays clean."""
    first, second = two_campaigns_of_one_course()
    old, new = user('twin-old'), user('twin-new')
    group_a, group_b = open_and_form(deps, first, user()), open_and_form(deps, second, user())
    a = groups.join_group(deps, old, group_a.share_code, '127.0.0.1')
    b = groups.join_group(deps, new, group_b.share_code, '127.0.0.1')
    merged = merge_users(deps, old.id, new.id)
    assert pay(deps, a.order) == 'group_succeeded'
    assert pay(deps, b.order) == 'group_succeeded'
    orders = {o.id: o for o in Order.select().where(Order.user == merged.id)}
    assert sorted(o.status for o in orders.values()) == ['fulfilled', 'refunding']
    refund = Refund.get(Refund.order.in_(list(orders)))
    assert (refund.reason, refund.amount_fen) == ('already_enrolled', orders[refund.order_id].amount_fen)
    assert Enrollment.select().where(Enrollment.user == merged.id).count() == 1
    assert ('refund_order', (refund.order_id,)) in deps.jobs.pending
    deps.jobs.run()
    confirm_refunds(deps)
    assert audit(deps.now(), grace_s=0) == []
    assert Event.select().where(Event.kind == 'duplicate_purchase_refunded').count() == 1


def test_merging_two_accounts_that_both_own_a_course_refunds_one_purchase(deps):
    first, second = two_campaigns_of_one_course()
    old, new = user('owner-old'), user('owner-new')
    for buyer, c in ((old, first), (new, second)):
        group = open_and_form(deps, c, user())
        assert pay(deps, groups.join_group(deps, buyer, group.share_code, '127.0.0.1').order) == 'group_succeeded'
    assert [o.rule for o in audit(deps.now(), grace_s=0)] == []  # two people as far as we knew
    merged = merge_users(deps, old.id, new.id)
    statuses = sorted(o.status for o in Order.select().where(Order.user == merged.id))
    assert statuses == ['fulfilled', 'refunding']
    assert Refund.get().reason == 'already_enrolled'
    deps.jobs.run()
    confirm_refunds(deps)
    assert audit(deps.now(), grace_s=0) == []


def test_the_audit_names_a_forced_double_charge(deps):
    first, second = two_campaigns_of_one_course()
    buyer = user('double')
    group = open_and_form(deps, first, user())
    assert pay(deps, groups.join_group(deps, buyer, group.share_code, '127.0.0.1').order) == 'group_succeeded'
    other = open_and_form(deps, second, user())
    forced = Order.create(user=buyer, group=other.id, course=first.course_id, amount_fen=9900, status='fulfilled',
                          out_trade_no='PKforced1')
    Seat.create(group=other.id, user=buyer, order=forced, role='member', status='paid', reserved_until=deps.now())
    offenders = [o for o in audit(deps.now(), grace_s=0) if o.rule == 'paid_twice_for_course']
    assert len(offenders) == 1 and offenders[0].subject == f'user {buyer.id}'
    assert f'course {first.course_id}' in offenders[0].detail


# --- the pay window is judged by when the payer paid ------------------------------------------------

def joined(deps, size=3):
    c = campaign(group_size=size)
    group = open_and_form(deps, c, user())
    checkout = groups.join_group(deps, user(), group.share_code, '127.0.0.1')
    return group, checkout.order, Seat.get(Seat.order == checkout.order.id)


def late_notice(deps, order, paid_at):
    return payments.record_payment(deps, payments.PaymentNotice(
        out_trade_no=order.out_trade_no, transaction_id=f'tx_{order.out_trade_no}',
        amount_fen=order.amount_fen, paid_at=paid_at))


def test_a_payment_in_time_keeps_its_seat_when_the_window_ends_before_its_notice(deps, clock, gateway):
    group, order, seat = joined(deps)
    gateway.pay(order, at=clock.advance(deps.pay_window_s - 1))  # paid with a second to spare
    clock.advance(30)  # the notice is slow; the release job runs first
    assert settlement.release_seat(deps, seat.id) is False
    assert Seat.get_by_id(seat.id).status == 'paid'
    assert Order.get_by_id(order.id).status == 'paid'
    assert late_notice(deps, order, gateway.paid_orders[order.out_trade_no][0]) == 'duplicate'
    assert Refund.select().count() == 0
    assert deps.ledger.seats(group.id)[seat.user_id] == 'p'


def test_closeorder_answering_orderpaid_means_paid_not_closed(deps, clock, gateway):
    group, order, seat = joined(deps)
    gateway.pay(order, at=clock.advance(deps.pay_window_s), while_closing=True)
    clock.advance(1)
    assert settlement.release_seat(deps, seat.id) is False
    assert (Seat.get_by_id(seat.id).status, Order.get_by_id(order.id).status) == ('paid', 'paid')
    assert Refund.select().count() == 0


def test_an_unpaid_seat_is_released_and_its_order_closed_at_wechat(deps, clock, gateway):
    group, order, seat = joined(deps)
    clock.advance(deps.pay_window_s + 1)
    assert settlement.release_seat(deps, seat.id) is True
    assert (Seat.get_by_id(seat.id).status, Order.get_by_id(order.id).status) == ('released', 'closed')
    assert gateway.closed == [order.out_trade_no]
    assert 'close_payment' not in deps.jobs.names()  # closed already; no second call needed


def test_when_wechat_cannot_be_asked_a_notice_in_time_takes_the_released_seat_back(deps, clock, gateway):
    group, order, seat = joined(deps)
    paid_at = clock.advance(deps.pay_window_s - 5)
    clock.advance(10)
    gateway.fail_queries = True
    assert settlement.release_seat(deps, seat.id) is True  # released: WeChat did not answer
    assert 'close_payment' in deps.jobs.names()
    assert late_notice(deps, order, paid_at) == 'seated'
    assert (Seat.get_by_id(seat.id).status, Order.get_by_id(order.id).status) == ('paid', 'paid')
    assert deps.ledger.seats(group.id)[seat.user_id] == 'p'
    assert Refund.select().count() == 0


def test_a_payment_after_its_window_is_refunded_when_someone_else_holds_the_room(deps, clock, gateway):
    group, order, seat = joined(deps, size=2)  # leader + one seat
    clock.advance(deps.pay_window_s + 1)
    gateway.fail_queries = True
    settlement.release_seat(deps, seat.id)
    rival = groups.join_group(deps, user(), group.share_code, '127.0.0.1')  # the freed seat, paying now
    assert late_notice(deps, order, clock.now()) == 'refunding'
    assert Refund.get().reason == 'late_payment'
    assert pay(deps, rival.order) == 'group_succeeded'


def test_a_late_notice_for_a_released_seat_with_room_but_paid_after_the_window_is_refunded(deps, clock, gateway):
    group, order, seat = joined(deps)
    clock.advance(deps.pay_window_s + 1)
    gateway.fail_queries = True
    settlement.release_seat(deps, seat.id)
    assert late_notice(deps, order, clock.advance(5)) == 'refunding'
    assert Seat.get_by_id(seat.id).status == 'released'


def test_a_payment_in_time_is_honoured_after_the_deadline_until_the_group_is_settled(deps, clock, gateway):
    """Paid a second before the deadline, the notice a second after: the group is not settled yet
    (its row is locked by whoever goes first), so the payment counts."""
    c = campaign(group_size=2, duration_s=120)
    group = open_and_form(deps, c, user())
    checkout = groups.join_group(deps, user(), group.share_code, '127.0.0.1')
    deadline = Group.get_by_id(group.id).deadline_at
    clock.advance((deadline - clock.now()).total_seconds() + 1)
    assert late_notice(deps, checkout.order, deadline - dt.timedelta(seconds=1)) == 'group_succeeded'
    assert settlement.settle_group(deps, group.id) == 'noop'

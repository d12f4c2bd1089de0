"""`flask audit` finds broken money invariants and exits non-zero with the offenders."""
from groupbuy import groups, settlement
from groupbuy.audit import audit
from groupbuy.models import Enrollment, Group, Order, Seat
from tests.support.builders import campaign, pay, user


def settled_shop(deps, clock):
    """One group that filled (3 enrolled) and one that failed with its refund submitted."""
    full = campaign(group_size=2)
    opened = groups.open_group(deps, user(), full.id, '127.0.0.1')
    pay(deps, opened.order)
    pay(deps, groups.join_group(deps, user(), opened.group.share_code, '127.0.0.1').order)
    short = campaign(group_size=3, duration_s=60)
    lonely = groups.open_group(deps, user(), short.id, '127.0.0.1')
    pay(deps, lonely.order)
    clock.advance(61)
    settlement.settle_group(deps, lonely.group.id)
    deps.jobs.run(only={'refund_order'})
    return opened, lonely


def test_a_clean_shop_passes_within_the_grace_and_a_stuck_refund_fails_after_it(deps, clock):
    settled_shop(deps, clock)
    assert audit(clock.now(), grace_s=600) == []
    clock.advance(601)
    assert [o.rule for o in audit(clock.now(), grace_s=600)] == ['refund_stuck']


def test_every_kind_of_broken_money_is_named(deps, clock):
    opened, lonely = settled_shop(deps, clock)
    Enrollment.delete().where(Enrollment.order == opened.order.id).execute()      # paid, fulfilled, no access
    Order.update(status='paid').where(Order.id == lonely.order.id).execute()        # money in a failed group
    extra = user()
    order = Order.create(user=extra, group=opened.group.id, course=opened.order.course_id, amount_fen=1,
                         status='paid', out_trade_no='PKaudit1')
    Seat.create(group=opened.group.id, user=extra, order=order, role='member', status='paid',
                reserved_until=clock.now())                                          # a third paid seat of two
    Group.update(status='succeeded').where(Group.id == opened.group.id).execute()
    rules = {o.rule for o in audit(clock.now(), grace_s=0)}
    assert {'fulfilled_without_enrollment', 'paid_in_closed_group', 'group_overfilled',
            'refund_on_unrefunded_order'} <= rules


def test_the_command_exits_1_and_lists_offenders(deps, clock, make_app):
    opened, _ = settled_shop(deps, clock)
    runner = make_app().test_cli_runner()
    assert runner.invoke(args=['audit', '--grace', '600']).exit_code == 0
    Enrollment.delete().execute()
    result = runner.invoke(args=['audit', '--grace', '600'])
    assert result.exit_code == 1 and 'fulfilled_without_enrollment' in result.output

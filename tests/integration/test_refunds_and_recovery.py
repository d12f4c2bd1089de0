"""Refunds that never get lost, and a Redis that forgets everything mid-campaign."""
import pytest

from groupbuy import groups, refunds, settlement
from groupbuy.audit import audit
from groupbuy.models import Order, Refund
from groupbuy.sweeper import redis_forgot, restore_redis, sweep
from jobs.scheduler import dispatch_due
from tests.support.builders import campaign, pay, user


def failed_group_with_one_payer(deps, clock):
    c = campaign(group_size=3, duration_s=60)
    opened = groups.open_group(deps, user(), c.id, '127.0.0.1')
    pay(deps, opened.order)
    clock.advance(61)
    settlement.settle_group(deps, opened.group.id)
    return opened.order


def test_a_refund_failing_on_every_attempt_lands_in_the_attention_list_then_an_operator_retry_refunds_once(
        deps, clock):
    deps.refund_max_attempts = 3
    order = failed_group_with_one_payer(deps, clock)
    deps.gateway.fail_refunds = 3
    for attempt in range(3):
        with pytest.raises(refunds.RefundFailed):
            refunds.refund_order(deps, order.id)
    refund = Refund.get(Refund.order == order.id)
    assert (refund.status, refund.attempts) == ('failed', 3) and 'NOTENOUGH' in refund.last_error
    assert [r.id for r in refunds.list_refunds('failed')] == [refund.id]
    assert refunds.refund_order(deps, order.id) == 'noop'  # a stray job does not bypass the operator
    refunds.retry_refund(deps, refund.id)
    deps.jobs.run(only={'refund_order'})
    assert len(deps.gateway.refunds) == 1
    assert Refund.get_by_id(refund.id).status == 'submitted'
    from groupbuy import errors
    with pytest.raises(errors.InvalidTransition):
        refunds.retry_refund(deps, refund.id)


def test_a_lost_refund_notification_is_replaced_by_asking_wechat(deps, clock):
    order = failed_group_with_one_payer(deps, clock)
    deps.jobs.run(only={'refund_order'})
    assert refunds.check_refund(deps, order.id) == 'processing'
    clock.advance(3600)
    assert sweep(deps)['refund_checks'] == 1
    deps.gateway.refund_status = 'SUCCESS'
    deps.jobs.run(only={'check_refund'})
    assert Order.get_by_id(order.id).status == 'refunded'
    assert audit(clock.now(), grace_s=0) == []


def test_redis_flushed_mid_campaign_is_rebuilt_and_settlement_is_still_right(deps, clock):
    c = campaign(group_size=2, duration_s=600)
    opened = groups.open_group(deps, user(), c.id, '127.0.0.1')
    pay(deps, opened.order)
    holder = groups.join_group(deps, user(), opened.group.share_code, '127.0.0.1')
    restore_redis(deps)
    deps.redis.delete(*list(deps.redis.scan_iter(f'{deps.key_prefix}*')))  # a flush, of this test's keys
    assert redis_forgot(deps)
    dispatch_due(deps)  # the scheduler notices and rebuilds from the database
    assert not redis_forgot(deps)
    from groupbuy import errors
    with pytest.raises(errors.GroupFull):  # the held seat survived the flush
        groups.join_group(deps, user(), opened.group.share_code, '127.0.0.1')
    clock.advance(601)
    dispatch_due(deps)
    deps.jobs.run(only={'settle_group', 'release_seat'})
    assert Order.get_by_id(opened.order.id).status == 'refunding'
    assert Order.get_by_id(holder.order.id).status == 'closed'


def test_a_refund_wechat_closed_is_retried_under_the_next_number_and_a_changed_one_is_left_to_a_human(deps, clock):
    """REFUNDCLOSE: WeChat answers the old out_refund_no with the closed refund forever, so the retry
    uses `RF…-2`; CHANGE (the payer's card is gone) cannot be retried: refund by hand."""
    from groupbuy import errors
    from groupbuy.refunds import RefundNotice, record_refund_notice
    order = failed_group_with_one_payer(deps, clock)
    deps.jobs.run(only={'refund_order'})
    refund = Refund.get(Refund.order == order.id)
    first_number = refund.out_refund_no
    assert record_refund_notice(deps, RefundNotice(first_number, 'REFUNDCLOSE', refund.refund_id,
                                                   refund.amount_fen)) == 'refund_failed'
    assert 'REFUNDCLOSE' in Refund.get_by_id(refund.id).last_error
    deps.gateway.refund_status = 'REFUNDCLOSE'
    retried = refunds.retry_refund(deps, refund.id)
    assert retried.out_refund_no == first_number + '-2' and retried.status == 'pending'
    deps.jobs.run(only={'refund_order'})
    assert [r['out_refund_no'] for r in deps.gateway.refunds] == [first_number, first_number + '-2']
    assert record_refund_notice(deps, RefundNotice(first_number + '-2', 'CHANGE', 'rf-2',
                                                   refund.amount_fen)) == 'refund_failed'
    deps.gateway.refund_status = 'CHANGE'
    with pytest.raises(errors.InvalidTransition, match='by hand'):
        refunds.retry_refund(deps, refund.id)
    assert Refund.get_by_id(refund.id).status == 'failed'
    assert [r.id for r in refunds.list_refunds('failed')] == [refund.id]

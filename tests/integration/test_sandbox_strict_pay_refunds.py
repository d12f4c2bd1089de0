"""A refund WeChat ends in CHANGE (退款异常) or REFUNDCLOSE (退款关闭) reaches the operators' attention
list, whether WeChat says so by notification or by refundquery. The domain on the real database and
Redis, the real gateway (wechatpy) against the strict sandbox."""
from functools import partial

import pytest
import requests

from gateways.wechat_pay import WeChatPayGateway
from groupbuy import groups, refunds, settlement
from groupbuy.models import Refund
from tests.support.builders import campaign, pay, user
from tests.support.sandbox_server import pay_client, running_receiver, running_sandbox
from tools.http_client import wait_until


@pytest.fixture(scope='module')
def inbox():
    """The app's notify endpoints: acknowledges, keeps what arrives per path."""
    with running_receiver() as box:
        yield box


@pytest.fixture(scope='module')
def sandbox():
    with running_sandbox({'SANDBOX_NOTIFY_RETRY_S': '0.1', 'SANDBOX_REFUND_DELAY_S': 0.05}) as (_, base):
        yield base


@pytest.fixture
def wechat_pay(sandbox):
    return pay_client(sandbox)


@pytest.fixture
def gateway(wechat_pay, inbox, sandbox):
    yield WeChatPayGateway(wechat_pay, notify_url=inbox.base + '/api/pay/notify',
                           refund_notify_url=inbox.base + '/api/pay/refund-notify')
    requests.post(sandbox + '/sandbox/refunds/outcome-next', json={'count': 0})


wait_for = partial(wait_until, timeout=5.0, interval=0.02)


def failed_group_with_one_payer(deps, clock, sandbox):
    """A payer paid at WeChat; the group ran short; their refund is due."""
    c = campaign(group_size=3, duration_s=60)
    opened = groups.open_group(deps, user(), c.id, '127.0.0.1')
    assert requests.post(sandbox + '/sandbox/pay/confirm', json={'prepay_id': opened.order.prepay_id}).ok
    pay(deps, opened.order)
    clock.advance(61)
    settlement.settle_group(deps, opened.group.id)
    return opened.order


def refund_notice(wechat_pay, inbox, out_refund_no):
    """The refund notification as /api/pay/refund-notify reads it (miniapp_api/pay_callbacks.py)."""
    for body in wait_for(lambda: inbox.bodies('/api/pay/refund-notify')):
        data = wechat_pay.parse_refund_notify_result(body)
        if data['out_refund_no'] == out_refund_no:
            return refunds.RefundNotice(out_refund_no=str(data['out_refund_no']),
                                        refund_status=str(data['refund_status']),
                                        refund_id=str(data.get('refund_id', '')), amount_fen=int(data['refund_fee']))
    return None


def sandbox_refund_status(sandbox, out_trade_no):
    found = requests.get(sandbox + '/sandbox/refunds', params={'out_trade_no': out_trade_no}).json()['refunds']
    return found[0]['status'] if found else None


def in_attention_list(refund):
    return [r.id for r in refunds.list_refunds('failed')] == [refund.id]


def test_a_refund_notified_as_change_lands_in_the_attention_list(deps, clock, sandbox, inbox, wechat_pay):
    order = failed_group_with_one_payer(deps, clock, sandbox)
    requests.post(sandbox + '/sandbox/refunds/outcome-next', json={'count': 1, 'refund_status': 'CHANGE'})
    deps.jobs.run(only={'refund_order'})
    refund = Refund.get(Refund.order == order.id)
    notice = wait_for(lambda: refund_notice(wechat_pay, inbox, refund.out_refund_no))
    assert notice.refund_status == 'CHANGE'
    assert refunds.record_refund_notice(deps, notice) == 'refund_failed'
    refund = Refund.get_by_id(refund.id)
    assert refund.status == 'failed' and 'CHANGE' in refund.last_error and '退款异常' in refund.last_error
    assert in_attention_list(refund)
    assert refunds.record_refund_notice(deps, notice) == 'duplicate'  # WeChat's retry changes nothing


def test_a_refund_closed_at_wechat_is_found_by_refundquery_and_lands_in_the_attention_list(deps, clock, sandbox):
    order = failed_group_with_one_payer(deps, clock, sandbox)
    requests.post(sandbox + '/sandbox/refunds/outcome-next', json={'count': 1, 'refund_status': 'REFUNDCLOSE'})
    deps.jobs.run(only={'refund_order'})
    wait_for(lambda: sandbox_refund_status(sandbox, order.out_trade_no) == 'REFUNDCLOSE')
    assert refunds.check_refund(deps, order.id) == 'refund_failed'  # the notification was lost; we asked
    refund = Refund.get(Refund.order == order.id)
    assert refund.status == 'failed' and 'REFUNDCLOSE' in refund.last_error and '退款关闭' in refund.last_error
    assert in_attention_list(refund)


def test_a_change_notified_before_our_refund_call_returned_still_lands_in_the_attention_list(
        deps, clock, sandbox, inbox, wechat_pay, gateway):
    """The worker died after WeChat accepted the refund: our row is still pending when WeChat's word comes."""
    order = failed_group_with_one_payer(deps, clock, sandbox)
    refund = Refund.get(Refund.order == order.id)
    requests.post(sandbox + '/sandbox/refunds/outcome-next', json={'count': 1, 'refund_status': 'CHANGE'})
    gateway.refund(out_trade_no=order.out_trade_no, out_refund_no=refund.out_refund_no,
                   total_fen=order.amount_fen, refund_fen=refund.amount_fen)  # ...and the worker dies here
    notice = wait_for(lambda: refund_notice(wechat_pay, inbox, refund.out_refund_no))
    assert Refund.get_by_id(refund.id).status == 'pending'
    assert refunds.record_refund_notice(deps, notice) == 'refund_failed'
    assert Refund.get_by_id(refund.id).status == 'failed' and in_attention_list(refund)
    assert refunds.refund_order(deps, order.id) == 'noop'  # a retried job leaves it to the operator

"""What the app sends WeChat Pay fits WeChat's rules (gateways/pay_fields.py), and the gateway
(gateways/wechat_pay.py) reads WeChat's answers right — against the strict sandbox, through wechatpy."""
import datetime as dt
import uuid

import pytest
import requests

from gateways import pay_fields
from gateways.wechat_pay import WeChatPayGateway, beijing_to_utc
from groupbuy.ports import GatewayError
from tests.support.sandbox_server import pay_client, running_sandbox
from tools.http_client import wait_until
from wechat_sandbox.credentials import DEFAULT_API_KEY, DEFAULT_APP_ID, DEFAULT_MCH_ID
from wechatpy.pay import WeChatPay

UTC = dt.timezone.utc
NOTIFY = 'http://127.0.0.1:9/api/pay/notify'  # never reached: nothing here is paid with a notification


def utc_now():
    return dt.datetime.now(UTC).replace(tzinfo=None)


# --- the fields, one rule each ---------------------------------------------------------------------
def test_a_long_chinese_title_is_cut_to_127_bytes_on_a_character_boundary_with_an_ellipsis():
    title = '零基础学会 Python 数据分析：从入门到精通的完整实战课程，含项目案例与面试指导（2026 全新版）' * 2
    body = pay_fields.body(title)
    assert len(body.encode('utf-8')) <= 127 and body.endswith('…')
    assert title.startswith(body[:-1].rstrip())
    assert len(title[:120].encode('utf-8')) > 127  # what `title[:120]` used to send


@pytest.mark.parametrize('text', ['课' * 42 + 'a', 'a' * 127, 'Python 入门'])
def test_a_body_that_fits_is_sent_unchanged(text):
    assert pay_fields.body(text) == text


def test_four_byte_characters_are_never_split():
    body = pay_fields.body('🐍' * 40)  # 160 bytes
    assert body == '🐍' * 31 + '…' and len(body.encode('utf-8')) == 127


def test_line_breaks_and_control_characters_become_single_spaces():
    assert pay_fields.body('Python\n入门\t\x00 课') == 'Python 入门 课'


def test_an_empty_title_cannot_be_a_body():
    with pytest.raises(pay_fields.PayFieldError):
        pay_fields.body(' \n ')


def test_attach_is_fitted_to_127_bytes_too():
    assert len(pay_fields.attach('附' * 60).encode('utf-8')) <= 127 and pay_fields.attach(None) is None


@pytest.mark.parametrize('value', ['A' * 33, 'PK#1', '订单1', '', 'PK 1'])
def test_an_out_trade_no_wechat_refuses_is_an_error(value):
    with pytest.raises(pay_fields.PayFieldError):
        pay_fields.out_trade_no(value)


@pytest.mark.parametrize('url', ['http://a.example/n?x=1', 'http://a.example/n#f', '/api/pay/notify',
                                 'ftp://a.example/n', 'https://a.example/' + 'n' * 250, 'http://[::1/n'])
def test_a_notify_url_wechat_refuses_is_an_error(url):
    with pytest.raises(pay_fields.PayFieldError):
        pay_fields.notify_url(url)


@pytest.mark.parametrize('given, sent', [
    ('203.0.113.7', '203.0.113.7'), ('2001:db8::1', '2001:db8::1'), ('::ffff:203.0.113.7', '203.0.113.7'),
    ('fe80::1%eth0', 'fe80::1'), (None, '127.0.0.1'), ('unknown', '127.0.0.1'), ('1.2.3.4, 5.6.7.8', '127.0.0.1'),
])
def test_the_client_ip_is_always_an_address_wechat_accepts(given, sent):
    assert pay_fields.client_ip(given) == sent


def test_time_expire_is_the_pay_window_end_unless_that_is_under_wechats_minimum():
    now = dt.datetime(2026, 11, 25, 4, 0, 0, 250000)
    short = pay_fields.time_expire(now + dt.timedelta(seconds=3), now)
    assert short.utcoffset() == dt.timedelta(hours=8) and short.microsecond == 0
    assert short - now.replace(tzinfo=UTC) >= dt.timedelta(seconds=pay_fields.MIN_EXPIRY_S + 1)
    window_end = now + dt.timedelta(minutes=5)
    assert pay_fields.time_expire(window_end, now) == window_end.replace(microsecond=0, tzinfo=UTC) \
        + dt.timedelta(seconds=1)  # rounded up: never earlier than the window


def test_wechats_time_end_is_read_as_beijing_time():
    assert beijing_to_utc('20261125120000') == dt.datetime(2026, 11, 25, 4, 0, 0)
    assert beijing_to_utc(None) is None and beijing_to_utc('soon') is None


# --- the gateway against the strict sandbox --------------------------------------------------------
@pytest.fixture(scope='module')
def sandbox():
    with running_sandbox({'SANDBOX_NOTIFY_RETRY_S': '', 'SANDBOX_REFUND_DELAY_S': 0.05}) as (_, base):
        yield base


@pytest.fixture
def gateway(sandbox):
    yield WeChatPayGateway(pay_client(sandbox), notify_url=NOTIFY,
                           refund_notify_url=NOTIFY.replace('notify', 'refund-notify'))
    requests.post(sandbox + '/sandbox/reset')


def prepay(gateway, description='Python 入门', window_s=300, client_ip='127.0.0.1', out_trade_no=None):
    no = out_trade_no or 'PK' + uuid.uuid4().hex[:20]
    return no, gateway.create_prepay(out_trade_no=no, amount_fen=9900, description=description, openid='o-fields',
                                     expires_at=utc_now() + dt.timedelta(seconds=window_s), client_ip=client_ip)


def stored(sandbox, out_trade_no):
    return requests.get(f'{sandbox}/sandbox/orders/{out_trade_no}').json()


def test_any_course_title_gets_a_prepay_id(gateway, sandbox):
    title = '「Python 全栈开发」零基础到就业：Django、Flask、FastAPI、爬虫、数据分析与机器学习项目实战 90 讲'
    no, result = prepay(gateway, description=title)
    assert result.pay_params['package'] == f'prepay_id={result.prepay_id}'
    body = stored(sandbox, no)['body']
    assert len(body.encode('utf-8')) <= 127 and body.endswith('…') and title.startswith(body[:-1])


def test_a_three_second_pay_window_still_gives_wechat_a_time_expire_it_accepts(gateway, sandbox):
    no, _ = prepay(gateway, window_s=3)
    expire = dt.datetime.strptime(stored(sandbox, no)['time_expire'], '%Y%m%d%H%M%S') - dt.timedelta(hours=8)
    assert expire - utc_now() > dt.timedelta(seconds=60)


def test_a_long_pay_window_is_sent_as_it_is(gateway, sandbox):
    no, _ = prepay(gateway, window_s=600)
    expire = dt.datetime.strptime(stored(sandbox, no)['time_expire'], '%Y%m%d%H%M%S') - dt.timedelta(hours=8)
    assert abs(expire - (utc_now() + dt.timedelta(seconds=600))) < dt.timedelta(seconds=30)


def test_a_client_ip_wechat_would_refuse_is_replaced(gateway):
    assert prepay(gateway, client_ip='unknown')[1].prepay_id.startswith('wx')


def test_an_out_trade_no_wechat_would_refuse_never_leaves(gateway, sandbox):
    with pytest.raises(GatewayError) as info:
        prepay(gateway, out_trade_no='PK#1')
    assert (info.value.code, info.value.retryable) == ('PARAM_ERROR', False)
    assert requests.get(f'{sandbox}/sandbox/orders/PK%231').status_code == 404


def test_a_notify_url_with_a_query_is_refused_when_the_gateway_is_built():
    with pytest.raises(pay_fields.PayFieldError):
        WeChatPayGateway(WeChatPay(DEFAULT_APP_ID, DEFAULT_API_KEY, DEFAULT_MCH_ID),
                         notify_url=NOTIFY + '?shop=1', refund_notify_url=NOTIFY)


def test_query_order_reports_wechats_state_amount_and_time_end_as_utc(gateway, sandbox):
    no, result = prepay(gateway)
    assert gateway.query_order(no).trade_state == 'NOTPAY' and not gateway.query_order(no).paid
    paid = requests.post(sandbox + '/sandbox/pay/confirm', json={'prepay_id': result.prepay_id}).json()
    status = gateway.query_order(no)
    assert (status.trade_state, status.transaction_id, status.amount_fen, status.paid) == \
        ('SUCCESS', paid['transaction_id'], 9900, True)
    time_end = stored(sandbox, no)['time_end']
    assert status.paid_at == dt.datetime.strptime(time_end, '%Y%m%d%H%M%S') - dt.timedelta(hours=8)
    assert abs(status.paid_at - utc_now()) < dt.timedelta(seconds=30)
    assert gateway.query_order('PK-never-made').trade_state == 'NOTFOUND'


def test_close_order_says_closed_also_when_already_closed_and_paid_when_the_payer_was_quicker(gateway, sandbox):
    no, _ = prepay(gateway)
    assert gateway.close_order(no) == 'closed'
    assert gateway.close_order(no) == 'closed'  # WeChat: ORDERCLOSED
    assert gateway.query_order(no).trade_state == 'CLOSED'
    taken, result = prepay(gateway)
    requests.post(sandbox + '/sandbox/pay/confirm', json={'prepay_id': result.prepay_id})
    assert gateway.close_order(taken) == 'paid'  # WeChat: ORDERPAID
    assert gateway.close_order('PK-never-made') == 'closed'


@pytest.mark.parametrize('api, call', [
    ('orderquery', lambda g, no: g.query_order(no)), ('closeorder', lambda g, no: g.close_order(no)),
    ('unifiedorder', lambda g, no: prepay(g)),
])
def test_wechats_system_errors_become_gateway_errors(gateway, sandbox, api, call):
    no, _ = prepay(gateway)
    requests.post(sandbox + '/sandbox/pay/fail-next', json={'api': api, 'count': 1, 'err_code': 'SYSTEMERROR'})
    with pytest.raises(GatewayError) as info:
        call(gateway, no)
    assert info.value.code == 'SYSTEMERROR'


def paid_order(gateway, sandbox):
    no, result = prepay(gateway)
    requests.post(sandbox + '/sandbox/pay/confirm', json={'prepay_id': result.prepay_id})
    return no


@pytest.mark.parametrize('total_fen, refund_fen, err_code, code, retryable', [
    (9900, 9900, 'SYSTEMERROR', 'SYSTEMERROR', True),
    (9900, 9900, 'NOTENOUGH', 'NOTENOUGH', True),
    (9900, 9900, 'USER_ACCOUNT_ABNORMAL', 'USER_ACCOUNT_ABNORMAL', False),
    (9800, 9800, None, 'INVALID_REQUEST', False),  # total_fee is not the order's
])
def test_refund_failures_say_whether_a_retry_can_help(gateway, sandbox, total_fen, refund_fen, err_code, code,
                                                       retryable):
    no = paid_order(gateway, sandbox)
    if err_code:
        requests.post(sandbox + '/sandbox/pay/fail-next', json={'api': 'refund', 'count': 1, 'err_code': err_code})
    with pytest.raises(GatewayError) as info:
        gateway.refund(out_trade_no=no, out_refund_no='RF' + no, total_fen=total_fen, refund_fen=refund_fen)
    assert (info.value.code, info.value.retryable) == (code, retryable)


def test_the_same_out_refund_no_for_another_amount_is_final(gateway, sandbox):
    no = paid_order(gateway, sandbox)
    gateway.refund(out_trade_no=no, out_refund_no='RF' + no, total_fen=9900, refund_fen=100)
    with pytest.raises(GatewayError) as info:
        gateway.refund(out_trade_no=no, out_refund_no='RF' + no, total_fen=9900, refund_fen=200)
    assert (info.value.code, info.value.retryable) == ('REFUND_FEE_MISMATCH', False)


@pytest.mark.parametrize('ending', ['CHANGE', 'REFUNDCLOSE'])
def test_query_refund_reports_a_refund_that_went_wrong(gateway, sandbox, ending):
    no = paid_order(gateway, sandbox)
    requests.post(sandbox + '/sandbox/refunds/outcome-next', json={'count': 1, 'refund_status': ending})
    accepted = gateway.refund(out_trade_no=no, out_refund_no='RF' + no, total_fen=9900, refund_fen=9900)
    status = wait_until(lambda: (s := gateway.query_refund('RF' + no)).status != 'PROCESSING' and s, timeout=5,
                        interval=0.02, what='the refund ended')
    assert (status.status, status.refund_id, status.amount_fen) == (ending, accepted.refund_id, 9900)
    assert gateway.query_refund('RF-never-made').status == 'NOTFOUND'


@pytest.mark.parametrize('time_end, utc', [('20261127080000', dt.datetime(2026, 11, 27, 0, 0)),
                                           ('00010101000000', None), ('2026', None), (None, None)])
def test_wechats_time_end_is_read_as_beijing_time_and_nonsense_is_none(time_end, utc):
    assert beijing_to_utc(time_end) == utc

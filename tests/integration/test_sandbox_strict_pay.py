"""The sandbox's WeChat Pay v2 refuses what WeChat refuses, with WeChat's codes (docs/SANDBOX.md, "Pay rules").

Driven through wechatpy over HTTP like the app. The sandbox is this module's own, so moving its clock
(`/sandbox/clock`) never disturbs other tests; every test puts the clock back.
"""
import uuid
from datetime import datetime, timedelta
from functools import partial

import pytest
import requests
from wechatpy.exceptions import WeChatPayException

from tests.support.sandbox_server import pay_client, running_receiver, running_sandbox
from tools.http_client import wait_until
from wechat_sandbox.ids import CST

REFUND_DELAY_S = 0.05


@pytest.fixture(scope="module")
def inbox():
    """The merchant's notify URLs: acknowledges everything, keeps the bodies per path."""
    with running_receiver() as box:
        yield box


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox({"SANDBOX_NOTIFY_RETRY_S": "0.1", "SANDBOX_REFUND_DELAY_S": REFUND_DELAY_S}) as (_, base):
        yield base


@pytest.fixture(autouse=True)
def clock_back(sandbox):
    yield
    requests.post(sandbox + "/sandbox/clock", json={"offset_s": 0})
    for api in ("unifiedorder", "orderquery", "closeorder", "refund", "refundquery"):
        requests.post(sandbox + "/sandbox/pay/fail-next", json={"api": api, "count": 0})
    requests.post(sandbox + "/sandbox/refunds/outcome-next", json={"count": 0})


@pytest.fixture
def pay(sandbox):
    return pay_client(sandbox)


wait_for = partial(wait_until, timeout=5.0, interval=0.02)


def order_fields(inbox, **overrides):
    fields = dict(trade_type="JSAPI", body="Python 入门", total_fee=100, notify_url=inbox.base + "/pay",
                  client_ip="127.0.0.1", user_id="o-strict", out_trade_no="S" + uuid.uuid4().hex[:20],
                  time_expire=datetime.now(CST) + timedelta(minutes=5))
    fields.update(overrides)
    return fields


def create(pay, inbox, **overrides):
    fields = order_fields(inbox, **overrides)
    return fields["out_trade_no"], pay.order.create(**fields)["prepay_id"]


def refused(call):
    with pytest.raises(WeChatPayException) as info:
        call()
    exc = info.value
    return exc.return_code, exc.errcode, exc.return_msg if exc.return_code == "FAIL" else exc.errmsg


def stored(sandbox, out_trade_no):
    return requests.get(f"{sandbox}/sandbox/orders/{out_trade_no}")


def confirm(sandbox, prepay_id, **extra):
    return requests.post(sandbox + "/sandbox/pay/confirm", json={"prepay_id": prepay_id, **extra})


def paid(pay, sandbox, inbox, total_fee=100):
    out_trade_no, prepay_id = create(pay, inbox, total_fee=total_fee)
    assert confirm(sandbox, prepay_id).status_code == 200
    return out_trade_no


def advance(sandbox, seconds):
    resp = requests.post(sandbox + "/sandbox/clock", json={"advance_s": seconds})
    assert resp.status_code == 200, resp.text
    return resp.json()


# --- unifiedorder: the fields WeChat refuses -------------------------------------------------------
def test_body_is_counted_in_utf8_bytes_not_characters(pay, inbox, sandbox):
    forty_three_cjk = "课" * 43  # 43 characters, 129 bytes
    no = "S" + uuid.uuid4().hex[:20]
    assert refused(lambda: create(pay, inbox, body=forty_three_cjk, out_trade_no=no)) == \
        ("FAIL", None, "body参数长度有误")
    assert stored(sandbox, no).status_code == 404
    assert refused(lambda: create(pay, inbox, body="课" * 42 + "ab"))[2] == "body参数长度有误"  # 128 bytes
    assert create(pay, inbox, body="课" * 42 + "a")[1].startswith("wx")  # 127 bytes


@pytest.mark.parametrize("out_trade_no, answer", [
    ("A" * 33, ("FAIL", None, "out_trade_no参数长度有误")),
    ("PK-2026#1", ("SUCCESS", "INVALID_REQUEST", "out_trade_no只能是数字、大小写字母_-|*@")),
    ("订单123", ("SUCCESS", "INVALID_REQUEST", "out_trade_no只能是数字、大小写字母_-|*@")),
])
def test_an_out_trade_no_outside_wechats_alphabet_or_length_is_refused(pay, inbox, out_trade_no, answer):
    assert refused(lambda: create(pay, inbox, out_trade_no=out_trade_no)) == answer


def test_an_out_trade_no_of_32_allowed_characters_is_accepted(pay, inbox):
    assert create(pay, inbox, out_trade_no=("aZ09_-|*@" * 4)[:32])[1].startswith("wx")


@pytest.mark.parametrize("url, answer", [
    ("{base}/pay?order=1", ("SUCCESS", "INVALID_REQUEST", "notify_url不能携带参数")),
    ("{base}/pay#x", ("SUCCESS", "INVALID_REQUEST", "notify_url不能携带参数")),
    ("/api/pay/notify", ("SUCCESS", "INVALID_REQUEST", "notify_url须为http或https开头的完整地址")),
    ("{base}/" + "n" * 256, ("FAIL", None, "notify_url参数长度有误")),
    ("http://[::1/pay", ("SUCCESS", "INVALID_REQUEST", "notify_url须为http或https开头的完整地址")),
])
def test_a_notify_url_with_a_query_relative_or_too_long_is_refused(pay, inbox, url, answer):
    assert refused(lambda: create(pay, inbox, notify_url=url.format(base=inbox.base))) == answer


@pytest.mark.parametrize("ahead", [timedelta(minutes=-1), timedelta(seconds=0), timedelta(seconds=59)])
def test_a_time_expire_in_the_past_or_under_a_minute_ahead_is_refused(pay, inbox, ahead):
    too_soon = datetime.now(CST) + ahead
    assert refused(lambda: create(pay, inbox, time_expire=too_soon)) == \
        ("SUCCESS", "PARAM_ERROR", "time_expire时间过短，刷卡至少1分钟，其他5分钟")


def test_a_time_expire_a_little_over_a_minute_ahead_is_accepted(pay, inbox):
    assert create(pay, inbox, time_expire=datetime.now(CST) + timedelta(seconds=75))[1].startswith("wx")


def test_the_minimum_time_expire_follows_the_sandbox_clock(pay, inbox, sandbox):
    advance(sandbox, 600)
    in_five_minutes_by_the_wall = datetime.now(CST) + timedelta(minutes=5)
    assert refused(lambda: create(pay, inbox, time_expire=in_five_minutes_by_the_wall))[1] == "PARAM_ERROR"


@pytest.mark.parametrize("name, value, message", [
    ("attach", "附" * 43, "attach参数长度有误"),
    ("client_ip", "300.1.2.3", "invalid spbill_create_ip"),
    ("client_ip", "localhost", "invalid spbill_create_ip"),
])
def test_an_over_long_attach_or_a_bad_client_ip_is_refused(pay, inbox, name, value, message):
    assert refused(lambda: create(pay, inbox, **{name: value})) == ("FAIL", None, message)


def test_an_ipv6_client_ip_is_accepted(pay, inbox):
    assert create(pay, inbox, client_ip="2001:db8::1")[1].startswith("wx")


def test_the_same_out_trade_no_with_other_parameters_is_a_duplicate_but_the_same_ones_reuse_the_prepay_id(
        pay, inbox):
    fields = order_fields(inbox)
    first = pay.order.create(**fields)["prepay_id"]
    later = dict(fields, time_expire=fields["time_expire"] + timedelta(minutes=1))  # WeChat lets it move
    assert pay.order.create(**later)["prepay_id"] == first
    for change in ({"body": "Go 入门"}, {"total_fee": 101}, {"user_id": "o-someone-else"},
                   {"notify_url": inbox.base + "/other"}):
        assert refused(lambda: pay.order.create(**dict(fields, **change))) == \
            ("SUCCESS", "INVALID_REQUEST", "201 商户订单号重复"), change


# --- closeorder and orderquery ------------------------------------------------------------------
def test_closing_a_closed_order_answers_orderclosed_and_a_paid_one_orderpaid(pay, sandbox, inbox):
    out_trade_no, _ = create(pay, inbox)
    pay.order.close(out_trade_no)
    assert refused(lambda: pay.order.close(out_trade_no)) == ("SUCCESS", "ORDERCLOSED", "订单已关闭，无法重复关闭")
    taken = paid(pay, sandbox, inbox)
    assert refused(lambda: pay.order.close(taken)) == ("SUCCESS", "ORDERPAID", "订单已支付，不能发起关单")


def test_orderquery_reports_each_trade_state_with_time_end_only_once_paid(pay, sandbox, inbox):
    out_trade_no, prepay_id = create(pay, inbox)
    unpaid = pay.order.query(out_trade_no=out_trade_no)
    assert (unpaid["trade_state"], unpaid["trade_state_desc"]) == ("NOTPAY", "订单未支付")
    assert "time_end" not in unpaid and "transaction_id" not in unpaid
    advance(sandbox, 30)
    confirmed = confirm(sandbox, prepay_id).json()
    query = pay.order.query(out_trade_no=out_trade_no)
    assert query["trade_state"] == "SUCCESS" and query["transaction_id"] == confirmed["transaction_id"]
    time_end = datetime.strptime(query["time_end"], "%Y%m%d%H%M%S").replace(tzinfo=CST)
    assert abs(time_end - (datetime.now(CST) + timedelta(seconds=30))) < timedelta(seconds=20)  # sandbox time
    assert time_end.strftime("%Y%m%d%H%M%S") == stored(sandbox, out_trade_no).json()["time_end"]
    pay.refund.apply(100, 100, "R" + out_trade_no, out_trade_no=out_trade_no)
    refunded = pay.order.query(out_trade_no=out_trade_no)
    assert (refunded["trade_state"], refunded["time_end"]) == ("REFUND", query["time_end"])
    closed, _ = create(pay, inbox)
    pay.order.close(closed)
    assert pay.order.query(out_trade_no=closed)["trade_state"] == "CLOSED"
    assert refused(lambda: pay.order.query(out_trade_no="S-never-made")) == \
        ("SUCCESS", "ORDERNOTEXIST", "此交易订单号不存在")


def test_an_order_past_its_time_expire_is_closed_and_cannot_be_paid(pay, sandbox, inbox):
    out_trade_no, prepay_id = create(pay, inbox, time_expire=datetime.now(CST) + timedelta(seconds=90))
    advance(sandbox, 91)
    resp = confirm(sandbox, prepay_id)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "order_expired"
    assert pay.order.query(out_trade_no=out_trade_no)["trade_state"] == "CLOSED"
    assert refused(lambda: pay.order.close(out_trade_no))[1] == "ORDERCLOSED"
    assert stored(sandbox, out_trade_no).json()["status"] == "CLOSED"


def test_the_cashier_has_no_way_to_pay_an_expired_order(pay, sandbox, inbox):
    _, prepay_id = create(pay, inbox)
    resp = confirm(sandbox, prepay_id, ignore_expiry=True)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_field"


def test_a_closed_order_cannot_be_paid_nor_ordered_again(pay, sandbox, inbox):
    fields = order_fields(inbox)
    prepay_id = pay.order.create(**fields)["prepay_id"]
    pay.order.close(fields["out_trade_no"])
    assert confirm(sandbox, prepay_id).json()["error"]["code"] == "order_closed"
    assert refused(lambda: pay.order.create(**fields))[1:] == ("ORDERCLOSED", "订单已关闭")


@pytest.mark.parametrize("body, status", [
    ({"advance_s": -1}, 400), ({"advance_s": "1"}, 400), ({}, 400), ({"offset_s": 1, "advance_s": 1}, 400),
    ({"offset_s": 86400 * 400}, 400), ({"offset_s": 0}, 200),
])
def test_the_clock_control_checks_its_input(sandbox, body, status):
    resp = requests.post(sandbox + "/sandbox/clock", json=body)
    assert resp.status_code == status, resp.text
    if status == 400:
        assert resp.json()["error"]["code"] == "invalid_field"


# --- refunds ----------------------------------------------------------------------------------------
def test_a_refund_whose_total_fee_is_not_the_orders_is_an_invalid_request(pay, sandbox, inbox):
    out_trade_no = paid(pay, sandbox, inbox, total_fee=100)
    assert refused(lambda: pay.refund.apply(99, 50, "R" + out_trade_no, out_trade_no=out_trade_no))[:2] == \
        ("SUCCESS", "INVALID_REQUEST")


def test_the_same_out_refund_no_with_another_amount_is_refund_fee_mismatch(pay, sandbox, inbox):
    out_trade_no = paid(pay, sandbox, inbox)
    pay.refund.apply(100, 30, "R" + out_trade_no, out_trade_no=out_trade_no)
    assert refused(lambda: pay.refund.apply(100, 31, "R" + out_trade_no, out_trade_no=out_trade_no)) == \
        ("SUCCESS", "REFUND_FEE_MISMATCH", "订单金额或退款金额与之前请求不一致，请核实后再试")


def test_an_unpaid_order_cannot_be_refunded(pay, inbox):
    out_trade_no, _ = create(pay, inbox)
    assert refused(lambda: pay.refund.apply(100, 100, "R" + out_trade_no, out_trade_no=out_trade_no))[1] == \
        "ORDERNOTEXIST"


@pytest.mark.parametrize("refund_status", ["CHANGE", "REFUNDCLOSE"])
def test_a_refund_can_be_made_to_end_in_change_or_refundclose_seen_by_notification_and_refundquery(
        pay, sandbox, inbox, refund_status):
    out_trade_no = paid(pay, sandbox, inbox)
    resp = requests.post(sandbox + "/sandbox/refunds/outcome-next", json={"count": 1, "refund_status": refund_status})
    assert resp.status_code == 200, resp.text
    path = "/refund-" + out_trade_no
    accepted = pay.refund.apply(100, 100, "R" + out_trade_no, out_trade_no=out_trade_no,
                                notify_url=inbox.base + path)
    [body] = wait_for(lambda: inbox.bodies(path))
    notice = pay.parse_refund_notify_result(body)
    assert (notice["refund_status"], notice["refund_id"], notice["refund_fee"]) == \
        (refund_status, accepted["refund_id"], 100)
    assert "success_time" not in notice
    query = pay.refund.query(out_refund_no="R" + out_trade_no)
    assert query["refund_status_0"] == refund_status and "refund_success_time_0" not in query
    again = lambda: pay.refund.apply(100, 100, "R2" + out_trade_no, out_trade_no=out_trade_no)  # noqa: E731
    if refund_status == "REFUNDCLOSE":  # a closed refund gave nothing back: the money may be refunded again
        again()
        assert wait_for(lambda: pay.refund.query(out_refund_no="R2" + out_trade_no)["refund_status_0"] == "SUCCESS")
    else:  # a refund in CHANGE has left the merchant: nothing is left to refund
        assert refused(again) == ("SUCCESS", "ERROR", "累计退款金额大于支付金额")


# --- rare errors: one switch for every Pay API -------------------------------------------------------
@pytest.mark.parametrize("api, call, des", [
    ("unifiedorder", lambda pay, inbox, unpaid, refunded: pay.order.create(**order_fields(inbox)), "系统错误"),
    ("orderquery", lambda pay, inbox, unpaid, refunded: pay.order.query(out_trade_no=unpaid), "系统错误"),
    ("closeorder", lambda pay, inbox, unpaid, refunded: pay.order.close(unpaid), "系统错误"),
    ("refundquery", lambda pay, inbox, unpaid, refunded: pay.refund.query(out_trade_no=refunded), "接口返回错误"),
])
def test_fail_next_makes_any_pay_api_answer_systemerror_once(pay, sandbox, inbox, api, call, des):
    unpaid, _ = create(pay, inbox)
    refunded = paid(pay, sandbox, inbox)
    pay.refund.apply(100, 1, "R" + refunded, out_trade_no=refunded)
    resp = requests.post(sandbox + "/sandbox/pay/fail-next", json={"api": api, "count": 1, "err_code": "SYSTEMERROR"})
    assert resp.status_code == 200 and resp.json()["err_code_des"] == des
    assert refused(lambda: call(pay, inbox, unpaid, refunded)) == ("SUCCESS", "SYSTEMERROR", des)
    call(pay, inbox, unpaid, refunded)  # only once


@pytest.mark.parametrize("err_code, des", [
    ("NOTENOUGH", "余额不足"), ("FREQUENCY_LIMITED", "频率限制"), ("BIZERR_NEED_RETRY",
     "退款业务流程错误，需要商户触发重试来解决"), ("USER_ACCOUNT_ABNORMAL", "退款请求失败"),
])
def test_fail_next_gives_refunds_wechats_documented_err_code_des(pay, sandbox, inbox, err_code, des):
    out_trade_no = paid(pay, sandbox, inbox)
    requests.post(sandbox + "/sandbox/pay/fail-next", json={"api": "refund", "count": 1, "err_code": err_code})
    assert refused(lambda: pay.refund.apply(100, 100, "R" + out_trade_no, out_trade_no=out_trade_no)) == \
        ("SUCCESS", err_code, des)


@pytest.mark.parametrize("path, body", [
    ("/sandbox/pay/fail-next", {"api": "refund", "count": 1, "err_code": "ORDERPAID"}),  # not a refund answer
    ("/sandbox/pay/fail-next", {"api": "micropay", "count": 1}),
    ("/sandbox/pay/fail-next", {"api": "refund", "count": -1}),
    ("/sandbox/refunds/fail-next", {"count": 1, "err_code": "NO_SUCH_CODE"}),
    ("/sandbox/refunds/outcome-next", {"count": 1, "refund_status": "PROCESSING"}),
    ("/sandbox/refunds/outcome-next", {"count": True, "refund_status": "CHANGE"}),
    ("/sandbox/pay/fail-next", {"api": ["refund"], "count": 1}),  # odd JSON types: a clear 400, never a 500
    ("/sandbox/pay/fail-next", {"api": "refund", "count": 1, "err_code": ["SYSTEMERROR"]}),
    ("/sandbox/refunds/outcome-next", {"count": 1, "refund_status": {"CHANGE": 1}}),
    ("/sandbox/refunds/hold-next", {"count": 1, "seconds": "5"}),
])
def test_switches_refuse_codes_wechat_never_answers(sandbox, path, body):
    resp = requests.post(sandbox + path, json=body)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_field", resp.text

"""The WeChat sandbox, driven by real wechatpy objects over HTTP.

The sandbox and a notification receiver (whose answers each test scripts) run on free
local ports; every test uses its own out_trade_no and notify path so tests stay
independent while sharing one server.
"""
import uuid
from datetime import datetime, timedelta
from functools import partial

import pytest
import requests
from wechatpy.exceptions import InvalidSignatureException, WeChatClientException, WeChatPayException
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature, dict_to_xml

from tests.support.sandbox_server import SandboxClient, pay_client, running_receiver, running_sandbox
from tools.http_client import wait_until
from wechat_sandbox.credentials import DEFAULT_API_KEY, DEFAULT_APP_ID, DEFAULT_MCH_ID
from wechat_sandbox.ids import CST

RETRY_S = (0.1, 0.2, 0.3)
REFUND_DELAY_S = 0.1


@pytest.fixture(scope="module")
def receiver():
    with running_receiver() as recv:
        yield recv


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox({
        "SANDBOX_NOTIFY_RETRY_S": ",".join(map(str, RETRY_S)),
        "SANDBOX_REFUND_DELAY_S": REFUND_DELAY_S,
    }) as (_, base):
        yield base


@pytest.fixture
def pay(sandbox):
    return pay_client(sandbox)


@pytest.fixture
def channel(receiver):
    """A fresh notify URL on the receiver for this test: (its path, the URL)."""
    path = "/notify/" + uuid.uuid4().hex[:12]
    return path, receiver.base + path


wait_for = partial(wait_until, timeout=3.0, interval=0.02)


def new_order(pay, notify_url, total_fee=100, **kwargs):
    out_trade_no = "T" + uuid.uuid4().hex[:20]
    kwargs.setdefault("user_id", "o-test-openid")
    result = pay.order.create(trade_type="JSAPI", body="Course", total_fee=total_fee,
                              notify_url=notify_url, client_ip="127.0.0.1",
                              out_trade_no=out_trade_no, **kwargs)
    return out_trade_no, result["prepay_id"]


def confirm(sandbox, prepay_id, **extra):
    return requests.post(sandbox + "/sandbox/pay/confirm", json={"prepay_id": prepay_id, **extra})


def paid_order(pay, sandbox, notify_url, total_fee=100):
    out_trade_no, prepay_id = new_order(pay, notify_url, total_fee)
    assert confirm(sandbox, prepay_id).status_code == 200
    return out_trade_no


def deliveries(sandbox, out_trade_no):
    resp = requests.get(sandbox + "/sandbox/deliveries", params={"out_trade_no": out_trade_no})
    return resp.json()["deliveries"]


def test_code2session_gives_a_stable_openid_per_person(sandbox):
    client = SandboxClient(sandbox)
    first = client.wxa.code_to_session("alice.1")  # a code names its person before the last dot
    again = client.wxa.code_to_session("alice.2")
    other = client.wxa.code_to_session("bob.1")
    assert first["openid"] == again["openid"] and first["unionid"] == again["unionid"]
    assert other["openid"] != first["openid"]
    assert first["openid"].startswith("o") and len(first["openid"]) == 28
    assert first["session_key"]


def test_a_code_starting_with_bad_is_rejected_with_40029(sandbox):
    with pytest.raises(WeChatClientException) as info:
        SandboxClient(sandbox).wxa.code_to_session("bad-code")
    assert info.value.errcode == 40029


def test_a_wrong_app_secret_cannot_get_an_access_token(sandbox):
    with pytest.raises(WeChatClientException) as info:
        SandboxClient(sandbox, secret="wrong").fetch_access_token()
    assert info.value.errcode == 40125


def test_a_paid_order_is_notified_with_a_valid_signature_retried_until_success(
        pay, sandbox, receiver, channel):
    name, url = channel
    receiver.script(name, "FAIL", "500", "SUCCESS")
    out_trade_no, prepay_id = new_order(pay, url, total_fee=2990)
    paid = confirm(sandbox, prepay_id).json()

    bodies = wait_for(lambda: len(receiver.bodies(name)) >= 3 and receiver.bodies(name))
    # The sandbox's own record says the delivery is finished (delivered on its third attempt): its
    # retry loop ends there, so no further attempt can come — no waiting to "see" nothing happen.
    [record] = wait_for(lambda: [d for d in deliveries(sandbox, out_trade_no) if d["delivered"]])
    assert (record["attempts"], record["gave_up"]) == (3, False)
    assert len(receiver.bodies(name)) == 3
    notice = pay.parse_payment_result(bodies[-1])
    assert notice["out_trade_no"] == out_trade_no and notice["total_fee"] == 2990
    assert notice["transaction_id"] == paid["transaction_id"] and notice["result_code"] == "SUCCESS"
    [log] = deliveries(sandbox, out_trade_no)
    assert (log["attempts"], log["delivered"], log["last_status"]) == (3, True, 200)
    assert pay.order.query(out_trade_no=out_trade_no)["trade_state"] == "SUCCESS"


def test_delivery_gives_up_after_the_retry_list_is_exhausted(pay, sandbox, receiver, channel):
    name, url = channel
    receiver.script(name, "500")
    out_trade_no = paid_order(pay, sandbox, url)
    wait_for(lambda: deliveries(sandbox, out_trade_no)[0]["gave_up"])
    [log] = deliveries(sandbox, out_trade_no)
    assert log["attempts"] == len(RETRY_S) + 1 and not log["delivered"]


def test_a_replayed_notification_is_delivered_again_and_reports_the_answer(
        pay, sandbox, receiver, channel):
    name, url = channel
    out_trade_no = paid_order(pay, sandbox, url)
    wait_for(lambda: receiver.bodies(name))
    result = requests.post(sandbox + "/sandbox/notify/replay",
                           json={"out_trade_no": out_trade_no}).json()
    assert result["delivered"] is True and result["status_code"] == 200
    assert "SUCCESS" in result["body"]
    first, second = receiver.bodies(name)
    assert pay.parse_payment_result(first)["transaction_id"] == \
        pay.parse_payment_result(second)["transaction_id"]


def test_a_tampered_unifiedorder_is_rejected_and_stores_nothing(sandbox):
    fields = {"appid": DEFAULT_APP_ID, "mch_id": DEFAULT_MCH_ID, "nonce_str": "n0nce",
              "body": "Course", "out_trade_no": "TAMPER1", "total_fee": "100",
              "spbill_create_ip": "127.0.0.1", "notify_url": "http://x/n",
              "trade_type": "JSAPI", "openid": "o1"}
    xml = dict_to_xml(fields, calculate_signature(fields, DEFAULT_API_KEY))
    resp = requests.post(sandbox + "/pay/unifiedorder", data=xml.replace(">100<", ">1<"))
    assert "<return_code><![CDATA[FAIL]]></return_code>" in resp.text and "签名错误" in resp.text
    assert requests.get(sandbox + "/sandbox/orders/TAMPER1").status_code == 404


def test_a_request_signed_with_another_key_raises_in_wechatpy(sandbox, channel):
    intruder = WeChatPay(DEFAULT_APP_ID, "x" * 32, DEFAULT_MCH_ID)
    intruder.API_BASE_URL = sandbox + "/"
    with pytest.raises(WeChatPayException) as info:
        new_order(intruder, channel[1])
    assert info.value.return_code == "FAIL"


def test_hmac_sha256_signed_requests_are_accepted(pay, channel):
    out_trade_no, prepay_id = new_order(pay, channel[1], sign_type="HMAC-SHA256")
    assert prepay_id.startswith("wx")


def test_repeating_unifiedorder_reuses_the_prepay_id_unless_amount_differs_or_paid(
        pay, sandbox, channel):
    out_trade_no, prepay_id = new_order(pay, channel[1], total_fee=100)
    again = pay.order.create(trade_type="JSAPI", body="Course", total_fee=100,
                             notify_url=channel[1], client_ip="127.0.0.1",
                             user_id="o-test-openid", out_trade_no=out_trade_no)
    assert again["prepay_id"] == prepay_id
    with pytest.raises(WeChatPayException) as info:
        pay.order.create(trade_type="JSAPI", body="Course", total_fee=101, notify_url=channel[1],
                         client_ip="127.0.0.1", user_id="o-test-openid", out_trade_no=out_trade_no)
    assert info.value.errcode == "INVALID_REQUEST"
    confirm(sandbox, prepay_id)
    with pytest.raises(WeChatPayException) as info:
        pay.order.create(trade_type="JSAPI", body="Course", total_fee=100, notify_url=channel[1],
                         client_ip="127.0.0.1", user_id="o-test-openid", out_trade_no=out_trade_no)
    assert info.value.errcode == "ORDERPAID"


def test_a_refund_is_idempotent_by_out_refund_no_and_its_notification_decrypts(
        pay, sandbox, receiver, channel):
    name, url = channel
    out_trade_no = paid_order(pay, sandbox, url, total_fee=100)
    refund_url = url + "-refund"
    first = pay.refund.apply(100, 30, "R-" + out_trade_no, out_trade_no=out_trade_no,
                             notify_url=refund_url)
    second = pay.refund.apply(100, 30, "R-" + out_trade_no, out_trade_no=out_trade_no,
                              notify_url=refund_url)
    assert first["refund_id"] == second["refund_id"]
    with pytest.raises(WeChatPayException) as info:  # same out_refund_no, other amount
        pay.refund.apply(100, 31, "R-" + out_trade_no, out_trade_no=out_trade_no)
    assert info.value.errcode == "REFUND_FEE_MISMATCH"

    [body] = wait_for(lambda: receiver.bodies(name + "-refund"))
    notice = pay.parse_refund_notify_result(body)
    assert notice["out_refund_no"] == "R-" + out_trade_no and notice["refund_fee"] == 30
    assert notice["refund_id"] == first["refund_id"] and notice["refund_status"] == "SUCCESS"
    assert datetime.strptime(notice["success_time"], "%Y-%m-%d %H:%M:%S")
    query = pay.refund.query(out_trade_no=out_trade_no)
    assert (query["refund_count"], query["refund_status_0"]) == ("1", "SUCCESS")
    assert pay.order.query(out_trade_no=out_trade_no)["trade_state"] == "REFUND"
    # The refund is SUCCESS, not PROCESSING, so no later completion can notify again: the sandbox's
    # log holds the one refund delivery there will ever be.
    wait_for(lambda: [d for d in deliveries(sandbox, out_trade_no) if d["kind"] == "refund" and d["delivered"]])
    assert [d["attempts"] for d in deliveries(sandbox, out_trade_no) if d["kind"] == "refund"] == [1]
    assert len(receiver.bodies(name + "-refund")) == 1


def test_refunds_beyond_the_paid_amount_are_rejected(pay, sandbox, channel):
    out_trade_no = paid_order(pay, sandbox, channel[1], total_fee=100)
    with pytest.raises(WeChatPayException) as info:
        pay.refund.apply(100, 101, "R1-" + out_trade_no, out_trade_no=out_trade_no)
    assert info.value.errcode == "ERROR"
    pay.refund.apply(100, 60, "R2-" + out_trade_no, out_trade_no=out_trade_no)
    with pytest.raises(WeChatPayException):
        pay.refund.apply(100, 41, "R3-" + out_trade_no, out_trade_no=out_trade_no)
    refunds = requests.get(sandbox + "/sandbox/refunds",
                           params={"out_trade_no": out_trade_no}).json()["refunds"]
    assert [r["refund_fee"] for r in refunds] == [60]


def test_fail_next_makes_the_next_refund_fail_with_that_err_code(pay, sandbox, channel):
    out_trade_no = paid_order(pay, sandbox, channel[1])
    resp = requests.post(sandbox + "/sandbox/refunds/fail-next",
                         json={"count": 1, "err_code": "NOTENOUGH"})
    assert resp.status_code == 200
    with pytest.raises(WeChatPayException) as info:
        pay.refund.apply(100, 100, "R-" + out_trade_no, out_trade_no=out_trade_no)
    assert (info.value.result_code, info.value.errcode) == ("FAIL", "NOTENOUGH")
    assert pay.refund.apply(100, 100, "R-" + out_trade_no, out_trade_no=out_trade_no)["refund_id"]


def test_a_closed_order_cannot_be_paid(pay, sandbox, channel):
    out_trade_no, prepay_id = new_order(pay, channel[1])
    pay.order.close(out_trade_no)
    resp = confirm(sandbox, prepay_id)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "order_closed"
    assert pay.order.query(out_trade_no=out_trade_no)["trade_state"] == "CLOSED"


def test_a_paid_order_cannot_be_closed(pay, sandbox, channel):
    out_trade_no = paid_order(pay, sandbox, channel[1])
    with pytest.raises(WeChatPayException) as info:
        pay.order.close(out_trade_no)
    assert info.value.errcode == "ORDERPAID"


def test_an_order_past_its_time_expire_cannot_be_paid(pay, sandbox, channel):
    out_trade_no, prepay_id = new_order(pay, channel[1], time_expire=datetime.now(CST) + timedelta(minutes=2))
    requests.post(sandbox + "/sandbox/clock", json={"advance_s": 121})  # WeChat's clock, not a sleep
    try:
        resp = confirm(sandbox, prepay_id)
        assert resp.status_code == 409 and resp.json()["error"]["code"] == "order_expired"
        assert pay.order.query(out_trade_no=out_trade_no)["trade_state"] == "CLOSED"
    finally:
        requests.post(sandbox + "/sandbox/clock", json={"offset_s": 0})
    assert deliveries(sandbox, out_trade_no) == []


def test_a_failed_payment_sends_no_notification(pay, sandbox, receiver, channel):
    name, url = channel
    out_trade_no, prepay_id = new_order(pay, url)
    resp = requests.post(sandbox + "/sandbox/pay/fail", json={"prepay_id": prepay_id})
    assert resp.json()["status"] == "PAYERROR"
    assert pay.order.query(out_trade_no=out_trade_no)["trade_state"] == "PAYERROR"
    # A notification is logged the moment it is due (before any attempt): none was.
    assert deliveries(sandbox, out_trade_no) == [] and receiver.bodies(name) == []


def test_a_notification_for_an_hmac_order_fails_md5_verification_as_in_production(
        pay, sandbox, receiver, channel):
    name, url = channel
    out_trade_no, prepay_id = new_order(pay, url, sign_type="HMAC-SHA256")
    confirm(sandbox, prepay_id)
    [body] = wait_for(lambda: receiver.bodies(name))
    with pytest.raises(InvalidSignatureException):
        pay.parse_payment_result(body)


def test_jsapi_params_carry_the_prepay_id(pay, channel):
    _, prepay_id = new_order(pay, channel[1])
    params = pay.jsapi.get_jsapi_params(prepay_id)
    assert params["package"] == f"prepay_id={prepay_id}"
    unsigned = {k: v for k, v in params.items() if k != "paySign"}
    assert params["paySign"] == calculate_signature(unsigned, DEFAULT_API_KEY)


@pytest.mark.parametrize("path, payload, status, code", [
    ("/sandbox/pay/confirm", "not json", 400, "invalid_json"),
    ("/sandbox/pay/confirm", {"prepay_id": 7}, 400, "missing_field"),
    ("/sandbox/pay/confirm", {"prepay_id": "wx-unknown"}, 404, "order_not_found"),
    ("/sandbox/notify/replay", {"out_trade_no": "nope"}, 404, "order_not_found"),
    ("/sandbox/refunds/fail-next", {"count": -1}, 400, "invalid_field"),
])
def test_bad_control_requests_get_clear_json_errors(sandbox, path, payload, status, code):
    if isinstance(payload, str):
        resp = requests.post(sandbox + path, data=payload,
                             headers={"Content-Type": "application/json"})
    else:
        resp = requests.post(sandbox + path, json=payload)
    assert resp.status_code == status and resp.json()["error"]["code"] == code


def test_malformed_xml_gets_a_wechat_fail_answer(sandbox):
    resp = requests.post(sandbox + "/secapi/pay/refund", data=b"<xml><unclosed>")
    assert resp.status_code == 200 and "<return_code><![CDATA[FAIL]]></return_code>" in resp.text

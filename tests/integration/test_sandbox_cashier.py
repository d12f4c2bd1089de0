"""The sandbox's JSAPI cashier (`POST /sandbox/pay/jsapi`) checks what WeChat's client checks before it takes a
payment, and WeChat Pay keeps each appid's orders its own (one merchant, two bound appids).

Driven through wechatpy over HTTP like the app: an order made for the official account's appid and signed by
`pay.jsapi.get_jsapi_params`, paid as a named test user. The sandbox is this module's own (its clock moves).
"""
import uuid
from datetime import datetime, timedelta
from functools import partial

import pytest
import requests
from wechatpy.exceptions import WeChatPayException
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature_hmac

from tests.support.sandbox_server import pay_client, running_receiver, running_sandbox
from tools.http_client import wait_until
from wechat_sandbox.credentials import DEFAULT_API_KEY, DEFAULT_APP_ID, DEFAULT_MCH_ID, DEFAULT_OA_APP_ID
from wechat_sandbox.ids import CST
from wechat_sandbox.login import openid_for

wait_for = partial(wait_until, timeout=5.0, interval=0.02)


@pytest.fixture(scope="module")
def inbox():
    with running_receiver() as box:
        yield box


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox({"SANDBOX_NOTIFY_RETRY_S": "0.1", "SANDBOX_REFUND_DELAY_S": 0.05}) as (_, base):
        yield base


@pytest.fixture(autouse=True)
def clock_back(sandbox):
    yield
    requests.post(sandbox + "/sandbox/clock", json={"offset_s": 0})


@pytest.fixture
def oa_pay(sandbox):
    """wechatpy's Pay client for the official account's appid: the same merchant and API key."""
    client = WeChatPay(DEFAULT_OA_APP_ID, DEFAULT_API_KEY, DEFAULT_MCH_ID)
    client.API_BASE_URL = sandbox + "/"
    return client


@pytest.fixture
def mini_pay(sandbox):
    return pay_client(sandbox)


def order_for(pay, inbox, user="alice", **overrides):
    """(out_trade_no, prepay_id) of a JSAPI order for `user`'s openid in `pay`'s app."""
    fields = dict(trade_type="JSAPI", body="Python 入门", total_fee=9900, notify_url=inbox.base + "/pay",
                  client_ip="127.0.0.1", user_id=openid_for(pay.appid, user),
                  out_trade_no="J" + uuid.uuid4().hex[:20], time_expire=datetime.now(CST) + timedelta(minutes=5))
    fields.update(overrides)
    return fields["out_trade_no"], pay.order.create(**fields)["prepay_id"]


def cashier(sandbox, user, params):
    return requests.post(sandbox + "/sandbox/pay/jsapi", json={"user": user, **params}, timeout=5)


def status_of(sandbox, out_trade_no):
    return requests.get(f"{sandbox}/sandbox/orders/{out_trade_no}", timeout=5).json()["status"]


def refusal(answer):
    body = answer.json()
    assert body["errMsg"].startswith("requestPayment:fail ") and body["error"]["code"] == body["code"]
    return answer.status_code, body["code"]


def refused(call):
    with pytest.raises(WeChatPayException) as info:
        call()
    return info.value.errcode, info.value.errmsg


def notified(inbox, out_trade_no):
    return [b for b in inbox.bodies("/pay") if f"<out_trade_no><![CDATA[{out_trade_no}]]>" in b
            or f"<out_trade_no>{out_trade_no}</out_trade_no>" in b]


# --- the right signature pays --------------------------------------------------------------------
def test_an_official_account_order_signed_by_wechatpy_pays_and_notifies_under_that_appid(sandbox, inbox, oa_pay):
    out_trade_no, prepay_id = order_for(oa_pay, inbox, "alice")
    params = oa_pay.jsapi.get_jsapi_params(prepay_id)
    assert params["appId"] == DEFAULT_OA_APP_ID
    answer = cashier(sandbox, "alice", params)
    assert answer.status_code == 200, answer.text
    paid = answer.json()
    assert (paid["errMsg"], paid["out_trade_no"]) == ("requestPayment:ok", out_trade_no)
    assert paid["transaction_id"].startswith("42000") and status_of(sandbox, out_trade_no) == "SUCCESS"
    body = wait_for(lambda: notified(inbox, out_trade_no), what="the payment notification")[0]
    result = oa_pay.parse_payment_result(body)  # signed with the API key, under the official account's appid
    assert (result["appid"], result["openid"]) == (DEFAULT_OA_APP_ID, openid_for(DEFAULT_OA_APP_ID, "alice"))
    assert result["transaction_id"] == paid["transaction_id"]


def test_a_mini_program_order_pays_as_wx_request_payment_would(sandbox, inbox, mini_pay):
    out_trade_no, prepay_id = order_for(mini_pay, inbox, "bob")
    answer = cashier(sandbox, "bob", mini_pay.jsapi.get_jsapi_params(prepay_id))
    assert answer.status_code == 200 and answer.json()["out_trade_no"] == out_trade_no
    body = wait_for(lambda: notified(inbox, out_trade_no))[0]
    assert mini_pay.parse_payment_result(body)["appid"] == DEFAULT_APP_ID


def test_hmac_sha256_fields_pay_when_signed_with_the_api_key(sandbox, inbox, oa_pay):
    out_trade_no, prepay_id = order_for(oa_pay, inbox, sign_type="HMAC-SHA256")  # signType must be the order's
    fields = {"appId": DEFAULT_OA_APP_ID, "timeStamp": "1700000000", "nonceStr": uuid.uuid4().hex,
              "package": f"prepay_id={prepay_id}", "signType": "HMAC-SHA256"}
    fields["paySign"] = calculate_signature_hmac(fields, DEFAULT_API_KEY)
    assert cashier(sandbox, "alice", fields).status_code == 200
    assert status_of(sandbox, out_trade_no) == "SUCCESS"


# --- a forged or changed field is refused, and nothing is paid -----------------------------------
@pytest.mark.parametrize("change", [
    {"paySign": "0" * 32},
    {"timeStamp": "1700000001"},
    {"nonceStr": "another-nonce"},
    {"signType": "HMAC-SHA256"},
    {"appId": DEFAULT_APP_ID},
])
def test_a_forged_pay_sign_or_a_field_changed_after_signing_is_refused(sandbox, inbox, oa_pay, change):
    out_trade_no, prepay_id = order_for(oa_pay, inbox)
    params = dict(oa_pay.jsapi.get_jsapi_params(prepay_id), **change)
    assert refusal(cashier(sandbox, "alice", params)) == (400, "pay_sign_invalid")
    assert status_of(sandbox, out_trade_no) == "NOTPAY" and not notified(inbox, out_trade_no)


def test_another_orders_prepay_id_under_this_signature_is_refused(sandbox, inbox, oa_pay):
    mine, prepay_id = order_for(oa_pay, inbox)
    other, other_prepay = order_for(oa_pay, inbox)
    params = dict(oa_pay.jsapi.get_jsapi_params(prepay_id), package=f"prepay_id={other_prepay}")
    assert refusal(cashier(sandbox, "alice", params)) == (400, "pay_sign_invalid")
    assert status_of(sandbox, mine) == status_of(sandbox, other) == "NOTPAY"


def test_fields_signed_with_another_key_are_refused(sandbox, inbox, oa_pay):
    stranger = WeChatPay(DEFAULT_OA_APP_ID, "x" * 32, DEFAULT_MCH_ID)  # not the merchant's API key
    out_trade_no, prepay_id = order_for(oa_pay, inbox)
    assert refusal(cashier(sandbox, "alice", stranger.jsapi.get_jsapi_params(prepay_id))) == (400, "pay_sign_invalid")
    assert status_of(sandbox, out_trade_no) == "NOTPAY"


@pytest.mark.parametrize("body, code", [
    ({"user": "alice"}, "missing_field"),
    ({"user": "not a name", "appId": "x"}, "invalid_field"),
    ({"user": "alice", "appId": "a", "timeStamp": 1700000000, "nonceStr": "n", "package": "prepay_id=wx1",
      "signType": "MD5", "paySign": "S"}, "missing_field"),  # a number where WeChat wants a string
    ({"user": "alice", "appId": "a", "timeStamp": "1", "nonceStr": "n", "package": "prepay_id=wx1",
      "signType": "RSA", "paySign": "S"}, "sign_type_invalid"),
    ({"user": "alice", "appId": "a", "timeStamp": "1", "nonceStr": "n", "package": "wx1",
      "signType": "MD5", "paySign": "S"}, "package_invalid"),
])
def test_malformed_fields_are_refused_before_anything_is_looked_up(sandbox, body, code):
    assert refusal(requests.post(sandbox + "/sandbox/pay/jsapi", json=body, timeout=5)) == (400, code)


# --- the appid and the payer must be the order's ------------------------------------------------
def test_fields_signed_for_the_mini_program_cannot_pay_an_official_account_order(sandbox, inbox, oa_pay, mini_pay):
    out_trade_no, prepay_id = order_for(oa_pay, inbox)
    params = mini_pay.jsapi.get_jsapi_params(prepay_id)  # well signed, but for the other appid
    assert refusal(cashier(sandbox, "alice", params)) == (403, "appid_mismatch")
    assert status_of(sandbox, out_trade_no) == "NOTPAY"


def test_another_person_cannot_pay_someone_elses_order(sandbox, inbox, oa_pay):
    out_trade_no, prepay_id = order_for(oa_pay, inbox, "alice")
    assert refusal(cashier(sandbox, "bob", oa_pay.jsapi.get_jsapi_params(prepay_id))) == (403, "user_mismatch")
    assert status_of(sandbox, out_trade_no) == "NOTPAY"


def test_an_order_made_with_the_mini_program_openid_under_the_official_accounts_appid_cannot_be_paid(
        sandbox, inbox, oa_pay):
    """A person's openid is their own per appid: the mini-program's openid in an official-account order is
    nobody there, so its owner cannot pay it (the app must send the openid of the door's appid)."""
    out_trade_no, prepay_id = order_for(oa_pay, inbox, user_id=openid_for(DEFAULT_APP_ID, "alice"))
    assert refusal(cashier(sandbox, "alice", oa_pay.jsapi.get_jsapi_params(prepay_id))) == (403, "user_mismatch")


# --- paid, closed, expired and unknown orders, as /sandbox/pay/confirm ---------------------------
def test_a_paid_closed_expired_or_unknown_order_is_refused_as_the_confirm_endpoint_refuses_it(
        sandbox, inbox, oa_pay):
    paid, paid_prepay = order_for(oa_pay, inbox)
    params = oa_pay.jsapi.get_jsapi_params(paid_prepay)
    assert cashier(sandbox, "alice", params).status_code == 200
    assert refusal(cashier(sandbox, "alice", params)) == (409, "order_paid")
    closed, closed_prepay = order_for(oa_pay, inbox)
    oa_pay.order.close(closed)
    assert refusal(cashier(sandbox, "alice", oa_pay.jsapi.get_jsapi_params(closed_prepay))) == (409, "order_closed")
    expiring, expiring_prepay = order_for(oa_pay, inbox, time_expire=datetime.now(CST) + timedelta(seconds=90))
    requests.post(sandbox + "/sandbox/clock", json={"advance_s": 120}, timeout=5)
    assert refusal(cashier(sandbox, "alice", oa_pay.jsapi.get_jsapi_params(expiring_prepay))) == \
        (409, "order_expired")
    assert status_of(sandbox, expiring) == "CLOSED"
    unknown = oa_pay.jsapi.get_jsapi_params("wx" + uuid.uuid4().hex)
    assert refusal(cashier(sandbox, "alice", unknown)) == (404, "order_not_found")
    assert len(notified(inbox, paid)) >= 1 and not notified(inbox, closed) and not notified(inbox, expiring)


# --- each appid's orders are its own at WeChat Pay -----------------------------------------------
def test_orderquery_closeorder_refund_and_refundquery_under_the_other_appid_do_not_reach_the_order(
        sandbox, inbox, oa_pay, mini_pay):
    out_trade_no, prepay_id = order_for(oa_pay, inbox)
    assert refused(lambda: mini_pay.order.query(out_trade_no=out_trade_no)) == ("ORDERNOTEXIST", "此交易订单号不存在")
    assert refused(lambda: mini_pay.order.close(out_trade_no)) == ("ORDERNOTEXIST", "此交易订单号不存在")
    assert oa_pay.order.query(out_trade_no=out_trade_no)["trade_state"] == "NOTPAY"
    cashier(sandbox, "alice", oa_pay.jsapi.get_jsapi_params(prepay_id))
    refund_no = "R" + out_trade_no
    assert refused(lambda: mini_pay.refund.apply(9900, 9900, refund_no, out_trade_no=out_trade_no)) == \
        ("INVALID_REQUEST", "您的请求参数与订单信息不一致")
    assert requests.get(sandbox + "/sandbox/refunds", params={"out_trade_no": out_trade_no}).json()["refunds"] == []
    accepted = oa_pay.refund.apply(9900, 9900, refund_no, out_trade_no=out_trade_no, notify_url=inbox.base + "/r")
    assert accepted["appid"] == DEFAULT_OA_APP_ID and accepted["refund_fee"] == "9900"
    assert refused(lambda: mini_pay.refund.query(out_refund_no=refund_no))[0] == "REFUNDNOTEXIST"
    assert oa_pay.refund.query(out_refund_no=refund_no)["out_refund_no_0"] == refund_no
    notice = wait_for(lambda: inbox.bodies("/r"), what="the refund notification")[-1]
    assert oa_pay.parse_refund_notify_result(notice)["out_refund_no"] == refund_no  # under the order's appid


def test_the_same_out_trade_no_under_the_other_appid_is_a_duplicate(sandbox, inbox, oa_pay, mini_pay):
    out_trade_no, _ = order_for(oa_pay, inbox)
    assert refused(lambda: order_for(mini_pay, inbox, out_trade_no=out_trade_no)) == \
        ("INVALID_REQUEST", "201 商户订单号重复")


def test_an_appid_not_bound_to_the_merchant_is_refused(sandbox, inbox):
    stranger = WeChatPay("wx00000000000000ff", DEFAULT_API_KEY, DEFAULT_MCH_ID)
    stranger.API_BASE_URL = sandbox + "/"
    with pytest.raises(WeChatPayException) as info:
        order_for(stranger, inbox)
    assert (info.value.return_code, info.value.return_msg) == ("FAIL", "appid不存在")


def test_the_bridge_script_is_served_for_a_named_test_user_only(sandbox):
    script = requests.get(sandbox + "/sandbox/weixin-jsbridge.js", params={"user": "alice"}, timeout=5)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("application/javascript")
    assert f'"{sandbox}/sandbox/pay/jsapi"' in script.text and "WeixinJSBridgeReady" in script.text
    assert requests.get(sandbox + "/sandbox/weixin-jsbridge.js", params={"user": "<x>"}, timeout=5).status_code == 400
    assert requests.get(sandbox + "/sandbox/weixin-jsbridge.js",
                        params={"user": "alice", "outcome": "maybe"}, timeout=5).status_code == 400

"""WeChat Pay v2 order endpoints: unifiedorder, orderquery, closeorder.

These hold the order state machine the app depends on (NOTPAY -> SUCCESS | PAYERROR |
CLOSED, SUCCESS -> REFUND) and WeChat's answers to repeated or late calls, which is
where idempotency bugs show up. Payment itself is triggered through the control API.
"""
from datetime import timedelta

from flask import Blueprint

from . import ids
from .runtime import current
from .store import PAID_STATES
from .xmlproto import BusinessError, pay_endpoint, positive_int, require

bp = Blueprint("wechat_pay", __name__)

TRADE_TYPES = ("JSAPI", "NATIVE", "APP", "MWEB")
DEFAULT_EXPIRY = timedelta(hours=2)
STATE_DESC = {
    "NOTPAY": "订单未支付", "SUCCESS": "支付成功", "CLOSED": "订单已关闭",
    "PAYERROR": "支付失败(其他原因，如银行返回失败)", "REFUND": "订单发生过退款",
}


def _time_field(data, name, default):
    if not data.get(name):
        return ids.compact(default)
    try:
        ids.parse_compact(data[name])
    except ValueError:
        raise BusinessError("PARAM_ERROR", f"{name}时间格式错误，须为yyyyMMddHHmmss") from None
    return data[name]


def _prepay_fields(order):
    fields = {"trade_type": order["trade_type"], "prepay_id": order["prepay_id"]}
    if order["trade_type"] == "NATIVE":
        fields["code_url"] = "weixin://wxpay/bizpayurl?pr=" + order["prepay_id"][-10:]
    if order["trade_type"] == "MWEB":
        fields["mweb_url"] = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=" \
            + order["prepay_id"]
    return fields


def _reuse(order, total_fee):
    """A second unifiedorder for the same out_trade_no, as WeChat answers it."""
    if order["status"] in PAID_STATES:
        raise BusinessError("ORDERPAID", "该订单已支付")
    if order["status"] == "CLOSED":
        raise BusinessError("ORDERCLOSED", "该订单已关闭")
    if order["total_fee"] != total_fee:
        raise BusinessError("INVALID_REQUEST", "201 商户订单号重复")
    return _prepay_fields(order)


@bp.post("/pay/unifiedorder")
@pay_endpoint
def unified_order(data):
    require(data, "body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url",
            "trade_type")
    total_fee = positive_int(data, "total_fee")
    trade_type = data["trade_type"]
    if trade_type not in TRADE_TYPES:
        raise BusinessError("PARAM_ERROR", "trade_type参数错误")
    openid = data.get("openid") or data.get("sub_openid")
    if trade_type == "JSAPI" and not openid:
        raise BusinessError("PARAM_ERROR", "JSAPI支付必须传openid")
    now = ids.now()
    time_start = _time_field(data, "time_start", now)
    time_expire = _time_field(data, "time_expire", now + DEFAULT_EXPIRY)
    store = current().store
    with store.lock:
        existing = store.orders.get(data["out_trade_no"])
        if existing:
            return _reuse(existing, total_fee)
        order = {
            "out_trade_no": data["out_trade_no"], "prepay_id": ids.prepay_id(),
            "status": "NOTPAY", "trade_type": trade_type, "total_fee": total_fee,
            "openid": openid, "body": data["body"], "attach": data.get("attach"),
            "notify_url": data["notify_url"], "sign_type": data.get("sign_type", "MD5"),
            "time_start": time_start, "time_expire": time_expire,
            "transaction_id": None, "time_end": None, "refunds": [],
        }
        store.add_order(order)
        return _prepay_fields(order)


def find_order_or_fail(data):
    if not (data.get("transaction_id") or data.get("out_trade_no")):
        raise BusinessError("LACK_PARAMS", "缺少参数out_trade_no或transaction_id")
    order = current().store.find_order(out_trade_no=data.get("out_trade_no"),
                                       transaction_id=data.get("transaction_id"))
    if order is None:
        raise BusinessError("ORDERNOTEXIST", "订单不存在")
    return order


@bp.post("/pay/orderquery")
@pay_endpoint
def order_query(data):
    with current().store.lock:
        order = find_order_or_fail(data)
        fields = {
            "out_trade_no": order["out_trade_no"], "trade_state": order["status"],
            "trade_state_desc": STATE_DESC[order["status"]], "openid": order["openid"],
            "trade_type": order["trade_type"], "total_fee": order["total_fee"],
            "fee_type": "CNY", "attach": order["attach"],
        }
        if order["status"] in PAID_STATES:
            fields.update(transaction_id=order["transaction_id"], time_end=order["time_end"],
                          cash_fee=order["total_fee"], bank_type="OTHERS", is_subscribe="N")
        return fields


@bp.post("/pay/closeorder")
@pay_endpoint
def close_order(data):
    require(data, "out_trade_no")
    store = current().store
    with store.lock:
        order = store.find_order(out_trade_no=data["out_trade_no"])
        if order is None:
            raise BusinessError("ORDERNOTEXIST", "订单不存在")
        if order["status"] in PAID_STATES:
            raise BusinessError("ORDERPAID", "订单已支付，不能发起关单")
        order["status"] = "CLOSED"  # closing a closed order again is a no-op SUCCESS
        return {}

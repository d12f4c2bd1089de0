"""WeChat Pay v2 order endpoints: unifiedorder, orderquery, closeorder.

These hold the order state machine the app depends on (NOTPAY -> SUCCESS | PAYERROR |
CLOSED, SUCCESS -> REFUND) and WeChat's answers to repeated, late or malformed calls, which
is where idempotency bugs and "works in tests, fails in production" show up: every field
rule WeChat enforces is enforced here too (docs/SANDBOX.md, "Pay rules"). Payment itself is
triggered through the control API.
"""
from datetime import timedelta

from flask import Blueprint

from . import clock, ids
from .runtime import current
from .store import PAID_STATES
from .xmlproto import (MERCHANT_NO, BusinessError, check_ip, check_lengths, check_notify_url, pay_endpoint,
                       positive_int, require)

bp = Blueprint("wechat_pay", __name__)

TRADE_TYPES = ("JSAPI", "NATIVE", "APP", "MWEB")
OPEN_STATES = ("NOTPAY", "PAYERROR")  # still payable until time_expire
DEFAULT_EXPIRY = timedelta(hours=2)
MIN_EXPIRY = timedelta(minutes=1)  # "建议：最短失效时间间隔大于1分钟"; closer is refused
TOO_SOON = "time_expire时间过短，刷卡至少1分钟，其他5分钟"
# String(n) limits of unifiedorder, in UTF-8 bytes.
LIMITS = {"body": 127, "attach": 127, "out_trade_no": 32, "notify_url": 256, "spbill_create_ip": 64,
          "openid": 128, "device_info": 32, "goods_tag": 32, "product_id": 32, "fee_type": 16}
# What a repeated unifiedorder must repeat; time_start is wechatpy's "now" and time_expire may move.
SAME_ORDER = ("appid", "body", "total_fee", "trade_type", "openid", "notify_url", "attach", "fee_type", "detail")
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


def expire_if_due(order, now):
    """WeChat closes an unpaid order once its time_expire has passed; nobody can pay it after."""
    if order["status"] in OPEN_STATES and now > ids.parse_compact(order["time_expire"]):
        order.update(status="CLOSED", closed_by="expiry")
    return order


def load_order(store, **key):
    """The order by out_trade_no, transaction_id or prepay_id as of WeChat's now, or None."""
    order = store.find_order(**key)
    return expire_if_due(order, clock.now(store)) if order else None


def _reuse(order, fields, time_expire):
    """A second unifiedorder for the same out_trade_no, as WeChat answers it."""
    if any(order["request"].get(k) != fields.get(k) for k in SAME_ORDER):
        raise BusinessError("INVALID_REQUEST", "201 商户订单号重复")
    if order["status"] in PAID_STATES:
        raise BusinessError("ORDERPAID", "商户订单已支付")
    if order["status"] == "CLOSED":
        raise BusinessError("ORDERCLOSED", "订单已关闭")
    order["time_expire"] = time_expire  # re-entry may move time_expire; the latest one counts
    return _prepay_fields(order)


def _checked_order_fields(data, now):
    """unifiedorder's fields as WeChat checks them; raises ProtocolError / BusinessError."""
    require(data, "body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type")
    check_lengths(data, LIMITS)
    check_ip(data)
    if not MERCHANT_NO.fullmatch(data["out_trade_no"]):
        raise BusinessError("INVALID_REQUEST", "out_trade_no只能是数字、大小写字母_-|*@")
    total_fee = positive_int(data, "total_fee")
    if data["trade_type"] not in TRADE_TYPES:
        raise BusinessError("PARAM_ERROR", "trade_type参数错误")
    openid = data.get("openid") or data.get("sub_openid")
    if data["trade_type"] == "JSAPI" and not openid:
        raise BusinessError("PARAM_ERROR", "JSAPI支付必须传openid")
    check_notify_url(data)
    time_start = _time_field(data, "time_start", now)
    time_expire = _time_field(data, "time_expire", now + DEFAULT_EXPIRY)
    if ids.parse_compact(time_expire) - now < MIN_EXPIRY:
        raise BusinessError("PARAM_ERROR", TOO_SOON)
    fields = {k: data.get(k) for k in SAME_ORDER}
    fields.update(total_fee=total_fee, openid=openid, fee_type=data.get("fee_type", "CNY"))
    return fields, time_start, time_expire


@bp.post("/pay/unifiedorder")
@pay_endpoint("unifiedorder")
def unified_order(data):
    store = current().store
    with store.lock:
        now = clock.now(store)
        fields, time_start, time_expire = _checked_order_fields(data, now)
        existing = load_order(store, out_trade_no=data["out_trade_no"])
        if existing:
            return _reuse(existing, fields, time_expire)
        order = {
            "out_trade_no": data["out_trade_no"], "prepay_id": ids.prepay_id(), "appid": data["appid"],
            "status": "NOTPAY", "trade_type": fields["trade_type"], "total_fee": fields["total_fee"],
            "openid": fields["openid"], "body": fields["body"], "attach": fields["attach"],
            "notify_url": fields["notify_url"], "sign_type": data.get("sign_type", "MD5"),
            "time_start": time_start, "time_expire": time_expire, "closed_by": None,
            "transaction_id": None, "time_end": None, "refunds": [], "request": fields,
        }
        store.add_order(order)
        return _prepay_fields(order)


def find_order_or_fail(data, not_found="此交易订单号不存在", other_app=None):
    """The order the request names, made under the request's appid. An order of the merchant's other appid
    is not this appid's to see or touch: `other_app` (err_code, err_code_des) says how the API refuses it
    (default: as an unknown order)."""
    if not (data.get("transaction_id") or data.get("out_trade_no")):
        raise BusinessError("LACK_PARAMS", "缺少参数out_trade_no或transaction_id")
    order = load_order(current().store, out_trade_no=data.get("out_trade_no"),
                       transaction_id=data.get("transaction_id"))
    if order is None:
        raise BusinessError("ORDERNOTEXIST", not_found)
    if not same_app(order, data):
        raise BusinessError(*(other_app or ("ORDERNOTEXIST", not_found)))
    return order


def same_app(order, data):
    """Whether a request's appid is the one the order was made under (each appid's orders are its own)."""
    return order.get("appid", current().settings.app_id) == data.get("appid")


@bp.post("/pay/orderquery")
@pay_endpoint("orderquery")
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
@pay_endpoint("closeorder")
def close_order(data):
    require(data, "out_trade_no")
    store = current().store
    with store.lock:
        order = load_order(store, out_trade_no=data["out_trade_no"])
        if order is None or not same_app(order, data):
            raise BusinessError("ORDERNOTEXIST", "此交易订单号不存在")
        if order["status"] in PAID_STATES:
            raise BusinessError("ORDERPAID", "订单已支付，不能发起关单")
        if order["status"] == "CLOSED":
            raise BusinessError("ORDERCLOSED", "订单已关闭，无法重复关闭")
        order.update(status="CLOSED", closed_by="closeorder")
        return {}

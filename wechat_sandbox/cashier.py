"""WeChat's JSAPI cashier: what `wx.requestPayment` (mini-program) and `getBrandWCPayRequest` (a page in WeChat's
browser) hand the five server-signed fields to, played by `POST /sandbox/pay/jsapi` for a named test user.

It checks what WeChat's client checks before it shows the password sheet — `paySign` is the merchant's API-key
signature over appId, timeStamp, nonceStr, package and signType, and signType is the one the order's unifiedorder
was signed with; appId is the appid the prepay order was made under; the person paying is the order's openid, and a
person's openid is their own per appid — then pays exactly as `POST /sandbox/pay/confirm` does (control.take_payment:
the same notification, the same 404 / 409). Answers are what the caller's callback sees: `errMsg`
"requestPayment:ok", or "requestPayment:fail ..." with a stable `code` (and the control API's `error` object).
"""
import hmac

from flask import Blueprint, jsonify

from .control import ControlError, _json_body, take_payment
from .login import NAME, openid_for
from .runtime import current
from .xmlproto import SIGNERS, sign

bp = Blueprint("wechat_cashier", __name__, url_prefix="/sandbox")

SIGNED = ("appId", "timeStamp", "nonceStr", "package", "signType")  # what paySign covers, as WeChat documents
PREFIX = "prepay_id="


def _refused(status, code, message):
    return jsonify({"errMsg": f"requestPayment:fail {message}", "code": code,
                    "error": {"code": code, "message": message}}), status


def _fields(body):
    """The test user and the six fields, as WeChat's client reads them (strings, all of them). Raises ControlError."""
    user = body.get("user")
    if not isinstance(user, str) or not NAME.match(user):
        raise ControlError(400, "invalid_field", "'user' must be a test user name (letters, digits, _ -)")
    fields = {}
    for name in SIGNED + ("paySign",):
        value = body.get(name)
        if not isinstance(value, str) or not value:
            raise ControlError(400, "missing_field", f"parameter error: {name} must be a non-empty string")
        fields[name] = value
    if fields["signType"] not in SIGNERS:
        raise ControlError(400, "sign_type_invalid", "signType must be MD5 or HMAC-SHA256")
    if not fields["timeStamp"].isascii() or not fields["timeStamp"].isdigit():
        raise ControlError(400, "invalid_field", "parameter error: timeStamp must be seconds, as a string")
    if not fields["package"].startswith(PREFIX) or len(fields["package"]) == len(PREFIX):
        raise ControlError(400, "package_invalid", "package must be prepay_id=<the prepay_id>")
    return user, fields


def _check_pay_sign(fields):
    signed = {name: fields[name] for name in SIGNED}
    expected = sign(signed, current().settings.api_key, fields["signType"])
    if not hmac.compare_digest(fields["paySign"].encode(), expected.encode()):
        raise ControlError(400, "pay_sign_invalid", "支付验证签名失败 (paySign is not the API key's signature "
                           "over appId, timeStamp, nonceStr, package, signType)")


def _payer_check(user, app_id, sign_type):
    def check(order):
        if order["trade_type"] != "JSAPI":
            raise ControlError(400, "trade_type_invalid", f"order {order['out_trade_no']} is {order['trade_type']}, "
                               "not a JSAPI order")
        if order["sign_type"] != sign_type:  # WeChat: signType 需与统一下单的签名类型一致
            raise ControlError(400, "pay_sign_invalid", f"支付验证签名失败 (signType {sign_type} is not the "
                               f"{order['sign_type']} the order's unifiedorder was signed with)")
        if order["appid"] != app_id:
            raise ControlError(403, "appid_mismatch", f"appId {app_id} is not the appid this prepay_id was "
                               "created for")
        if openid_for(order["appid"], user) != order["openid"]:
            raise ControlError(403, "user_mismatch", f"test user {user} is not the payer of order "
                               f"{order['out_trade_no']} (the order's openid is another person's in this app)")
    return check


@bp.post("/pay/jsapi")
def pay_jsapi():
    try:
        user, fields = _fields(_json_body())
        _check_pay_sign(fields)
        paid = take_payment(fields["package"][len(PREFIX):],
                            payer_check=_payer_check(user, fields["appId"], fields["signType"]))
    except ControlError as exc:
        return _refused(exc.status, exc.code, exc.message)
    return jsonify({"errMsg": "requestPayment:ok", "out_trade_no": paid["out_trade_no"],
                    "transaction_id": paid["transaction_id"]})

"""WeChat Pay v2 refunds: /secapi/pay/refund, /pay/refundquery, and the refund notification.

Refunds are where money can leave twice, so the sandbox enforces what WeChat does:
one refund per out_refund_no however often it is sent, never more than was paid,
and the result arrives later (PROCESSING, then SUCCESS plus an encrypted notification —
or, when `/sandbox/refunds/outcome-next` says so, CHANGE or REFUNDCLOSE, which the merchant
must notice and handle by hand).
"""
import time

from flask import Blueprint

from . import clock, ids, payloads
from .pay import find_order_or_fail, same_app
from .runtime import current
from .store import PAID_STATES
from .xmlproto import (MERCHANT_NO, BusinessError, check_lengths, check_notify_url, pay_endpoint, positive_int,
                       require)

bp = Blueprint("wechat_refunds", __name__)

LIMITS = {"out_refund_no": 64, "notify_url": 256, "refund_desc": 80}
# A refund asked under the merchant's other appid than the order's (WeChat's answer, as merchants report it).
OTHER_APP = ("INVALID_REQUEST", "您的请求参数与订单信息不一致")


def _reply(refund):
    return {
        "transaction_id": refund["transaction_id"], "out_trade_no": refund["out_trade_no"],
        "out_refund_no": refund["out_refund_no"], "refund_id": refund["refund_id"],
        "refund_fee": refund["refund_fee"], "settlement_refund_fee": refund["refund_fee"],
        "total_fee": refund["total_fee"], "cash_fee": refund["total_fee"],
        "cash_refund_fee": refund["refund_fee"], "refund_channel": "ORIGINAL",
    }


@bp.post("/secapi/pay/refund")
@pay_endpoint("refund")
def refund(data):
    sandbox = current()
    require(data, "out_refund_no", "total_fee", "refund_fee")
    check_lengths(data, LIMITS)
    if not MERCHANT_NO.fullmatch(data["out_refund_no"]):
        raise BusinessError("PARAM_ERROR", "out_refund_no只能是数字、大小写字母_-|*@")
    check_notify_url(data)
    total_fee, refund_fee = positive_int(data, "total_fee"), positive_int(data, "refund_fee")
    with sandbox.store.lock:
        order = find_order_or_fail(data, not_found="订单号不存在", other_app=OTHER_APP)
        existing = sandbox.store.refunds.get(data["out_refund_no"])
        if existing:
            if (existing["out_trade_no"], existing["refund_fee"], existing["total_fee"]) != (
                    order["out_trade_no"], refund_fee, total_fee):
                raise BusinessError("REFUND_FEE_MISMATCH", "订单金额或退款金额与之前请求不一致，请核实后再试")
            return _reply(existing)  # same out_refund_no: same refund, nothing moves
        if order["status"] not in PAID_STATES:  # "未支付的订单不能发起退款"
            raise BusinessError("ORDERNOTEXIST", "订单号不存在")
        if total_fee != order["total_fee"]:
            raise BusinessError("INVALID_REQUEST", "订单金额total_fee与实际支付金额不一致")
        if refund_fee > order["total_fee"] - sandbox.store.refunded_total(order["out_trade_no"]):
            raise BusinessError("ERROR", "累计退款金额大于支付金额")
        record = {
            "out_refund_no": data["out_refund_no"], "refund_id": ids.refund_id(), "appid": order["appid"],
            "out_trade_no": order["out_trade_no"], "transaction_id": order["transaction_id"],
            "total_fee": total_fee, "refund_fee": refund_fee, "status": "PROCESSING",
            "ending": sandbox.store.take_next("outcome:refund") or "SUCCESS",
            "refund_account": data.get("refund_account", "REFUND_SOURCE_UNSETTLED_FUNDS"),
            "refund_desc": data.get("refund_desc"), "notify_url": data.get("notify_url"),
            "created_at": ids.spaced(clock.now(sandbox.store)), "success_time": None,
        }
        sandbox.store.add_refund(record)
        order["status"] = "REFUND"
    sandbox.notifier.later(sandbox.settings.refund_delay_s,
                           lambda: complete_refund(sandbox, record["out_refund_no"]))
    hold = sandbox.store.take_next("hold:refund")
    if hold:  # accepted and recorded, but the answer is slow: the caller may die before it hears
        time.sleep(hold)
    return _reply(record)


def complete_refund(sandbox, out_refund_no):
    """PROCESSING -> its ending (SUCCESS, or CHANGE / REFUNDCLOSE when forced), then notify (only
    if the request gave a notify_url). Only a successful refund has a success_time."""
    with sandbox.store.lock:
        record = sandbox.store.refunds.get(out_refund_no)
        if record is None or record["status"] != "PROCESSING":
            return
        ending = record.get("ending", "SUCCESS")
        record.update(status=ending, success_time=ids.spaced(clock.now(sandbox.store))
                      if ending == "SUCCESS" else None)
        body = payloads.refund_notify(record, sandbox.settings)
    if record["notify_url"]:
        sandbox.notifier.deliver("refund", record["notify_url"], body,
                                 record["out_trade_no"], out_refund_no)


def _find_refunds(data):
    store = current().store
    if data.get("refund_id"):
        return [r for r in store.refunds.values() if r["refund_id"] == data["refund_id"]]
    if data.get("out_refund_no"):
        found = store.refunds.get(data["out_refund_no"])
        return [found] if found else []
    if not (data.get("transaction_id") or data.get("out_trade_no")):
        raise BusinessError("LACK_PARAMS", "缺少参数refund_id、out_refund_no、transaction_id或out_trade_no")
    order = store.find_order(out_trade_no=data.get("out_trade_no"), transaction_id=data.get("transaction_id"))
    return store.refunds_of(order["out_trade_no"]) if order else []


def _this_apps(refunds, data):
    """Refunds of orders made under the request's appid: another appid's are not found (REFUNDNOTEXIST)."""
    store = current().store
    return [r for r in refunds if same_app(store.orders[r["out_trade_no"]], data)]


@bp.post("/pay/refundquery")
@pay_endpoint("refundquery")
def refund_query(data):
    with current().store.lock:
        refunds = _this_apps(_find_refunds(data), data)
        if not refunds:
            raise BusinessError("REFUNDNOTEXIST", "退款订单查询失败")
        first = refunds[0]
        fields = {
            "transaction_id": first["transaction_id"], "out_trade_no": first["out_trade_no"],
            "total_fee": first["total_fee"], "cash_fee": first["total_fee"],
            "refund_count": len(refunds),
        }
        for n, r in enumerate(refunds):
            fields.update({
                f"out_refund_no_{n}": r["out_refund_no"], f"refund_id_{n}": r["refund_id"],
                f"refund_channel_{n}": "ORIGINAL", f"refund_fee_{n}": r["refund_fee"],
                f"settlement_refund_fee_{n}": r["refund_fee"], f"refund_status_{n}": r["status"],
                f"refund_account_{n}": r["refund_account"],
                f"refund_recv_accout_{n}": "支付用户零钱",
                f"refund_success_time_{n}": r["success_time"],
            })
        return fields

"""WeChat Pay v2 refunds: /secapi/pay/refund, /pay/refundquery, and the refund notification.

Refunds are where money can leave twice, so the sandbox enforces what WeChat does:
one refund per out_refund_no however often it is sent, never more than was paid,
and the result arrives later (PROCESSING, then SUCCESS plus an encrypted notification).
"""
import time

from flask import Blueprint

from . import ids, payloads
from .pay import find_order_or_fail
from .runtime import current
from .store import PAID_STATES
from .xmlproto import BusinessError, pay_endpoint, positive_int, require

bp = Blueprint("wechat_refunds", __name__)

FORCED_ERROR_DES = {
    "NOTENOUGH": "基本账户余额不足，请充值后重新发起",
    "SYSTEMERROR": "系统超时，请使用相同参数再次调用",
    "BIZERR_NEED_RETRY": "退款业务流程错误，需要商户触发重试来解决",
    "FREQUENCY_LIMITED": "频率限制",
}


def _reply(refund):
    return {
        "transaction_id": refund["transaction_id"], "out_trade_no": refund["out_trade_no"],
        "out_refund_no": refund["out_refund_no"], "refund_id": refund["refund_id"],
        "refund_fee": refund["refund_fee"], "settlement_refund_fee": refund["refund_fee"],
        "total_fee": refund["total_fee"], "cash_fee": refund["total_fee"],
        "cash_refund_fee": refund["refund_fee"], "refund_channel": "ORIGINAL",
    }


@bp.post("/secapi/pay/refund")
@pay_endpoint
def refund(data):
    sandbox = current()
    forced = sandbox.store.take_refund_failure()
    if forced:
        raise BusinessError(forced, FORCED_ERROR_DES.get(forced, "sandbox: forced refund failure"))
    require(data, "out_refund_no", "total_fee", "refund_fee")
    total_fee, refund_fee = positive_int(data, "total_fee"), positive_int(data, "refund_fee")
    with sandbox.store.lock:
        order = find_order_or_fail(data)
        existing = sandbox.store.refunds.get(data["out_refund_no"])
        if existing:
            if (existing["out_trade_no"], existing["refund_fee"], existing["total_fee"]) != (
                    order["out_trade_no"], refund_fee, total_fee):
                raise BusinessError("INVALID_REQUEST",
                                    "订单金额或退款金额与之前请求不一致，请核实后再试")
            return _reply(existing)  # same out_refund_no: same refund, nothing moves
        if order["status"] not in PAID_STATES:
            raise BusinessError("TRADE_STATE_ERROR", "订单状态错误，未支付的订单不能退款")
        if total_fee != order["total_fee"]:
            raise BusinessError("PARAM_ERROR", "订单金额total_fee与实际支付金额不一致")
        if refund_fee > order["total_fee"] - sandbox.store.refunded_total(order["out_trade_no"]):
            raise BusinessError("ERROR", "累计退款金额大于支付金额")
        record = {
            "out_refund_no": data["out_refund_no"], "refund_id": ids.refund_id(),
            "out_trade_no": order["out_trade_no"], "transaction_id": order["transaction_id"],
            "total_fee": total_fee, "refund_fee": refund_fee, "status": "PROCESSING",
            "refund_account": data.get("refund_account", "REFUND_SOURCE_UNSETTLED_FUNDS"),
            "refund_desc": data.get("refund_desc"), "notify_url": data.get("notify_url"),
            "created_at": ids.spaced(ids.now()), "success_time": None,
        }
        sandbox.store.add_refund(record)
        order["status"] = "REFUND"
    sandbox.notifier.later(sandbox.settings.refund_delay_s,
                           lambda: complete_refund(sandbox, record["out_refund_no"]))
    hold = sandbox.store.take_refund_hold()
    if hold:  # accepted and recorded, but the answer is slow: the caller may die before it hears
        time.sleep(hold)
    return _reply(record)


def complete_refund(sandbox, out_refund_no):
    """PROCESSING -> SUCCESS, then notify (only if the request gave a notify_url)."""
    with sandbox.store.lock:
        record = sandbox.store.refunds.get(out_refund_no)
        if record is None or record["status"] != "PROCESSING":
            return
        record.update(status="SUCCESS", success_time=ids.spaced(ids.now()))
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
    return store.refunds_of(find_order_or_fail(data)["out_trade_no"])


@bp.post("/pay/refundquery")
@pay_endpoint
def refund_query(data):
    with current().store.lock:
        refunds = _find_refunds(data)
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

"""The /sandbox/* control API: JSON endpoints that act as the paying user and the operator.

Real WeChat is driven by a person tapping "pay" in the client; tests and the demo do it
here instead, and inspect what the sandbox stored and delivered.
"""
from flask import Blueprint, jsonify, request

from . import ids, payloads
from .runtime import current
from .store import PAID_STATES

bp = Blueprint("sandbox_control", __name__, url_prefix="/sandbox")


class ControlError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status, code, message):
    return jsonify({"error": {"code": code, "message": message}}), status


@bp.errorhandler(ControlError)
def _control_error(exc):
    return error_response(exc.status, exc.code, exc.message)


def _json_body():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ControlError(400, "invalid_json", "request body must be a JSON object")
    return body


def _text(body, name):
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError(400, "missing_field", f"'{name}' is required and must be a string")
    return value


def _order_by_prepay(prepay_id):
    order = current().store.find_order(prepay_id=prepay_id)
    if order is None:
        raise ControlError(404, "order_not_found", f"no order with prepay_id {prepay_id}")
    return order


def _check_open(order):
    if order["status"] in PAID_STATES:
        raise ControlError(409, "order_paid", f"order {order['out_trade_no']} is already paid")
    if order["status"] == "CLOSED":
        raise ControlError(409, "order_closed", f"order {order['out_trade_no']} is closed")


@bp.post("/pay/confirm")
def confirm_payment():
    body = _json_body()
    prepay_id = _text(body, "prepay_id")
    delay_s = body.get("notify_delay_s", 0)  # the notification is slow to arrive (late-notify tests)
    if not isinstance(delay_s, (int, float)) or isinstance(delay_s, bool) or not 0 <= delay_s <= 3600:
        raise ControlError(400, "invalid_field", "notify_delay_s must be a number of seconds from 0 to 3600")
    sandbox = current()
    with sandbox.store.lock:
        order = _order_by_prepay(prepay_id)
        _check_open(order)
        now = ids.now()
        if body.get("ignore_expiry") is not True and now > ids.parse_compact(order["time_expire"]):
            raise ControlError(409, "order_expired",
                               f"order expired at {order['time_expire']} (China time)")
        order.update(status="SUCCESS", transaction_id=ids.transaction_id(), time_end=ids.compact(now))
        sandbox.store.index_transaction(order)
        notification = payloads.payment_notify(order, sandbox.settings)
        result = {k: order[k] for k in ("out_trade_no", "transaction_id", "total_fee")}
        url = order["notify_url"]
    delivery = sandbox.notifier.deliver("payment", url, notification, result["out_trade_no"],
                                        delay_s=float(delay_s))
    return jsonify({**result, "delivery_id": delivery["id"]})


@bp.post("/pay/fail")
def fail_payment():
    prepay_id = _text(_json_body(), "prepay_id")
    with current().store.lock:
        order = _order_by_prepay(prepay_id)
        _check_open(order)
        order["status"] = "PAYERROR"  # WeChat sends no notification for this
        return jsonify({"out_trade_no": order["out_trade_no"], "status": order["status"]})


@bp.post("/notify/replay")
def replay_notification():
    out_trade_no = _text(_json_body(), "out_trade_no")
    sandbox = current()
    with sandbox.store.lock:
        order = sandbox.store.find_order(out_trade_no=out_trade_no)
        if order is None:
            raise ControlError(404, "order_not_found", f"no order {out_trade_no}")
        if order["status"] not in PAID_STATES:
            raise ControlError(409, "order_not_paid", f"order {out_trade_no} is {order['status']}")
        notification = payloads.payment_notify(order, sandbox.settings)
        url = order["notify_url"]
    return jsonify(sandbox.notifier.deliver_now("payment", url, notification, out_trade_no))


@bp.post("/refunds/fail-next")
def fail_next_refunds():
    body = _json_body()
    count = body.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ControlError(400, "invalid_field", "'count' must be a non-negative integer")
    err_code = body.get("err_code", "SYSTEMERROR")
    if not isinstance(err_code, str) or not err_code:
        raise ControlError(400, "invalid_field", "'err_code' must be a non-empty string")
    current().store.set_refund_failures(count, err_code)
    return jsonify({"count": count, "err_code": err_code})


@bp.post("/refunds/hold-next")
def hold_next_refunds():
    """The next `count` refund calls are carried out but answered only after `seconds`."""
    body = _json_body()
    count, seconds = body.get("count"), body.get("seconds", 5)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ControlError(400, "invalid_field", "'count' must be a non-negative integer")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 120:
        raise ControlError(400, "invalid_field", "'seconds' must be a number from 0 to 120")
    current().store.set_refund_holds(count, float(seconds))
    return jsonify({"count": count, "seconds": seconds})


@bp.get("/orders/<out_trade_no>")
def get_order(out_trade_no):
    store = current().store
    with store.lock:
        order = store.find_order(out_trade_no=out_trade_no)
        if order is None:
            raise ControlError(404, "order_not_found", f"no order {out_trade_no}")
        return jsonify(store.order_view(order))


@bp.get("/refunds")
def list_refunds():
    store = current().store
    wanted = request.args.get("out_trade_no")
    with store.lock:
        refunds = store.refunds_of(wanted) if wanted else store.refunds.values()
        return jsonify({"refunds": store.snapshot(refunds)})


@bp.get("/deliveries")
def list_deliveries():
    store = current().store
    wanted = request.args.get("out_trade_no")
    with store.lock:
        found = [d for d in store.deliveries if not wanted or d["out_trade_no"] == wanted]
        return jsonify({"deliveries": store.snapshot(found)})


@bp.post("/reset")
def reset():
    sandbox = current()
    sandbox.store.reset()
    sandbox.messages.__init__()
    return jsonify({"ok": True})


@bp.get("/healthz")
def healthz():
    return jsonify({"ok": True})

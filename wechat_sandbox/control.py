"""The /sandbox/* control API: JSON endpoints that act as the paying user and the operator.

Real WeChat is driven by a person tapping "pay" in the client; tests and the demo do it
here instead, and inspect what the sandbox stored and delivered.
"""
from flask import Blueprint, jsonify, request

from . import clock, ids, payloads
from .codes import FORCIBLE, REFUND_ENDINGS
from .pay import load_order
from .runtime import current
from .store import PAID_STATES

bp = Blueprint("sandbox_control", __name__, url_prefix="/sandbox")


class ControlError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status, code, message):
    return jsonify({"error": {"code": code, "message": message}}), status


def control_error(exc):
    """The answer to a ControlError raised by any /sandbox/* route (registered on the app)."""
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


def _count(body):
    count = body.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ControlError(400, "invalid_field", "'count' must be a non-negative integer")
    return count


def _seconds(body, name, low, high):
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ControlError(400, "invalid_field", f"'{name}' must be a number of seconds from {low} to {high}")
    return float(value)


def _order_by_prepay(prepay_id):
    order = load_order(current().store, prepay_id=prepay_id)
    if order is None:
        raise ControlError(404, "order_not_found", f"no order with prepay_id {prepay_id}")
    return order


def _check_open(order):
    """What WeChat's cashier says to a payer: a paid, closed or expired order cannot be paid."""
    if order["status"] in PAID_STATES:
        raise ControlError(409, "order_paid", f"order {order['out_trade_no']} is already paid")
    if order.get("closed_by") == "expiry":
        raise ControlError(409, "order_expired", f"order expired at {order['time_expire']} (China time)")
    if order["status"] == "CLOSED":
        raise ControlError(409, "order_closed", f"order {order['out_trade_no']} is closed")


@bp.post("/pay/confirm")
def confirm_payment():
    body = _json_body()
    prepay_id = _text(body, "prepay_id")
    if "ignore_expiry" in body:
        raise ControlError(400, "invalid_field", "WeChat's cashier cannot pay an expired order; to make a "
                           "payment's notification arrive late, use notify_delay_s")
    delay_s = _seconds(body, "notify_delay_s", 0, 3600) if "notify_delay_s" in body else 0.0
    return jsonify(take_payment(prepay_id, delay_s))


def take_payment(prepay_id, delay_s=0.0, payer_check=None):
    """The user pays the order of `prepay_id`: SUCCESS with a new transaction_id and time_end (WeChat's
    clock), then the payment notification. Every cashier comes through here (`/sandbox/pay/confirm`, the
    JSAPI cashier in cashier.py). `payer_check(order)`, run under the lock once the order is found, may
    refuse the payer (raising). Raises ControlError 404 / 409."""
    sandbox = current()
    with sandbox.store.lock:
        order = _order_by_prepay(prepay_id)
        if payer_check:
            payer_check(order)
        _check_open(order)
        now = clock.now(sandbox.store)
        order.update(status="SUCCESS", transaction_id=ids.transaction_id(), time_end=ids.compact(now))
        sandbox.store.index_transaction(order)
        notification = payloads.payment_notify(order, sandbox.settings)
        result = {k: order[k] for k in ("out_trade_no", "transaction_id", "total_fee")}
        url = order["notify_url"]
    delivery = sandbox.notifier.deliver("payment", url, notification, result["out_trade_no"],
                                        delay_s=float(delay_s))
    return {**result, "delivery_id": delivery["id"]}


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


def _fail_next(api, body):
    count = _count(body)
    err_code = body.get("err_code", "SYSTEMERROR")
    if not isinstance(err_code, str) or err_code not in FORCIBLE[api]:
        raise ControlError(400, "invalid_field", f"WeChat documents these err_code for {api}: "
                           + ", ".join(FORCIBLE[api]))
    current().store.set_next(f"fail:{api}", count, err_code)
    return jsonify({"api": api, "count": count, "err_code": err_code, "err_code_des": FORCIBLE[api][err_code]})


@bp.post("/pay/fail-next")
def fail_next():
    """The next `count` authenticated calls of `api` answer result_code FAIL with `err_code`."""
    body = _json_body()
    api = body.get("api")
    if not isinstance(api, str) or api not in FORCIBLE:
        raise ControlError(400, "invalid_field", "'api' must be one of " + ", ".join(FORCIBLE))
    return _fail_next(api, body)


@bp.post("/refunds/fail-next")
def fail_next_refunds():
    """Short for /sandbox/pay/fail-next with api "refund"."""
    return _fail_next("refund", _json_body())


@bp.post("/refunds/outcome-next")
def refund_outcome_next():
    """The next `count` accepted refunds end in `refund_status` (CHANGE or REFUNDCLOSE) instead of
    SUCCESS, in their notification and in refundquery."""
    body = _json_body()
    count, ending = _count(body), body.get("refund_status", "CHANGE")
    if not isinstance(ending, str) or ending not in REFUND_ENDINGS:
        raise ControlError(400, "invalid_field", "'refund_status' must be one of " + ", ".join(REFUND_ENDINGS))
    current().store.set_next("outcome:refund", count, ending)
    return jsonify({"count": count, "refund_status": ending})


@bp.post("/refunds/hold-next")
def hold_next_refunds():
    """The next `count` refund calls are carried out but answered only after `seconds`."""
    body = _json_body()
    count = _count(body)
    seconds = _seconds(body, "seconds", 0, 120) if "seconds" in body else 5.0
    current().store.set_next("hold:refund", count, seconds)
    return jsonify({"count": count, "seconds": seconds})


@bp.route("/clock", methods=["GET", "POST"])
def pay_clock():
    """WeChat Pay's clock: POST {"advance_s": N} moves it forward, {"offset_s": N} sets its lead
    over the wall clock (0 puts it back). Expiry happens by moving it, never by sleeping."""
    store = current().store
    if request.method == "POST":
        body = _json_body()
        if ("advance_s" in body) == ("offset_s" in body):
            raise ControlError(400, "invalid_field", "give exactly one of 'advance_s' or 'offset_s'")
        with store.lock:
            if "advance_s" in body:
                offset = store.clock_offset_s + _seconds(body, "advance_s", 0, clock.MAX_OFFSET_S)
            else:
                offset = _seconds(body, "offset_s", 0, clock.MAX_OFFSET_S)
            if offset > clock.MAX_OFFSET_S:
                raise ControlError(400, "invalid_field", f"the clock runs at most {clock.MAX_OFFSET_S} s ahead")
            store.clock_offset_s = offset
    with store.lock:
        return jsonify({"offset_s": store.clock_offset_s, "now": ids.compact(clock.now(store))})


@bp.get("/orders/<out_trade_no>")
def get_order(out_trade_no):
    store = current().store
    with store.lock:
        order = load_order(store, out_trade_no=out_trade_no)
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
    sandbox.tokens.reset()  # the JSON API's memory (api_state.py) too
    sandbox.login_codes.reset()
    sandbox.open_platform.reset()
    sandbox.messages.__init__()
    return jsonify({"ok": True})


@bp.get("/healthz")
def healthz():
    return jsonify({"ok": True})

"""In-memory state of the sandbox, guarded by one lock.

Request threads and notification threads both read and write orders, refunds and
the delivery log; a single re-entrant lock keeps every multi-step change atomic
(callers hold `store.lock` around read-check-write sequences).
"""
import copy
import itertools
import threading

from . import ids

PAID_STATES = ("SUCCESS", "REFUND")


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self._delivery_ids = itertools.count(1)
        self.reset()

    def reset(self):
        with self.lock:
            self.orders = {}          # out_trade_no -> order dict
            self._by_prepay = {}      # prepay_id -> out_trade_no
            self._by_transaction = {}  # transaction_id -> out_trade_no
            self.refunds = {}         # out_refund_no -> refund dict
            self.deliveries = []      # notification delivery log, oldest first
            self.switches = {}        # name -> {"count", "value"}: the next N calls of an API behave so
            self.clock_offset_s = 0.0  # WeChat Pay's clock runs this far ahead of ours (clock.py)

    # orders
    def add_order(self, order):
        with self.lock:
            self.orders[order["out_trade_no"]] = order
            self._by_prepay[order["prepay_id"]] = order["out_trade_no"]

    def index_transaction(self, order):
        with self.lock:
            self._by_transaction[order["transaction_id"]] = order["out_trade_no"]

    def find_order(self, out_trade_no=None, transaction_id=None, prepay_id=None):
        """WeChat's precedence: transaction_id wins over out_trade_no."""
        with self.lock:
            if transaction_id:
                out_trade_no = self._by_transaction.get(transaction_id)
            elif prepay_id:
                out_trade_no = self._by_prepay.get(prepay_id)
            return self.orders.get(out_trade_no) if out_trade_no else None

    def order_view(self, order):
        """A JSON-ready copy with the refunds expanded."""
        with self.lock:
            view = copy.deepcopy(order)
            view["refunds"] = [copy.deepcopy(self.refunds[n]) for n in order["refunds"]]
            return view

    # refunds
    def add_refund(self, refund):
        with self.lock:
            self.refunds[refund["out_refund_no"]] = refund
            self.orders[refund["out_trade_no"]]["refunds"].append(refund["out_refund_no"])

    def refunds_of(self, out_trade_no):
        with self.lock:
            order = self.orders.get(out_trade_no)
            return [self.refunds[n] for n in order["refunds"]] if order else []

    def refunded_total(self, out_trade_no):
        """Money gone back or on its way; a closed refund (REFUNDCLOSE) returned nothing."""
        with self.lock:
            return sum(r["refund_fee"] for r in self.refunds_of(out_trade_no) if r["status"] != "REFUNDCLOSE")

    # control switches: "the next N calls of X behave so" (fail with a code, answer late, end in CHANGE)
    def set_next(self, name, count, value):
        with self.lock:
            self.switches[name] = {"count": count, "value": value}

    def take_next(self, name):
        """The value set for this call of `name` (counting one down), or None."""
        with self.lock:
            switch = self.switches.get(name)
            if not switch or switch["count"] <= 0:
                return None
            switch["count"] -= 1
            return switch["value"]

    # delivery log
    def add_delivery(self, kind, url, out_trade_no, out_refund_no=None, replay=False):
        record = {
            "id": next(self._delivery_ids), "kind": kind, "url": url,
            "out_trade_no": out_trade_no, "out_refund_no": out_refund_no, "replay": replay,
            "attempts": 0, "last_status": None, "last_body": None, "last_error": None,
            "delivered": False, "gave_up": False, "created_at": ids.spaced(ids.now()),
            "last_attempt_at": None,
        }
        with self.lock:
            self.deliveries.append(record)
        return record

    def update_delivery(self, record, **changes):
        with self.lock:
            record.update(changes)

    def snapshot(self, items):
        with self.lock:
            return copy.deepcopy(list(items))

"""Stand-ins for the domain's ports in domain-level tests (the e2e tests use the real sandbox)."""
import itertools

from groupbuy import refunds, settlement
from groupbuy.ports import GatewayError, Prepay, RefundAccepted


class RecordingGateway:
    """A PaymentGateway that remembers every call and can be told to fail."""

    def __init__(self):
        self.prepays, self.refunds, self.closed = [], [], []
        self.fail_prepay = False
        self.fail_refunds = 0
        self._ids = itertools.count(1)

    def create_prepay(self, *, out_trade_no, amount_fen, description, openid, expires_at, client_ip):
        if self.fail_prepay:
            raise GatewayError('SYSTEMERROR', code='SYSTEMERROR')
        prepay_id = f'wx_prepay_{next(self._ids)}'
        self.prepays.append({'out_trade_no': out_trade_no, 'amount_fen': amount_fen, 'prepay_id': prepay_id})
        return Prepay(prepay_id=prepay_id, pay_params={'package': f'prepay_id={prepay_id}'})

    def close_order(self, out_trade_no):
        self.closed.append(out_trade_no)

    def refund(self, *, out_trade_no, out_refund_no, total_fen, refund_fen):
        if self.fail_refunds:
            self.fail_refunds -= 1
            raise GatewayError('NOTENOUGH', code='NOTENOUGH')
        self.refunds.append({'out_trade_no': out_trade_no, 'out_refund_no': out_refund_no,
                             'refund_fen': refund_fen})
        return RefundAccepted(refund_id=f'rf_{out_refund_no}')


class RecordingQueue:
    """`enqueue` that records jobs; `run()` executes them like a worker would, until none are left."""

    HANDLERS = {
        'settle_group': settlement.settle_group,
        'release_seat': settlement.release_seat,
        'refund_order': refunds.refund_order,
        'close_payment': refunds.close_payment,
    }

    def __init__(self):
        self.pending, self.done = [], []
        self.deps = None

    def bind(self, deps):
        self.deps = deps

    def enqueue(self, name, *args):
        self.pending.append((name, args))

    def run(self) -> list:
        results = []
        while self.pending:
            name, args = self.pending.pop(0)
            try:
                results.append((name, args, self.HANDLERS[name](self.deps, *args)))
            except refunds.RefundFailed as exc:
                results.append((name, args, exc))
            self.done.append((name, args))
        return results

    def names(self) -> list[str]:
        return [n for n, _ in self.pending]

"""Stand-ins for the domain's ports in domain-level tests (the e2e tests use the real sandbox)."""
import itertools

import jobs.tasks  # noqa: F401  (registers the adapter jobs, so enqueue knows every catalogued name)
from groupbuy import job_catalogue
from groupbuy.ports import (MINIAPP, OFFICIAL_ACCOUNT, GatewayError, MessengerError, OrderStatus, Prepay,
                            RefundAccepted, RefundStatus)
from wechat_sandbox.credentials import DEFAULT_APP_ID, DEFAULT_OA_APP_ID


class RecordingGateway:
    """A PaymentGateway that remembers every call and can be told to fail."""

    def __init__(self):
        self.prepays, self.refunds, self.closed = [], [], []
        self.fail_prepay = False
        self.fail_refunds = 0
        self.refund_status = 'PROCESSING'
        self.paid_orders = {}  # out_trade_no -> naive UTC time WeChat took the money (orderquery's time_end)
        self.paid_while_closing = {}  # the payer pays between our orderquery and our closeorder
        self.fail_queries = False
        self._ids = itertools.count(1)

    def create_prepay(self, *, out_trade_no, amount_fen, description, openid, expires_at, client_ip, door='miniapp'):
        if self.fail_prepay:
            raise GatewayError('SYSTEMERROR', code='SYSTEMERROR')
        prepay_id = f'wx_prepay_{next(self._ids)}'
        self.prepays.append({'out_trade_no': out_trade_no, 'amount_fen': amount_fen, 'prepay_id': prepay_id,
                             'openid': openid, 'door': door})
        appid = {MINIAPP: DEFAULT_APP_ID, OFFICIAL_ACCOUNT: DEFAULT_OA_APP_ID}[door]  # the apps' own (`flask audit`)
        return Prepay(prepay_id=prepay_id, pay_params={'package': f'prepay_id={prepay_id}'}, appid=appid)

    def pay(self, order, at, while_closing=False):
        """The payer paid `order` at WeChat at `at` (its notification may come later, or never);
        `while_closing`: orderquery still says NOTPAY, closeorder then answers ORDERPAID."""
        (self.paid_while_closing if while_closing else self.paid_orders)[order.out_trade_no] = (at, order.amount_fen)

    def query_order(self, out_trade_no, appid=None):
        if self.fail_queries:
            raise GatewayError('SYSTEMERROR', code='SYSTEMERROR')
        if out_trade_no in self.paid_orders:
            at, amount = self.paid_orders[out_trade_no]
            return OrderStatus('SUCCESS', f'tx_{out_trade_no}', amount, at)
        return OrderStatus('CLOSED' if out_trade_no in self.closed else 'NOTPAY')

    def close_order(self, out_trade_no, appid=None):
        if out_trade_no in self.paid_while_closing:
            self.paid_orders[out_trade_no] = self.paid_while_closing.pop(out_trade_no)
        if out_trade_no in self.paid_orders:
            return 'paid'
        self.closed.append(out_trade_no)
        return 'closed'

    def refund(self, *, out_trade_no, out_refund_no, total_fen, refund_fen, appid=None):
        if self.fail_refunds:
            self.fail_refunds -= 1
            raise GatewayError('NOTENOUGH', code='NOTENOUGH')
        self.refunds.append({'out_trade_no': out_trade_no, 'out_refund_no': out_refund_no,
                             'refund_fen': refund_fen})
        return RefundAccepted(refund_id=f'rf_{out_refund_no}')

    def query_refund(self, out_refund_no, appid=None):
        return RefundStatus(self.refund_status, f'rf_{out_refund_no}')


class RecordingMessenger:
    """A Messenger that keeps what it sent per channel; `refuse`/`fail` make channels say no."""

    def __init__(self):
        self.sent = []
        self.refuse = set()  # channels that cannot reach anyone (e.g. {'subscribe'})
        self.fail = 0  # the next N pushes fail for a passing reason

    def subscribe_template(self, kind):
        return f'tpl-{kind}'

    def _send(self, channel, to, kind, params):
        if self.fail:
            self.fail -= 1
            raise MessengerError('system busy', code='-1')
        if channel in self.refuse:
            raise MessengerError('refused', code='43101', refused=True)
        self.sent.append((channel, to, kind, params))

    def send_subscribe(self, openid, kind, params):
        self._send('subscribe', openid, kind, params)

    def send_oa_template(self, oa_openid, kind, params):
        self._send('oa_template', oa_openid, kind, params)

    def send_sms(self, phone, kind, params):
        self._send('sms', phone, kind, params)


class RecordingQueue:
    """`enqueue` that records jobs; `run()` executes them like a worker would, until none are left.
    Both read the job catalogue: a name it lacks fails here as it would in the real queue. Adapter jobs
    (the bot's) are recorded, never run: they need WeChat clients."""

    HANDLERS = {job.name: job.load() for job in job_catalogue.domain_jobs()}
    RETRYABLE = tuple({job.retry.exception() for job in job_catalogue.domain_jobs() if job.retry})

    def __init__(self):
        self.pending, self.done = [], []
        self.deps = None

    def bind(self, deps):
        self.deps = deps

    def enqueue(self, name, *args):
        job_catalogue.get(name)  # KeyError for a job the catalogue lacks
        self.pending.append((name, args))

    def run(self, only=None) -> list:
        for name in only or ():
            job_catalogue.get(name)
        results, later = [], []
        while self.pending:
            name, args = self.pending.pop(0)
            if only and name not in only:
                later.append((name, args))
                continue
            try:
                results.append((name, args, self.HANDLERS[name](self.deps, *args)))
            except self.RETRYABLE as exc:
                results.append((name, args, exc))
            self.done.append((name, args))
        self.pending = later
        return results

    def names(self) -> list[str]:
        return [n for n, _ in self.pending]

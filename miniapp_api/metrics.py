"""Prometheus metrics, and `GET /metrics`: the numbers of every process on this host in one scrape.

gunicorn runs several worker processes, and the RQ workers and the scheduler are processes of their own:
each writes what it counts to its own files in PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess
mode; `config.settings.export_metrics_dir` names the directory before the first metric is made), and a
scrape sums them. Two numbers are read at scrape time instead: how many jobs wait in each RQ queue (Redis)
and how many refunds wait for an operator (the database), so they are right whichever process changed them.

Metrics are read by the operators' Prometheus, not the public: they tell business numbers. Addresses in
METRICS_NETWORKS (loopback and private networks by default) may read them; anyone else needs the ADMIN_TOKEN.
"""
import functools
import ipaddress
import logging

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from groupbuy import refunds

from .auth import admin_required
from .runtime import runtime

log = logging.getLogger(__name__)
bp = Blueprint('metrics', __name__)

JOINS = Counter('pinke_joins', 'POST /api/groups/<code>/join answers: HTTP status and error code (ok when joined)',
                ['status', 'code'])
SEAT_VERDICTS = Counter('pinke_seat_verdicts', "The Redis seat ledger's verdicts on seat reservations (a join "
                        "retries after unknown or a stale closed)", ['verdict'])
LIVE_STREAMS = Gauge('pinke_live_streams_open', 'Live event streams open now: group pages and live rooms', ['kind'],
                     multiprocess_mode='livesum')
VERDICTS = ('ok', 'full', 'already', 'closed', 'unknown')
PROXY_HEADERS = ('X-Forwarded-For', 'Forwarded', 'X-Real-Ip')


def init_app(app) -> None:
    """What `GET /metrics` (`bp`, registered with the other routes) answers; the joins and the seat ledger's
    verdicts counted. Refuses to start when prometheus_client was imported before the directory was named:
    each process would count alone."""
    if not getattr(values.ValueClass, '_multiprocess', False):
        raise RuntimeError('prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set: '
                           'import it only after wsgi.create_app (or set the variable first)')
    rt = app.extensions['pinke']
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=rt.settings.prometheus_multiproc_dir)
    registry.register(QueueDepths(rt.queues))
    registry.register(RefundsNeedingAttention())
    app.extensions['pinke_metrics'] = registry
    rt.deps.ledger = CountedLedger(rt.deps.ledger)
    app.after_request(count_join)


def count_join(response):
    if request.endpoint == 'groups.join_group':
        code = 'ok'
        if response.status_code >= 400:
            body = response.get_json(silent=True)
            code = body['error'].get('code', 'none') if isinstance(body, dict) and isinstance(
                body.get('error'), dict) else 'none'
        _counter(JOINS, str(response.status_code), code).inc()
    return response


@functools.cache
def _counter(metric, *labels):
    """A labelled child, looked up once: the join's hot path pays for the increment only."""
    return metric.labels(*labels)


def stream_opened(topic: str):
    """Counts a live stream open (call `.dec()` on the answer when it ends)."""
    gauge = LIVE_STREAMS.labels('room' if topic.startswith('room:') else 'group')
    gauge.inc()
    return gauge


class CountedLedger:
    """The seat ledger, counting the verdict of each reservation: how a flash sale's seats go (full,
    already, ...) beside the joins' answers. Everything else passes through."""

    def __init__(self, ledger):
        self._ledger = ledger

    def __getattr__(self, name):
        return getattr(self._ledger, name)

    def reserve(self, *args, **kwargs) -> str:
        verdict = self._ledger.reserve(*args, **kwargs)
        _counter(SEAT_VERDICTS, verdict).inc()
        return verdict


class QueueDepths:
    """Jobs waiting in each RQ queue, read from Redis at scrape."""

    def __init__(self, queues):
        self.queues = queues

    def collect(self):
        family = GaugeMetricFamily('pinke_queue_depth', 'Jobs waiting in each RQ queue', labels=['queue'])
        try:
            for name, queue in self.queues.queues.items():
                family.add_metric([name], queue.count)
        except Exception:  # noqa: BLE001 — Redis away: the other numbers are still worth a scrape
            log.warning('queue depths left out of this scrape', exc_info=True)
            return
        yield family


class RefundsNeedingAttention:
    """Refunds that failed for good and wait for an operator (GET /admin/api/refunds?status=failed)."""

    def collect(self):
        try:
            count = refunds.count_needing_attention()
        except Exception:  # noqa: BLE001 — the database away: the other numbers are still worth a scrape
            log.warning('refunds needing attention left out of this scrape', exc_info=True)
            return
        yield GaugeMetricFamily('pinke_refunds_needing_attention', 'Refunds failed for good, waiting for an '
                                'operator', value=count)


@bp.get('/metrics')
def metrics():
    if not _allowed_without_token():
        admin_required(lambda: None)()  # 401 without the bearer, 403 with a wrong one
    _zero_series()
    return Response(generate_latest(current_app.extensions['pinke_metrics']),
                    headers={'Content-Type': CONTENT_TYPE_LATEST, 'Cache-Control': 'no-store'})


def _allowed_without_token() -> bool:
    """The client's address is in METRICS_NETWORKS. Behind proxies we were not told of (PROXY_HOPS=0 and a
    forwarding header), the address is the proxy's, not the client's: then only the token lets one in."""
    settings = runtime().settings
    if not settings.proxy_hops and any(h in request.headers for h in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or '')
    except ValueError:
        return False
    address = getattr(address, 'ipv4_mapped', None) or address
    return any(address in network for network in settings.metrics_allowed)


def _zero_series() -> None:
    """Every verdict and the success answer exist from the first scrape (at 0), so a rate sees their first
    increase."""
    JOINS.labels('201', 'ok')
    for verdict in VERDICTS:
        SEAT_VERDICTS.labels(verdict)
    for kind in ('group', 'room'):
        LIVE_STREAMS.labels(kind)

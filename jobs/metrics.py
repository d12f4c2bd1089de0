"""What the scheduler counts for Prometheus (written to PROMETHEUS_MULTIPROC_DIR; GET /metrics on the web
sums every process's files: miniapp_api/metrics.py)."""
from prometheus_client import Histogram

DEADLINE_LAG = Histogram(
    'pinke_deadline_lag_seconds', 'How late the scheduler claimed each due item (a group deadline, a pay window, '
    'a nudge, a deferred message): claim time minus due time, by kind', ['kind'],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30, 60, 300))


def observe_lag(claimed: list[tuple[str, str]], due_ms: dict[str, float], now_ms: int) -> None:
    """One observation per claimed item whose due time was read (`due_ms`: item -> due time in ms)."""
    for kind, item_id in claimed:
        due = due_ms.get(f'{kind}:{item_id}')
        if due is not None:
            DEADLINE_LAG.labels(kind).observe(max(now_ms - due, 0) / 1000)

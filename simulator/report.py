"""The figures of one simulation: per campaign the product's (成团率, time to fill, revenue per leader, the
nudges' effect), for the whole run the system's (joins/s, latency, errors, deadline lag, oversold seats, the
audit), as Markdown tables for the terminal and one JSON document for files and the console."""
import math

from bench.harness import fmt_ms, percentile, summarize, table

from .crowd import Crowd
from .driver import Driver


def cell_figures(crowd: Crowd, cell, groups, server_nudge: dict | None) -> dict:
    """`groups`: the server's Progress of every group of the cell's campaign."""
    by_status = {}
    for p in groups:
        by_status[p.status] = by_status.get(p.status, 0) + 1
    succeeded, failed = by_status.get('succeeded', 0), by_status.get('failed', 0)
    formed = succeeded + failed + by_status.get('forming', 0) + by_status.get('reviewing', 0)
    revenue = sum(p.paid * p.price_fen for p in groups if p.status == 'succeeded')
    seen = {code: g for code, g in crowd.groups.items() if g.cell is cell}
    status_of = {p.share_code: p for p in groups}
    fills = [max(g.paid_at) - g.formed_at for code, g in seen.items()
             if g.formed_at is not None and code in status_of and status_of[code].status == 'succeeded'
             and status_of[code].paid >= status_of[code].size]
    before, after = nudge_join_rates(seen.values(), cell.duration_s)
    fill = summarize(fills)
    return {
        'campaign_id': cell.campaign_id, 'rules': cell.label, 'size': cell.size, 'duration_s': cell.duration_s,
        'price_fen': cell.price_fen, 'list_price_fen': cell.list_price_fen,
        'groups': by_status, 'formed': formed, 'succeeded': succeeded, 'failed': failed,
        'success_rate': succeeded / (succeeded + failed) if succeeded + failed else None,
        'fill_p50_s': fill['p50'] if fills else None, 'fill_p90_s': percentile(fills, 90) if fills else None,
        'revenue_fen': revenue,
        'revenue_per_leader_fen': revenue / formed if formed else None,
        'nudged_groups': sum(1 for g in seen.values() if g.nudged_at),
        'joins_per_min_before_nudge': before, 'joins_per_min_after_nudge': after,
        'server_nudge_effect': server_nudge,
    }


def nudge_join_rates(groups, duration_s: float) -> tuple[float | None, float | None]:
    """Joins per group-minute in nudged groups: from forming to the first nudge, and from it to the deadline."""
    before_s = before_n = after_s = after_n = 0
    for g in groups:
        if not g.nudged_at or g.formed_at is None:
            continue
        nudge, deadline = min(g.nudged_at), g.formed_at + duration_s
        before_s += max(0.0, nudge - g.formed_at)
        before_n += sum(1 for t in g.joined_at if t < nudge)
        after_s += max(0.0, deadline - nudge)
        after_n += sum(1 for t in g.joined_at if t >= nudge)
    return (before_n * 60 / before_s if before_s else None), (after_n * 60 / after_s if after_s else None)


def system_figures(driver: Driver, crowd: Crowd, lags_s: list[float], oversold: int, offenders: list[str],
                   unsettled: int, timeline_lags: list[float], load: tuple | None) -> dict:
    answered = sorted(t for t, status in driver.joins if status)
    span = (answered[-1] - answered[0]) if len(answered) > 1 else math.nan
    join_ms = summarize(driver.latency_ms.get('join', []))
    lag = summarize(x * 1000 for x in lags_s)
    behind = summarize(x * 1000 for x in timeline_lags)
    return {
        'joins': len(driver.joins), 'joins_per_s': len(answered) / span if span and span == span else math.nan,
        'join_p50_ms': join_ms['p50'], 'join_p99_ms': join_ms['p99'], 'join_max_ms': join_ms['max'],
        'requests': sum(len(v) for v in driver.latency_ms.values()),
        'errors': driver.error_count(), 'rate_limited': driver.rate_limited(), 'first_errors': driver.errors[:5],
        'deadline_lag_p50_ms': lag['p50'], 'deadline_lag_p99_ms': lag['p99'], 'deadline_lag_max_ms': lag['max'],
        'deadline_settled_groups': lag['n'], 'unsettled_groups': unsettled,
        'oversold_seats': oversold, 'audit_clean': not offenders, 'audit_offenders': offenders[:20],
        'simulator_behind_p99_ms': behind['p99'], 'simulator_failures': crowd.t.failures[:5],
        'load_avg': list(load) if load else None,
        'by_kind': {kind: {'n': len(ms), 'p50_ms': summarize(ms)['p50'], 'p99_ms': summarize(ms)['p99'],
                           'answers': dict(driver.answers[kind])} for kind, ms in sorted(driver.latency_ms.items())},
    }


def ok(system: dict) -> bool:
    return (system['errors'] == 0 and system['oversold_seats'] == 0 and system['audit_clean']
            and system['unsettled_groups'] == 0 and not system['simulator_failures'])


def _rate(x) -> str:
    return '—' if x is None or x != x else f'{100 * x:.1f}%'


def _num(x, digits=1) -> str:
    return '—' if x is None or x != x else f'{x:,.{digits}f}'


def product_table(cells: list[dict]) -> list[str]:
    rows = [[c['rules'], c['formed'], c['succeeded'], c['failed'], _rate(c['success_rate']),
             _num(c['fill_p50_s']), _num(c['fill_p90_s']), _num((c['revenue_per_leader_fen'] or 0) / 100, 2),
             c['nudged_groups'], _num(c['joins_per_min_before_nudge'], 2), _num(c['joins_per_min_after_nudge'], 2),
             _nudge_text(c['server_nudge_effect'])] for c in cells]
    return table([('rules', 'l'), ('formed', 'r'), ('成团', 'r'), ('failed', 'r'), ('成团率', 'r'),
                  ('fill p50 s', 'r'), ('fill p90 s', 'r'), ('¥ per leader', 'r'), ('nudged', 'r'),
                  ('joins/min before nudge', 'r'), ('after', 'r'), ('成团率 nudged vs not', 'l')], rows)


def _nudge_text(row: dict | None) -> str:
    """The console's pooled row; without groups left un-nudged to compare with (short groups all get
    nudged), it has no verdict: then the joins per minute before and after the nudge are the measure."""
    if not row or not row.get('nudged_groups'):
        return 'no comparable groups'
    return f'{_rate(row["nudged_success_rate"])} vs {_rate(row["comparable_success_rate"])}'


def system_table(s: dict) -> list[str]:
    return table([('figure', 'l'), ('value', 'r')], [
        ['join attempts', f'{s["joins"]:,}'], ['joins/s (answered)', _num(s['joins_per_s'])],
        ['join p50 / p99 ms', f'{fmt_ms(s["join_p50_ms"])} / {fmt_ms(s["join_p99_ms"])}'],
        ['requests', f'{s["requests"]:,}'], ['errors (5xx, no answer)', s['errors']],
        ['rate limited (429)', s['rate_limited']],
        ['deadline lag p50 / p99 / max ms',
         f'{fmt_ms(s["deadline_lag_p50_ms"])} / {fmt_ms(s["deadline_lag_p99_ms"])} / {fmt_ms(s["deadline_lag_max_ms"])}'
         f' ({s["deadline_settled_groups"]} groups)'],
        ['groups not settled', s['unsettled_groups']], ['oversold seats', s['oversold_seats']],
        ['flask audit', 'clean' if s['audit_clean'] else f'{len(s["audit_offenders"])} offender(s)'],
        ['simulator behind schedule p99 ms', fmt_ms(s['simulator_behind_p99_ms'])],
        ['load average (1/5/15 min)', '/'.join(f'{x:.2f}' for x in s['load_avg']) if s['load_avg'] else '?']])


def kinds_table(s: dict) -> list[str]:
    return table([('request', 'l'), ('n', 'r'), ('p50 ms', 'r'), ('p99 ms', 'r'), ('answers', 'l')],
                 [[k, v['n'], fmt_ms(v['p50_ms']), fmt_ms(v['p99_ms']),
                   ', '.join(f'{a}: {n}' for a, n in sorted(v['answers'].items()))] for k, v in s['by_kind'].items()])


def plain(x):
    """JSON-safe: nan → null, tuples → lists."""
    if isinstance(x, float):
        return None if x != x else round(x, 6)
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set)):
        return [plain(v) for v in x]
    return x


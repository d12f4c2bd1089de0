"""The operator's table of what to set: each group rule tried (size × duration × price) with its 成团率, time
to fill and revenue per leader, best first, and the one to pick — the most money per leader among the rules
that keep enough groups succeeding (a failed group refunds everyone and sours the leader's friends)."""
from bench.harness import table

MIN_SUCCESS = 0.6  # below this share of groups succeeding, a rule's revenue comes with too many refunds


def advise(cells: list[dict], min_success: float = MIN_SUCCESS) -> dict:
    """`cells`: report.cell_figures of each rule tried. Rows ranked by revenue per leader (then 成团率, then the
    faster fill); `recommended`: the first row whose 成团率 reaches `min_success`, else the highest 成团率."""
    def key(c):
        return (-(c['revenue_per_leader_fen'] or 0), -(c['success_rate'] or 0), c['fill_p50_s'] or float('inf'),
                c['campaign_id'])
    rows = sorted(cells, key=key)
    good = [c for c in rows if c['success_rate'] is not None and c['success_rate'] >= min_success]
    decided = [c for c in rows if c['success_rate'] is not None]
    best = good[0] if good else max(decided, key=lambda c: (c['success_rate'], -key(c)[0]), default=None)
    shown = []
    for rank, c in enumerate(rows, 1):
        if c is best:
            verdict = '推荐 recommended'
        elif c['success_rate'] is None:
            verdict = '无结果 no group decided'
        elif c['success_rate'] < min_success:
            verdict = '成团率偏低 too many fail'
        else:
            verdict = ''
        shown.append({'rank': rank, 'rules': c['rules'], 'size': c['size'], 'duration_s': c['duration_s'],
                      'price_fen': c['price_fen'], 'success_rate': c['success_rate'], 'fill_p50_s': c['fill_p50_s'],
                      'revenue_per_leader_fen': c['revenue_per_leader_fen'], 'formed': c['formed'],
                      'verdict': verdict})
    return {'min_success': min_success, 'rows': shown,
            'recommended': next((r for r in shown if r['verdict'].startswith('推荐')), None)}


def advice_table(advice: dict) -> list[str]:
    def money(fen):
        return '—' if fen is None else f'{fen / 100:,.2f}'

    def rate(x):
        return '—' if x is None else f'{100 * x:.1f}%'

    def seconds(x):
        return '—' if x is None or x != x else f'{x:.0f}'
    return table([('#', 'r'), ('group rules', 'l'), ('leaders', 'r'), ('成团率', 'r'), ('fill p50 s', 'r'),
                  ('¥ per leader', 'r'), ('what to set', 'l')],
                 [[r['rank'], r['rules'], r['formed'], rate(r['success_rate']), seconds(r['fill_p50_s']),
                   money(r['revenue_per_leader_fen']), r['verdict']] for r in advice['rows']])

"""One simulation from start to figures: the operator's setup over the admin API (a course, one campaign per
group rule tried), the crowd on the timeline until everyone is done, the server settling every group, then
the product's and the system's figures, the advice over the rules, and the report."""
import datetime as dt
import os
from dataclasses import dataclass, field

from . import report
from .advice import MIN_SUCCESS, advice_table, advise
from .behaviour import Behaviour
from .crowd import Cell, Crowd
from .driver import Driver
from .system import System, oversold_seats
from .timeline import Timeline

SETTLE_MARGIN_S = 120  # after the last deadline: pay windows, the settlement, refunds landing


@dataclass(frozen=True)
class Rules:
    size: int
    duration_s: int
    price_fen: int

    def nudge_offsets(self) -> list[int]:
        """Nudges at half and at a sixth of the time left, as a real campaign's 2 h and 15 min of a day."""
        return sorted({max(1, self.duration_s // 2), max(1, self.duration_s // 6)}, reverse=True)


@dataclass(frozen=True)
class Plan:
    people: int
    window_s: float
    rules: list[Rules]
    behaviour: Behaviour = field(default_factory=Behaviour)
    list_price_fen: int = 19900
    seed: int = 1
    workers: int = 256
    min_success: float = MIN_SUCCESS


def simulate(plan: Plan, driver: Driver, system: System, say=print) -> dict:
    started = dt.datetime.now(dt.timezone.utc)
    course = driver.admin('POST', '/courses', {'title': f'模拟课程 {started:%m-%d %H:%M}',
                                               'price_fen': plan.list_price_fen})['course']
    cells = []
    for r in plan.rules:
        campaign = driver.admin('POST', '/campaigns', {
            'course_id': course['id'], 'group_size': r.size, 'duration_s': r.duration_s,
            'group_price_fen': r.price_fen, 'nudge_offsets_s': r.nudge_offsets()})['campaign']
        system.prepare_campaign(campaign['id'])
        cells.append(Cell(campaign['id'], r.size, r.duration_s, r.price_fen, plan.list_price_fen,
                          tuple(r.nudge_offsets())))
    say(f'{plan.people:,} people over {plan.window_s:g} s on course {course["id"]}, '
        f'campaign(s) {", ".join(str(c.campaign_id) for c in cells)}')
    timeline = Timeline(plan.workers)
    crowd = Crowd(driver, timeline, plan.behaviour, cells, plan.seed)
    crowd.plan(plan.people, plan.window_s)
    timeline.run()
    say(f'the crowd is done after {timeline.now():.0f} s; waiting for every group to be settled')
    campaign_ids = [c.campaign_id for c in cells]
    unsettled = system.wait_settled(campaign_ids, max(r.duration_s for r in plan.rules) + SETTLE_MARGIN_S)
    offenders = system.audit(timeout_s=60)
    for c in cells:
        driver.admin('PATCH', f'/campaigns/{c.campaign_id}', {'status': 'ended'})
    groups = {c.campaign_id: system.groups(c.campaign_id) for c in cells}
    figures = [report.cell_figures(crowd, c, groups[c.campaign_id], system.nudge_effect(c.campaign_id))
               for c in cells]
    system_figures = report.system_figures(
        driver, crowd, system.deadline_lags_s(campaign_ids), sum(oversold_seats(g) for g in groups.values()),
        offenders, unsettled, timeline.lags, os.getloadavg())
    result = {
        'simulation': 'flask simulate', 'ran_at': started.isoformat(timespec='seconds'),
        'finished_at': dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds'),
        'settings': {'people': plan.people, 'window_s': plan.window_s, 'course_id': course['id'],
                     'list_price_fen': plan.list_price_fen, 'seed': plan.seed, 'workers': plan.workers,
                     'api': driver.api, 'rules': [c.label for c in cells]},
        'behaviour': plan.behaviour.as_json(), 'people': dict(crowd.counts), 'cells': figures,
        'system': system_figures, 'advice': advise(figures, plan.min_success) if len(cells) > 1 else None,
    }
    result['ok'] = report.ok(system_figures)
    return report.plain(result)


def text(result: dict) -> list[str]:
    """The report for the terminal."""
    lines = ['', '## Product', *report.product_table(result['cells']), '', '## System',
             *report.system_table(result['system']), '', *report.kinds_table(result['system']), '',
             'people: ' + ', '.join(f'{k} {v}' for k, v in sorted(result['people'].items()))]
    if result['system']['first_errors']:
        lines += ['errors:', *result['system']['first_errors']]
    if result['system']['audit_offenders']:
        lines += ['audit:', *result['system']['audit_offenders']]
    if result['system']['rate_limited']:
        lines.append('429s: the server limits per address; a crowd from one machine needs RATE_LIMIT_*_IP=\'\' '
                     '(or RATE_LIMITS_ENABLED=0) on the stack')
    if result['advice']:
        lines += ['', f'## What to set (recommended: the most ¥ per leader with 成团率 ≥ '
                      f'{100 * result["advice"]["min_success"]:.0f}%)', *advice_table(result['advice'])]
    lines += ['', 'OK: 0 errors, 0 oversold, every group settled, audit clean' if result['ok'] else 'NOT OK']
    return lines

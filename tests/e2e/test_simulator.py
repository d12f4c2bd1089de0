"""`flask simulate` on the real stack: a small crowd (200 people over 20 s, groups of 10 s, the stack's 3 s
pay windows) opens, joins, abandons, pays through the sandbox, shares and answers nudges; the run reports the
product's and the system's figures with 0 errors, 0 oversold seats, every group settled and the audit clean,
and keeps the report where the console shows it."""
import json

import pytest

from simulator import latest
from tests.support.system import flask_command

pytestmark = pytest.mark.e2e
QUICK_PEOPLE = {'pay_delay_s': 0.8, 'share_delay_s': 0.5, 'invite_ttl_s': 10}  # inside the stack's 3 s pay window


def test_a_small_crowd_runs_against_the_stack_with_no_error_no_oversold_seat_and_a_clean_audit(stack, tmp_path):
    params, out = tmp_path / 'people.json', tmp_path / 'report.json'
    params.write_text(json.dumps(QUICK_PEOPLE))
    run = flask_command(stack.env, 'simulate', '--people', '200', '--minutes', '0.33', '--duration', '10',
                        '--params', str(params), '--json', str(out))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    report = json.loads(out.read_text())
    system, (cell,) = report['system'], report['cells']
    assert report['ok'] and system['errors'] == 0 and system['oversold_seats'] == 0 and system['audit_clean']
    assert system['unsettled_groups'] == 0 and system['rate_limited'] == 0
    assert report['people']['arrived'] == 200 and report['people']['paid'] > 0
    assert system['joins'] > 0 and system['join_p99_ms'] > 0 and system['joins_per_s'] > 0
    assert cell['formed'] > 0 and cell['succeeded'] + cell['failed'] == cell['formed']
    assert system['deadline_settled_groups'] == cell['failed'] and (
        cell['failed'] == 0 or system['deadline_lag_p99_ms'] >= 0)
    assert cell['success_rate'] is not None and cell['revenue_per_leader_fen'] is not None
    joins = system['by_kind']['join']['answers']
    assert set(joins) <= {'201', '409 group_full', '409 group_closed', '409 already_buying'}, joins
    assert '成团率' in run.stdout and 'OK: 0 errors' in run.stdout
    assert latest.load(stack.env['DATA_DIR'])['ran_at'] == report['ran_at']


def test_a_grid_run_advises_rules_and_a_campaign_s_events_fit_the_people_of_the_next_run(stack, tmp_path):
    """`--grid`: the crowd split over every size × price, one campaign each, and the advice table ranks them (one
    recommended, every cell decided); `--fit-campaign`: the campaign's recorded funnel (opened, shared, clicked,
    joined, paid) moves the parameters it has data for, and the fitted file runs the next crowd."""
    params, out, fitted = tmp_path / 'people.json', tmp_path / 'grid.json', tmp_path / 'fitted.json'
    params.write_text(json.dumps(QUICK_PEOPLE))
    run = flask_command(stack.env, 'simulate', '--grid', '--people', '160', '--minutes', '0.25', '--size', '2,3',
                        '--duration', '10', '--price', '4900,9900', '--params', str(params), '--json', str(out))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    report = json.loads(out.read_text())
    assert report['ok'] and report['system']['errors'] == 0 and report['system']['audit_clean']
    cells, advice = report['cells'], report['advice']
    assert sorted((c['size'], c['price_fen']) for c in cells) == [(2, 4900), (2, 9900), (3, 4900), (3, 9900)]
    assert [r['rank'] for r in advice['rows']] == [1, 2, 3, 4]
    assert sum(r['verdict'].startswith('推荐') for r in advice['rows']) == 1 == (advice['recommended'] is not None)
    revenue = [r['revenue_per_leader_fen'] or 0 for r in advice['rows']]
    assert revenue == sorted(revenue, reverse=True)  # ranked by what a leader's group brings in
    assert '推荐' in run.stdout

    busiest = max(cells, key=lambda c: c['formed'])
    fit = flask_command(stack.env, 'simulate', '--fit-campaign', str(busiest['campaign_id']), '--params', str(params))
    assert fit.returncode == 0, fit.stdout[-4000:] + fit.stderr[-4000:]
    basis = json.loads(fit.stderr.split('# fitted from campaign', 1)[1].split(':', 1)[1])
    fitted_people = json.loads(fit.stdout)
    assert 0 < fitted_people['share_p'] <= 1 and 0 <= fitted_people['click_p'] <= 1
    assert fitted_people['pay_delay_s'] == QUICK_PEOPLE['pay_delay_s']  # what the events cannot tell stays
    assert basis, fit.stderr
    fitted.write_text(fit.stdout)
    again = flask_command(stack.env, 'simulate', '--people', '40', '--minutes', '0.1', '--duration', '10',
                          '--params', str(fitted))
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]

    unknown = flask_command(stack.env, 'simulate', '--fit-campaign', '987654321')
    assert unknown.returncode != 0 and 'campaign' in (unknown.stderr + unknown.stdout).lower()

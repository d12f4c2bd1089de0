"""The console's simulation page (console/simulation.py): nothing to show until `flask simulate` has run;
then when it ran, with what crowd, the table of what to set, and the system's figures."""
import pytest

from simulator import latest
from simulator.advice import advise
from simulator.behaviour import Behaviour
from tests.support.console import operator, sign_in


@pytest.fixture
def app(make_app, clock):
    application = make_app()
    application.extensions['pinke'].deps.clock = clock
    return application


def cell(cid, size, price, rate, per_leader):
    return {'campaign_id': cid, 'rules': f'{size}人 · 120s · ¥{price // 100}', 'size': size, 'duration_s': 120,
            'price_fen': price, 'list_price_fen': 19900, 'success_rate': rate, 'fill_p50_s': 31.0, 'fill_p90_s': 80.0,
            'revenue_per_leader_fen': per_leader, 'formed': 40, 'succeeded': int(40 * rate),
            'failed': 40 - int(40 * rate),
            'nudged_groups': 12, 'joins_per_min_before_nudge': 1.5, 'joins_per_min_after_nudge': 2.25}


SYSTEM = {'joins': 5210, 'joins_per_s': 17.4, 'join_p50_ms': 40.0, 'join_p99_ms': 812.0, 'errors': 0,
          'deadline_lag_p50_ms': 60.0, 'deadline_lag_p99_ms': 140.0, 'deadline_lag_max_ms': 160.0,
          'deadline_settled_groups': 300, 'oversold_seats': 0, 'audit_clean': True, 'audit_offenders': [],
          'load_avg': [2.1, 2.0, 1.9]}


def signed_in(app, clock):
    client = app.test_client()
    operator('ann', 'analyst', clock.now())
    assert sign_in(client, 'ann').status_code == 302
    return client


def test_before_any_simulation_the_page_says_how_to_run_one(app, clock):
    page = signed_in(app, clock).get('/admin/simulation')
    assert page.status_code == 200 and 'flask --app wsgi simulate --grid' in page.get_data(as_text=True)


def test_the_latest_simulation_shows_when_it_ran_the_advice_and_the_system_figures(app, clock):
    cells = [cell(1, 2, 9900, 0.9, 17000), cell(2, 4, 9900, 0.4, 20000)]
    latest.save(app.extensions['pinke'].settings.data_dir, {
        'ran_at': '2026-11-27T12:00:00+00:00', 'finished_at': '2026-11-27T12:07:00+00:00', 'ok': True,
        'settings': {'people': 10000, 'window_s': 300.0, 'list_price_fen': 19900}, 'cells': cells,
        'behaviour': Behaviour().as_json(), 'system': SYSTEM, 'advice': advise(cells)})
    page = signed_in(app, clock).get('/admin/simulation').get_data(as_text=True)
    assert '2026-11-27T12:00:00' in page and '10000 人' in page and '系统正常' in page
    advice = page.split('id="advice"')[1].split('</table>')[0]
    assert advice.index('4人 · 120s · ¥99') < advice.index('2人 · 120s · ¥99')  # more per leader, too many fail
    assert '推荐 recommended' in advice.split('2人 · 120s · ¥99')[1]
    assert '812' in page and '超卖座位' in page and 'join_friend_w' in page

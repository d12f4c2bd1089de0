"""Metrics and logs on the real processes (`flask up`: gunicorn with two workers, the RQ workers, the
scheduler): one scrape of the web sums every process of the host, and a job keeps the id of the request
that enqueued it in the worker's log."""
import secrets
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tools.http_client import wait_until

pytestmark = pytest.mark.e2e


def scrape(stack) -> dict:
    answer = stack.call('GET', '/metrics')
    assert answer.status_code == 200, answer.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def test_one_scrape_counts_the_web_workers_joins_and_the_schedulers_lag(stack):
    joined = ('pinke_joins_total', (('code', 'ok'), ('status', '201')))
    released = ('pinke_deadline_lag_seconds_count', (('kind', 'release'),))
    before = scrape(stack)
    campaign = stack.new_campaign(group_size=5)
    _, share = stack.open_formed_group(campaign['id'], f'leader-{secrets.token_hex(4)}')
    for n in range(4):  # whichever of gunicorn's two workers takes each
        assert stack.join(stack.login(f'm{n}-{secrets.token_hex(4)}'), share).status_code == 201
    assert scrape(stack)[joined] - before.get(joined, 0) == 4
    # Nobody pays: each seat's pay window (PAY_WINDOW_S=3) falls due, and the scheduler process claims it.
    wait_until(lambda: scrape(stack).get(released, 0) - before.get(released, 0) >= 4, timeout=30,
               what="the scheduler's lag in the web's scrape")


def test_a_job_a_request_enqueued_logs_the_request_id_in_the_worker_process(stack):
    rid = f'e2e-{secrets.token_hex(8)}'
    user = stack.login(f'reader-{secrets.token_hex(4)}')
    me = stack.call('GET', '/api/me', user).json()['user']
    answer = stack.call('POST', '/admin/api/broadcasts', stack.admin_token, headers={'X-Request-Id': rid},
                        json={'segment': {'type': 'users', 'user_ids': [me['id']]}, 'message': '开课啦'})
    assert answer.status_code == 202 and answer.headers['X-Request-Id'] == rid
    log = Path(stack.log_path)  # every process's output (flask up); LOG_FORMAT=text here: `name [id]: message`
    line = wait_until(lambda: next((x for x in log.read_text(errors='replace').splitlines()
                                    if f'jobs.tasks [{rid}]: job run_broadcast(' in x), None), timeout=30,
                      what='the worker logging the job under the request id')
    assert line.rstrip().endswith('done')

"""bench/join_wrk.py's arithmetic: a scenario's figures over its rounds."""
import pytest

from bench.join_wrk import figures


def run(requests, web_s, p50_us, p99_us, statuses=None, seconds=2.0):
    return {'requests': requests, 'duration_us': int(seconds * 1e6), 'p50_us': p50_us, 'p99_us': p99_us,
            'max_us': p99_us, 'statuses': statuses or {'201': requests}, 'wrapped': 0,
            'errors': {'connect': 0, 'read': 0, 'write': 0, 'timeout': 0}, 'client_cpu_s': 0.01,
            'cpu_s': {'web': web_s, 'sandbox': 0.1}}


def test_cpu_per_request_is_over_all_rounds_and_each_round_is_kept():
    f = figures('join', 50, [run(100, 1.0, 40_000, 90_000), run(300, 1.5, 60_000, 80_000),
                             run(200, 1.0, 50_000, 200_000)])
    assert f['requests'] == f['ok'] == 600 and f['not_ok'] == 0
    assert f['web_cpu_ms_per_request'] == pytest.approx(3500 / 600)
    assert f['server_cpu_ms_per_request'] == pytest.approx(3800 / 600)
    assert f['web_cpu_ms_per_round'] == pytest.approx([10, 5, 5])
    assert (f['p50_ms'], f['p99_ms'], f['req_per_s']) == (50, 200, 100)


def test_answers_other_than_the_scenario_s_own_count_against_it():
    f = figures('healthz', 4, [run(10, 0.01, 1_000, 2_000, statuses={'200': 8, '500': 2})])
    assert (f['ok'], f['not_ok'], f['statuses']) == (8, 2, {200: 8, 500: 2})

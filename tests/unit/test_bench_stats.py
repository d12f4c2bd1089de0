"""bench/harness.py: the statistics, levels, tables, JSON summary and log scan the benchmarks share.
Expected values are worked out by hand from the nearest-rank definition: x[ceil(p/100 * n)]."""
import argparse
import json
import math

import pytest

from bench import harness
from bench.harness import percentile, summarize


def test_percentile_is_nearest_rank():
    assert percentile([1, 2, 3, 4], 50) == 2          # ceil(0.5 * 4) = 2nd
    assert percentile([4, 1, 3, 2], 50) == 2          # order of the input does not matter
    assert percentile([1, 2, 3, 4], 51) == 3          # ceil(2.04) = 3rd
    assert percentile([1, 2, 3, 4], 25) == 1          # ceil(1.0) = 1st
    assert percentile([1, 2, 3, 4], 0) == 1           # p0 is the minimum
    assert percentile([1, 2, 3, 4], 100) == 4         # p100 the maximum
    assert percentile([10, 20, 30, 40, 50], 50) == 30  # ceil(2.5) = 3rd: a measured value, never 25
    assert percentile([7.5], 99) == 7.5


def test_percentile_p99():
    assert percentile(range(1, 101), 99) == 99        # ceil(99.0) = 99th
    assert percentile(range(1, 201), 99) == 198       # ceil(198.0)
    assert percentile(range(1, 11), 99) == 10         # fewer than 100 values: the maximum
    assert percentile(range(1, 1001), 99) == 990


def test_percentile_does_not_trip_over_float_rounding():
    # 7 / 100 * 100 is 7.000000000000001 in floating point: a bare ceil() would give the 8th value
    assert [percentile(range(1, 101), p) for p in (7, 14, 28, 29, 55, 56)] == [7, 14, 28, 29, 55, 56]


def test_percentile_of_nothing_and_bad_p():
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1], 101)
    with pytest.raises(ValueError):
        percentile([1], -1)


def test_summarize():
    assert summarize([3, 1, 2, 10]) == {'n': 4, 'p50': 2, 'p99': 10, 'max': 10, 'mean': 4.0}
    assert summarize(x / 10 for x in range(1, 101)) == {'n': 100, 'p50': 5.0, 'p99': 9.9, 'max': 10.0,
                                                        'mean': pytest.approx(5.05)}
    empty = summarize([])
    assert empty['n'] == 0 and all(math.isnan(empty[k]) for k in ('p50', 'p99', 'max', 'mean'))


def test_ratio():
    assert harness.ratio(3, 2) == 1.5
    assert math.isnan(harness.ratio(3, 0)) and math.isnan(harness.ratio(3, float('nan')))


LEVELS = harness.Levels(1, 100, full=(10, 50), quick=(5,), smoke=(2,), increasing=True)


def test_levels_parse():
    assert LEVELS.parse('10, 20,50') == (10, 20, 50)
    for bad in ('', 'a,b', '0', '101', '20,10', '10,10'):
        with pytest.raises(argparse.ArgumentTypeError):
            LEVELS.parse(bad)
    assert harness.Levels(1, 100, (1,), (1,), (1,)).parse('20,10') == (20, 10)   # order free unless increasing


def test_cli_modes():
    p = harness.parser('x', 'doc', LEVELS)
    assert harness.parse(p, []).levels == (10, 50)
    smoke = harness.parse(p, ['--smoke'])
    assert (smoke.levels, smoke.mode, harness.by_mode(smoke, 'f', 'q', 's')) == ((2,), 'smoke', 's')
    assert harness.parse(p, ['--quick']).levels == (5,)
    assert harness.parse(p, ['--quick', '--levels', '3,4']).levels == (3, 4)   # given levels win
    args = harness.parse(p, ['--keep', '--json', 'out.json'])
    assert args.keep and args.json == 'out.json'
    with pytest.raises(SystemExit):
        harness.parse(p, ['--quick', '--smoke'])
    g = harness.parser('x', 'doc', LEVELS, levels_flag='--groups')
    assert harness.parse(g, ['--groups', '7']).levels == (7,)


def test_table_and_ms():
    assert harness.table([('n', 'r'), ('name', 'l')], [[1, 'a'], [20, 'bb']]) == [
        '| n | name |', '|--:|:--|', '| 1 | a |', '| 20 | bb |']
    assert [harness.fmt_ms(x) for x in (5.678, 47.61, 166.4, float('nan'))] == ['5.7', '47.6', '166', '-']
    assert harness.fmt_ms(None) == '-'  # a JSON report's nan (flask simulate: no group settled by its deadline)
    assert [harness.fmt_ms(x, fine=True) for x in (5.678, 22.44, 112.3)] == ['5.68', '22.4', '112']


def test_summary_json(tmp_path, capsys):
    out = tmp_path / 's.json'
    harness.write_summary(str(out), 'demo', {'date': 'd'}, [{'clients': 2, 'p99_ms': float('nan'),
                                                              'rows': (1, 2)}], ok=True, extra={3: 1.23456789})
    assert json.loads(out.read_text()) == {'benchmark': 'demo', 'settings': {'date': 'd'},
                                           'levels': [{'clients': 2, 'p99_ms': None, 'rows': [1, 2]}],
                                           'ok': True, 'extra': {'3': 1.234568}}
    harness.write_summary(None, 'demo', {}, [], ok=True)        # no path: nothing at all
    assert capsys.readouterr().out == ''
    harness.write_summary('-', 'demo', {}, [], ok=False)
    assert json.loads(capsys.readouterr().out)['ok'] is False


def test_scan_log(tmp_path):
    log = tmp_path / 'stack.log'
    log.write_text('127.0.0.1 - - "GET /healthz HTTP/1.1" 200 2\n'
                   '127.0.0.1 - - "POST /api/groups/x/join HTTP/1.1" 502 9\n'
                   'ERROR sqlite3.OperationalError: database is locked\n'
                   'Traceback (most recent call last)\n[CRITICAL] WORKER TIMEOUT (pid:1)\n')
    assert harness.scan_log(log, tuple(harness.LOG_CHECKS)) == {
        'requests logged': 2, '5xx answers': 1, '"database is locked"': 1, 'tracebacks': 1,
        'worker timeouts': 1, 'live hub reconnects': 0, 'ERROR lines': 1}
    other = tmp_path / 'worker.log'
    other.write_text('Traceback (most recent call last)\n')
    assert harness.scan_log([log, other, tmp_path / 'missing.log']) == {
        'tracebacks': 2, 'worker timeouts': 1, 'ERROR lines': 1}
    assert harness.scan_log(tmp_path / 'missing.log') == {}

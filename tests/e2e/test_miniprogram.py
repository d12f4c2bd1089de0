"""The shopper's mini-program (miniprogram/) in WeChat's own simulator — miniprogram-simulate, j-component,
exparser and WeChat's wcc compiler under Node's test runner — against the real processes: its utilities, every
screen rendered from the real API, and simulated phones filling a group with wx.login, wx.request (the live
stream too), wx.requestSubscribeMessage and wx.requestPayment bridged to the WeChat sandbox.

The system is its own (a 30 s pay window: a phone stands at the cashier while another watches). Needs Node.js
18+ (Debian's `nodejs` and `npm`); `npm ci` installs the simulator from the npm registry into
miniprogram/test/node_modules when it is missing or older than package-lock.json. Every screen is kept as its
rendered tree in test-artifacts/miniprogram/<screen>.html (and the saved poster as poster.png)."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from groupbuy import wording
from groupbuy.clock import iso
from tests.support.system import drop_system_db, flask_command, running_stack, system_env
from wechat_sandbox.credentials import DEFAULT_APP_ID

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / 'miniprogram'
TESTS = PROJECT / 'test'
ARTIFACTS = ROOT / 'test-artifacts' / 'miniprogram'
STAMP = TESTS / 'node_modules' / '.package-lock.sha256'


def _missing(why: str):
    if os.environ.get('CI'):
        pytest.fail(f'{why}: .ci/run installs Debian\'s nodejs and npm packages')
    pytest.skip(f'{why} (apt-get install nodejs npm): the mini-program tests are skipped')


@pytest.fixture(scope='module')
def node() -> str:
    """Node.js with the simulator installed (`npm ci` from package-lock.json when node_modules is missing or stale)."""
    node, npm = shutil.which('node'), shutil.which('npm')
    if not node or not npm:
        _missing('no Node.js here')
    version = subprocess.run([node, '--version'], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip('v').split('.')[0]) < 18:
        _missing(f'Node.js {version} is too old (18 or newer)')
    lock = hashlib.sha256((TESTS / 'package-lock.json').read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != lock:
        result = subprocess.run([npm, 'ci'], cwd=TESTS, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f'npm ci failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}'
        STAMP.write_text(lock)
    return node


@pytest.fixture(scope='module')
def miniprogram_stack(tmp_root, redis_url, redis_client):
    env = system_env(tmp_root, redis_url, 'miniprogram', PAY_WINDOW_S='30')
    try:
        with running_stack(env, tmp_root / 'miniprogram', redis_client) as api:
            yield api
            result = flask_command(env, 'audit', '--grace', '60')
            assert result.returncode == 0, f'flask audit after the mini-program tests:\n{result.stdout}{result.stderr}'
    finally:
        drop_system_db(env, 'miniprogram')


@pytest.fixture(scope='module')
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


def node_tests(node: str, files: list[Path], stack=None, timeout: float = 240) -> str:
    """`node --test` on `files`; fails with Node's report unless every test passed (and there were some)."""
    env = {**os.environ, 'PINKE_ARTIFACTS': str(ARTIFACTS)}
    if stack is not None:
        env.update(PINKE_API=stack.api, PINKE_SANDBOX=stack.sandbox, PINKE_ADMIN_TOKEN=stack.env['ADMIN_TOKEN'],
                   PINKE_APP_ID=stack.env.get('WECHAT_APP_ID') or DEFAULT_APP_ID)
    result = subprocess.run([node, '--test', *map(str, files)], cwd=TESTS, env=env, capture_output=True, text=True,
                            timeout=timeout)
    report = f'{result.stdout[-30000:]}\n{result.stderr[-5000:]}'
    assert result.returncode == 0, f'node --test exited {result.returncode}:\n{report}'
    counted = re.search(r'^# tests (\d+)$', result.stdout, re.M)
    assert counted and int(counted.group(1)) > 0 and re.search(r'^# fail 0$', result.stdout, re.M), report
    return result.stdout


def test_the_mini_programs_stream_reader_clock_and_share_decoding_keep_their_rules(node):
    node_tests(node, sorted((TESTS / 'unit').glob('*.test.js')))


def test_the_mini_program_writes_prices_times_and_dates_as_the_server_does(node):
    fens = [0, 1, 9, 10, 99, 100, 101, 9900, 9950, 9999, 10001, 123456]
    seconds = [-5, 0, 30, 59, 60, 61, 600, 3599, 3600, 3660, 11520, 86399, 86400, 90061, 172800]
    times = [datetime(2026, 5, 10, 12, 0), datetime(2026, 12, 31, 16, 30), datetime(2026, 1, 1, 0, 5, 7, 123456)]
    asked = {'fens': fens, 'seconds': seconds, 'times': [iso(t) for t in times]}
    script = ("const w = require('./utils/words'); const q = JSON.parse(process.argv[1]);"
              "console.log(JSON.stringify([q.fens.map(w.yuan), q.seconds.map(w.timeLeft), q.times.map(w.beijingTime)]))")
    out = subprocess.run([node, '-e', script, json.dumps(asked)], cwd=PROJECT, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert json.loads(out) == [[wording.yuan(f) for f in fens], [wording.time_left(s) for s in seconds],
                               [wording.beijing_time(t) for t in times]]


def assert_kept(screens: list[str], since: float) -> None:
    """Each screen's rendered tree was written by this run: the simulator's DOM and the page's data."""
    for screen in screens:
        path = ARTIFACTS / f'{screen}.html'
        assert path.exists() and path.stat().st_mtime >= since - 1, f'no snapshot of {screen}'
        html = path.read_text()
        assert '<wx-view' in html and 'id="page-data"' in html, screen


def test_each_screen_renders_from_the_real_api_in_the_simulator(node, miniprogram_stack, artifacts):
    started = time.time()
    node_tests(node, sorted((TESTS / 'pages').glob('*.test.js')), miniprogram_stack)
    assert_kept(['group-pending', 'campaign-open-groups', 'group-failed', 'courses-empty', 'inbox-empty',
                 'mine-empty'], started)


def test_two_phones_fill_a_group_in_the_simulator_and_both_get_the_course(node, miniprogram_stack, artifacts):
    started = time.time()
    node_tests(node, [TESTS / 'e2e' / 'two_phones.test.js'], miniprogram_stack)
    assert_kept(['index', 'campaign', 'group-shared', 'group-paying', 'group-full', 'group-succeeded', 'poster',
                 'courses', 'mine', 'inbox'], started)
    assert (ARTIFACTS / 'poster.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'

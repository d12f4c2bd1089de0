"""Risk rules on the join: what `POST /api/groups/<share_code>/join` costs with a campaign's risk rules on
(the defaults) against the same joins with them off (`risk_rules` = '{"enabled": false}'), in one run on
one server.

Two campaigns with the same terms, groups of 100 formed by their leaders before the clock starts; one
campaign keeps the default rules, the other has them switched off. Per level (N concurrent clients, each
a thread with its own keep-alive connection), the joins alternate between the two in short phases of a
fixed number of joins, in the order on, off, off, on, on, off, ... (ABBA), so drift in the machine and the
growing tables hits both modes alike. Every join is by a user who has never joined anything, with a device
id never seen before in the `X-Pinke-Device` header (so the device rules run), into a seat that is free;
consecutive joins go to different groups. Every answer should be 201.

Reported per level and mode: joins, joins/s, p50 and p99 latency as the client saw it, CPU ms per join of
the web workers (gunicorn) and of the whole server (web, RQ workers, scheduler, Redis, WeChat sandbox),
read from /proc around each phase; then on ÷ off for each, and the web-CPU ratio of each round (a pair of
adjacent phases) to show the noise.

What "off" switches off (groupbuy/risk/decisions.py): with `enabled: false` the history query
(`history.before`: blocklists, abandoned seats, the device's accounts and attempts, the address's public /24)
is not run and the rules are not asked; the decision is still logged (`decisions.keep` inserts the
`risk_check` row inside the join's write transaction). So on ÷ off is what reading the history and deciding
cost. After the server has stopped this script also times `decisions.assess` (on and off), the history query
alone and the `keep` insert (rolled back) in its own process on the run's database, for a sample of the joins
just measured, against the web CPU per join.

Usage (from the project root):

    .venv/bin/python bench/risk_cost.py                  # 1 and 16 clients, 8 rounds of 150 joins per mode
    .venv/bin/python bench/risk_cost.py --quick          # 8 clients, 4 rounds of 60
    .venv/bin/python bench/risk_cost.py --smoke          # end-to-end check: 2 clients, 2 rounds of 10
    .venv/bin/python bench/risk_cost.py --levels 4,32 --rounds 6 --joins 200 --json out.json

It starts `flask --app wsgi up` in a temporary DATA_DIR (embedded SQLite and Redis, the WeChat sandbox,
HTTP rate limits off) on free loopback ports and stops it at the end, on errors and on Ctrl-C; the rest of
the environment (WEB_WORKERS, PAY_WINDOW_S, ...) is passed on. The rules are switched off by writing the
campaign's `risk_rules` column in DATA_DIR/pinke.db (what the console's 风控 page saves; the admin API has
no such field), so there is no --api mode. Afterwards it checks in `risk_check` that every timed join was
logged, allowed, under the rules version of its mode. Exit status 1 on any answer other than 201 or a
failed check.
"""
from __future__ import annotations

import math
import os
import secrets
import sqlite3
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/risk_cost.py`
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench import harness  # noqa: E402
from bench.harness import percentile  # noqa: E402
from tools.http_client import Api  # noqa: E402

LEVELS = harness.Levels(1, 64, full=(1, 16), quick=(8,), smoke=(2,))
MODES = ('on', 'off')
RULES_JSON = {'on': None, 'off': '{"enabled": false}'}    # the campaign's risk_rules column
GROUP_SIZE = 100
SETUP_THREADS = 16
SETTLE_S = 0.3            # after each phase, before reading CPU: the joins' after-commit work lands in its phase
REQUEST_TIMEOUT_S = 30
DEVICE_HEADER = 'X-Pinke-Device'
QUIET_IP = '203.0.113.7'  # TEST-NET-3: a public address whose /24 has no history in the run
LOG_CHECKS = ('requests logged', '5xx answers', '"database is locked"', 'tracebacks', 'worker timeouts',
              'ERROR lines')


# --- one phase: a fixed number of joins by N clients ----------------------------------------------

@dataclass
class Phase:
    mode: str
    clients: int
    round: int
    latencies_ms: list = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)      # error.code of non-201 answers
    failures: Counter = field(default_factory=Counter)   # transport errors by exception name
    elapsed_s: float = 0.0                               # clock start -> last answer
    web_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def ok(self) -> int:
        return self.statuses[201]

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok + sum(self.failures.values())


class ServerCpu:
    """CPU seconds so far of the web workers and of every process of our server (harness.cpu_s, /proc)."""

    def __init__(self, server: harness.OwnServer):
        self.server = server

    def __call__(self) -> tuple[dict, set]:
        root = self.server.proc.pid
        master, workers = self.server.web()
        web = set(workers) | ({master} if master else set())
        return {pid: harness.cpu_s(pid) for pid in [root] + harness.descendants(root)}, web

    @staticmethod
    def spent(before, after) -> tuple[float, float]:
        """(web, whole server) CPU seconds between two readings; a process that started in between counts
        from 0, one that ended in between is lost (none should)."""
        (b, _), (a, web) = before, after
        delta = {pid: max(0.0, s - b.get(pid, 0.0)) for pid, s in a.items()}
        return sum(delta[p] for p in web if p in delta), sum(delta.values())


def run_phase(api: str, tickets: list, mode: str, clients: int, round_no: int, cpu: ServerCpu,
              stop: threading.Event) -> Phase:
    """`clients` threads take tickets (token, share code, device id) until none are left, one join each."""
    phase = Phase(mode, clients, round_no)
    todo, lock = iter(tickets), threading.Lock()
    health = api + '/healthz'
    marks = {}

    def go():   # the last client to arrive starts the clock
        marks['cpu'], marks['me'] = cpu(), _my_cpu()
        marks['start'] = time.perf_counter()
    barrier = threading.Barrier(clients, action=go)
    results = [None] * clients

    def client(i: int) -> None:
        lat, statuses, codes, failures, last = [], Counter(), Counter(), Counter(), 0.0
        with requests.Session() as session:
            try:
                session.get(health, timeout=REQUEST_TIMEOUT_S).close()   # the keep-alive connection, untimed
            except requests.RequestException:
                pass
            try:
                barrier.wait(timeout=120)
            except threading.BrokenBarrierError:
                results[i] = ([], Counter(), Counter(), Counter({'client never started': 1}), 0.0)
                return
            while not stop.is_set():
                with lock:
                    ticket = next(todo, None)
                if ticket is None:
                    break
                token, code, device = ticket
                t0 = time.perf_counter()
                try:
                    r = session.post(f'{api}/api/groups/{code}/join', timeout=REQUEST_TIMEOUT_S,
                                     headers={'Authorization': f'Bearer {token}', DEVICE_HEADER: device})
                except requests.RequestException as exc:
                    failures[type(exc).__name__] += 1
                    last = time.perf_counter()
                    continue
                last = time.perf_counter()
                lat.append((last - t0) * 1000)
                statuses[r.status_code] += 1
                if r.status_code != 201:
                    try:
                        codes[r.json()['error']['code']] += 1
                    except (ValueError, KeyError, TypeError):
                        codes['(no error code)'] += 1
        results[i] = (lat, statuses, codes, failures, last)

    threads = [threading.Thread(target=client, args=(i,), daemon=True, name=f'{mode}-{i}') for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(REQUEST_TIMEOUT_S * len(tickets) + 120)
    last = 0.0
    for item in results:
        if item is None:
            phase.failures['client thread did not finish'] += 1
            continue
        lat, statuses, codes, failures, end = item
        phase.latencies_ms += lat
        phase.statuses.update(statuses)
        phase.codes.update(codes)
        phase.failures.update(failures)
        last = max(last, end)
    if 'start' in marks:
        phase.elapsed_s = max(0.0, last - marks['start'])
        time.sleep(SETTLE_S)
        phase.web_cpu_s, phase.server_cpu_s = ServerCpu.spent(marks['cpu'], cpu())
        phase.client_cpu_s = _my_cpu() - marks['me']
    return phase


def _my_cpu() -> float:
    t = os.times()
    return t.user + t.system


# --- setting up (not timed) -------------------------------------------------------------------------

class Setup:
    """Fresh users, the two campaigns and their formed groups, made concurrently before the clock starts."""

    def __init__(self, server: harness.OwnServer):
        self.server, self.run_id, self.local = server, secrets.token_hex(4), threading.local()

    def client(self) -> Api:
        if not hasattr(self.local, 'api'):
            self.local.api = Api(self.server.api, self.server.sandbox, self.server.admin_token)
        return self.local.api

    def users(self, count: int, prefix: str) -> list[str]:
        with ThreadPoolExecutor(SETUP_THREADS) as pool:
            return list(pool.map(lambda i: self.client().login(f'bench-{self.run_id}-{prefix}{i}'), range(count)))

    def campaign(self, mode: str) -> int:
        """A campaign of groups of 100, its risk rules set for `mode` in the database (as the console saves them)."""
        campaign_id = self.client().new_campaign(title=f'bench risk rules {mode}', group_size=GROUP_SIZE,
                                                 duration_s=3600, group_price_fen=9900)['id']
        with sqlite3.connect(self.server.data_dir / 'pinke.db', timeout=15) as con:
            changed = con.execute('UPDATE campaign SET risk_rules = ? WHERE id = ?',
                                  (RULES_JSON[mode], campaign_id)).rowcount
        con.close()
        assert changed == 1, f'campaign {campaign_id} not found in the database'
        return campaign_id

    def groups(self, campaign_id: int, count: int, mode: str) -> list[str]:
        """`count` formed groups (leader paid) with their first member seat taken (untimed: it also waits
        out the moment between the leader's payment committing and the seat ledger opening the group)."""
        def one(i: int) -> str:
            _, code = self.client().open_formed_group(campaign_id, f'bench-{self.run_id}-{mode}-leader{i}')
            first = self.client().login(f'bench-{self.run_id}-{mode}-first{i}')
            harness.join_when_open(self.client(), first, code)
            return code
        with ThreadPoolExecutor(SETUP_THREADS) as pool:
            return list(pool.map(one, range(count)))


def seat_order(codes: list[str], count: int) -> list[str]:
    """The groups of `count` joins: seat-major (every group's next seat before any group's one after), so
    consecutive joins go to different groups and all groups fill alike."""
    free = GROUP_SIZE - 2                       # the leader's seat and the untimed first member's
    assert count <= free * len(codes)
    return [codes[k % len(codes)] for k in range(count)]


# --- the run ----------------------------------------------------------------------------------------

@dataclass
class Report:
    settings: dict
    phases: list = field(default_factory=list)                 # every Phase, in the order run
    campaigns: dict = field(default_factory=dict)             # mode -> campaign id
    log_check: dict = field(default_factory=dict)             # from risk_check after the run
    breakdown: dict = field(default_factory=dict)             # in-process timings of the risk steps
    server_log: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)


def schedule(rounds: int) -> list[tuple[int, str]]:
    """(round, mode) in ABBA order: on off, off on, on off, ..."""
    return [(r, mode) for r in range(rounds) for mode in (MODES if r % 2 == 0 else MODES[::-1])]


def run_benchmark(server: harness.OwnServer, levels, rounds: int, joins: int, settings: dict,
                  stop: threading.Event, progress=print) -> Report:
    report = Report(settings=settings)
    setup = Setup(server)
    per_mode = len(levels) * rounds * joins
    n_groups = math.ceil(per_mode / (GROUP_SIZE - 2))
    t0 = time.monotonic()
    for mode in MODES:
        report.campaigns[mode] = setup.campaign(mode)
    codes = {mode: setup.groups(report.campaigns[mode], n_groups, mode) for mode in MODES}
    progress(f'# setup: 2 campaigns (rules on: #{report.campaigns["on"]}, off: #{report.campaigns["off"]}), '
             f'{n_groups} formed groups each ({time.monotonic() - t0:.1f} s, not timed)')
    t0 = time.monotonic()
    tokens = setup.users(2 * per_mode, 'u')
    tickets = {}
    for k, mode in enumerate(MODES):   # fresh user, fresh device for every join
        mine = tokens[k * per_mode:(k + 1) * per_mode]
        tickets[mode] = [(token, code, secrets.token_urlsafe(24))
                         for token, code in zip(mine, seat_order(codes[mode], per_mode))]
    progress(f'# setup: {len(tokens)} fresh users logged in ({time.monotonic() - t0:.1f} s, not timed)')
    report.settings.update(
        levels=', '.join(map(str, levels)), rounds=rounds, joins=joins,
        groups=f'{n_groups} per mode, size {GROUP_SIZE}, leader paid and first member seat taken before the clock; '
               f'{per_mode} timed joins per mode, seat-major over the groups')
    time.sleep(1.0)   # the leaders' payments and the first joins' after-commit work
    cpu = ServerCpu(server)
    used = dict.fromkeys(MODES, 0)
    for clients in levels:
        for round_no, mode in schedule(rounds):
            if stop.is_set():
                return report
            batch = tickets[mode][used[mode]:used[mode] + joins]
            used[mode] += joins
            phase = run_phase(server.api, batch, mode, clients, round_no, cpu, stop)
            report.phases.append(phase)
            progress(f'# {clients} clients, round {round_no + 1}/{rounds}, rules {mode}: {phase.ok} joins in '
                     f'{phase.elapsed_s:.2f} s, web CPU {_per_join(phase.web_cpu_s, phase.ok):.1f} ms/join'
                     + (f', {phase.errors} errors' if phase.errors else ''))
    return report


def _per_join(seconds: float, joins: int) -> float:
    return 1000 * seconds / joins if joins else harness.NAN


# --- after the run: what risk_check says, and the risk steps timed on their own ----------------------

def check_log(db_path: Path, report: Report, extra_per_mode: int) -> dict:
    """Join decisions in risk_check per mode: every timed join (and the untimed first members) logged,
    allowed, under the rules version of its mode."""
    from groupbuy.risk.rules import RuleConfig
    want = {'on': RuleConfig().version, 'off': RuleConfig(enabled=False).version}
    timed = Counter()
    for p in report.phases:
        timed[p.mode] += p.ok
    out = {}
    con = sqlite3.connect(f'file:{db_path}?mode=ro', uri=True, timeout=15)
    try:
        for mode in MODES:
            rows = con.execute("SELECT decision, rules, COUNT(*) FROM risk_check WHERE action = 'join' "
                               'AND campaign_id = ? GROUP BY decision, rules', (report.campaigns[mode],)).fetchall()
            found = {f'{d} under {v}': n for d, v, n in rows}
            expected = {f'allow under {want[mode]}': timed[mode] + extra_per_mode}
            out[mode] = {'rules version': want[mode], 'logged': found, 'expected': expected}
            if found != expected:
                report.problems.append(f'rules {mode}: risk_check has {found or "nothing"}, expected {expected}')
        out['risk_check rows'] = con.execute('SELECT COUNT(*) FROM risk_check').fetchone()[0]
    finally:
        con.close()
    return out


def time_risk_steps(db_path: Path, report: Report, sample: int) -> dict:
    """The risk steps of a join, in this process on the run's database (server stopped), for the last `sample`
    timed joins of each mode, replayed with the time, user, group and signals they were logged with
    (alternating on and off): decisions.assess under each mode's rules; its history query on its own, with
    the join's address and with an address whose /24 has no history; decisions.keep's insert (rolled back)."""
    from peewee import SqliteDatabase

    from groupbuy.models import Campaign, Group, RiskCheck, User, db
    from groupbuy.risk import decisions, history
    from groupbuy.risk.signals import Signals

    database = SqliteDatabase(str(db_path), pragmas={'journal_mode': 'wal', 'busy_timeout': 15000,
                                                      'synchronous': 'normal', 'foreign_keys': 1})
    db.initialize(database)
    times = {name: [] for name in STEPS}
    try:
        rows = {mode: list(RiskCheck.select().where(RiskCheck.action == 'join',
                                                    RiskCheck.campaign == report.campaigns[mode])
                           .order_by(RiskCheck.id.desc()).limit(sample))
                for mode in MODES}
        campaigns = {mode: Campaign.get_by_id(report.campaigns[mode]) for mode in MODES}
        networks = Counter(r.network for mode in MODES for r in rows[mode])
        for k in range(min(len(rows['on']), len(rows['off']))):
            for mode in (MODES if k % 2 == 0 else MODES[::-1]):
                row = rows[mode][k]
                user, group = User.get_by_id(row.user_id), Group.get_by_id(row.group_id)
                signals = Signals(ip=row.ip, device=row.device, user_agent=row.user_agent)
                t0 = time.perf_counter()
                verdict = decisions.assess(row.at, 'join', user, campaigns[mode], group.id, signals)
                times[f'assess {mode}'].append((time.perf_counter() - t0) * 1000)
                if verdict.decision.verdict != 'allow':
                    report.problems.append(f'replayed join {row.id} ({mode}): {verdict.decision}, not allow')
                rules = decisions.rules_of(campaigns['on'])
                for name, ip in (('history', row.ip), ('history elsewhere', QUIET_IP)):
                    t0 = time.perf_counter()
                    history.before(row.at, 'join', user.id, group.id, Signals(ip, row.device, row.user_agent), rules)
                    times[name].append((time.perf_counter() - t0) * 1000)
                with database.atomic(lock_type='IMMEDIATE') as txn:
                    t0 = time.perf_counter()
                    decisions.keep(verdict)
                    times['keep'].append((time.perf_counter() - t0) * 1000)
                    txn.rollback()
        network = networks.most_common(1)[0][0] if networks else ''
        in_network = RiskCheck.select().where(RiskCheck.network == network).count() if network else 0
    finally:
        database.close()
    return {'steps': {name: harness.summarize(values) for name, values in times.items()}, 'sample': sample,
            'network': network, 'network_rows': in_network, 'rows': report.log_check.get('risk_check rows')}


# --- output -----------------------------------------------------------------------------------------

SETTING_LABELS = (('command', 'command'), ('code', 'code'), ('date', 'date'), ('machine', 'machine'),
                  ('python', 'python'), ('web', 'web server'), ('db', 'database'), ('rules', 'rules'),
                  ('levels', 'concurrency levels (clients)'),
                  ('rounds', 'rounds per level (one phase per mode each, ABBA)'), ('joins', 'joins per phase'),
                  ('groups', 'groups'), ('client', 'load generator'),
                  ('load', 'load average 1/5/15 min before the run'),
                  ('wall', 'benchmark time after the server was up'))
RESULT_COLUMNS = [('clients', 'r'), ('rules', 'l'), ('joins', 'r'), ('joins/s', 'r'), ('p50 ms', 'r'), ('p99 ms', 'r'),
                  ('web CPU ms/join', 'r'), ('server CPU ms/join', 'r'), ('errors', 'r')]
RATIO_KEYS = ('joins_per_s', 'p50_ms', 'p99_ms', 'web_cpu_ms_per_join', 'server_cpu_ms_per_join')
RATIO_COLUMNS = [('clients', 'r'), ('joins/s', 'r'), ('p50', 'r'), ('p99', 'r'), ('web CPU/join', 'r'),
                 ('server CPU/join', 'r'), ('web CPU/join per round: min – median – max', 'l')]

STEPS = {   # name -> (what it is, whether it runs with the rules off); {network}, {network_rows} filled in
    'assess on': ('decisions.assess, rules on: read the rules, history query, decide, log row', 'log row only'),
    'assess off': ('decisions.assess, rules off', '-'),
    'history': ('of which the history query (history.before), with the join\'s address, whose /24 ({network}) '
                'has {network_rows} rows in risk_check', 'no'),
    'history elsewhere': (f'the history query for an address whose /24 has none ({QUIET_IP})', 'no'),
    'keep': ('decisions.keep: the risk_check insert (rolled back; the join commits anyway)', 'yes'),
}
OFF_SKIPS = ('What "off" skips: the history query (history.before) and the rules (rules.decide); the decision '
             'is still logged (risk_check insert in the join\'s transaction). So on ÷ off is the cost of reading '
             'the history and deciding; the steps are timed on their own below.')


def mode_figures(phases: list) -> dict:
    lat = [x for p in phases for x in p.latencies_ms]
    ok = sum(p.ok for p in phases)
    elapsed = sum(p.elapsed_s for p in phases)
    return {'joins': ok, 'errors': sum(p.errors for p in phases),
            'joins_per_s': ok / elapsed if elapsed else harness.NAN,
            'p50_ms': percentile(lat, 50), 'p99_ms': percentile(lat, 99),
            'web_cpu_ms_per_join': _per_join(sum(p.web_cpu_s for p in phases), ok),
            'server_cpu_ms_per_join': _per_join(sum(p.server_cpu_s for p in phases), ok),
            'client_cpu_ms_per_join': _per_join(sum(p.client_cpu_s for p in phases), ok),
            'codes': dict(sum((p.codes for p in phases), Counter())),
            'failures': dict(sum((p.failures for p in phases), Counter()))}


def summary_levels(report: Report) -> list[dict]:
    out = []
    for clients in dict.fromkeys(p.clients for p in report.phases):
        mine = [p for p in report.phases if p.clients == clients]
        figures = {mode: mode_figures([p for p in mine if p.mode == mode]) for mode in MODES}
        on, off = figures['on'], figures['off']
        rounds = []
        for r in sorted({p.round for p in mine}):
            pair = {p.mode: p for p in mine if p.round == r}
            if len(pair) == 2:
                rounds.append(harness.ratio(_per_join(pair['on'].web_cpu_s, pair['on'].ok),
                                            _per_join(pair['off'].web_cpu_s, pair['off'].ok)))
        out.append({'clients': clients, 'on': on, 'off': off,
                    'on_over_off': {k: harness.ratio(on[k], off[k]) for k in RATIO_KEYS},
                    'web_cpu_ratio_per_round': rounds})
    return out


def render(report: Report) -> str:
    s = report.settings
    out = ['## Settings', ''] + [f'- {label}: {s[key]}' for key, label in SETTING_LABELS if key in s]
    levels = summary_levels(report)
    rows, ratios = [], []
    for lv in levels:
        for mode in MODES:
            f = lv[mode]
            rows.append([lv['clients'], mode, f['joins'], f'{f["joins_per_s"]:.1f}', harness.fmt_ms(f['p50_ms']),
                         harness.fmt_ms(f['p99_ms']), harness.fmt_ms(f['web_cpu_ms_per_join'], fine=True),
                         harness.fmt_ms(f['server_cpu_ms_per_join'], fine=True), f['errors']])
        r = lv['on_over_off']
        per_round = sorted(x for x in lv['web_cpu_ratio_per_round'] if x == x)
        spread = (f'{per_round[0]:.3f} – {percentile(per_round, 50):.3f} – {per_round[-1]:.3f}'
                  if per_round else '-')
        ratios.append([lv['clients']] + [f'{r[k]:.3f}' if r[k] == r[k] else '-' for k in RATIO_KEYS] + [spread])
    out += ['', '## Results', ''] + harness.table(RESULT_COLUMNS, rows)
    out += ['', '## Tracked figure: rules on ÷ rules off (same run, alternating phases)', '']
    out += harness.table(RATIO_COLUMNS, ratios)
    out += ['', 'joins/s below 1 and the others above 1 mean the rules made joins dearer. web CPU = gunicorn '
            'workers; server CPU = every process of `flask up` (web, RQ workers, scheduler, Redis, WeChat sandbox).',
            '', OFF_SKIPS]
    b = report.breakdown
    if b.get('steps'):
        web_on = [lv['on']['web_cpu_ms_per_join'] for lv in levels]
        web = min(web_on) if web_on else harness.NAN
        out += ['', f'## The risk steps on their own: in this process, on the run\'s database ({b["rows"]} rows in '
                f'risk_check), server stopped; the last {b["sample"]} joins of each mode replayed', '']
        labels = {name: text.format(**b) for name, (text, _) in STEPS.items()}
        out += harness.table([('step', 'l'), ('with rules off too', 'l'), ('n', 'r'), ('p50 ms', 'r'), ('p99 ms', 'r'),
                              ('p50 ÷ web CPU per join', 'r')],
                             [[labels[k], STEPS[k][1], v['n'], harness.fmt_ms(v['p50'], fine=True),
                               harness.fmt_ms(v['p99'], fine=True), f'{100 * harness.ratio(v["p50"], web):.1f} %']
                              for k, v in b['steps'].items()])
        out += ['', f'(web CPU per join: the lowest of the rules-on rows above, {harness.fmt_ms(web, fine=True)} ms; '
                'the server does these steps in a gevent worker, so these are estimates of its share.)']
    elif b.get('error'):
        out += ['', f'The risk steps could not be timed on their own: {b["error"]}']
    if report.log_check:
        out += ['', 'risk_check after the run (join decisions by mode):']
        for mode in MODES:
            c = report.log_check.get(mode, {})
            out.append(f'- rules {mode} (campaign #{report.campaigns[mode]}, version {c.get("rules version")}): '
                       + (', '.join(f'{k}: {n}' for k, n in c.get('logged', {}).items()) or 'nothing'))
    for lv in levels:
        for mode in MODES:
            f = lv[mode]
            if f['codes'] or f['failures']:
                out.append(f'- {lv["clients"]} clients, rules {mode}: answers other than 201 {f["codes"] or "-"}, '
                           f'transport {f["failures"] or "-"}')
    if report.server_log:
        out += ['', 'Server log: ' + harness.log_line(report.server_log)]
    warnings = list(report.problems)
    if report.settings.get('load_at_start', 0) > 1.0:
        warnings.append(f'the 1-minute load average was {report.settings["load_at_start"]:.2f} on '
                        f'{os.cpu_count()} cores when the run started: the figures are noisy')
    if warnings:
        out += ['', 'WARNINGS:'] + [f'- {w}' for w in warnings]
    return '\n'.join(out)


# --- command line -----------------------------------------------------------------------------------

def parse_args(argv=None):
    p = harness.parser('bench/risk_cost.py', __doc__, LEVELS)
    p.add_argument('--rounds', type=int, help='rounds per level, each one phase per mode, even (default 8; --quick 4; '
                                              '--smoke 2)')
    p.add_argument('--joins', type=int, help='joins per phase (default 150; --quick 60; --smoke 10)')
    args = harness.parse(p, argv)
    args.rounds = args.rounds or harness.by_mode(args, 8, 4, 2)
    args.joins = args.joins or harness.by_mode(args, 150, 60, 10)
    if args.rounds < 2 or args.rounds % 2 or args.rounds > 40:
        p.error('--rounds must be even, between 2 and 40 (ABBA: each mode goes first equally often)')
    if not 1 <= args.joins <= 2000:
        p.error('--joins must be between 1 and 2000')
    if any(args.joins < n for n in args.levels):
        p.error('--joins must be at least the number of clients of each level')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    stop = threading.Event()

    def body() -> int:
        harness.sigterm_interrupts(stop)
        try:
            with harness.own_server('risk', keep=args.keep) as server:
                return measure(args, server, stop)
        finally:
            stop.set()
    return harness.interruptible(body)


def measure(args, server: harness.OwnServer, stop: threading.Event) -> int:
    settings = harness.run_settings('bench/risk_cost.py')
    load = harness.loadavg()
    settings.update(web=server.describe_web(), db='SQLite (the embedded default, DATA_DIR/pinke.db)',
                    rules='campaign A: the defaults (risk_rules NULL); campaign B: risk_rules = {"enabled": false}; '
                          'HTTP rate limits off',
                    client='threads, one requests.Session (keep-alive) per client, same machine; every join a fresh '
                           f'user with a fresh {DEVICE_HEADER}',
                    load=harness.loadavg_text(), load_at_start=load[0] if load else 0.0)
    started = time.monotonic()
    report = run_benchmark(server, args.levels, args.rounds, args.joins, settings, stop,
                           progress=lambda m: print(m, flush=True))
    report.settings['wall'] = f'{time.monotonic() - started:.0f} s'
    server.stop()
    report.server_log = harness.scan_log(server.log_path, LOG_CHECKS)
    db_path = server.data_dir / 'pinke.db'
    groups_per_mode = math.ceil(len(args.levels) * args.rounds * args.joins / (GROUP_SIZE - 2))
    if not stop.is_set():
        report.log_check = check_log(db_path, report, extra_per_mode=groups_per_mode)   # + the untimed first members
        sample = harness.by_mode(args, 300, 100, 20)
        try:
            report.breakdown = time_risk_steps(db_path, report, sample)
        except Exception as exc:  # noqa: BLE001 - the domain moved under us: say so, keep the measured figures
            report.breakdown = {'error': f'{type(exc).__name__}: {exc}'}
            report.problems.append(f'timing the risk steps failed: {report.breakdown["error"]}')
    if args.keep:
        print(f'# kept: {server.root} (server log stack.log, database data/pinke.db)')
    print()
    print(render(report))
    errors = sum(p.errors for p in report.phases)
    ok = not errors and not report.problems and not stop.is_set()
    report.settings.pop('load_at_start', None)
    harness.write_summary(args.json, 'risk_cost', report.settings, summary_levels(report), ok=ok,
                          campaigns=report.campaigns, risk_log=report.log_check, risk_steps=report.breakdown,
                          off_skips=OFF_SKIPS, server_log=report.server_log, problems=report.problems)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())

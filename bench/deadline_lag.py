"""How late does settlement start after a group's deadline, when many groups expire together?

Creates N forming groups (one paid leader each, so each fails and refunds: real work) whose
deadlines are spread evenly over one minute, then starts the real scheduler and worker(s) and
the WeChat sandbox, and measures for every group `closed_at - deadline_at` (closed_at is stamped
at the start of the settlement transaction). Reported next to the raw Redis round-trip time
measured in the same run, since the scheduler's floor is a Redis poll.

    .venv/bin/python bench/deadline_lag.py                 # 1,000 and 10,000 groups over 60 s
    .venv/bin/python bench/deadline_lag.py --quick         # 200 groups over 10 s
    .venv/bin/python bench/deadline_lag.py --smoke         # end-to-end check: 20 groups over 2 s
    .venv/bin/python bench/deadline_lag.py --groups 500 --spread 30 --json out.json
"""
import datetime as dt
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/deadline_lag.py`
    sys.path.insert(0, str(ROOT))

import redis as redis_lib  # noqa: E402

from bench import harness  # noqa: E402
from bench.harness import free_port  # noqa: E402
from config import embedded_redis  # noqa: E402
from config.devstack import commands  # noqa: E402
from config.settings import Settings  # noqa: E402
from config.wiring import open_database  # noqa: E402
from groupbuy.migrations import migrate  # noqa: E402
from groupbuy.models import Campaign, Course, Group, Order, Seat, User, db  # noqa: E402

LEVELS = harness.Levels(1, 100_000, full=(1000, 10000), quick=(200,), smoke=(20,), unit='groups')


def redis_rtt_ms(client, n=2000) -> dict:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        client.ping()
        samples.append((time.perf_counter() - t) * 1000)
    return harness.summarize(samples)


def seed(n: int, spread_s: float, lead_s: float) -> dt.datetime:
    """N forming groups, one paid leader seat each, deadlines spread over `spread_s` seconds."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    start = now + dt.timedelta(seconds=lead_s)
    course = Course.create(title='基准课程', price_fen=19900)
    campaign = Campaign.create(course=course, group_size=3, duration_s=3600, group_price_fen=9900,
                               per_user_limit=10 ** 6, nudge_offsets='')
    with db.atomic():
        users = [User.create(openid=f'bench-{secrets.token_hex(6)}') for _ in range(n)]
    rows = []
    for i, user in enumerate(users):
        deadline = start + dt.timedelta(seconds=spread_s * i / n)
        rows.append((user, deadline))
    with db.atomic():
        for user, deadline in rows:
            group = Group.create(campaign=campaign, leader=user, share_code=secrets.token_urlsafe(9), size=3,
                                 duration_s=campaign.duration_s, price_fen=9900, status='forming',
                                 deadline_at=deadline, opened_at=now)
            order = Order.create(user=user, group=group, course=course, amount_fen=9900, status='paid',
                                 out_trade_no=f'PK{secrets.token_hex(11)}', transaction_id='bench', paid_at=now)
            Seat.create(group=group, user=user, order=order, role='leader', status='paid', reserved_until=now)
    return start


def run(n: int, workers: int, spread_s: float, keep: bool) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix=f'pinke-bench-{n}-'))
    redis_url = os.environ.get('REDIS_URL') or embedded_redis.start(str(data_dir))
    env = {k: v for k, v in os.environ.items() if not k.startswith('FLASK_RUN')}
    env.update(DATA_DIR=str(data_dir), REDIS_URL=redis_url, KEY_PREFIX=f'bench{secrets.token_hex(3)}:',
               DATABASE_URL=os.environ.get('DATABASE_URL') or f'sqlite:///{data_dir}/bench.db',
               PORT=str(free_port()), SANDBOX_PORT=str(free_port()), SECRET_KEY='b', ADMIN_TOKEN='b',
               SCHEDULER_POLL_S='0.1', QUIET_HOURS='', SANDBOX_REFUND_DELAY_S='0.5', PYTHONUNBUFFERED='1')
    settings = Settings.from_env({'data_dir': str(data_dir), 'database_url': env['DATABASE_URL'],
                                  'redis_url': redis_url})
    database = open_database(settings)
    migrate(database)
    for model in (Seat, Order, Group, Campaign, Course, User):
        model.delete().execute()
    lead = 5 + n / 2000  # time to start the processes before the first deadline
    t0 = time.time()
    start = seed(n, spread_s, lead)
    seeded_s = time.time() - t0
    argv = commands(Settings(port=int(env['PORT']), sandbox_port=int(env['SANDBOX_PORT']), data_dir=str(data_dir),
                             secret_key='b', admin_token='b'))
    names = ['sandbox', 'scheduler', 'worker'] + ['settlement-worker'] * workers
    procs = [subprocess.Popen(argv[name], cwd=ROOT, env=env, stdout=open(data_dir / f'{name}-{i}.log', 'wb'),
                              stderr=subprocess.STDOUT, start_new_session=True) for i, name in enumerate(names)]
    try:
        deadline_end = start + dt.timedelta(seconds=spread_s)
        timeout = time.time() + (deadline_end - dt.datetime.utcnow()).total_seconds() + 120
        while time.time() < timeout:
            left = Group.select().where(Group.status == 'forming').count()
            if left == 0:
                break
            time.sleep(1)
        lags = [(g.closed_at - g.deadline_at).total_seconds()
                for g in Group.select(Group.closed_at, Group.deadline_at).where(Group.closed_at.is_null(False))]
    finally:
        harness.stop_processes(procs)
    client = redis_lib.Redis.from_url(redis_url)
    rtt = redis_rtt_ms(client)
    if os.environ.get('REDIS_URL'):
        for key in client.scan_iter(env['KEY_PREFIX'] + '*', count=1000):
            client.delete(key)
    if not os.environ.get('REDIS_URL'):   # the embedded one of this run: done with it (its files go below)
        try:
            client.shutdown(nosave=True)
        except redis_lib.RedisError:
            pass
    client.close()
    database.close()
    lag = harness.summarize(x * 1000 for x in lags)
    result = {'groups': n, 'workers': workers, 'seeded_s': seeded_s, 'unsettled': n - len(lags),
              'p50_ms': lag['p50'], 'p99_ms': lag['p99'], 'max_ms': lag['max'], 'mean_ms': lag['mean'],
              'redis_p50_ms': rtt['p50'], 'redis_p99_ms': rtt['p99'],
              'ratio': harness.ratio(lag['p99'], rtt['p50']),
              'logs': harness.scan_log(sorted(data_dir.glob('*.log'))), 'data_dir': str(data_dir) if keep else ''}
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


COLUMNS = [('groups', 'r'), ('p50 lag ms', 'r'), ('p99 lag ms', 'r'), ('max lag ms', 'r'), ('unsettled', 'r'),
           ('Redis RTT p50 ms', 'r'), ('p99 lag ÷ Redis RTT p50', 'r')]


def parse_args(argv=None):
    p = harness.parser('bench/deadline_lag.py', __doc__, LEVELS, levels_flag='--groups')
    p.add_argument('--workers', type=int, default=int(os.environ.get('BENCH_WORKERS', '1')),
                   help='settlement-only workers, besides the general worker (`flask up` runs one)')
    p.add_argument('--spread', type=float,
                   help='seconds over which the deadlines fall (default 60; --quick 10; --smoke 2)')
    args = harness.parse(p, argv)
    args.spread = args.spread or harness.by_mode(args, 60.0, 10.0, 2.0)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    return harness.interruptible(lambda: measure(args))


def measure(args) -> int:
    db_kind = 'PostgreSQL' if os.environ.get('DATABASE_URL', '').startswith('postgres') else 'SQLite'
    print(f'# deadline lag — {db_kind}, {args.workers} settlement worker(s) + 1 general worker, deadlines spread '
          f'over {args.spread:.0f} s, python {sys.version.split()[0]}, {os.cpu_count()} cores')
    print('\n'.join(harness.table(COLUMNS, [])), flush=True)
    results = []
    for n in args.levels:
        r = run(n, args.workers, args.spread, args.keep)
        results.append(r)
        print(harness.table_row([f'{n:,}', f"{r['p50_ms']:.0f}", f"{r['p99_ms']:.0f}", f"{r['max_ms']:.0f}",
                                 r['unsettled'], f"{r['redis_p50_ms']:.3f}", f"{r['ratio']:.0f}×"]), flush=True)
        if r['data_dir']:
            print(f'  (kept {r["data_dir"]})')
    settings = harness.run_settings('bench/deadline_lag.py')
    settings.update(database=db_kind, settlement_workers=args.workers, spread_s=args.spread,
                    load=harness.loadavg_text())
    ok = not any(r['unsettled'] for r in results)
    harness.write_summary(args.json, 'deadline_lag', settings, results, ok=ok)
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""How late does settlement start after a group's deadline, when many groups expire together?

Creates N forming groups (one paid leader each, so each fails and refunds: real work) whose
deadlines are spread evenly over one minute, then starts the real scheduler and worker(s) and
the WeChat sandbox, and measures for every group `closed_at - deadline_at` (closed_at is stamped
at the start of the settlement transaction). Reported next to the raw Redis round-trip time
measured in the same run, since the scheduler's floor is a Redis poll.

    .venv/bin/python bench/deadline_lag.py                 # 1,000 and 10,000 groups
    .venv/bin/python bench/deadline_lag.py --groups 500 --quick
"""
import argparse
import datetime as dt
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis as redis_lib  # noqa: E402

from bench.measure import free_port  # noqa: E402
from config import embedded_redis  # noqa: E402
from config.devstack import commands  # noqa: E402
from config.settings import Settings  # noqa: E402
from config.wiring import open_database  # noqa: E402
from groupbuy.migrations import migrate  # noqa: E402
from groupbuy.models import Campaign, Course, Group, Order, Seat, User, db  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def redis_rtt_ms(client, n=2000):
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        client.ping()
        samples.append((time.perf_counter() - t) * 1000)
    return percentile(samples, 50), percentile(samples, 99)


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
                                 status='forming', deadline_at=deadline, opened_at=now)
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
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)
    client = redis_lib.Redis.from_url(redis_url)
    rtt50, rtt99 = redis_rtt_ms(client)
    if os.environ.get('REDIS_URL'):
        for key in client.scan_iter(env['KEY_PREFIX'] + '*', count=1000):
            client.delete(key)
    database.close()
    unsettled = n - len(lags)
    return {'groups': n, 'workers': workers, 'seeded_s': seeded_s, 'unsettled': unsettled,
            'p50_ms': percentile(lags, 50) * 1000 if lags else float('nan'),
            'p99_ms': percentile(lags, 99) * 1000 if lags else float('nan'),
            'max_ms': max(lags) * 1000 if lags else float('nan'),
            'mean_ms': statistics.mean(lags) * 1000 if lags else float('nan'),
            'redis_p50_ms': rtt50, 'redis_p99_ms': rtt99, 'data_dir': str(data_dir) if keep else ''}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--groups', default='1000,10000', help='comma-separated group counts')
    parser.add_argument('--workers', type=int, default=int(os.environ.get('BENCH_WORKERS', '1')),
                        help='settlement-only workers, besides the general worker (`flask up` runs one)')
    parser.add_argument('--spread', type=float, default=60.0, help='seconds over which the deadlines fall')
    parser.add_argument('--quick', action='store_true', help='a smoke run: 200 groups over 10 s')
    parser.add_argument('--keep', action='store_true', help='keep the data directory and logs')
    args = parser.parse_args()
    counts = [200] if args.quick else [int(x) for x in args.groups.split(',')]
    spread = 10.0 if args.quick else args.spread
    db_kind = 'PostgreSQL' if os.environ.get('DATABASE_URL', '').startswith('postgres') else 'SQLite'
    print(f'# deadline lag — {db_kind}, {args.workers} settlement worker(s) + 1 general worker, deadlines spread over {spread:.0f} s, '
          f'python {sys.version.split()[0]}, {os.cpu_count()} cores')
    print('| groups | p50 lag ms | p99 lag ms | max lag ms | unsettled | Redis RTT p50 ms | p99 lag ÷ Redis RTT p50 |')
    print('|---:|---:|---:|---:|---:|---:|---:|')
    for n in counts:
        r = run(n, args.workers, spread, args.keep)
        print(f"| {n:,} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['max_ms']:.0f} | {r['unsettled']} | "
              f"{r['redis_p50_ms']:.3f} | {r['p99_ms'] / r['redis_p50_ms']:.0f}× |", flush=True)
        if r['data_dir']:
            print(f'  (kept {r["data_dir"]})')


if __name__ == '__main__':
    main()

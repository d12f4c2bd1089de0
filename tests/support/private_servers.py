"""Servers a test owns outright — a Redis it may stop, a 3-master Redis Cluster, a PostgreSQL it may
restart, an haproxy — started from Debian's binaries on free ports in a temp dir, never the shared
127.0.0.1:6379 / :5432 that CI and other engineers use. A missing binary skips the test locally and fails
it under CI (`CI` set), where `.ci/run` installs what is needed, as the browser tests do."""
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from glob import glob
from pathlib import Path

import pytest
import redis as redis_lib

from tests.support.system import free_port


def binary(name: str, package: str, search: str = '') -> str:
    """The path of `name` (on PATH, or matching `search`), or skip (fail under CI) naming the package."""
    found = shutil.which(name) or next(iter(sorted(glob(search), reverse=True)), None) if search else None
    found = found or shutil.which(name)
    if found is None:
        if os.environ.get('CI'):
            pytest.fail(f'{name} is missing: .ci/run installs Debian\'s {package} package')
        pytest.skip(f'no {name} here (apt-get install {package}); skipped')
    return found


def wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = predicate()
            if value:
                return value
        except Exception:  # noqa: BLE001 — still starting
            pass
        time.sleep(0.1)
    raise AssertionError(f'timed out after {timeout}s waiting for {what}')


def cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free too, so at most 55535."""
    for _ in range(200):
        port = random.randint(20000, 55535)
        try:
            for p in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(('127.0.0.1', p))
        except OSError:
            continue
        return port
    raise RuntimeError('no free port pair for a Redis Cluster node')


class RedisServer:
    """One redis-server on its own port; `stop` and `start` again keep its data (an RDB saved on shutdown)."""

    def __init__(self, directory: Path, *extra: str, port: int | None = None):
        self.exe = binary('redis-server', 'redis-server')
        self.dir, self.port, self.extra = directory, port or free_port(), extra
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f'redis://127.0.0.1:{self.port}/0'

    def start(self) -> None:
        log = open(self.dir / 'redis.log', 'ab')
        self.proc = subprocess.Popen(
            [self.exe, '--bind', '127.0.0.1', '--port', str(self.port), '--dir', str(self.dir),
             '--save', '', '--appendonly', 'no', '--protected-mode', 'no', *self.extra],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        client = redis_lib.Redis('127.0.0.1', self.port, socket_timeout=1)
        wait_for(lambda: self.proc.poll() is None and client.ping(), 20, f'redis-server on {self.port}')
        client.close()

    def stop(self) -> None:
        """SHUTDOWN SAVE: the data comes back on `start`, like a restart of a Redis with persistence."""
        if self.proc and self.proc.poll() is None:
            try:
                redis_lib.Redis('127.0.0.1', self.port, socket_timeout=5).shutdown(save=True)
            except redis_lib.ConnectionError:
                pass  # the answer to SHUTDOWN is the connection closing
            self.proc.wait(20)
        self.proc = None


class RedisCluster:
    """Three masters, no replicas: `redis-cli --cluster create`, then cluster_state:ok on every node."""

    def __init__(self, directory: Path):
        self.nodes = [RedisServer(directory / f'node{i}', '--cluster-enabled', 'yes',
                                  '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000',
                                  port=cluster_port())
                      for i in range(3)]
        self.cli = binary('redis-cli', 'redis-tools')

    @property
    def url(self) -> str:
        """The setting's form: every master, so a client finds the cluster from any one still up."""
        return 'redis+cluster://' + ','.join(f'127.0.0.1:{n.port}' for n in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        subprocess.run([self.cli, '--cluster', 'create', *(f'127.0.0.1:{n.port}' for n in self.nodes),
                        '--cluster-replicas', '0', '--cluster-yes'], check=True, capture_output=True, timeout=60)
        for node in self.nodes:
            client = redis_lib.Redis('127.0.0.1', node.port, socket_timeout=1)
            wait_for(lambda: client.execute_command('CLUSTER INFO').get('cluster_state') == 'ok', 30,
                     f'cluster_state:ok on {node.port}')
            client.close()

    def stop(self) -> None:
        for node in self.nodes:
            if node.proc and node.proc.poll() is None:
                node.proc.terminate()
                node.proc.wait(20)


class PostgresServer:
    """A PostgreSQL cluster of its own (initdb in a temp dir, pg_ctl on a free port), trust auth for loopback.
    initdb and the server refuse to run as root: as root they run as the `postgres` user, in a temp dir of
    their own (the test's temp root is private to root)."""

    def __init__(self):
        self.bin = Path(binary('initdb', 'postgresql', '/usr/lib/postgresql/*/bin/initdb')).parent
        self.dir, self.port = Path(tempfile.mkdtemp(prefix='pinke-pg-')), free_port()
        self.data = self.dir / 'data'
        self.as_user = ['runuser', '-u', 'postgres', '--'] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, 'postgres', 'postgres')

    def url(self, database: str = 'postgres') -> str:
        return f'postgresql://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable&gssencmode=disable'  # neither TLS nor GSS configured

    def _run(self, *argv: str, timeout: float = 120) -> None:
        done = subprocess.run([*self.as_user, *argv], capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f'{argv[0]} failed:\n{done.stdout}{done.stderr}'

    def init(self) -> None:
        self._run(str(self.bin / 'initdb'), '-D', str(self.data), '-U', 'postgres', '-A', 'trust',
                  '--no-sync', '-E', 'UTF8')

    def start(self) -> None:
        self._run(str(self.bin / 'pg_ctl'), '-D', str(self.data), '-l', str(self.dir / 'postgres.log'), '-w',
                  '-o', f'-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} '
                        f'-c fsync=off -c max_connections=200', 'start')

    def stop(self, mode: str = 'fast') -> None:
        self._run(str(self.bin / 'pg_ctl'), '-D', str(self.data), '-m', mode, '-w', 'stop')

    def remove(self) -> None:
        """Stop it if it runs, and delete its files."""
        subprocess.run([*self.as_user, str(self.bin / 'pg_ctl'), '-D', str(self.data), '-m', 'immediate', '-w',
                        'stop'], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)

    def create_database(self, name: str) -> str:
        import psycopg2
        admin = psycopg2.connect(self.url())
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        admin.close()
        return self.url(name)

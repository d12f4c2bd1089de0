"""The files of prometheus_client's multiprocess directory, handled in gunicorn's master before any worker
exists. Imports nothing but the standard library, on purpose: whatever the master imports, every gevent
worker inherits unpatched — peewee imported there would share one connection state between all the
requests of a worker (tests/unit/test_gunicorn_master.py)."""
import os
from pathlib import Path


def forget_dead_processes(directory: str) -> list[str]:
    """Remove the files of processes that no longer run (a previous run's), keeping those of the RQ workers and
    schedulers running now. gunicorn's master calls it before it starts its workers: a restarted web counts
    from zero, as a single process would, and a new process never inherits a dead one's numbers by its pid."""
    removed = []
    for path in Path(directory).glob('*_*.db'):
        pid = path.stem.rsplit('_', 1)[1]
        if pid.isdigit() and not _running(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: running
    return True

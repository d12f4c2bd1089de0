"""Small helpers the benchmarks share: a free loopback port, the code version, a percentile, and
per-process figures read straight from /proc (Linux; no psutil needed, cheap enough to call often).
"""
from __future__ import annotations

import math
import os
import socket
import subprocess
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf('SC_CLK_TCK')


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def percentile(values, p: float) -> float:
    """Nearest-rank percentile (p in 0..100); nan for no values."""
    if not values:
        return float('nan')
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def code_version() -> str:
    """The commit, and whether the working tree differs from it (read-only git)."""
    try:
        head = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return '?'
    return f'{head or "?"}{" + uncommitted changes" if dirty else ""}'


# --- processes, from /proc ---------------------------------------------------------------------------

def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: fields[0] is the state, fields[1] the parent pid."""
    return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()


def proc_table() -> dict:
    """pid -> parent pid for every process (from /proc)."""
    parents = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            parents[int(entry)] = int(_stat_fields(int(entry))[1])
        except (OSError, IndexError, ValueError):
            continue
    return parents


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children, ...)."""
    children = defaultdict(list)
    for child, parent in proc_table().items():
        children[parent].append(child)
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            out.append(child)
            todo.append(child)
    return out


def argv(pid: int) -> list[str]:
    """A process's command line as a list (as psutil reads it); [] when it is gone."""
    try:
        data = Path(f'/proc/{pid}/cmdline').read_bytes().decode(errors='replace')
    except OSError:
        return []
    if not data:
        return []
    sep = '\0' if data.endswith('\0') else ' '      # a retitled process may use spaces
    parts = data[:-1].split(sep) if data.endswith(sep) else data.split(sep)
    return data.strip('\0').split(' ') if sep == '\0' and len(parts) == 1 and ' ' in data else parts


def cmdline(pid: int) -> str:
    """A process's command line as one string (for `in` tests); '' when it is gone."""
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').decode(errors='replace')
    except OSError:
        return ''


def started(pid: int) -> int | None:
    """When the process started (clock ticks since boot): with the pid, its identity. None when it is
    gone or only a zombie."""
    try:
        fields = _stat_fields(pid)
        return None if fields[0] in ('Z', 'X') else int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = _stat_fields(pid)
        return (int(fields[11]) + int(fields[12])) / CLK_TCK     # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def socket_fds(pid: int) -> int:
    """How many sockets a process has open."""
    count = 0
    try:
        for fd in os.listdir(f'/proc/{pid}/fd'):
            try:
                count += os.readlink(f'/proc/{pid}/fd/{fd}').startswith('socket:')
            except OSError:
                pass
    except OSError:
        pass
    return count

"""What gunicorn's master imports, every gevent worker inherits from before gevent patches threading: peewee
imported there keeps an unpatched thread-local, and every request of a worker then shares one database
connection and transaction (PostgreSQL answered 'execute cannot be used while an asynchronous query is
underway'). The master loads config/gunicorn_conf.py and runs its `on_starting`; neither may import peewee."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = '''
import sys, types
sys.path.insert(0, "config")
import gunicorn_conf
gunicorn_conf.on_starting(types.SimpleNamespace())
heavy = sorted(m for m in ("peewee", "psycopg2", "redis", "groupbuy.models") if m in sys.modules)
print(",".join(heavy))
'''


def test_the_gunicorn_master_imports_no_database_driver(tmp_path):
    env = {'PATH': '/usr/bin:/bin', 'DATA_DIR': str(tmp_path), 'HOME': str(tmp_path)}
    done = subprocess.run([sys.executable, '-c', PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ''

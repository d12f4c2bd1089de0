"""`flask up` (what `make run` calls): the whole system in one terminal on embedded defaults.

Migrates, seeds demo data, then runs the WeChat sandbox, the web server (gunicorn), an RQ worker
and the scheduler as child processes sharing one Redis and one database. Ctrl-C stops them all;
if one dies, the others are stopped too, so a broken system never looks half alive.
"""
import os
import signal
import subprocess
import sys
import time

import requests

from groupbuy.migrations import migrate

from .demo_data import seed_demo, seed_demo_operators


def child_env(settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith('FLASK_RUN')}
    env.update(DATA_DIR=settings.data_dir, DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url,
               PORT=str(settings.port), SANDBOX_PORT=str(settings.sandbox_port),
               SECRET_KEY=settings.secret_key, ADMIN_TOKEN=settings.admin_token,
               PYTHONUNBUFFERED='1')
    return env


def commands(settings) -> dict[str, list[str]]:
    py = sys.executable
    return {
        'sandbox': [py, '-m', 'wechat_sandbox', '--host', '127.0.0.1', '--port', str(settings.sandbox_port)],
        'web': [py, '-m', 'gunicorn', '-c', 'config/gunicorn_conf.py', 'wsgi:create_app()'],
        # a worker only for deadlines, so a slow WeChat call never delays a settlement; the general
        # worker takes settlements too when a burst comes
        'settlement-worker': [py, '-m', 'flask', '--app', 'wsgi', 'worker', '--queues', 'settlement'],
        'worker': [py, '-m', 'flask', '--app', 'wsgi', 'worker', '--queues', 'settlement,refunds,notifications',
                   '--nice', '5'],
        # broadcasts are long and paced: their own worker, so they never hold up a deadline
        'broadcast-worker': [py, '-m', 'flask', '--app', 'wsgi', 'worker', '--queues', 'broadcast', '--nice', '10'],
        'scheduler': [py, '-m', 'flask', '--app', 'wsgi', 'scheduler'],
    }


def wait_healthy(url: str, seconds: float = 30) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if requests.get(url, timeout=1).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


def run_stack(runtime) -> int:
    settings = runtime.settings
    print(f'migrations: {migrate(runtime.database) or "up to date"}')
    for line in seed_demo():
        print(line)
    console_logins = seed_demo_operators(settings.data_dir, runtime.deps.now()) if settings.uses_sandbox else {}
    env = child_env(settings)
    uses_sandbox = settings.uses_sandbox
    procs = {}
    for name, argv in commands(settings).items():
        if name == 'sandbox' and not uses_sandbox:
            continue
        procs[name] = subprocess.Popen(argv, env=env, start_new_session=True)
    stopping = []

    def stop(*_):
        stopping.append(True)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    api = f'http://127.0.0.1:{settings.port}'
    if wait_healthy(f'{api}/healthz'):
        print(banner(settings, api, console_logins), flush=True)
    else:
        print('the web server did not become healthy; see the log above', flush=True)
        stopping.append(True)
    try:
        while not stopping:
            dead = [n for n, p in procs.items() if p.poll() is not None]
            if dead:
                print(f'{", ".join(dead)} exited; stopping everything', flush=True)
                break
            time.sleep(0.5)
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
    return 0 if stopping else 1


def banner(settings, api: str, console_logins: dict | None = None) -> str:
    sandbox = f'http://127.0.0.1:{settings.sandbox_port}'
    admin = settings.admin_token
    logins = '  '.join(f'{name} / {password}' for name, password in (console_logins or {}).items()) or \
        '(flask admin create <name> --role operator)'
    return f"""
==================================================================
 Pinke is up.
   API        {api}            (GET /healthz)
   Sandbox    {sandbox}        (stands in for WeChat)
   Admin      Authorization: Bearer {admin}
   Console    {api}/admin/   {logins}
   Data       {settings.data_dir}   Redis {settings.redis_url}
 Walkthrough (three people fill a group; `jq` optional):
   T1=$(curl -s -XPOST {api}/api/auth/wxlogin -H 'Content-Type: application/json' -d '{{"code":"alice.'$RANDOM'"}}' | jq -r .token)
   curl -s {api}/api/campaigns
   curl -s -XPOST {api}/api/groups -H "Authorization: Bearer $T1" -H 'Content-Type: application/json' -d '{{"campaign_id":1}}' > open.json
   curl -s -XPOST {sandbox}/sandbox/pay/confirm -H 'Content-Type: application/json' \\
        -d "{{\\"prepay_id\\":\\"$(jq -r '.pay_params.package|sub("prepay_id=";"")' open.json)\\"}}"
   CODE=$(jq -r .group.share_code open.json); curl -s {api}/api/groups/$CODE
   # repeat wxlogin with codes "bob.<any>" and "carol.<any>" (a code works once), POST {api}/api/groups/$CODE/join, confirm each prepay_id
   curl -s {api}/api/me/courses -H "Authorization: Bearer $T1"
 Or run it all at once:  make demo      Money check:  make audit
 Ctrl-C stops everything.
=================================================================="""

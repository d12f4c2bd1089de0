"""A worker outlives a Redis restart. RQ quits on an error it did not expect — Redis vanishing while a job's
bookkeeping is written is one — and with nothing to restart it, settlement stopped until someone noticed (a CI
run of tests/e2e/test_restarts.py: nine paid orders never settled). `flask worker` (jobs/worker.py) starts a
fresh RQ worker once Redis answers; a SIGTERM still stops it."""
import signal
import subprocess
import sys
import textwrap

import redis as redis_lib
from rq import Queue

from tests.e2e.processes import ROOT
from tests.support import worker_jobs
from tests.support.private_servers import RedisServer, wait_for

SCRIPT = textwrap.dedent('''
    import logging, sys, uuid
    import redis
    from rq import Queue
    from jobs.worker import Worker, run_worker
    logging.basicConfig(level=logging.INFO)
    conn = redis.Redis.from_url(sys.argv[1])
    run_worker(lambda: Worker([Queue('restart-test', connection=conn)], connection=conn,
                              name=f'restart-test-{uuid.uuid4().hex[:8]}'), first_wait_s=0.1, max_wait_s=0.5)
''')


def test_the_worker_starts_afresh_after_redis_went_away_mid_job_and_still_stops_on_sigterm(tmp_path):
    server = RedisServer(tmp_path / 'redis')
    server.start()
    log_path = tmp_path / 'worker.log'
    with open(log_path, 'wb') as log:
        worker = subprocess.Popen([sys.executable, '-c', SCRIPT, server.url], cwd=ROOT, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        client = redis_lib.Redis.from_url(server.url)
        Queue('restart-test', connection=client).enqueue(worker_jobs.shut_down_redis, server.url)
        wait_for(lambda: 'a new worker starts once Redis answers' in log_path.read_text(), 30,
                 'the worker noticing Redis gone')
        assert worker.poll() is None, log_path.read_text()[-3000:]
        server.proc.wait(20)
        server.start()
        client = redis_lib.Redis.from_url(server.url)
        Queue('restart-test', connection=client).enqueue(worker_jobs.mark, server.url, 'after')
        wait_for(lambda: client.get('after') == b'done', 30, 'a job run by the new worker')
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(20) == 0, log_path.read_text()[-3000:]
    finally:
        if worker.poll() is None:
            worker.kill()
        server.stop()

"""gunicorn settings for the web process (`gunicorn -c config/gunicorn_conf.py 'wsgi:create_app()'`).

gevent workers: a live group page holds an event stream open for as long as it is looked at, so a
process must hold thousands of idle connections; an idle stream costs ~32 KB (bench/fanout.py),
where an OS thread per viewer would cost far more and starve API calls. Database and Redis drivers yield
while they wait (psycopg2 through psycogreen; redis-py and requests are pure Python sockets).
"""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get('WEB_WORKERS', '2'))
worker_class = os.environ.get('WEB_WORKER_CLASS', 'gevent')
worker_connections = int(os.environ.get('WEB_CONNECTIONS', '10000'))
threads = int(os.environ.get('WEB_THREADS', '16'))  # only for WEB_WORKER_CLASS=gthread
timeout = 60
control_socket_disable = True  # gunicorn's control socket has one default path per user: two nodes would share it
graceful_timeout = 5  # open event streams never end on their own
# gunicorn's gevent worker reads every request, a new connection's first one included, under this timeout and
# closes the connection without an answer when it runs out: at gunicorn's 2 s a burst of new connections on a busy
# worker lost requests that way (a 300-join burst in CI on PostgreSQL). Idle kept-alive connections cost a gevent
# worker little, so they are kept longer too.
keepalive = int(os.environ.get('WEB_KEEPALIVE_S', '15'))
accesslog = os.environ.get('WEB_ACCESS_LOG', '-') or None  # '-': stdout (`make run`); '' (empty): none, e.g. behind nginx
# The path, never the query string (%(r)s would print it): WeChat's callback carries its signature,
# timestamp and nonce there, H5 OAuth its one-time code and state; none helps reading a log.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


def _settings():
    """The Settings each worker builds too (its metrics directory, LOG_FORMAT); None when they are wrong: each
    worker then says why (wsgi.create_app)."""
    from config.settings import ConfigError, Settings
    try:
        return Settings.from_env()
    except ConfigError:
        return None


_pinke = _settings()
if _pinke is not None and _pinke.log_format == 'json':  # gunicorn's own lines (and the access log) as JSON too
    from config.logs import gunicorn_logger_class
    logger_class = gunicorn_logger_class()


def on_starting(server):
    """Before any worker: name the metrics directory for them (prometheus_client's multiprocess mode) and drop
    the files of processes no longer running, a previous run's (miniapp_api/metrics.py)."""
    if _pinke is not None:
        from config.settings import export_metrics_dir
        directory = export_metrics_dir(_pinke)  # before prometheus_client is imported: the workers inherit both
        from config.metrics_files import forget_dead_processes  # the standard library only: see that module
        forget_dead_processes(directory)


def child_exit(server, worker):
    """A worker gone: its open-stream gauge stops counting; its counters stay in the sum."""
    if _pinke is not None:
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid, _pinke.prometheus_multiproc_dir)


def post_fork(server, worker):
    if worker_class == 'gevent':
        from psycogreen.gevent import patch_psycopg
        patch_psycopg()


def post_worker_init(worker):
    """`WEB_PROFILE_DIR` set (`bench/join_wrk.py --profile`): SIGUSR2 sent to a worker starts cProfile (on CPU
    time) in it, the next SIGUSR2 stops it and writes `web-<pid>-<n>.prof` there. Only the workers: the master
    takes SIGUSR2 as "upgrade the binary"."""
    directory = os.environ.get('WEB_PROFILE_DIR')
    if directory:
        import cProfile
        import signal
        import time
        state = {'profile': None, 'n': 0}

        def toggle(signum, frame):
            if state['profile'] is None:
                state['profile'] = cProfile.Profile(time.process_time)
                state['profile'].enable()
                return
            state['profile'].disable()
            state['n'] += 1
            state['profile'].dump_stats(os.path.join(directory, f'web-{os.getpid()}-{state["n"]}.prof'))
            state['profile'] = None
        signal.signal(signal.SIGUSR2, toggle)

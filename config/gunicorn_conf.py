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
graceful_timeout = 5  # open event streams never end on their own
accesslog = os.environ.get('WEB_ACCESS_LOG', '-')
# The path, never the query string (%(r)s would print it): WeChat's callback carries its signature,
# timestamp and nonce there, H5 OAuth its one-time code and state; none helps reading a log.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


def post_fork(server, worker):
    if worker_class == 'gevent':
        from psycogreen.gevent import patch_psycopg
        patch_psycopg()

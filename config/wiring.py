"""Builds the running system's parts from Settings: database, Redis, WeChat, job queues, Deps.

The one place that knows which implementation sits behind each port. Nothing connects at import.
"""
from dataclasses import dataclass

import redis as redis_lib
from peewee import PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import connect

from groupbuy.deps import Deps
from groupbuy.models import db

from gateways.messenger import WeChatMessenger
from gateways.sms import LoggingSmsProvider
from gateways.wechat import make_client
from gateways.wechat_oa import make_oa_client
from gateways.wechat_pay import WeChatPayGateway, make_pay

from . import embedded_redis
from .settings import Settings


@dataclass
class Runtime:
    settings: Settings
    database: object
    redis: redis_lib.Redis
    deps: Deps
    wechat_client: object
    wechat_pay: object
    queues: object
    oa_client: object = None  # the official account (bot, H5 OAuth, JS-SDK, OA template messages)


def open_database(settings: Settings):
    """SQLite in WAL mode with a busy timeout (many processes write), or pooled PostgreSQL."""
    url = settings.database_url
    if url.startswith(('postgres://', 'postgresql://')):
        url = url.replace('postgresql://', 'postgres+pool://', 1).replace('postgres://', 'postgres+pool://', 1)
        database = connect(url, max_connections=32, stale_timeout=300, timeout=10)
    else:
        database = connect(url, pragmas={'journal_mode': 'wal', 'busy_timeout': 15000,
                                         'synchronous': 'normal', 'foreign_keys': 1})
    assert isinstance(database, (SqliteDatabase, PostgresqlDatabase))
    db.initialize(database)
    return database


def open_redis(settings: Settings) -> redis_lib.Redis:
    url = settings.redis_url or embedded_redis.start(settings.data_dir)
    settings.redis_url = url
    # A blocking pool: under gevent one process serves thousands of requests at once; when every
    # connection is busy a request waits its turn instead of failing (redis-py's default pool raises).
    pool = redis_lib.BlockingConnectionPool.from_url(url, max_connections=settings.redis_max_connections, timeout=10,
                                                     health_check_interval=30)
    return redis_lib.Redis(connection_pool=pool)


def bootstrap(settings: Settings) -> Runtime:
    from jobs.queues import JobQueues  # jobs import config; keep the cycle out of import time
    database = open_database(settings)
    redis = open_redis(settings)
    client = make_client(settings, redis)
    pay = make_pay(settings)
    gateway = WeChatPayGateway(pay, notify_url=f'{settings.public_base_url}/api/pay/notify',
                               refund_notify_url=f'{settings.public_base_url}/api/pay/refund-notify')
    queues = JobQueues(redis, settings.key_prefix, settings.retry_intervals)
    oa_client = make_oa_client(settings, redis)
    messenger = WeChatMessenger(client, oa_client, settings.wechat_app_id, LoggingSmsProvider(),
                                settings.message_templates)
    deps = Deps(redis=redis, gateway=gateway, enqueue=queues.enqueue, enqueue_batch=queues.enqueue_many,
                key_prefix=settings.key_prefix, pay_window_s=settings.pay_window_s,
                refund_max_attempts=settings.refund_max_attempts, messenger=messenger,
                notify_max_attempts=settings.notify_max_attempts, quiet_hours=settings.quiet_window,
                quiet_tz=settings.quiet_tz)
    return Runtime(settings=settings, database=database, redis=redis, deps=deps,
                   wechat_client=client, wechat_pay=pay, queues=queues,
                   oa_client=oa_client)

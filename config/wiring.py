"""Builds the running system's parts from Settings: database, Redis, WeChat, job queues, Deps.

The one place that knows which implementation sits behind each port. Nothing connects at import.
"""
from dataclasses import dataclass

import redis as redis_lib
from redis.cluster import ClusterNode, RedisCluster
from peewee import PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import connect

from groupbuy.deps import Deps
from groupbuy.models import db

from gateways.messenger import WeChatMessenger
from gateways.sms import LoggingSmsProvider
from gateways.wechat import make_client
from gateways.wechat_oa import make_oa_client
from gateways.wechat_pay import WeChatPayGateway, make_oa_pay, make_pay

from . import embedded_redis
from .settings import REDIS_CLUSTER, Settings


@dataclass
class Runtime:
    settings: Settings
    database: object
    redis: redis_lib.Redis  # or a RedisCluster; RQ's own connection is `queues.redis`
    deps: Deps
    wechat_client: object
    wechat_pay: object
    queues: object
    oa_client: object = None  # the official account (bot, H5 OAuth, JS-SDK, OA template messages)
    oa_pay: object = None  # the official account's door (H5 pages in WeChat pay): its Pay client, None while closed
    # appid -> wechatpy's Pay client for every appid our orders may be under (the gateway's `apps`, the official
    # account's too while WECHAT_OA_PAY=0 closes its door): what a notification's appid must be
    pay_clients: dict = None


def open_database(settings: Settings):
    """Pooled connections (DATABASE_POOL_SIZE per process; a request beyond it waits up to 10 s): PostgreSQL, or
    SQLite in WAL mode with a busy timeout (many processes write). A request takes a connection and gives it back;
    connecting, and SQLite's pragmas, happen once per connection, not once per request."""
    url = settings.database_url
    pool = dict(max_connections=settings.database_pool_size, timeout=10)
    if url.startswith(('postgres://', 'postgresql://')):
        url = url.replace('postgresql://', 'postgres+pool://', 1).replace('postgres://', 'postgres+pool://', 1)
        database = connect(url, stale_timeout=300, **pool)
    else:
        extra = {}
        if url.startswith('sqlite:///') and ':memory:' not in url:  # (:memory: pooled: a database per connection)
            # a pooled connection may serve another thread next (gthread workers), one request at a time
            url, extra = url.replace('sqlite:///', 'sqlite+pool:///', 1), dict(pool, check_same_thread=False)
        database = connect(url, pragmas={'journal_mode': 'wal', 'busy_timeout': 15000,
                                         'synchronous': 'normal', 'foreign_keys': 1}, **extra)
    assert isinstance(database, (SqliteDatabase, PostgresqlDatabase))
    db.initialize(database)
    return database


def open_redis(settings: Settings) -> redis_lib.Redis:
    """The Redis of the seat ledger, the deadline index, live events, rate limits and caches: one server, or
    a Redis Cluster when REDIS_URL says `redis+cluster://` (every multi-key script keeps to one hash tag)."""
    url = settings.redis_url or embedded_redis.start(settings.data_dir)
    settings.redis_url = url
    if url.startswith(REDIS_CLUSTER):
        return open_redis_cluster(url, settings.redis_max_connections)
    return open_redis_server(url, settings.redis_max_connections)


def open_redis_server(url: str, max_connections: int) -> redis_lib.Redis:
    """One Redis server behind a blocking pool: under gevent one process serves thousands of requests at once;
    when every connection is busy a request waits its turn instead of failing (redis-py's default pool raises)."""
    pool = redis_lib.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=10,
                                                     health_check_interval=30)
    return redis_lib.Redis(connection_pool=pool)


def open_redis_cluster(url: str, max_connections: int) -> RedisCluster:
    """A cluster client from every node the URL names (any one that answers is enough to find the rest), with a
    blocking pool per node as for one server (redis-py takes the pool class only with a `url`: the first node)."""
    first, *others = url.removeprefix(REDIS_CLUSTER).split('/')[0].split(',')
    nodes = [ClusterNode(host, int(port)) for host, _, port in (node.rpartition(':') for node in others)]
    return RedisCluster(url=f'redis://{first}', startup_nodes=nodes, max_connections=max_connections,
                        connection_pool_class=redis_lib.BlockingConnectionPool, health_check_interval=30)


def open_rq_redis(settings: Settings, redis: redis_lib.Redis) -> redis_lib.Redis:
    """RQ's Redis: RQ_REDIS_URL, else the main one. RQ does not run on a Redis Cluster (multi-key commands across
    its queue and job keys), so a cluster REDIS_URL needs a plain RQ_REDIS_URL (settings.py refuses otherwise)."""
    if not settings.rq_redis_url or settings.rq_redis_url == settings.redis_url:
        return redis
    return open_redis_server(settings.rq_redis_url, settings.redis_max_connections)


def rate_limit_storage(settings: Settings, redis) -> tuple[str, dict]:
    """Flask-Limiter's (storage_uri, storage_options): the Runtime's own pool on one server; on a cluster,
    limits' cluster storage (its own client on the same nodes: a limit is one key, one slot)."""
    prefix = {'key_prefix': f'{settings.key_prefix}limits'}
    if isinstance(redis, RedisCluster):
        return settings.redis_url, prefix
    return 'redis://', {**prefix, 'connection_pool': redis.connection_pool}


def bootstrap(settings: Settings) -> Runtime:
    from jobs.queues import JobQueues  # jobs import config; keep the cycle out of import time
    database = open_database(settings)
    redis = open_redis(settings)
    client = make_client(settings, redis)
    pay = make_pay(settings)
    oa_pay = make_oa_pay(settings, pay)  # one merchant, the official account's appid bound to it too
    gateway = WeChatPayGateway(pay, notify_url=f'{settings.public_base_url}/api/pay/notify',
                               refund_notify_url=f'{settings.public_base_url}/api/pay/refund-notify',
                               official_account=oa_pay, official_account_door=settings.wechat_oa_pay)
    queues = JobQueues(open_rq_redis(settings, redis), settings.key_prefix, settings.retry_intervals)
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
                   oa_client=oa_client, oa_pay=oa_pay if settings.wechat_oa_pay else None,
                   pay_clients=gateway.apps)

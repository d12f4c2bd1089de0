"""The Redis parts on a real 3-master Redis Cluster (redis-server started here, `--cluster-replicas 0`):
seats, deadlines, live events and rate limits behave as on one server. Every multi-key script keeps to one
group's hash tag ({g:<id>}, {live:<topic>}); the deadline index is one key. RQ stays on a plain Redis."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from config.settings import ConfigError, Settings
from config.wiring import open_redis
from groupbuy import live_events
from groupbuy.deps import Deps
from groupbuy.seat_ledger import LedgerSeat
from miniapp_api.live_hub import LiveHub
from tests.support.doubles import RecordingGateway, RecordingQueue
from tests.support.private_servers import RedisCluster

pytestmark = pytest.mark.e2e  # starts its own servers: a few seconds


@pytest.fixture(scope='module')
def cluster(tmp_root):
    servers = RedisCluster(tmp_root / 'redis-cluster')
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def on_cluster(cluster, tmp_path, key_prefix, redis_url):
    """Deps whose Redis is the cluster client `open_redis` builds from a `redis+cluster://` URL."""
    settings = Settings(data_dir=str(tmp_path), redis_url=cluster.url, rq_redis_url=redis_url, secret_key='t',
                        admin_token='t', key_prefix=key_prefix)
    client = open_redis(settings)
    deps = Deps(redis=client, gateway=RecordingGateway(), enqueue=RecordingQueue().enqueue, key_prefix=key_prefix)
    yield deps
    for node in client.get_primaries():
        keys = list(client.get_redis_connection(node).scan_iter(f'{key_prefix}*'))
        for key in keys:
            client.delete(key)
    client.close()


def test_the_url_scheme_opens_a_cluster_client_that_sees_three_masters(on_cluster):
    from redis.cluster import RedisCluster as Client
    assert isinstance(on_cluster.redis, Client) and len(on_cluster.redis.get_primaries()) == 3


def test_300_racers_for_2_seats_get_exactly_2_on_the_cluster(on_cluster):
    ledger = on_cluster.ledger
    ledger.restore(42, 3, 'open', 0, [LedgerSeat(1, True)])  # the leader paid: two seats left
    start = threading.Barrier(300)

    def race(user_id):
        start.wait()
        return ledger.reserve(42, user_id, 1_000, 60_000)
    with ThreadPoolExecutor(300) as pool:
        verdicts = list(pool.map(race, range(1000, 1300)))
    assert verdicts.count('ok') == 2 and verdicts.count('full') == 298
    assert sorted(v for v in ledger.seats(42).values()) == ['p', 'r:60000', 'r:60000']


def test_groups_spread_over_every_master_and_restore_many_writes_each_once(on_cluster):
    ledger, client = on_cluster.ledger, on_cluster.redis
    groups = [(g, 2, 'open', 0, [LedgerSeat(7, False, until_ms=5_000)]) for g in range(1, 61)]
    ledger.restore_many(groups)
    ledger.restore_many([(g, 9, 'open', 0, []) for g in range(1, 61)])  # already known: left alone
    owners = {client.nodes_manager.get_node_from_slot(client.keyslot(ledger._keys(g)[0])).name for g in range(1, 61)}
    assert len(owners) == 3  # the groups' keys live on all three masters
    assert all(ledger.reserve(g, 8, 1_000, 9_000) == 'ok' for g in range(1, 61))
    assert all(ledger.reserve(g, 9, 1_000, 9_000) == 'full' for g in range(1, 61))
    ledger.forget(5)
    assert ledger.reserve(5, 9, 1_000, 9_000) == 'unknown'


def test_each_due_deadline_is_claimed_once_by_several_schedulers_on_the_cluster(on_cluster):
    index = on_cluster.deadlines
    index.schedule_many({f'settle:{i}': 1_000 + i for i in range(600)})
    index.schedule('release', 77, 10 ** 12)  # not due
    with ThreadPoolExecutor(6) as pool:
        batches = list(pool.map(lambda _: index.claim_due(5_000, limit=25), range(60)))
    claimed = [item for batch in batches for item in batch]
    assert len(claimed) == 600 and len(set(claimed)) == 600
    assert index.size() == 1 and index.due_at('release', 77) == 10 ** 12


def test_live_events_of_topics_on_every_master_reach_one_hub(on_cluster):
    hub = LiveHub(on_cluster.redis, on_cluster.key_prefix)
    topics = [f'code{i}' for i in range(12)]
    inboxes = {topic: hub.subscribe(topic) for topic in topics}
    for topic in topics:
        assert live_events.publish(on_cluster, topic, 'member_joined', {'paid_count': 1}) == 1
        assert live_events.publish(on_cluster, topic, 'member_joined', {'paid_count': 2}) == 2
    for topic, inbox in inboxes.items():
        assert [inbox.get(timeout=10)[0] for _ in range(2)] == [1, 2]
    assert [e['paid_count'] for e in live_events.history_since(on_cluster.redis, on_cluster.key_prefix,
                                                               topics[0], 0)] == [1, 2]
    hub.stop()  # before the cluster goes: its listener would keep retrying


def test_two_app_instances_on_the_cluster_share_one_rate_limit(cluster, make_app, redis_url):
    first, second = (make_app(redis_url=cluster.url, rq_redis_url=redis_url, rate_limit_share_ip='3 per minute')
                     for _ in range(2))

    def oauth_return(app):  # a limited page that needs nothing else: a forged OAuth state is refused (400)
        return app.test_client().get('/g/oauth?state=forged').status_code
    assert [oauth_return(first), oauth_return(second), oauth_return(first)] == [400, 400, 400]
    assert [oauth_return(second), oauth_return(first)] == [429, 429]


def test_a_cluster_redis_url_without_a_plain_one_for_rq_stops_every_process(cluster, tmp_path):
    with pytest.raises(ConfigError, match='RQ_REDIS_URL'):
        Settings.from_env({'data_dir': str(tmp_path), 'redis_url': cluster.url})


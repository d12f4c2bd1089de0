"""The app in this process (WSGI test client: fast enough to send thousands of hostile requests), on the
session's real Redis and a database of its own, with the WeChat sandbox on a loopback port for the calls
the app makes out (login, prepay). The clock stands still, so pay windows and deadlines hold while the
fuzzers run. Seeded through the API: a forming group with a paid leader and a member holding a seat,
and a failed group whose leader's refund is pending."""
import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from wechatpy.pay.utils import calculate_signature, dict_to_xml

from groupbuy import broadcasts, settlement
from groupbuy.clock import ManualClock
from groupbuy.migrations import migrate
from groupbuy.models import ALL_MODELS, Group, Order, Refund, db
from tests.conftest import RUN_ID, delete_prefixed
from tests.support.sandbox_server import running_sandbox
from tests.support.system import _postgres_database, drop_system_db
from wechat_sandbox.payloads import encrypt_req_info


@dataclass
class Fuzzable:
    app: object
    client: FlaskClient
    settings: object
    clock: ManualClock
    admin_token: str
    member_token: str  # holds a reserved seat (and its order) in `share_code`
    campaign_id: int
    share_code: str
    member_order: dict
    refund: Refund
    known: dict  # parameter name -> values that exist (the fuzzers use them to get past "not found")

    def headers(self, security: list | None) -> dict:
        """Credentials for an operation's `security` (admin, user, or none) from the OpenAPI document."""
        names = {name for requirement in security or () for name in requirement}
        token = self.admin_token if 'admin' in names else self.member_token if 'user' in names else None
        return {'Authorization': f'Bearer {token}'} if token else {}

    def state(self) -> str:
        """A digest of every row of every table and of the Redis seat ledger: equal digests, nothing changed."""
        digest = hashlib.sha256()
        opened = db.connect(reuse_if_open=True)
        try:
            for model in ALL_MODELS:
                for row in model.select().order_by(model._meta.primary_key).tuples():
                    digest.update(repr((model.__name__, row)).encode())
        finally:
            if opened:
                db.close()
        redis, prefix = self.app.extensions['pinke'].redis, self.settings.key_prefix
        for key in sorted(redis.scan_iter(f'{prefix}{{g:*', count=1000)):
            kind = redis.type(key)
            value = (sorted(redis.hgetall(key).items()) if kind == b'hash' else
                     redis.zrange(key, 0, -1, withscores=True) if kind == b'zset' else
                     sorted(redis.smembers(key)) if kind == b'set' else redis.get(key))
            digest.update(repr((key, value)).encode())
        return digest.hexdigest()

    def payment_xml(self, **fields) -> bytes:
        """A payment notification signed with our API key, as WeChat sends it (fields override)."""
        s = self.settings
        data = {'appid': s.wechat_app_id, 'mch_id': s.wechat_mch_id, 'nonce_str': secrets.token_hex(8),
                'return_code': 'SUCCESS', 'result_code': 'SUCCESS', 'transaction_id': 'tx-fuzz',
                'out_trade_no': 'PK-none', 'total_fee': 1, **fields}
        data = {k: v for k, v in data.items() if v is not None}
        return dict_to_xml(data, calculate_signature(data, s.wechat_api_key)).encode()

    def refund_xml(self, inner: str, **outer) -> bytes:
        """A refund notification whose req_info is `inner` encrypted with our API key."""
        s = self.settings
        data = {'return_code': 'SUCCESS', 'appid': s.wechat_app_id, 'mch_id': s.wechat_mch_id,
                'nonce_str': secrets.token_hex(8), 'req_info': encrypt_req_info(inner, s.wechat_api_key), **outer}
        return dict_to_xml({k: v for k, v in data.items() if v is not None}).encode()


@pytest.fixture(scope='session')
def sandbox_port():
    with running_sandbox() as (_, base):
        yield int(base.rsplit(':', 1)[1])


@pytest.fixture(scope='session')
def fuzz_system(tmp_root, redis_url, redis_client, sandbox_port):
    from wsgi import create_app
    name = 'fuzz'
    (tmp_root / name).mkdir()
    base_db = os.environ.get('DATABASE_URL')
    database_url = (_postgres_database(base_db, f'pinke_{name}_{RUN_ID}', True) if base_db
                    else f'sqlite:///{tmp_root / name}/fuzz.db')
    admin_token = 'adm_' + secrets.token_hex(8)
    with bound_models(None):
        app = create_app({'database_url': database_url, 'redis_url': redis_url, 'data_dir': str(tmp_root / name),
                          'key_prefix': f'pktest{RUN_ID}:{name}:', 'admin_token': admin_token,
                          'secret_key': secrets.token_hex(16), 'sandbox_port': sandbox_port,
                          'public_base_url': 'http://127.0.0.1:9', 'pay_window_s': 3600, 'quiet_hours': '',
                          'rate_limits_enabled': False})  # else most requests would meet a 429, not the input checks
        runtime = app.extensions['pinke']
        migrate(runtime.database)
        clock = runtime.deps.clock = ManualClock()
        system = _seed(app, runtime, clock, admin_token)
    try:
        yield system
    finally:
        getattr(runtime.database, 'close_all', runtime.database.close)()  # the pool's idle connections too
        delete_prefixed(redis_client, runtime.settings.key_prefix)
        drop_system_db({}, name)


@pytest.fixture
def fuzzable(fuzz_system):
    """The system, with the models bound to its database for this test (other tests bind their own)."""
    with bound_models(fuzz_system.app.extensions['pinke'].database):
        yield fuzz_system


@contextlib.contextmanager
def bound_models(database):
    """Bind groupbuy's models to `database` (None: whatever binds them inside), then back as they were."""
    previous = db.obj
    if database is not None:
        db.initialize(database)
    try:
        yield
    finally:
        if previous is not None:
            db.initialize(previous)


def _seed(app, runtime, clock, admin_token) -> Fuzzable:
    client = app.test_client()
    admin = {'Authorization': f'Bearer {admin_token}'}

    def ok(response, status=200):
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def login(code):
        return ok(client.post('/api/auth/wxlogin', json={'code': f'{code}-{secrets.token_hex(3)}'}))['token']

    course = ok(client.post('/admin/api/courses', headers=admin, json={'title': '模糊测试', 'price_fen': 19900}), 201)
    terms = {'course_id': course['course']['id'], 'group_size': 3, 'group_price_fen': 9900}
    long = ok(client.post('/admin/api/campaigns', headers=admin, json={**terms, 'duration_s': 86400}), 201)
    short = ok(client.post('/admin/api/campaigns', headers=admin, json={**terms, 'duration_s': 60}), 201)
    fuzz = Fuzzable(app, client, runtime.settings, clock, admin_token, login('member'), long['campaign']['id'],
                    '', {}, None, {})
    member = {'Authorization': f'Bearer {fuzz.member_token}'}

    def open_paid(campaign_id, who):
        checkout = ok(client.post('/api/groups', headers={'Authorization': f'Bearer {login(who)}'},
                                  json={'campaign_id': campaign_id}), 201)
        order = checkout['order']
        paid = client.post('/api/pay/notify', data=fuzz.payment_xml(
            out_trade_no=order['out_trade_no'], total_fee=order['amount_fen'], transaction_id=f'tx-{who}'))
        assert paid.status_code == 200, paid.get_data(as_text=True)
        return checkout['group']['share_code']

    failing = open_paid(short['campaign']['id'], 'lonely')
    clock.advance(61)
    with app.app_context():
        assert settlement.settle_group(runtime.deps, Group.get(Group.share_code == failing).id) == 'failed'
        fuzz.refund = Refund.select().join(Order).join(Group).where(Group.share_code == failing).get()
    fuzz.share_code = open_paid(long['campaign']['id'], 'leader')
    fuzz.member_order = ok(client.post(f'/api/groups/{fuzz.share_code}/join', headers=member), 201)['order']
    member_id = ok(client.get('/api/me', headers=member))['user']['id']
    broadcast = ok(client.post('/admin/api/broadcasts', headers=admin, json={
        'segment': {'type': 'users', 'user_ids': [member_id]}, 'message': '欢迎'}), 202)['broadcast']
    with app.app_context():
        broadcasts.run_broadcast(runtime.deps, broadcast['id'])  # what the worker would do: one inbox message
    message_ids = [m['id'] for m in ok(client.get('/api/me/messages', headers=member))['messages']]
    with app.app_context():
        order_ids = [o.id for o in Order.select(Order.id)]
    fuzz.known = {
        'share_code': [fuzz.share_code, failing], 'campaign_id': [long['campaign']['id'], short['campaign']['id']],
        'course_id': [course['course']['id']], 'order_id': order_ids, 'refund_id': [fuzz.refund.id],
        'broadcast_id': [broadcast['id']], 'message_id': message_ids, 'before_id': message_ids,
        'user_ids': [[member_id]], 'status': ['paused', 'active', 'failed', 'pending'],
    }
    return fuzz

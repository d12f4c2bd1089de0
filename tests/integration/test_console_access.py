"""Who gets into the console, and what they may do there (issue 10 §1): password sign-in, server-side
sessions that expire and end, CSRF on every change, roles, a login throttle, and the action log."""
import json
import re

import pytest

from groupbuy import catalog, operators
from groupbuy.models import OperatorAction
from tests.support.builders import campaign
from tests.support.console import csrf, operator, sign_in


@pytest.fixture
def app(make_app, clock):
    application = make_app()
    application.extensions['pinke'].deps.clock = clock
    return application


@pytest.fixture
def client(app):
    return app.test_client()


def test_a_page_without_a_session_sends_the_browser_to_sign_in(client):
    answer = client.get('/admin/campaigns')
    assert answer.status_code == 302 and answer.headers['Location'].startswith('/admin/login?next=/admin/campaigns')


def test_signing_in_sets_an_httponly_strict_cookie_for_the_console_only(client, clock):
    operator('olive', 'operator', clock.now())
    assert sign_in(client, 'olive', 'not the password').status_code == 401
    answer = sign_in(client, 'olive')
    assert answer.status_code == 302 and answer.headers['Location'] == '/admin/'
    cookie = next(c for c in answer.headers.getlist('Set-Cookie') if c.startswith('pinke_console='))
    assert 'HttpOnly' in cookie and 'SameSite=Strict' in cookie and 'Path=/admin' in cookie
    assert 'Secure' not in cookie  # plain http here; see the next test
    assert client.get('/admin/campaigns').status_code == 200


def test_behind_https_the_cookie_is_secure(app, clock):
    operator('olive', 'operator', clock.now())
    secure = app.test_client()
    page = secure.get('/admin/login', base_url='https://console.example').get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = secure.post('/admin/login', base_url='https://console.example',
                         data={'name': 'olive', 'password': 'correct horse battery', 'csrf_token': token})
    cookie = next(c for c in answer.headers.getlist('Set-Cookie') if c.startswith('pinke_console='))
    assert 'Secure' in cookie and 'HttpOnly' in cookie


def test_a_login_without_its_form_token_is_refused(client, clock):
    operator('olive', 'operator', clock.now())
    answer = client.post('/admin/login', data={'name': 'olive', 'password': 'correct horse battery'})
    assert answer.status_code == 400 and 'pinke_console=' not in ''.join(answer.headers.getlist('Set-Cookie'))


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(client, clock):
    c = campaign()
    operator('olive', 'operator', clock.now())
    sign_in(client, 'olive')
    refused = client.post(f'/admin/campaigns/{c.id}/pause', data={})
    assert refused.status_code == 400 and catalog.get_campaign(c.id).status == 'active'
    forged = client.post(f'/admin/campaigns/{c.id}/pause', data={'csrf_token': 'guessed'})
    assert forged.status_code == 400 and catalog.get_campaign(c.id).status == 'active'
    done = client.post(f'/admin/campaigns/{c.id}/pause', data={'csrf_token': csrf(client)})
    assert done.status_code == 302 and catalog.get_campaign(c.id).status == 'paused'


def test_a_role_without_the_permission_gets_403_and_can_still_read(client, clock):
    c = campaign()
    operator('ann', 'analyst', clock.now())
    sign_in(client, 'ann')
    assert client.get('/admin/campaigns').status_code == 200
    answer = client.post(f'/admin/campaigns/{c.id}/pause', data={'csrf_token': csrf(client)})
    assert answer.status_code == 403 and '没有权限' in answer.get_data(as_text=True)
    assert catalog.get_campaign(c.id).status == 'active'
    assert client.get('/admin/audit').status_code == 403  # the money audit is finance's


def test_ten_wrong_passwords_throttle_the_name_even_for_the_right_one(client, clock):
    operator('olive', 'operator', clock.now())
    for _ in range(10):
        assert sign_in(client, 'olive', 'wrong password!').status_code == 401
    throttled = sign_in(client, 'olive')
    assert throttled.status_code == 429 and int(throttled.headers['Retry-After']) > 0
    assert 'pinke_console=' not in ''.join(throttled.headers.getlist('Set-Cookie'))


def test_successful_sign_ins_do_not_count_towards_the_throttle(client, clock):
    operator('olive', 'operator', clock.now())
    for _ in range(12):
        assert sign_in(client, 'olive').status_code == 302


def test_a_session_ends_when_idle_too_long_and_at_sign_out(app, client, clock):
    operator('olive', 'operator', clock.now())
    sign_in(client, 'olive')
    clock.advance(operators.IDLE_S - 60)
    assert client.get('/admin/campaigns').status_code == 200  # used: the idle expiry moves on
    clock.advance(operators.IDLE_S - 60)
    assert client.get('/admin/campaigns').status_code == 200
    clock.advance(operators.IDLE_S + 1)
    assert client.get('/admin/campaigns').status_code == 302
    sign_in(client, 'olive')
    kept = client.get_cookie('pinke_console', path='/admin').value
    client.post('/admin/logout', data={'csrf_token': csrf(client)})
    client.set_cookie('pinke_console', kept, path='/admin')  # the old cookie, replayed
    assert client.get('/admin/campaigns').status_code == 302


def test_no_session_outlives_a_working_day_however_busy(client, clock):
    operator('olive', 'operator', clock.now())
    sign_in(client, 'olive')
    for _ in range(operators.MAX_S // 3600):
        clock.advance(3600)
        client.get('/admin/campaigns')
    assert client.get('/admin/campaigns').status_code == 302


def test_a_disabled_operator_is_out_at_once(client, clock):
    operator('olive', 'operator', clock.now())
    sign_in(client, 'olive')
    operators.disable('olive', clock.now())
    assert client.get('/admin/campaigns').status_code == 302
    assert sign_in(client, 'olive').status_code == 401


def test_every_operator_action_is_logged_with_who_what_when_before_and_after(client, clock):
    c = campaign()
    operator('olive', 'operator', clock.now())
    sign_in(client, 'olive')
    client.post(f'/admin/campaigns/{c.id}/pause', data={'csrf_token': csrf(client)})
    client.post(f'/admin/campaigns/{c.id}', data={
        'csrf_token': csrf(client), 'group_size': '4', 'duration_s': '3600', 'group_price_fen': '8800',
        'per_user_limit': '1', 'nudge_offsets_s': '7200,900'})
    log = list(OperatorAction.select().order_by(OperatorAction.id))
    assert [(a.actor, a.action, a.target) for a in log] == [
        ('olive', 'sign_in', f'operator:{log[0].operator_id}'), ('olive', 'pause_campaign', f'campaign:{c.id}'),
        ('olive', 'update_campaign', f'campaign:{c.id}')]
    assert (json.loads(log[1].before), json.loads(log[1].after)) == ({'status': 'active'}, {'status': 'paused'})
    before, after = json.loads(log[2].before), json.loads(log[2].after)
    assert (before['group_size'], after['group_size'], after['group_price_fen']) == (3, 4, 8800)
    assert log[2].at == clock.now()
    page = client.get('/admin/actions').get_data(as_text=True)
    assert 'pause_campaign' in page and 'olive' in page


def test_unknown_names_and_wrong_passwords_get_the_same_answer(client, clock):
    operator('olive', 'operator', clock.now())
    wrong = sign_in(client, 'olive', 'wrong password!')
    unknown = sign_in(client, 'nobody-here', 'wrong password!')
    assert wrong.status_code == unknown.status_code == 401
    page = lambda answer: re.sub(r'value="[^"]*"', '', answer.get_data(as_text=True))  # noqa: E731
    assert page(wrong) == page(unknown)


def test_the_next_parameter_never_leaves_the_console(client, clock):
    operator('olive', 'operator', clock.now())
    page = client.get('/admin/login?next=//evil.example/x').get_data(as_text=True)
    assert 'evil.example' not in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post('/admin/login', data={'name': 'olive', 'password': 'correct horse battery',
                                               'csrf_token': token, 'next': 'https://evil.example/'})
    assert answer.headers['Location'] == '/admin/'


def test_weak_passwords_and_unknown_roles_are_refused(deps, clock):
    from groupbuy import errors
    with pytest.raises(errors.InvalidInput):
        operators.create_operator('olive', 'short', 'operator', clock.now())
    with pytest.raises(errors.InvalidInput):
        operators.create_operator('olive', 'long enough pw', 'superuser', clock.now())
    stored = operators.create_operator('olive', 'long enough pw', 'finance', clock.now())
    assert stored.password_hash.startswith('scrypt:') and 'long enough pw' not in stored.password_hash
    assert operators.authenticate('olive', 'long enough pw').id == stored.id


def test_changes_made_with_the_bearer_token_are_logged_as_automation(app, clock):
    client = app.test_client()
    token = {'Authorization': f'Bearer {app.config["ADMIN_TOKEN"]}'}
    course = client.post('/admin/api/courses', json={'title': 'T', 'price_fen': 100}, headers=token).get_json()
    c = client.post('/admin/api/campaigns', headers=token, json={
        'course_id': course['course']['id'], 'group_size': 2, 'duration_s': 60, 'group_price_fen': 50}).get_json()
    client.patch(f'/admin/api/campaigns/{c["campaign"]["id"]}', json={'status': 'paused'}, headers=token)
    log = [(a.actor, a.action) for a in OperatorAction.select().order_by(OperatorAction.id)]
    assert log == [('ADMIN_TOKEN', 'create_course'), ('ADMIN_TOKEN', 'create_campaign'),
                   ('ADMIN_TOKEN', 'set_campaign_status')]


def test_console_answers_are_never_cached_framed_or_sniffed(client, clock):
    operator('olive', 'operator', clock.now())
    sign_in(client, 'olive')
    for path in ('/admin/', '/admin/users', '/admin/login'):
        headers = client.get(path).headers
        assert headers['Cache-Control'] == 'no-store' and headers['X-Frame-Options'] == 'DENY', path
        assert "frame-ancestors 'none'" in headers['Content-Security-Policy'] and headers['X-Content-Type-Options']


@pytest.mark.parametrize('path', ['/admin/groups?campaign_id=%C2%B2', '/admin/groups?expiring_min=%C2%B2',
                                  '/admin/groups?leader=%C2%B2', '/admin/users?q=%E2%91%A0', '/admin/audit?grace_s=%C2%B2'])
def test_odd_digits_in_filters_are_no_500(client, clock, path):
    operator('fin', 'finance', clock.now())
    sign_in(client, 'fin')
    assert client.get(path).status_code in (200, 400)


@pytest.mark.parametrize('target', ['/admin%0D%0AX-Evil:1', '/admin\\\\evil.example', '/admin/ x'])
def test_a_next_that_no_header_can_hold_goes_to_the_front_page(client, clock, target):
    operator('olive', 'operator', clock.now())
    page = client.get('/admin/login').get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post('/admin/login', data={'name': 'olive', 'password': 'correct horse battery',
                                               'csrf_token': token, 'next': target})
    assert answer.status_code == 302 and answer.headers['Location'] == '/admin/'


def test_signing_in_again_ends_the_session_the_browser_had(client, clock):
    from groupbuy.models import OperatorSession
    operator('olive', 'operator', clock.now())
    sign_in(client, 'olive')
    sign_in(client, 'olive')
    assert OperatorSession.select().where(OperatorSession.ended_at.is_null()).count() == 1


def test_the_demo_accounts_never_sign_in_off_the_sandbox(app, clock, monkeypatch):
    from config.settings import Settings
    operator('demo', 'operator', clock.now())
    operator('alice', 'operator', clock.now())
    monkeypatch.setattr(Settings, 'uses_sandbox', property(lambda self: False))  # real WeChat credentials
    assert sign_in(app.test_client(), 'demo').status_code == 401
    assert sign_in(app.test_client(), 'alice').status_code == 302


@pytest.mark.parametrize('cover, status', [("x'),url(//evil.example/a)", 400), ('javascript:alert(1)', 400),
                                           ('https://img.example/c d.png', 400), ('https://img.example/c.png', 201)])
def test_a_cover_url_is_an_http_address_that_cannot_break_out_of_css(app, cover, status):
    token = {'Authorization': f'Bearer {app.config["ADMIN_TOKEN"]}'}
    answer = app.test_client().post('/admin/api/courses', headers=token,
                                    json={'title': 'T', 'price_fen': 100, 'cover_url': cover})
    assert answer.status_code == status


def test_a_burst_of_guesses_sent_at_once_is_cut_off_before_its_failures_are_counted(app, clock):
    """Failures are counted after the answer; every attempt is counted before the password check, so forty
    guesses arriving together cannot all be checked (Flask-Limiter tests a failure-only limit before the
    view and counts after it)."""
    from concurrent.futures import ThreadPoolExecutor
    operator('olive', 'operator', clock.now())
    forms = []
    for _ in range(40):
        c = app.test_client()
        page = c.get('/admin/login').get_data(as_text=True)
        forms.append((c, page.split('name="csrf_token" value="')[1].split('"')[0]))

    def guess(form):
        c, token = form
        return c.post('/admin/login', data={'name': 'olive', 'password': 'wrong password!', 'csrf_token': token}
                      ).status_code
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(guess, forms))
    assert answers.count(401) <= 30 and answers.count(429) >= 10


def test_a_stranger_s_wrong_passwords_do_not_lock_the_operator_out_from_their_own_address(app, clock):
    operator('olive', 'operator', clock.now())
    stranger = app.test_client()
    for _ in range(10):
        stranger.post('/admin/login', environ_base={'REMOTE_ADDR': '10.9.9.9'},
                      data={'name': 'olive', 'password': 'wrong password!',
                            'csrf_token': stranger.get('/admin/login').get_data(as_text=True)
                            .split('name="csrf_token" value="')[1].split('"')[0]})
    locked = stranger.post('/admin/login', environ_base={'REMOTE_ADDR': '10.9.9.9'}, data={
        'name': 'olive', 'password': 'correct horse battery',
        'csrf_token': stranger.get('/admin/login').get_data(as_text=True).split('name="csrf_token" value="')[1]
        .split('"')[0]})
    assert locked.status_code == 429  # that address, for that name, is throttled
    assert sign_in(app.test_client(), 'olive').status_code == 302  # the operator, from their own address

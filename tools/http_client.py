"""A small client for a running Pinke (API + sandbox): the e2e tests, the demo walkthrough and the benchmarks."""
import secrets
import time

import requests


class Api:
    def __init__(self, api: str, sandbox: str, admin_token: str):
        self.api, self.sandbox, self.admin_token = api.rstrip('/'), sandbox.rstrip('/'), admin_token
        self.http = requests.Session()

    # --- raw calls -------------------------------------------------------------------------------
    def call(self, method, path, token=None, json=None, **kw):
        headers = kw.pop('headers', {})
        if token:
            headers['Authorization'] = f'Bearer {token}'
        return self.http.request(method, self.api + path, json=json, headers=headers, timeout=30, **kw)

    def admin(self, method, path, json=None):
        return self.call(method, '/admin/api' + path, token=self.admin_token, json=json)

    # --- flows -----------------------------------------------------------------------------------
    def login(self, name: str) -> str:
        """Sign in as test user `name` with a fresh login code, as wx.login gives one each time (WeChat
        takes a code once): the sandbox reads `name.<nonce>` as `name`, the same person every time."""
        r = self.call('POST', '/api/auth/wxlogin', json={'code': f'{name}.{secrets.token_hex(6)}'})
        assert r.status_code == 200, r.text
        return r.json()['token']

    def new_campaign(self, **terms) -> dict:
        course = self.admin('POST', '/courses', {'title': terms.pop('title', '测试课程'), 'price_fen': 19900})
        assert course.status_code == 201, course.text
        body = {'course_id': course.json()['course']['id'], 'group_size': 3, 'duration_s': 3600,
                'group_price_fen': 9900}
        body.update(terms)
        r = self.admin('POST', '/campaigns', body)
        assert r.status_code == 201, r.text
        return r.json()['campaign']

    def open_group(self, token: str, campaign_id: int) -> dict:
        r = self.call('POST', '/api/groups', token, json={'campaign_id': campaign_id})
        assert r.status_code == 201, r.text
        return r.json()

    def join(self, token: str, share_code: str) -> requests.Response:
        return self.call('POST', f'/api/groups/{share_code}/join', token)

    def confirm(self, checkout: dict, **extra) -> requests.Response:
        """Pay in the sandbox, as the user tapping 'pay' in WeChat."""
        prepay_id = checkout['pay_params']['package'].removeprefix('prepay_id=')
        return self.http.post(self.sandbox + '/sandbox/pay/confirm', json={'prepay_id': prepay_id, **extra},
                              timeout=10)

    def group(self, share_code: str, token=None) -> dict:
        return self.call('GET', f'/api/groups/{share_code}', token).json()

    def order(self, token: str, order_id: int) -> dict:
        return self.call('GET', f'/api/orders/{order_id}', token).json()['order']

    def open_formed_group(self, campaign_id: int, leader_code: str) -> tuple[str, str]:
        """A group whose leader has paid: (leader token, share code)."""
        token = self.login(leader_code)
        checkout = self.open_group(token, campaign_id)
        assert self.confirm(checkout).status_code == 200
        code = checkout['group']['share_code']
        wait_until(lambda: self.group(code)['status'] == 'forming', what='group forming')
        return token, code


def wait_until(predicate, timeout: float = 15, interval: float = 0.1, what: str = 'condition'):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout}s waiting for {what}')


class EventStream:
    """A minimal Server-Sent Events reader over requests (what EventSource does in a browser)."""

    def __init__(self, url: str, last_event_id=None, timeout: float = 30):
        headers = {'Accept': 'text/event-stream'}
        if last_event_id is not None:
            headers['Last-Event-ID'] = str(last_event_id)
        self.response = requests.get(url, headers=headers, stream=True, timeout=timeout)
        self.response.raise_for_status()
        self._lines = self.response.iter_lines(decode_unicode=True)

    def next(self) -> dict:
        """The next event as {'id', 'event', 'data'} (data parsed from JSON)."""
        import json
        event = {'id': None, 'event': 'message', 'data': ''}
        for line in self._lines:
            if line == '':
                if event['data']:
                    event['data'] = json.loads(event['data'])
                    return event
                continue
            field, _, value = line.partition(':')
            value = value[1:] if value.startswith(' ') else value
            if field == 'data':
                event['data'] += value
            elif field in ('id', 'event'):
                event[field] = value
        raise EOFError('stream closed')

    def next_of(self, *kinds: str) -> dict:
        while True:
            event = self.next()
            if event['event'] in kinds:
                return event

    def close(self) -> None:
        self.response.close()

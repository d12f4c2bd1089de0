"""The HTTP calls a simulated person's phone makes — the public API as the mini-program calls it, and the
WeChat sandbox as WeChat's pay sheet — each timed and counted by kind and answer. An error is a 5xx or no
answer at all; a 4xx with the API's error code (group_full, already_joined, ...) is an answer."""
import secrets
import threading
import time
from collections import Counter, defaultdict

import requests

DEVICE_HEADER = 'X-Pinke-Device'  # as the mini-program sends it (miniapp_api/client.py)
IDLE_S = 1.0  # under gunicorn's keep-alive (2 s, its default)


class Driver:
    def __init__(self, api: str, sandbox: str, admin_token: str, clock=time.monotonic):
        self.api, self.sandbox, self.admin_token = api.rstrip('/'), sandbox.rstrip('/'), admin_token
        self.clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self.latency_ms: dict[str, list[float]] = defaultdict(list)
        self.answers: dict[str, Counter] = defaultdict(Counter)  # kind → 'status code' → count
        self.joins: list[tuple[float, int]] = []  # (when answered, status) of every join
        self.errors: list[str] = []  # the first few, to show

    # --- plumbing ---------------------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        """This thread's connection, dropped once idle for IDLE_S: gunicorn closes a keep-alive connection
        idle for 2 s, and a request sent just as it does meets a reset no real server error caused."""
        session, last = getattr(self._local, 'session', None), getattr(self._local, 'last', 0.0)
        now = self.clock()
        if session is not None and now - last > IDLE_S:
            session.close()
            session = None
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def request(self, kind: str, method: str, url: str, token=None, device=None, **kw):
        """(status, JSON body or {}); status 0 when no answer came."""
        headers = kw.pop('headers', {})
        if token:
            headers['Authorization'] = f'Bearer {token}'
        if device:
            headers[DEVICE_HEADER] = device
        started = self.clock()
        try:
            response = self._session().request(method, url, headers=headers, timeout=60, **kw)
            status = response.status_code
            try:
                body = response.json()
            except ValueError:
                body = {}
        except requests.RequestException as exc:
            status, body = 0, {'error': {'code': type(exc).__name__, 'message': str(exc)[:200]}}
        ended = self._local.last = self.clock()
        code = (body.get('error') or {}).get('code', '') if isinstance(body, dict) else ''
        with self._lock:
            self.latency_ms[kind].append((ended - started) * 1000)
            self.answers[kind][f'{status} {code}'.strip()] += 1
            if kind == 'join':
                self.joins.append((ended, status))
            if (status == 0 or status >= 500) and len(self.errors) < 20:
                self.errors.append(f'{kind} {method} {url} → {status} {str(body)[:200]}')
        return status, body

    def error_count(self) -> int:
        return sum(n for counts in self.answers.values() for answer, n in counts.items()
                   if answer.startswith('0') or answer[:1] == '5')

    def rate_limited(self) -> int:
        return sum(n for counts in self.answers.values() for answer, n in counts.items() if answer.startswith('429'))

    # --- what a client does ------------------------------------------------------------------------------
    def login(self, name: str, device: str) -> str | None:
        """wx.login with a fresh code: the sandbox reads `name.<nonce>` as the test user `name`."""
        status, body = self.request('login', 'POST', f'{self.api}/api/auth/wxlogin', device=device,
                                    json={'code': f'{name}.{secrets.token_hex(6)}'})
        return body.get('token') if status == 200 else None

    def open_group(self, token: str, device: str, campaign_id: int) -> tuple[int, dict]:
        return self.request('open', 'POST', f'{self.api}/api/groups', token, device, json={'campaign_id': campaign_id})

    def join(self, token: str, device: str, share_code: str) -> tuple[int, dict]:
        return self.request('join', 'POST', f'{self.api}/api/groups/{share_code}/join', token, device)

    def pay(self, checkout: dict) -> bool:
        """Tap pay in WeChat: the sandbox confirms and notifies the server."""
        prepay_id = checkout['pay_params']['package'].removeprefix('prepay_id=')
        status, _ = self.request('pay', 'POST', f'{self.sandbox}/sandbox/pay/confirm', json={'prepay_id': prepay_id})
        return status == 200

    def group(self, share_code: str, token=None, device=None) -> dict | None:
        status, body = self.request('group', 'GET', f'{self.api}/api/groups/{share_code}', token, device)
        return body if status == 200 else None

    def open_groups(self, campaign_id: int, device: str) -> list[dict]:
        status, body = self.request('open-groups', 'GET', f'{self.api}/api/campaigns/{campaign_id}/open-groups',
                                    device=device)
        return body.get('groups', []) if status == 200 else []

    def share(self, token: str, device: str, share_code: str) -> str | None:
        """Take the share card (counted as a share); the sharer's ref its friends' taps carry."""
        status, body = self.request('share', 'GET', f'{self.api}/api/groups/{share_code}/share', token, device)
        if status != 200 or 'from=' not in body.get('h5_url', ''):
            return None
        return body['h5_url'].split('from=', 1)[1]

    def click(self, token: str, device: str, share_code: str, ref: str | None) -> None:
        """The mini-program opened through a friend's card: count the tap."""
        self.request('click', 'POST', f'{self.api}/api/groups/{share_code}/clicks', token, device,
                     json={'from': ref, 'channel': 'card'} if ref else {'channel': 'card'})

    def messages(self, token: str, device: str) -> list[dict]:
        status, body = self.request('messages', 'GET', f'{self.api}/api/me/messages', token, device)
        return body.get('messages', []) if status == 200 else []

    # --- the operator's setup ---------------------------------------------------------------------------
    def admin(self, method: str, path: str, json: dict) -> dict:
        status, body = self.request('admin', method, f'{self.api}/admin/api{path}', self.admin_token, json=json)
        if status not in (200, 201):
            raise RuntimeError(f'admin {method} {path}: {status} {body}')
        return body

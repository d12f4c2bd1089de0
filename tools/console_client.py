"""The operator console from a script, as a browser uses it (the login's double-submit cookie, the session's
CSRF token in every form): the e2e tests and bench/room_fanout.py run a warm-up live room with it."""
import re

import requests

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Console:
    def __init__(self, api: str, name: str, password: str):
        self.api = api.rstrip('/')
        self.http = requests.Session()
        page = self.http.get(f'{self.api}/admin/login', timeout=10)
        answer = self.http.post(f'{self.api}/admin/login', timeout=10, allow_redirects=False,
                                data={'name': name, 'password': password, 'csrf_token': TOKEN.search(page.text).group(1)})
        assert answer.status_code == 302, f'console sign-in: {answer.status_code}'
        self.csrf = TOKEN.search(self.http.get(f'{self.api}/admin/rooms', timeout=10).text).group(1)

    def post(self, path: str, **form) -> requests.Response:
        """A console form, sent; the answer's redirect is not followed (302 = done)."""
        answer = self.http.post(f'{self.api}/admin{path}', data={'csrf_token': self.csrf, **form}, timeout=30,
                                allow_redirects=False)
        assert answer.status_code == 302, f'{path}: {answer.status_code} {answer.text[-500:]}'
        return answer

    def create_room(self, campaign_id: int, title: str, starts_at: str, **form) -> int:
        """A room for the campaign (`starts_at` in Beijing time, 'YYYY-MM-DDTHH:MM'); its id."""
        answer = self.post('/rooms', campaign_id=str(campaign_id), title=title, starts_at=starts_at, **form)
        return int(answer.headers['Location'].rstrip('/').rsplit('/', 1)[1])

    def say(self, room_id: int, body: str, author: str = '讲师') -> None:
        self.post(f'/rooms/{room_id}/posts', author=author, kind='text', body=body)

"""Signing in to the console from a test client, the way a browser does (login CSRF cookie, form)."""
import re

from groupbuy import operators

PASSWORD = 'correct horse battery'


def operator(name: str, role: str, now):
    return operators.create_operator(name, PASSWORD, role, now)


def login_form_token(client) -> str:
    page = client.get('/admin/login').get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, name: str, password: str = PASSWORD):
    return client.post('/admin/login', data={'name': name, 'password': password,
                                             'csrf_token': login_form_token(client)})


def csrf(client, path: str = '/admin/campaigns') -> str:
    """The session's CSRF token, as every signed-in page carries it."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

"""The H5 OAuth `state`: short enough for WeChat, signed, bound to the browser that started it."""
import pytest

from miniapp_api import oauth_state
from miniapp_api.oauth_state import InvalidState


def issued(**changes):
    values = dict(share_code='AbCdEf-_1234', ref='3f1a2b3c4d5e', scope='snsapi_userinfo', join=True)
    values.update(changes)
    state = oauth_state.issue('secret', **values)
    return state, oauth_state.encode('secret', state)


def test_a_state_fits_wechats_128_bytes_even_with_the_longest_ref():
    _, raw = issued(share_code='A' * 32, ref='z' * 21)
    assert len(raw.encode()) <= 128


@pytest.mark.parametrize('tamper', [
    lambda raw: raw.replace('AbCdEf-_1234', 'ZZZZZZZZZZZZ'),   # another group
    lambda raw: raw.replace('.uj.', '.bj.'),                     # another scope
    lambda raw: raw[:-2] + ('AA' if not raw.endswith('AA') else 'BB'),  # another signature
    lambda raw: 'https://evil.example/',
    lambda raw: '',
])
def test_an_altered_state_is_refused_before_anything_else(tamper):
    state, raw = issued()
    with pytest.raises(InvalidState):
        oauth_state.redeem(None, 'secret', tamper(raw), [state.nonce])


def test_a_state_signed_with_another_key_is_refused():
    state = oauth_state.issue('other', 'AbCdEf-_1234', None, 'snsapi_base', False)
    with pytest.raises(InvalidState, match='forged'):
        oauth_state.redeem(None, 'secret', oauth_state.encode('other', state), [state.nonce])


def test_a_state_from_another_browser_is_refused():
    _, raw = issued()
    with pytest.raises(InvalidState, match='another browser'):
        oauth_state.redeem(None, 'secret', raw, ['some-other-nonce'])

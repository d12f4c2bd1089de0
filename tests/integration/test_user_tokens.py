"""A token is never someone else (issue 8 §1): ids are never reused, tokens carry a per-user key
that revocation changes, and a merged-away account's token is refused, never a stranger's."""
import pytest

from groupbuy import accounts, identity
from groupbuy.models import User
from tests.support.builders import login


@pytest.fixture
def app(make_app):
    return make_app(secret_key='s3cret')


def token_for(app, user) -> str:
    from miniapp_api.auth import issue_token
    with app.test_request_context():
        return issue_token(user)


def me(client, token, method='GET', **kwargs):
    return client.open('/api/me', method=method, headers={'Authorization': f'Bearer {token}'}, **kwargs)


def merged_away_visitor(deps):
    """A mini-program user opens a shared H5 link (silent OAuth: no unionid, so a new row — the
    newest id); the userinfo prompt then reveals the unionid and that newest row is merged away."""
    identity.sign_in_miniapp(deps, 'mp-vic', 'union-vic')
    visitor = identity.sign_in_official_account(deps, 'oa-vic').user
    survivor = identity.sign_in_official_account(deps, 'oa-vic', 'union-vic').user
    assert survivor.id != visitor.id and User.get_or_none(User.id == visitor.id) is None
    return visitor, survivor


def test_a_merged_away_id_is_never_given_to_the_next_newcomer(deps):
    visitor, survivor = merged_away_visitor(deps)
    newcomer = identity.sign_in_miniapp(deps, 'mp-stranger').user
    assert newcomer.id > max(visitor.id, survivor.id)


def test_ids_stay_unique_when_the_newest_row_is_deleted(deps):
    """The SQLite trap itself: without AUTOINCREMENT the largest id comes back after a delete."""
    first = login('openid-a')[0]
    last = login('openid-b')[0]
    User.delete().where(User.id == last.id).execute()
    assert login('openid-c')[0].id > last.id > first.id


def test_the_merged_away_visitors_token_cannot_read_or_edit_a_stranger(deps, app):
    visitor, _ = merged_away_visitor(deps)
    stale = token_for(app, visitor)
    # The review's attack: a newcomer who would have received the merged-away id on SQLite.
    stranger = identity.sign_in_miniapp(deps, 'mp-stranger').user
    client = app.test_client()
    assert me(client, stale).status_code == 401
    answer = me(client, stale, method='PATCH', json={'nickname': 'pwned'})
    assert answer.status_code == 401 and answer.get_json()['error']['code'] == 'unauthorized'
    assert User.get_by_id(stranger.id).nickname != 'pwned'


def test_a_token_for_an_earlier_holder_of_an_id_is_refused(deps, app):
    """Even if an id came back (a restored backup), the token names the key of its holder."""
    user = login('openid-old')[0]
    token = token_for(app, user)
    User.delete().where(User.id == user.id).execute()
    User.create(id=user.id, openid='openid-new')
    assert me(app.test_client(), token).status_code == 401


def test_revoking_stops_every_token_and_a_new_one_works(deps, app):
    user = login('openid-rev')[0]
    old_tokens = [token_for(app, user), token_for(app, user)]
    client = app.test_client()
    assert me(client, old_tokens[0]).status_code == 200
    accounts.revoke_tokens(user.id)
    assert [me(client, t).status_code for t in old_tokens] == [401, 401]
    fresh = token_for(app, User.get_by_id(user.id))
    assert me(client, fresh).get_json()['user']['id'] == user.id


def test_flask_revoke_tokens_signs_a_user_out(deps, app):
    user = login('openid-cli')[0]
    token = token_for(app, user)
    result = app.test_cli_runner().invoke(args=['revoke-tokens', str(user.id)])
    assert result.exit_code == 0, result.output
    assert me(app.test_client(), token).status_code == 401
    assert app.test_cli_runner().invoke(args=['revoke-tokens', str(user.id + 1000)]).exit_code != 0


def test_a_page_that_carries_a_token_is_never_cached(deps, app):
    """The H5 session and the login answer carry tokens: `Cache-Control: no-store`."""
    user = login('openid-cache')[0]
    from flask import jsonify

    from miniapp_api.auth import issue_token

    @app.get('/_test/token')
    def _token():
        return jsonify(token=issue_token(user))

    client = app.test_client()
    assert client.get('/_test/token').headers['Cache-Control'] == 'no-store'
    assert 'no-store' not in client.get('/healthz').headers.get('Cache-Control', '')


def test_the_h5_session_is_checked_like_a_token(deps, app):
    """The H5 page keeps its visitor in the session cookie: a merged-away visitor's cookie is
    dropped rather than shown as someone else."""
    from miniapp_api.h5_pages import SESSION_USER, _viewer
    visitor, survivor = merged_away_visitor(deps)
    with app.test_request_context():
        from flask import session
        session[SESSION_USER] = token_for(app, visitor)
        assert _viewer() is None and SESSION_USER not in session
        session[SESSION_USER] = token_for(app, survivor)
        assert _viewer().id == survivor.id
        session[SESSION_USER] = survivor.id  # a cookie from before this change: an id alone is not enough
        assert _viewer() is None

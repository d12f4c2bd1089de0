"""An app built after these variables are set runs on them, and keeps doing so when the environment
changes afterwards: they are read once, into Settings, and handed to what uses them."""
import itertools
import time

import pytest

import templates_msg
from groupbuy import groups
from jobs.queues import retry_for
from tests.support.builders import campaign, user

SET = {'LIVE_HEARTBEAT_S': '0.05', 'WECHAT_TPL_BROADCAST': 'tpl-ours', 'WECHAT_OA_TPL_GROUP_FAILED': '',
       'REFUND_RETRY_S': '2,3', 'POSTER_FONT': '/fonts/ours.ttc'}


@pytest.fixture
def app(make_app, monkeypatch):
    for name, value in SET.items():
        monkeypatch.setenv(name, value)
    application = make_app()
    for name in SET:
        monkeypatch.delenv(name)  # a module reading the environment now would get the defaults
    return application


def test_template_ids_reach_the_messenger_and_the_consent_route(app):
    messenger = app.extensions['pinke'].deps.messenger
    assert messenger.subscribe_template('broadcast') == 'tpl-ours'
    assert templates_msg.template_ids('group_failed', messenger.templates) == ('tpl-group_failed', None)
    templates = app.test_client().get('/api/message-templates').get_json()['templates']
    assert (templates['broadcast'], templates['group_opened']) == ('tpl-ours', 'tpl-group_opened')


def test_retry_intervals_and_the_poster_font_reach_their_users(app):
    rt = app.extensions['pinke']
    assert retry_for('refund_order', rt.queues.retry_intervals).intervals == [2, 3]
    assert retry_for('deliver_notification', rt.queues.retry_intervals).intervals == [10, 60, 300, 1800]
    assert rt.settings.poster_font == '/fonts/ours.ttc'  # posters/pictures.py passes it to cjk_font_path


def test_the_live_stream_beats_at_the_configured_interval(app, deps):
    share = groups.open_group(deps, user(), campaign().id, '127.0.0.1').group.share_code
    started = time.monotonic()
    response = app.test_client().get(f'/api/groups/{share}/events', buffered=False)
    try:
        chunks = list(itertools.islice(response.response, 3))  # retry, snapshot, then a heartbeat
    finally:
        response.close()
    assert b'event: heartbeat' in chunks[2]
    assert time.monotonic() - started < 5  # 15 s is the default

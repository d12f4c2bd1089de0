"""The settings other modules once read from the environment themselves: same names, same defaults."""
import os

import pytest

from config.settings import Settings

NAMES = ('LIVE_HEARTBEAT_S', 'POSTER_FONT', 'REFUND_RETRY_S', 'NOTIFY_RETRY_S')


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith('WECHAT_') or name in NAMES:
            monkeypatch.delenv(name)
    monkeypatch.setenv('DATA_DIR', str(tmp_path))
    return monkeypatch.setenv


def test_the_defaults_are_the_documented_ones(env):
    for s in (Settings(), Settings.from_env()):
        assert (s.live_heartbeat_s, s.poster_font) == (15.0, '')
        assert s.retry_intervals == {'REFUND_RETRY_S': '5,30,120,600', 'NOTIFY_RETRY_S': '10,60,300,1800'}
        assert s.message_templates['broadcast'] == ('tpl-broadcast', 'oa-tpl-broadcast')
        assert set(s.message_templates) == {'group_opened', 'member_joined', 'group_succeeded', 'group_failed',
                                            'deadline_nudge', 'broadcast', 'room_reminder'}  # README's list of kinds


def test_each_is_read_from_its_variable(env):
    env('LIVE_HEARTBEAT_S', '0.5')
    env('POSTER_FONT', '/fonts/cjk.ttc')
    env('REFUND_RETRY_S', '1,1,1')
    env('WECHAT_TPL_GROUP_FAILED', 'tpl-real-failed')
    env('WECHAT_OA_TPL_BROADCAST', '')  # no official-account template for broadcasts
    s = Settings.from_env()
    assert (s.live_heartbeat_s, s.poster_font) == (0.5, '/fonts/cjk.ttc')
    assert s.retry_intervals == {'REFUND_RETRY_S': '1,1,1', 'NOTIFY_RETRY_S': '10,60,300,1800'}
    assert s.message_templates['group_failed'] == ('tpl-real-failed', 'oa-tpl-group_failed')
    assert s.message_templates['broadcast'] == ('tpl-broadcast', '')


def test_overrides_replace_them_like_any_field(env):
    env('LIVE_HEARTBEAT_S', '0.5')
    s = Settings.from_env({'live_heartbeat_s': 2.0, 'retry_intervals': {'REFUND_RETRY_S': '9'}})
    assert (s.live_heartbeat_s, s.retry_intervals) == (2.0, {'REFUND_RETRY_S': '9'})

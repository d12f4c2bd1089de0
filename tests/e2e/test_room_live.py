"""A warm-up live room over real HTTP against the running system: an operator runs it from the console, a
listener on the room's stream gets the lecturer's post and the answered question at once, and a subscriber
hears the reminder from the scheduler before the room opens."""
import datetime as dt
import secrets
import time
from zoneinfo import ZoneInfo

import pytest

from tests.support.system import flask_command
from tests.support.timing import bound
from tools.console_client import Console
from tools.http_client import EventStream, wait_until

pytestmark = pytest.mark.e2e
PASSWORD = 'room-console-pass'
BEIJING = ZoneInfo('Asia/Shanghai')


def console(stack) -> Console:
    name = f'host-{secrets.token_hex(3)}'
    made = flask_command(stack.env, 'admin', 'create', name, '--role', 'operator', '--password', PASSWORD)
    assert made.returncode == 0, made.stderr
    return Console(stack.api, name, PASSWORD)


def beijing_minute(after_s: float) -> tuple[str, dt.datetime]:
    """A start `after_s` seconds or a little more from now, as the console's form takes it, and in UTC."""
    start = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=after_s + 60)).replace(second=0, microsecond=0)
    return start.astimezone(BEIJING).strftime('%Y-%m-%dT%H:%M'), start


def test_a_listener_on_the_room_stream_gets_the_lecturers_post_and_the_answer_at_once(stack):
    ops = console(stack)
    campaign = stack.new_campaign()
    starts, _ = beijing_minute(3600)
    room = ops.create_room(campaign['id'], '开课前答疑', starts)
    stream = EventStream(f'{stack.api}/api/rooms/{room}/events')
    try:
        snapshot = stream.next_of('snapshot')['data']
        assert snapshot['room']['status'] == 'scheduled' and snapshot['posts'] == []
        said_at = time.monotonic()
        ops.say(room, '今晚八点，不见不散', author='王老师')
        post = stream.next_of('post')
        assert time.monotonic() - said_at < bound(1.0)
        assert (post['data']['post']['body'], post['data']['post']['author']) == ('今晚八点，不见不散', '王老师')
        viewer = stack.login(f'viewer-{secrets.token_hex(3)}')
        asked = stack.call('POST', f'/api/rooms/{room}/questions', viewer, json={'text': '有回放吗？'})
        assert asked.status_code == 201, asked.text
        question = asked.json()['question']
        ops.post(f'/rooms/{room}/questions/{question["id"]}/answer', answer='有，永久回放', answered_by='王老师', pin='on')
        answered = stream.next_of('question')['data']['question']
        assert (answered['answer'], answered['pinned'], answered['public']) == ('有，永久回放', True, True)
        assert 'openid' not in str(answered) and 'user_id' not in str(answered)
        ops.post(f'/rooms/{room}/question/{question["id"]}/hide')
        hidden = stream.next_of('hidden')['data']
        assert (hidden['kind'], hidden['item_id']) == ('question', question['id'])
    finally:
        stream.close()
    shown = stack.call('GET', f'/api/rooms/{room}').json()
    assert [p['body'] for p in shown['posts']] == ['今晚八点，不见不散'] and shown['questions'] == []


def test_a_subscriber_is_reminded_by_the_scheduler_before_the_room_opens(stack):
    ops = console(stack)
    campaign = stack.new_campaign()
    starts, start_utc = beijing_minute(120)
    lead = int((start_utc - dt.datetime.now(dt.timezone.utc)).total_seconds()) - 3  # due in about 3 s
    room = ops.create_room(campaign['id'], '提醒测试', starts, remind_before_s=str(lead))
    fan = stack.login(f'fan-{secrets.token_hex(3)}')
    assert stack.call('POST', f'/api/rooms/{room}/subscription', fan).json()['subscribed']

    def reminders():
        messages = stack.call('GET', '/api/me/messages', fan).json()['messages']
        return [m for m in messages if m['kind'] == 'room_reminder']
    got = wait_until(reminders, timeout=30, what='the room reminder in the inbox')
    assert len(got) == 1 and '直播' in got[0]['title']

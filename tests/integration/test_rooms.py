"""Warm-up live rooms (issue 12 §5) on the real database and Redis with a manual clock: staff post, answer,
pin, hide and mute; viewers ask (through the word filter), subscribe and attend; the reminder goes once; the
room opens on time; every change reaches the room's live topic with public data only."""
import datetime as dt
import json

import pytest

from groupbuy import account_merge, errors, live_events
from groupbuy.clock import to_ms
from groupbuy.models import Event, Notification, RoomVisit
from groupbuy.rooms import audience, reminders, rooms, staff, words
from tests.integration.test_user_tokens import token_for
from tests.support.builders import campaign, user

HOUR = 3600


def mask(text):
    return words.load_filter('mask', '加微信,代写')(text)


def new_room(deps, starts_in_s=HOUR, **terms):
    return rooms.create_room(deps, campaign().id, terms.pop('title', '开课前答疑'),
                             deps.now() + dt.timedelta(seconds=starts_in_s), **terms)


def live(deps, room) -> list[dict]:
    """Every event published on the room's topic so far, oldest first."""
    return live_events.history_since(deps.redis, deps.key_prefix, live_events.room_topic(room.id), 0) or []


def logged(kind: str) -> list[dict]:
    return [dict(json.loads(e.props), user=e.user_id, campaign=e.campaign_id)
            for e in Event.select().where(Event.kind == kind).order_by(Event.id)]


# --- staff and moderation --------------------------------------------------------------------------

def test_a_lecturers_post_is_served_and_published_live_with_public_data_only(deps):
    room = new_room(deps)
    post = staff.post(deps, room.id, '王老师', 'text', '今晚八点开讲')
    assert [p['body'] for p in audience.view(room.id)['posts']] == ['今晚八点开讲']
    event = live(deps, room)[-1]
    assert (event['type'], event['post']['id'], event['post']['author']) == ('post', post.id, '王老师')
    assert logged('room_posted')[0]['post_kind'] == 'text'


def test_a_stream_post_becomes_the_rooms_player(deps):
    room = new_room(deps)
    staff.post(deps, room.id, '助教', 'stream', 'https://live.example.com/a/b.m3u8')
    assert audience.view(room.id)['room']['stream'] == {'url': 'https://live.example.com/a/b.m3u8', 'kind': 'hls'}
    with pytest.raises(errors.InvalidInput):
        staff.post(deps, room.id, '助教', 'stream', 'ftp://nowhere/x')


def test_a_hidden_post_or_question_is_never_served_and_every_screen_is_told_to_remove_it(deps):
    room = new_room(deps)
    asker = user('asker')
    spam = staff.post(deps, room.id, '助教', 'text', '发错了')
    q = audience.ask(deps, room.id, asker, '课程有回放吗？', mask)
    staff.answer_question(deps, room.id, q.id, '有，永久回放', '王老师', pin=True)
    assert [x['id'] for x in audience.view(room.id)['questions']] == [q.id]
    assert staff.hide(deps, room.id, 'post', spam.id, 'ops') and staff.hide(deps, room.id, 'question', q.id, 'ops')
    assert not staff.hide(deps, room.id, 'post', spam.id, 'ops')  # already hidden: nothing to tell
    shown = audience.view(room.id)
    assert shown['posts'] == [] and shown['questions'] == []
    hidden = [(e['kind'], e['item_id']) for e in live(deps, room) if e['type'] == 'hidden']
    assert hidden == [('post', spam.id), ('question', q.id)]


def test_a_question_is_public_only_once_answered_or_pinned_and_its_events_carry_no_ids_of_people(deps):
    room = new_room(deps)
    asker = user('shy')
    q = audience.ask(deps, room.id, asker, '零基础能学吗？', mask)
    assert audience.view(room.id)['questions'] == []
    staff.pin_question(deps, room.id, q.id, True)
    staff.answer_question(deps, room.id, q.id, '能，从安装讲起', '王老师')
    staff.pin_question(deps, room.id, q.id, False)
    kinds = [(e['type'], e['question']['pinned'], e['question']['public']) for e in live(deps, room)
             if e['type'] == 'question']
    assert kinds == [('question', True, True), ('question', True, True), ('question', False, True)]
    text = json.dumps(live(deps, room), ensure_ascii=False)
    assert 'openid-shy' not in text and f'"user_id": {asker.id}' not in text and '"user"' not in text
    assert logged('question_asked')[0]['user'] == asker.id and logged('question_answered')


def test_a_muted_person_is_refused_until_the_mute_ends(deps, clock):
    room = new_room(deps)
    loud = user('loud')
    staff.mute(deps, room.id, loud.id, 10, 'ops')
    with pytest.raises(errors.Muted) as refused:
        audience.ask(deps, room.id, loud, '再问一次', mask)
    assert refused.value.details['until'].endswith('Z')
    assert audience.viewer(room.id, loud.id, clock.now()).muted
    clock.advance(10 * 60 + 1)
    assert audience.ask(deps, room.id, loud, '现在可以了吗', mask).text == '现在可以了吗'
    staff.mute(deps, room.id, loud.id, None, 'ops')  # for the room's life
    clock.advance(30 * 24 * HOUR)
    with pytest.raises(errors.Muted):
        audience.ask(deps, room.id, loud, '还是不行', mask)
    assert staff.unmute(deps, room.id, loud.id)
    assert audience.ask(deps, room.id, loud, '解除了', mask)
    assert [r['until'] is None for r in logged('user_muted')] == [False, True]


def test_a_closed_room_takes_no_questions_or_posts_but_stays_readable(deps):
    room = new_room(deps)
    staff.post(deps, room.id, '王老师', 'text', '感谢收看')
    rooms.close_room(deps, room.id, 'ops')
    with pytest.raises(errors.RoomClosed):
        audience.ask(deps, room.id, user(), '还在吗', mask)
    with pytest.raises(errors.RoomClosed):
        staff.post(deps, room.id, '王老师', 'text', '再说一句')
    assert audience.view(room.id)['room']['status'] == 'closed' and audience.view(room.id)['posts']
    assert [e['type'] for e in live(deps, room)][-1] == 'room_closed'


# --- the word filter ---------------------------------------------------------------------------------

def test_the_word_filter_masks_listed_words_even_spelt_apart_or_full_width():
    screen = words.load_filter('mask', '加微信, 代写，QQ群')
    assert screen('请加微信领资料') == ('请＊＊＊领资料', True)
    assert screen('找人代 写作业，进ｑｑ群') == ('找人＊＊＊作业，进＊＊＊', True)
    assert screen('什么时候开课？') == ('什么时候开课？', False)


def test_in_reject_mode_a_listed_word_refuses_the_question_and_stores_nothing(deps):
    room = new_room(deps)
    with pytest.raises(errors.SensitiveWords):
        audience.ask(deps, room.id, user(), '加微信私聊', words.load_filter('reject', '加微信'))
    assert staff.room_questions(room.id) == []


def test_a_question_with_a_listed_word_is_stored_masked_and_logged_as_masked(deps):
    room = new_room(deps)
    q = audience.ask(deps, room.id, user(), '可以加微信吗', mask)
    assert q.text == '可以＊＊＊吗' and logged('question_asked')[0]['masked'] is True


def test_another_filter_plugs_in_by_its_dotted_name():
    screen = words.load_filter('tests.integration.test_rooms:shouting_filter', '')
    assert screen('hello') == ('HELLO', True)
    with pytest.raises(ValueError):
        words.load_filter('nonsense', '')


def shouting_filter(text):
    return text.upper(), text != text.upper()


# --- attendance, subscriptions and the reminder --------------------------------------------------------

def test_attendance_is_stored_and_logged_once_per_person_and_room(deps, clock):
    room = new_room(deps)
    first, second = user(), user()
    assert audience.attend(deps, room.id, first.id)
    clock.advance(60)
    assert not audience.attend(deps, room.id, first.id)
    assert audience.attend(deps, room.id, second.id)
    assert RoomVisit.select().count() == 2
    assert [r['user'] for r in logged('room_attended')] == [first.id, second.id]


def test_each_subscriber_is_reminded_once_before_the_room_opens_however_often_the_job_runs(deps, clock):
    room = new_room(deps, starts_in_s=HOUR, remind_before_s=600)
    fans = [user(), user()]
    for fan in fans:
        assert audience.subscribe(deps, room.id, fan.id)
    assert not audience.subscribe(deps, room.id, fans[0].id)  # again: nothing new
    due = deps.deadlines.due_at('room_remind', room.id)
    assert due == to_ms(room.starts_at - dt.timedelta(seconds=600))
    assert reminders.remind_subscribers(deps, room.id) == 0  # not due yet
    clock.advance(HOUR - 600)
    assert reminders.remind_subscribers(deps, room.id) == 2
    assert reminders.remind_subscribers(deps, room.id) == 0  # the job again
    late = user()
    audience.subscribe(deps, room.id, late.id)
    assert deps.deadlines.due_at('room_remind', room.id) is not None  # due now for the late subscriber
    assert reminders.remind_subscribers(deps, room.id) == 1
    sent = Notification.select().where(Notification.kind == 'room_reminder').order_by(Notification.id)
    assert [n.user_id for n in sent] == [fans[0].id, fans[1].id, late.id]
    assert json.loads(sent[0].payload)['course'] == 'Python 入门'
    assert [r['recipients'] for r in logged('room_reminder_sent')] == [2, 1]
    deps.jobs.run()  # delivery through the outbox; nothing sends twice
    assert Notification.select().where(Notification.kind == 'room_reminder').count() == 3


def test_the_room_opens_by_itself_at_its_start_and_not_before(deps, clock):
    room = new_room(deps, starts_in_s=HOUR)
    assert deps.deadlines.due_at('room_open', room.id) is not None
    assert rooms.open_room(deps, room.id) == 'not_yet'
    clock.advance(HOUR)
    assert rooms.open_room(deps, room.id) == 'opened'
    assert rooms.open_room(deps, room.id) == 'noop'
    assert deps.deadlines.due_at('room_open', room.id) is None and deps.deadlines.due_at('room_remind', room.id) is None
    assert [e['type'] for e in live(deps, room)] == ['room_updated', 'room_opened']
    assert reminders.remind_subscribers(deps, room.id) == 0  # an open room reminds nobody


def test_a_rescheduled_start_moves_its_timers_and_an_open_room_keeps_its_start(deps, clock):
    room = new_room(deps, starts_in_s=HOUR)
    later = room.starts_at + dt.timedelta(hours=2)
    rooms.update_room(deps, room.id, {'starts_at': later})
    assert deps.deadlines.due_at('room_open', room.id) == to_ms(later)
    rooms.open_room(deps, room.id, by='ops')
    with pytest.raises(errors.InvalidInput):
        rooms.update_room(deps, room.id, {'starts_at': later + dt.timedelta(hours=1)})
    _, changed = rooms.update_room(deps, room.id, {'stream_url': 'rtmp://live.example.com/app/x'})
    assert audience.view(changed.id)['room']['stream']['kind'] == 'live_player'


def test_a_second_room_for_a_campaign_or_a_stream_no_player_takes_is_refused(deps):
    room = new_room(deps)
    with pytest.raises(errors.InvalidInput):
        rooms.create_room(deps, room.campaign_id, '又一个', deps.now())
    with pytest.raises(errors.InvalidInput):
        rooms.create_room(deps, campaign().id, 'x', deps.now(), stream_url='http://plain.example.com/a.m3u8')


def test_a_merge_of_two_accounts_that_both_visited_keeps_one_visit_with_the_earlier_time(deps, clock):
    room = new_room(deps)
    mini, oa = user('mini'), user('oa')
    audience.attend(deps, room.id, oa.id)
    audience.subscribe(deps, room.id, oa.id)
    clock.advance(60)
    audience.attend(deps, room.id, mini.id)
    audience.subscribe(deps, room.id, mini.id)
    kept = account_merge.merge_users(deps, mini.id, oa.id)
    visits = list(RoomVisit.select())
    assert [(v.user_id, v.first_at) for v in visits] == [(kept.id, clock.now() - dt.timedelta(seconds=60))]
    assert audience.viewer(room.id, kept.id, clock.now()).subscribed


# --- the API ------------------------------------------------------------------------------------------

@pytest.fixture
def app(make_app, clock):
    application = make_app(rate_limit_room_question='2 per minute', room_word_filter='reject',
                           room_sensitive_words='代写')
    application.extensions['pinke'].deps.clock = clock
    return application


def test_the_api_serves_the_room_counts_a_signed_in_visit_and_takes_questions(app, deps):
    room = new_room(deps)
    viewer = user('viewer')
    token = token_for(app, viewer)
    client = app.test_client()
    anonymous = client.get(f'/api/rooms/{room.id}').get_json()
    assert anonymous['me'] is None and anonymous['campaign']['h5_url'] == f'/c/{room.campaign_id}'
    assert client.get(f'/api/campaigns/{room.campaign_id}/room').get_json()['room']['id'] == room.id
    auth = {'Authorization': f'Bearer {token}'}
    assert client.get(f'/api/rooms/{room.id}', headers=auth).get_json()['me'] == {
        'subscribed': False, 'muted': False, 'muted_until': None}
    assert RoomVisit.select().where(RoomVisit.user == viewer.id).count() == 1
    asked = client.post(f'/api/rooms/{room.id}/questions', json={'text': '几点开始？'}, headers=auth)
    assert asked.status_code == 201 and asked.get_json()['question']['public'] is False
    refused = client.post(f'/api/rooms/{room.id}/questions', json={'text': '代写作业'}, headers=auth)
    assert (refused.status_code, refused.get_json()['error']['code']) == (400, 'sensitive_words')
    subscribed = client.post(f'/api/rooms/{room.id}/subscription', headers=auth).get_json()
    assert subscribed['subscribed'] and subscribed['new'] and subscribed['remind_at']
    long = {'Authorization': f'Bearer {token_for(app, user())}'}  # (a third question would pass the rate limit)
    assert client.post(f'/api/rooms/{room.id}/questions', json={'text': 'x' * 201}, headers=long).status_code == 400
    assert client.post(f'/api/rooms/{room.id}/questions', json={'text': 'hi'}).status_code == 401
    assert client.get('/api/rooms/999999').status_code == 404


def test_a_muted_asker_gets_403_muted_and_a_closed_room_409(app, deps):
    room = new_room(deps)
    loud = user()
    auth = {'Authorization': f'Bearer {token_for(app, loud)}'}
    staff.mute(deps, room.id, loud.id, None, 'ops')
    answer = app.test_client().post(f'/api/rooms/{room.id}/questions', json={'text': '在吗'}, headers=auth)
    assert (answer.status_code, answer.get_json()['error']['code']) == (403, 'muted')
    rooms.close_room(deps, room.id, 'ops')
    other = {'Authorization': f'Bearer {token_for(app, user())}'}
    answer = app.test_client().post(f'/api/rooms/{room.id}/questions', json={'text': '在吗'}, headers=other)
    assert (answer.status_code, answer.get_json()['error']['code']) == (409, 'room_closed')


def test_a_burst_of_questions_from_one_person_is_a_429_with_the_json_error(app, deps):
    room = new_room(deps)
    auth = {'Authorization': f'Bearer {token_for(app, user())}'}
    client = app.test_client()
    codes = [client.post(f'/api/rooms/{room.id}/questions', json={'text': f'问题{i}'}, headers=auth).status_code
             for i in range(3)]
    assert codes == [201, 201, 429]
    refused = client.post(f'/api/rooms/{room.id}/questions', json={'text': '再问'}, headers=auth)
    assert refused.get_json()['error']['code'] == 'rate_limited' and int(refused.headers['Retry-After']) >= 1
    other = {'Authorization': f'Bearer {token_for(app, user())}'}
    assert client.post(f'/api/rooms/{room.id}/questions', json={'text': '我也问'}, headers=other).status_code == 201


def test_the_h5_room_page_renders_at_any_status_and_an_unknown_room_is_a_404_page(app, deps):
    room = new_room(deps, stream_url='https://live.example.com/x.m3u8')
    staff.post(deps, room.id, '王老师', 'text', '<b>不是标签</b>')
    page = app.test_client().get(f'/r/{room.id}')
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '去拼团' in html and f'href="/c/{room.campaign_id}"' in html
    assert '&lt;b&gt;不是标签&lt;/b&gt;' in html and '<video' in html
    assert app.test_client().get('/r/999999').status_code == 404


# --- the console ---------------------------------------------------------------------------------------

def test_an_operator_runs_a_room_from_the_console_and_every_action_is_logged(app, deps, clock):
    from groupbuy.models import LiveRoom, OperatorAction
    from tests.support.console import csrf, operator, sign_in
    c = campaign()
    operator('host', 'operator', clock.now())
    client = app.test_client()
    assert sign_in(client, 'host').status_code == 302
    token = csrf(client, '/admin/rooms')
    created = client.post('/admin/rooms', data={'csrf_token': token, 'campaign_id': str(c.id), 'title': '预热直播',
                                                'starts_at': '2030-01-01T20:00', 'remind_before_s': '900'})
    assert created.status_code == 302
    room = LiveRoom.get(LiveRoom.campaign == c.id)
    assert room.starts_at.isoformat() == '2030-01-01T12:00:00'  # typed in Beijing time, kept in UTC
    asker = user('curious')
    q = audience.ask(deps, room.id, asker, '需要什么基础？', mask)
    for path, form in ((f'/admin/rooms/{room.id}/posts', {'author': '王老师', 'kind': 'text', 'body': '大家好'}),
                       (f'/admin/rooms/{room.id}/questions/{q.id}/answer', {'answer': '会用电脑就行', 'pin': 'on'}),
                       (f'/admin/rooms/{room.id}/mutes', {'user_id': str(asker.id), 'minutes': '5'}),
                       (f'/admin/rooms/{room.id}/open', {})):
        assert client.post(path, data={'csrf_token': token, **form}).status_code == 302, path
    page = client.get(f'/admin/rooms/{room.id}').get_data(as_text=True)
    assert '会用电脑就行' in page and '大家好' in page and f'(#{asker.id})' in page
    shown = audience.view(room.id)
    assert shown['room']['status'] == 'open' and shown['questions'][0]['pinned']
    assert [a.action for a in OperatorAction.select().order_by(OperatorAction.id)][1:] == [  # after sign_in
        'create_room', 'room_post', 'answer_room_question', 'mute_in_room', 'open_room']
    assert client.post(f'/admin/rooms/{room.id}/posts', data={'kind': 'text', 'body': 'x'}).status_code == 400  # CSRF


def test_an_analyst_sees_rooms_but_cannot_post(app, deps, clock):
    from tests.support.console import csrf, operator, sign_in
    room = new_room(deps)
    operator('numbers', 'analyst', clock.now())
    client = app.test_client()
    sign_in(client, 'numbers')
    assert client.get(f'/admin/rooms/{room.id}').status_code == 200
    answer = client.post(f'/admin/rooms/{room.id}/posts', data={'csrf_token': csrf(client, '/admin/rooms'),
                                                                  'kind': 'text', 'body': '我也说一句'})
    assert answer.status_code == 403 and audience.view(room.id)['posts'] == []


# --- the numbers: 成团率 of viewers against non-viewers -------------------------------------------------

def test_room_viewers_success_rate_against_hand_computed_orders(deps, clock):
    """Campaign A (groups of 2, an hour) has a room; campaign B has none. Minutes from the start:
      0  V1 visits the room;  5  V1 opens G1;  10  M1 (never visited) joins and pays: G1 succeeds
     20  L2 (never visited) opens G2                                   → fails at 80
     30  V3 opens G3; 35 V3 visits (after paying: not a viewer's order) → fails at 90
     40  V4 visits;   45 V4 opens G4                                   → fails at 105
     B: a group that succeeds (no room: no row)
    Viewers' orders: V1 (succeeded), V4 (failed) → 1/2. Others: M1 (succeeded), L2, V3 (failed) → 1/3."""
    from groupbuy import analytics, settlement
    from tests.integration.test_analytics import joined, opened
    a, b = campaign(group_size=2, duration_s=HOUR), campaign(group_size=2, duration_s=HOUR)
    room = rooms.create_room(deps, a.id, '预热', deps.now() + dt.timedelta(days=1))
    start = clock.now()

    def at(minute):
        clock.advance((start + dt.timedelta(minutes=minute) - clock.now()).total_seconds())
    v1, m1, l2, v3, v4 = (user(n) for n in ('v1', 'm1', 'l2', 'v3', 'v4'))
    audience.attend(deps, room.id, v1.id)
    at(5)
    g1 = opened(deps, a, v1)
    at(10)
    assert joined(deps, g1, m1) == 'group_succeeded'
    at(20)
    g2 = opened(deps, a, l2)
    at(30)
    g3 = opened(deps, a, v3)
    at(35)
    audience.attend(deps, room.id, v3.id)
    at(40)
    audience.attend(deps, room.id, v4.id)
    at(45)
    g4 = opened(deps, a, v4)
    assert joined(deps, opened(deps, b, user()), user()) == 'group_succeeded'
    at(106)
    assert [settlement.settle_group(deps, g.id) for g in (g2, g3, g4)] == ['failed'] * 3
    rows = analytics.room_viewers(analytics.Scope())
    assert rows == [{'campaign_id': a.id, 'course': 'Python 入门', 'viewer_orders': 2, 'viewer_succeeded': 1,
                     'other_orders': 3, 'other_succeeded': 1, 'viewer_success_rate': 0.5,
                     'other_success_rate': 0.3333, 'difference': 0.1667}]
    assert analytics.room_viewers(analytics.Scope(campaign_id=b.id)) == []


def test_a_redis_that_lost_the_index_gets_the_rooms_timers_back_from_the_database(deps):
    from groupbuy import sweeper
    scheduled, opened = new_room(deps), new_room(deps)
    rooms.open_room(deps, opened.id, by='ops')
    deps.redis.delete(deps.deadlines.key)
    sweeper.restore_redis(deps)
    assert deps.deadlines.due_at('room_open', scheduled.id) == to_ms(scheduled.starts_at)
    assert deps.deadlines.due_at('room_remind', scheduled.id) is not None
    assert deps.deadlines.due_at('room_open', opened.id) is None


def test_a_hidden_question_is_not_answered_or_pinned_and_a_reconnect_never_replays_a_hidden_post(app, deps):
    """Found by an attacker's review: answering a hidden question would publish its text, and the stream's
    history kept a hidden post for anyone reconnecting with an old Last-Event-ID."""
    room = new_room(deps)
    post = staff.post(deps, room.id, '助教', 'text', 'SECRET-POST')
    staff.hide(deps, room.id, 'post', post.id, 'ops')
    question = audience.ask(deps, room.id, user(), 'SECRET-QUESTION', lambda t: (t, False))
    staff.hide(deps, room.id, 'question', question.id, 'ops')
    with pytest.raises(errors.InvalidTransition, match='hidden'):
        staff.answer_question(deps, room.id, question.id, 'ok', 'ops')
    with pytest.raises(errors.InvalidTransition, match='hidden'):
        staff.pin_question(deps, room.id, question.id, True)
    answer = app.test_client().get(f'/api/rooms/{room.id}/events?last_event_id=0', buffered=False)
    first = b''.join(c if isinstance(c, bytes) else c.encode() for c in [next(iter(answer.response)) for _ in range(2)])
    answer.close()
    assert b'event: snapshot' in first and b'SECRET' not in first


def test_a_merge_keeps_the_longer_of_two_mutes(deps, clock):
    room = new_room(deps)
    keep, drop = user(), user()
    staff.mute(deps, room.id, keep.id, 1, 'ops')  # over in a minute
    staff.mute(deps, room.id, drop.id, None, 'ops')  # for the room's life
    clock.advance(120)
    kept = account_merge.merge_users(deps, keep.id, drop.id)
    with pytest.raises(errors.Muted):
        audience.ask(deps, room.id, kept, 'hello again', lambda t: (t, False))

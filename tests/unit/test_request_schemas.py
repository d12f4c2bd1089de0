"""Request validation: strict, bounded numbers; ids the database can hold; unknown fields (a typo, a
client-sent price) refused by name."""
import datetime as dt

import pytest
from flask import Flask
from pydantic import ValidationError
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule

from miniapp_api.errors import UnknownFields
from miniapp_api.schemas import (MAX_ID, IdConverter, InboxPage, NewBroadcast, NewCampaign, NewCourse, OpenGroup,
                                 WxLogin, parse)

GOOD = {'course_id': 1, 'group_size': 3, 'duration_s': 3600, 'group_price_fen': 9900}


def test_a_valid_campaign_passes_with_defaults():
    c = NewCampaign.model_validate(GOOD)
    assert (c.per_user_limit, c.status, c.leader_price_fen) == (1, 'active', None)


@pytest.mark.parametrize('field, value', [
    ('group_size', '3'), ('group_size', 3.0), ('group_size', True), ('group_size', 1), ('group_size', 101),
    ('duration_s', 0), ('duration_s', -1), ('group_price_fen', 0), ('group_price_fen', 10 ** 12),
    ('course_id', -1), ('course_id', None),
    ('auto_complete_ratio', 5e-324), ('auto_complete_ratio', 0.001), ('auto_complete_ratio', 1.5),  # PG REAL underflow
])
def test_wrong_types_and_out_of_range_numbers_are_refused(field, value):
    with pytest.raises(ValidationError):
        NewCampaign.model_validate({**GOOD, field: value})


def test_times_with_a_zone_become_naive_utc():
    c = NewCampaign.model_validate({**GOOD, 'starts_at': '2026-12-01T08:00:00+08:00'})
    assert c.starts_at == dt.datetime(2026, 12, 1, 0, 0)


def test_prices_sent_by_the_client_are_refused_not_dropped():
    with pytest.raises(ValidationError) as refused:
        OpenGroup.model_validate({'campaign_id': 7, 'amount_fen': 1, 'price_fen': 1})
    assert {e['type'] for e in refused.value.errors()} == {'extra_forbidden'}


def test_parse_names_the_unknown_fields_and_what_is_accepted():
    with Flask(__name__).test_request_context(json={**GOOD, 'leader_pirce_fen': 50}):
        with pytest.raises(UnknownFields) as refused:
            parse(NewCampaign)
    assert refused.value.details['unknown'] == ['leader_pirce_fen']
    assert 'leader_price_fen' in refused.value.details['accepted']
    assert 'leader_pirce_fen' in refused.value.message and refused.value.code == 'unknown_fields'


def test_an_alias_is_the_only_name_a_field_answers_to():
    assert WxLogin.model_validate({'code': 'c', 'from': 'r'}).ref == 'r'
    with pytest.raises(ValidationError):
        WxLogin.model_validate({'code': 'c', 'ref': 'r'})


@pytest.mark.parametrize('value, ok', [(1, True), (MAX_ID, True), (MAX_ID + 1, False), (10 ** 40, False), (0, False)])
def test_ids_stay_within_what_the_database_holds(value, ok):
    bodies = [(OpenGroup, {'campaign_id': value}), (NewCampaign, {**GOOD, 'course_id': value}),
              (NewBroadcast, {'segment': {'type': 'users', 'user_ids': [1, value]}, 'message': 'hi'}),
              (NewBroadcast, {'segment': {'type': 'campaign', 'campaign_id': value}, 'message': 'hi'})]
    for model, body in bodies:
        if ok:
            model.model_validate(body)
        else:
            with pytest.raises(ValidationError):
                model.model_validate(body)


@pytest.mark.parametrize('segment', [
    {'type': 'everyone'}, {'type': 'users', 'user_ids': []}, {'type': 'campaign', 'campaign_id': '1'},
    {'type': 'expiring_short', 'within_s': 0}, {'type': 'expiring_short', 'within_s': 60, 'campaign_id': 1},
    {'within_s': 60}, 'users',
])
def test_broadcast_segments_are_one_of_three_exact_shapes(segment):
    with pytest.raises(ValidationError):
        NewBroadcast.model_validate({'segment': segment, 'message': 'hi'})


def test_text_with_a_nul_character_is_refused():  # PostgreSQL text cannot hold it
    with pytest.raises(ValidationError, match='NUL'):
        NewCourse.model_validate({'title': 'a\x00b', 'price_fen': 100})


def test_a_time_beyond_the_calendar_in_utc_is_invalid_input_not_a_crash():
    with pytest.raises(ValidationError, match='out of range'):
        NewCampaign.model_validate({**GOOD, 'starts_at': '9999-12-31T23:00:00-05:00'})


@pytest.mark.parametrize('raw, expected', [('5', 5), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), ('²', None),
                                           ('-1', None), ('0', None), ('abc', None)])
def test_query_ids_are_parsed_from_text_and_bounded(raw, expected):
    if expected is None:
        with pytest.raises(ValidationError):
            InboxPage.model_validate({'before_id': raw})
    else:
        assert InboxPage.model_validate({'before_id': raw, 'utm_source': 'x'}).before_id == expected


@pytest.mark.parametrize('raw, matches', [('1', True), (str(MAX_ID), True), (str(MAX_ID + 1), False),
                                          ('0', False), ('9' * 5000, False), ('-1', False)])
def test_the_id_converter_matches_only_ids_the_database_can_hold(raw, matches):
    urls = Map([Rule('/things/<id:thing_id>', endpoint='thing')], converters={'id': IdConverter}).bind('x')
    if matches:
        assert urls.match(f'/things/{raw}') == ('thing', {'thing_id': int(raw)})
    else:
        with pytest.raises(NotFound):
            urls.match(f'/things/{raw}')

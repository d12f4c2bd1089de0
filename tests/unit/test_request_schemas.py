"""Request validation: strict, bounded numbers; client-sent prices never reach the domain."""
import datetime as dt

import pytest
from pydantic import ValidationError

from miniapp_api.schemas import NewCampaign, OpenGroup

GOOD = {'course_id': 1, 'group_size': 3, 'duration_s': 3600, 'group_price_fen': 9900}


def test_a_valid_campaign_passes_with_defaults():
    c = NewCampaign.model_validate(GOOD)
    assert (c.per_user_limit, c.status, c.leader_price_fen) == (1, 'active', None)


@pytest.mark.parametrize('field, value', [
    ('group_size', '3'), ('group_size', 3.0), ('group_size', True), ('group_size', 1), ('group_size', 101),
    ('duration_s', 0), ('duration_s', -1), ('group_price_fen', 0), ('group_price_fen', 10 ** 12),
    ('course_id', -1), ('course_id', None),
])
def test_wrong_types_and_out_of_range_numbers_are_refused(field, value):
    with pytest.raises(ValidationError):
        NewCampaign.model_validate({**GOOD, field: value})


def test_times_with_a_zone_become_naive_utc():
    c = NewCampaign.model_validate({**GOOD, 'starts_at': '2026-12-01T08:00:00+08:00'})
    assert c.starts_at == dt.datetime(2026, 12, 1, 0, 0)


def test_prices_sent_by_the_client_are_dropped():
    body = OpenGroup.model_validate({'campaign_id': 7, 'amount_fen': 1, 'price_fen': 1})
    assert body.model_dump() == {'campaign_id': 7}

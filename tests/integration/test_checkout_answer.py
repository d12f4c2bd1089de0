"""A checkout's answer (open, join) is the group's counts with the buyer's seat, order and payment fields; the
group page (GET) adds its members and campaign. Both exactly as docs/openapi.yaml writes them."""
from pathlib import Path

import yaml

from tests.integration.test_group_lifecycle import open_and_form
from tests.integration.test_user_tokens import token_for
from tests.support.builders import campaign, user
from tests.support.statements import counted

SCHEMAS = yaml.safe_load((Path(__file__).resolve().parents[2] / 'docs' / 'openapi.yaml').read_text())['components'][
    'schemas']
SUMMARY = set(SCHEMAS['GroupSummary']['properties'])
PAGE = SUMMARY | set(SCHEMAS['Group']['allOf'][1]['properties'])


def test_a_join_answers_the_group_s_counts_and_the_page_its_members_and_campaign_too(on_sandbox):
    app = on_sandbox(rate_limits_enabled=False)
    group = open_and_form(app.extensions['pinke'].deps, campaign(group_size=3), user())
    token = token_for(app, user())
    client = app.test_client()
    with counted() as statements:
        joined = client.post(f'/api/groups/{group.share_code}/join', headers={'Authorization': f'Bearer {token}'})
    assert joined.status_code == 201, joined.json
    assert set(joined.json) == set(SCHEMAS['Checkout']['properties'])
    assert set(joined.json['group']) == SUMMARY  # no members, no campaign
    assert joined.json['group']['my_seat']['status'] == 'reserved'
    assert (joined.json['group']['paid_count'], joined.json['group']['reserved_count']) == (1, 1)
    assert not any('"seat" AS "t2" INNER JOIN "user"' in q for q in statements.queries)  # the members' read
    page = client.get(f'/api/groups/{group.share_code}', headers={'Authorization': f'Bearer {token}'})
    assert set(page.json) == PAGE
    assert [m['role'] for m in page.json['members']] == ['leader']
    assert page.json['campaign']['group_size'] == 3

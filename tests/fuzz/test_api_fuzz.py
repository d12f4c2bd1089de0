"""Schema-driven fuzzing of every operation in docs/openapi.yaml (schemathesis: the document's examples,
its boundary values, then random valid and invalid requests), against the app in this process with a
real user's and the operator's tokens, so requests get past the door and reach the domain.

Whatever arrives: no 5xx; every error is `{"error": {"code", "message"}}` (WeChat's XML FAIL for the
pay callbacks); a refused request changes no row and no seat. Derandomized with a fixed seed and a
bounded number of examples per operation, so a run is repeatable and fits CI."""
from pathlib import Path
from xml.etree import ElementTree

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rq import SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry
from schemathesis.config import SchemathesisConfig

from groupbuy.models import Broadcast
from jobs.runtime import install

pytestmark = pytest.mark.fuzz

DOC = Path(__file__).resolve().parents[2] / 'docs' / 'openapi.yaml'
PAY_CALLBACKS = ('/api/pay/notify', '/api/pay/refund-notify')

config = SchemathesisConfig.from_dict({
    'seed': 20261127,
    'max-stream-events': 1,  # the live stream never ends: its snapshot is enough
    'generation': {'mode': 'all', 'deterministic': True, 'with-security-parameters': False, 'database': 'none'},
    'phases': {'examples': {'enabled': True}, 'coverage': {'enabled': True}, 'fuzzing': {'enabled': True},
               'stateful': {'enabled': False}},
})
schema = schemathesis.openapi.from_path(DOC, config=config)
KNOWN: dict = {}  # filled from the seeded system: ids and share codes that exist


@pytest.fixture(autouse=True)
def known_values(fuzzable):
    KNOWN.update(fuzzable.known)


def sometimes_known(values):
    """`values` as generated, or with the ids and codes in it swapped for ones that exist, so requests
    reach the domain and not only "not found" (also inside a broadcast's segment)."""
    if not isinstance(values, dict) or not any(k in KNOWN or isinstance(v, dict) for k, v in values.items()):
        return st.just(values)
    swapped = st.fixed_dictionaries({k: st.sampled_from(KNOWN[k]) if k in KNOWN else
                                     sometimes_known(v) if isinstance(v, dict) else st.just(v)
                                     for k, v in values.items()})
    return st.one_of(st.just(values), swapped)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return sometimes_known(path_parameters)


@schema.hook
def flatmap_query(context, query):
    return sometimes_known(query)


@schema.hook
def flatmap_body(context, body):
    return sometimes_known(body)


@schema.parametrize()
@settings(max_examples=40, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_5xx_or_changes_state_when_refused(case, fuzzable):
    before = fuzzable.state()
    response = case.call(app=fuzzable.app, headers=fuzzable.headers(case.operation.definition.raw.get('security')))
    assert response.status_code < 500, f'{case.as_curl_command()}\n→ {response.status_code} {response.content[:500]!r}'
    if response.status_code >= 400:
        assert_error_shape(case.operation.path, response)
        assert fuzzable.state() == before, f'refused, yet state changed: {case.as_curl_command()}'


def assert_error_shape(path: str, response) -> None:
    if path in PAY_CALLBACKS and response.headers.get('content-type', [''])[0].startswith('text/xml'):
        assert ElementTree.fromstring(response.content).findtext('return_code') == 'FAIL', response.text
        return
    body = response.json()
    assert set(body) == {'error'} and {'code', 'message'} <= set(body['error']), body
    assert isinstance(body['error']['code'], str) and isinstance(body['error']['message'], str), body


def test_every_job_the_accepted_requests_queued_runs_to_an_end(fuzzable):
    """A 202 is a promise: each job queued so far (by the seeding and the fuzzing above) runs without
    crashing, and no broadcast is left `queued` or `running`."""
    rt = fuzzable.app.extensions['pinke']
    install(rt)  # the jobs find the system through the worker's runtime
    queues = rt.queues.all()
    SimpleWorker(queues, connection=rt.redis, name=f'{rt.queues.id_prefix}fuzz-drain').work(burst=True)
    failed = {job_id: Job.fetch(job_id, connection=rt.redis).latest_result().exc_string
              for queue in queues for job_id in FailedJobRegistry(queue=queue).get_job_ids()}
    assert failed == {}
    assert {b.status for b in Broadcast.select()} == {'done'}

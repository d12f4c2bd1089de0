"""The job catalogue turned into RQ, on real Redis with a real (in-process) worker: queues, retries and
timeouts as before `jobs.tasks.run`, and jobs enqueued by the previous release still run."""
from types import SimpleNamespace

import pytest
from rq import SimpleWorker
from rq.job import Job as RqJob

from config.settings import Settings
from groupbuy import broadcasts, groups, job_catalogue
from groupbuy.models import Broadcast, Group
from jobs import runtime
from jobs.queues import JobQueues
from tests.support.builders import campaign, pay, user


@pytest.fixture
def queues(redis_client, key_prefix, deps, monkeypatch):
    """JobQueues on this test's prefix; a worker in this process runs jobs with the test's deps."""
    monkeypatch.setattr(runtime, '_runtime', SimpleNamespace(deps=deps, settings=SimpleNamespace(
        broadcast_rate_per_s=0)))
    return JobQueues(redis_client, key_prefix)


def work(queues) -> None:
    SimpleWorker(queues.all(), connection=queues.redis, name=f'{queues.id_prefix}test-worker').work(burst=True)


def test_each_job_goes_to_its_queue_with_its_retry_and_timeout(queues, key_prefix):
    retries = {**Settings().retry_intervals, 'REFUND_RETRY_S': '2,3'}  # REFUND_RETRY_S=2,3; NOTIFY_RETRY_S unset
    queues = JobQueues(queues.redis, key_prefix, retries)
    for job in job_catalogue.all_jobs():
        queues.enqueue(job.name, 1)
    queues.enqueue_many([('release_seat', (2,)), ('run_broadcast', (3,))])
    seen = {}
    for queue in queues.all():
        for rq_job in queue.jobs:
            assert rq_job.func_name == 'jobs.tasks.run' and rq_job.id.startswith(queues.id_prefix)
            seen.setdefault(rq_job.args[0], []).append(
                (queue.name.removeprefix(key_prefix), rq_job.retries_left, rq_job.retry_intervals, rq_job.timeout))
    assert seen['release_seat'] == [('refunds', None, None, 180)] * 2  # it calls WeChat: not the settlement worker
    assert seen['settle_group'] == [('settlement', None, None, 180)]
    assert seen['refund_order'] == [('refunds', 2, [2, 3], 180)]
    assert seen['deliver_notification'] == [('notifications', 4, [10, 60, 300, 1800], 180)]
    assert seen['run_broadcast'] == [('broadcast', None, None, 6 * 3600)] * 2
    assert seen['send_group_card'] == [('notifications', None, None, 180)]
    assert set(seen) == {job.name for job in job_catalogue.all_jobs()}


def test_a_worker_runs_jobs_enqueued_now_and_by_the_previous_release(queues, deps, clock):
    c = campaign(group_size=3, duration_s=600)
    opened = [groups.open_group(deps, user(), c.id, '127.0.0.1') for _ in range(2)]
    for o in opened:
        pay(deps, o.order)
    clock.advance(601)
    queues.enqueue('settle_group', opened[0].group.id)
    path_before_run = 'jobs.tasks.settle_group'  # what the last release enqueued, straight into RQ
    old = queues.queues['settlement'].enqueue(path_before_run, opened[1].group.id,
                                              job_id=f'{queues.id_prefix}before-run')
    work(queues)
    assert [Group.get_by_id(o.group.id).status for o in opened] == ['failed', 'failed']
    assert RqJob.fetch(old.id, connection=queues.redis).get_status() == 'finished'


def test_a_paced_job_gets_the_rate_limiter_and_returns_plain_data(queues, deps):
    b = broadcasts.create_broadcast(deps, {'type': 'users', 'user_ids': [user().id]}, '开课啦')
    queues.enqueue('run_broadcast', b.id)
    [rq_job] = queues.queues['broadcast'].jobs
    work(queues)
    assert Broadcast.get_by_id(b.id).status == 'done'
    result = RqJob.fetch(rq_job.id, connection=queues.redis).return_value()
    assert (result['status'], result['total']) == ('done', 1)

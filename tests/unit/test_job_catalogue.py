"""The job catalogue (groupbuy/job_catalogue.py) is the only list of jobs: every job name the code
enqueues, every deadline kind it schedules and every job the test double runs must be in it."""
import ast
import inspect
from pathlib import Path

import pytest
from rq.utils import import_attribute

import jobs.tasks  # noqa: F401  (registers the adapter jobs)
from groupbuy import deadline_index, job_catalogue
from jobs.queues import QUEUE_NAMES
from jobs.scheduler import batched, job_for
from tests.support.doubles import RecordingQueue

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for d in ('groupbuy', 'jobs', 'bot', 'miniapp_api', 'config', 'tests') for p in (ROOT / d).rglob('*.py')
           if p != Path(__file__).resolve()]  # this file names wrong jobs on purpose
# The RQ paths the release before `jobs.tasks.run` enqueued under: jobs waiting in Redis during a deploy.
PREVIOUS_RELEASE_PATHS = [f'jobs.tasks.{name}' for name in (
    'settle_group', 'settle_groups', 'release_seat', 'refund_order', 'check_refund', 'close_payment',
    'deliver_notification', 'send_nudge', 'run_broadcast')] + ['jobs.bot_tasks.link_follower',
                                                               'jobs.bot_tasks.send_group_card']
DEADLINE_METHODS = {'schedule', 'cancel', 'due_at', 'item_key'}
ENQUEUE_MANY = {'enqueue_many', 'enqueue_batch', 'batched'}


def _name(node) -> str | None:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None


def _text(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def named_in_code(path: Path) -> tuple[set[str], set[str]]:
    """(job names, deadline kinds) written as literals in `path`: enqueue('x', ...),
    after.add(deps.enqueue, 'x', ...), enqueue_many([('x', args), ...]), run(only={'x'}),
    deadlines.schedule/cancel/due_at('kind', ...), after.add(deps.deadlines.schedule, 'kind', ...);
    outside tests also any ('x', (args,)) pair, a job built before it is enqueued."""
    names, kinds = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Tuple) and len(node.elts) == 2 and _text(node.elts[0]) \
                and isinstance(node.elts[1], ast.Tuple) and ROOT / 'tests' not in path.parents:
            names.add(_text(node.elts[0]))
        if not isinstance(node, ast.Call):
            continue
        called, args = _name(node.func), node.args
        if called == 'add' and args and _name(args[0]) in {'enqueue', *ENQUEUE_MANY, *DEADLINE_METHODS}:
            called, args = _name(args[0]), args[1:]  # a follow-up registered to run after commit
        if called == 'enqueue' and args and _text(args[0]):
            names.add(_text(args[0]))
        elif called in ENQUEUE_MANY:
            names |= {_text(t.elts[0]) for arg in args for t in ast.walk(arg)
                      if isinstance(t, ast.Tuple) and t.elts and _text(t.elts[0])}
        elif called in DEADLINE_METHODS and args and _text(args[0]):
            kinds.add(_text(args[0]))
        for kw in node.keywords:
            if kw.arg == 'only' and isinstance(kw.value, ast.Set):
                names |= {_text(e) for e in kw.value.elts if _text(e)}
    return names, kinds


def test_every_job_name_in_the_code_is_catalogued():
    names = set().union(*(named_in_code(p)[0] for p in SOURCES))
    assert {'refund_order', 'close_payment', 'deliver_notification', 'link_follower'} <= names  # the scan sees them
    assert names - {job.name for job in job_catalogue.all_jobs()} == set()


def test_every_deadline_kind_in_the_code_leads_to_a_catalogued_job():
    kinds = set().union(*(named_in_code(p)[1] for p in SOURCES))
    assert {'settle', 'release', 'notify'} <= kinds  # the scan sees them
    assert kinds - job_catalogue.deadline_kinds() == set()
    assert job_catalogue.deadline_kinds() == {'settle', 'release', 'nudge', 'notify', 'room_remind', 'room_open'}


def test_the_scan_sees_an_uncatalogued_name(tmp_path):
    sample = tmp_path / 'x.py'
    sample.write_text("deps.enqueue('refund_ordr', 1)\nafter.add(deps.enqueue_many, [('settle_grup', (1,))])\n"
                      "after.add(deps.deadlines.schedule, 'settel', 1, 2)\n")
    assert named_in_code(sample) == ({'refund_ordr', 'settle_grup'}, {'settel'})


def test_every_catalogued_function_is_importable_and_takes_its_arguments():
    """Domain jobs are called function(deps, *ids), adapter jobs function(*ids); retry failures are exceptions."""
    assert {job.name for job in job_catalogue.all_jobs() if job.adapter} == {'link_follower', 'send_group_card'}
    for job in job_catalogue.all_jobs():
        function = job.load()
        assert callable(function), job.name
        first = next(iter(inspect.signature(function).parameters))
        assert (first == 'deps') != job.adapter, job.name
        assert job.queue in QUEUE_NAMES
        if job.retry:
            assert issubclass(job.retry.exception(), Exception)


def test_the_test_double_runs_exactly_the_catalogues_domain_jobs():
    domain = job_catalogue.domain_jobs()
    assert RecordingQueue.HANDLERS == {job.name: job.load() for job in domain}
    assert set(RecordingQueue.RETRYABLE) == {job.retry.exception() for job in domain if job.retry}
    queue = RecordingQueue()
    with pytest.raises(KeyError, match='refund_ordr'):
        queue.enqueue('refund_ordr', 1)
    with pytest.raises(KeyError, match='settle_grup'):
        queue.run(only={'settle_grup'})


@pytest.mark.parametrize('job', [j for j in job_catalogue.all_jobs() if j.deadline_kind], ids=lambda j: j.name)
def test_a_claimed_deadline_item_becomes_its_catalogued_job(job):
    ids = (7, 900) if job.deadline_kind == 'nudge' else (7,)
    kind, _, item_id = deadline_index.item_key(job.deadline_kind, *ids).partition(':')
    assert job_for((kind, item_id)) == (job.name, ids)


def test_an_unknown_deadline_kind_is_refused_when_written_and_skipped_when_claimed():
    with pytest.raises(ValueError, match='settel'):
        deadline_index.item_key('settel', 1)
    assert job_for(('settel', '1')) is None
    assert job_for(('settle', 'x')) is None


def test_settlements_fold_into_the_catalogues_batch_job():
    folded = batched([('settle_group', (1,)), ('release_seat', (5,)), ('settle_group', (2,))])
    assert folded == [('settle_groups', ([1, 2],)), ('release_seat', (5,))]
    assert {name for name, _ in folded} <= {job.name for job in job_catalogue.all_jobs()}


@pytest.mark.parametrize('path', PREVIOUS_RELEASE_PATHS)
def test_the_previous_releases_rq_paths_still_resolve_to_a_catalogued_job(path):
    """Until the aliases go: a worker of this release imports the old path and runs that job."""
    function = import_attribute(path)
    assert callable(function) and job_catalogue.get(path.rpartition('.')[2])


def test_a_job_name_or_deadline_kind_cannot_be_registered_twice():
    taken = job_catalogue.RELEASE_SEAT
    assert job_catalogue.register(taken) is taken  # the same module imported again is harmless
    with pytest.raises(ValueError, match='already registered'):
        job_catalogue.register(job_catalogue.Job(taken.name, 'groupbuy.refunds:refund_order', 'refunds'))
    with pytest.raises(ValueError, match="'release' already leads to release_seat"):
        job_catalogue.register(job_catalogue.Job('free_seat', taken.function, 'refunds', deadline_kind='release'))
    with pytest.raises(ValueError, match='unknown queue'):
        job_catalogue.register(job_catalogue.Job('lost', taken.function, 'nowhere'))
    assert 'free_seat' not in {job.name for job in job_catalogue.all_jobs()}

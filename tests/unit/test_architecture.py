"""The domain package stays free of the adapters (STYLE.md habit 1)."""
import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / 'groupbuy'
FORBIDDEN = {'flask', 'wechatpy', 'rq', 'apscheduler', 'requests', 'miniapp_api', 'bot', 'jobs', 'config',
             'wechat_sandbox', 'gunicorn', 'PIL', 'qrcode', 'posters'}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split('.')[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split('.')[0])
    return roots


def test_domain_imports_no_adapter_or_framework():
    offenders = {str(p.relative_to(DOMAIN)): sorted(imported_roots(p) & FORBIDDEN)
                 for p in DOMAIN.rglob('*.py') if imported_roots(p) & FORBIDDEN}
    assert offenders == {}


def test_the_scan_sees_a_forbidden_import(tmp_path):
    sample = tmp_path / 'x.py'
    sample.write_text('from flask import Flask\nimport rq.job\n')
    assert imported_roots(sample) & FORBIDDEN == {'flask', 'rq'}


def test_the_migrations_build_the_schema_the_models_describe(tmp_path):
    """A fresh database migrated from scratch has every table and column models.py declares."""
    from peewee import SqliteDatabase

    from groupbuy.migrations import migrate
    from groupbuy.models import ALL_MODELS
    database = SqliteDatabase(str(tmp_path / 'm.db'))
    migrate(database)
    for model in ALL_MODELS:
        columns = {c.name for c in database.get_columns(model._meta.table_name)}
        assert columns == {f.column_name for f in model._meta.sorted_fields}, model.__name__


PROJECT = ('groupbuy', 'miniapp_api', 'bot', 'jobs', 'config', 'gateways', 'posters', 'templates_msg',
           'wechat_sandbox', 'tools', 'console')
ADAPTERS = ('miniapp_api', 'bot', 'jobs', 'gateways', 'posters', 'templates_msg',
            'console')  # config is the composition root
QUERIES = {'select', 'get', 'get_or_none', 'get_by_id', 'create', 'insert', 'insert_many', 'update', 'delete',
           'replace', 'raw', 'bulk_create', 'bulk_update', 'execute_sql'}
ROOT = DOMAIN.parent


def package_imports() -> dict[str, set[str]]:
    """Which of the project's packages each one imports, function-level imports included."""
    graph = {}
    for package in PROJECT:
        graph[package] = set()
        for path in (ROOT / package).rglob('*.py'):
            graph[package] |= (imported_roots(path) & set(PROJECT)) - {package}
    return graph


def test_the_packages_import_each_other_without_a_cycle():
    graph, done, on_path = package_imports(), set(), []

    def visit(package):
        if package in on_path:
            raise AssertionError('import cycle: ' + ' → '.join(on_path[on_path.index(package):] + [package]))
        if package in done:
            return
        on_path.append(package)
        for imported in sorted(graph[package]):
            visit(imported)
        on_path.pop()
        done.add(package)
    for package in PROJECT:
        visit(package)
    assert 'bot' not in graph['miniapp_api'] and 'config' not in graph['jobs']  # the two cycles there were


def model_queries(path: Path) -> list[str]:
    """`Model.select(...)`-style calls on anything imported from groupbuy.models (or `db.execute_sql`)."""
    tree = ast.parse(path.read_text())
    models = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
              and node.module == 'groupbuy.models' for alias in node.names}
    return [f'{path.name}:{node.lineno} {node.value.id}.{node.attr}' for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in models and node.attr in QUERIES]


def test_adapters_reach_the_database_only_through_the_domain():
    offenders = [hit for package in ADAPTERS for path in (ROOT / package).rglob('*.py') for hit in model_queries(path)]
    assert offenders == []


def test_the_query_scan_sees_a_query_and_not_a_field(tmp_path):
    sample = tmp_path / 'x.py'
    sample.write_text('from groupbuy.models import User, db\nUser.get_or_none(User.id == 1)\ndb.execute_sql("x")\n'
                      'User.oa_openid.max_length\n')
    assert [hit.split(' ')[1] for hit in model_queries(sample)] == ['User.get_or_none', 'db.execute_sql']


ENV_FREE = ('bot', 'miniapp_api', 'jobs', 'templates_msg', 'groupbuy', 'gateways', 'posters', 'config', 'console')
ENV_READERS = {'config/settings.py',  # reads it once, for every other module
               'config/gunicorn_conf.py',  # gunicorn's own config file
               'config/devstack.py', 'config/embedded_redis.py'}  # dev process plumbing
ENV_NAMES = {'environ', 'environb', 'getenv', 'getenvb'}


def environment_reads(path: Path) -> list[str]:
    """`os.environ`/`os.getenv` (however `os` is named) and `from os import environ`-style imports."""
    tree = ast.parse(path.read_text())
    os_names = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names if alias.name == 'os'}
    where = f'{path.parent.name}/{path.name}'
    hits = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in os_names
                and node.attr in ENV_NAMES):
            hits.append(f'{where}:{node.lineno} {node.value.id}.{node.attr}')
        elif isinstance(node, ast.ImportFrom) and node.module == 'os':
            hits += [f'{where}:{node.lineno} from os import {a.name}' for a in node.names if a.name in ENV_NAMES]
    return sorted(hits)


def test_only_settings_read_the_environment():
    """Settings are its one reader, once at start-up, so a process runs on what its Settings say."""
    offenders = [hit for package in ENV_FREE for path in sorted((ROOT / package).rglob('*.py'))
                 if path.relative_to(ROOT).as_posix() not in ENV_READERS for hit in environment_reads(path)]
    assert offenders == []


def test_the_environment_scan_sees_each_way_of_reading_it(tmp_path):
    sample = tmp_path / 'x.py'
    sample.write_text('import os\nimport os as system\nfrom os import getenv, path\n'
                      'def f():\n    return os.environ.get("A"), system.getenv("B"), os.path.join("c")\n')
    assert [hit.split(' ', 1)[1] for hit in environment_reads(sample)] == [
        'from os import getenv', 'os.environ', 'system.getenv']


SIDE_EFFECT_CALLS = {'record', 'announce', 'notify'}  # the analytics log, a live event, the outbox
SIDE_EFFECT_OWNERS = {'subscribers.py', 'event_log.py', 'live_events.py', 'notifications.py',
                      'broadcasts.py'}  # a broadcast is delivered inline at its pace, not by a transition


def side_effect_calls(path: Path) -> list[str]:
    """Calls of the analytics log, a live announce or the outbox, and hand-queued after-commit actions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, 'id', '')
        hand_queued = (isinstance(func, ast.Attribute) and func.attr == 'add'
                       and isinstance(func.value, ast.Attribute) and func.value.attr == 'after')
        if name in SIDE_EFFECT_CALLS or hand_queued:
            found.append(f'{path.name}:{node.lineno} {ast.unparse(func)}')
    return found


def test_transitions_emit_events_instead_of_assembling_side_effects():
    offenders = [hit for path in sorted(DOMAIN.glob('*.py')) if path.name not in SIDE_EFFECT_OWNERS
                 for hit in side_effect_calls(path)]
    assert offenders == []


def test_the_side_effect_scan_sees_a_log_an_announce_and_a_hand_queued_action(tmp_path):
    source = tmp_path / 'transition_by_hand.py'
    source.write_text('record("x")\nlive_events.announce(deps, p, "k")\nt.after.add(f)\nrecorder(1)\n')
    assert [hit.split(' ')[1] for hit in side_effect_calls(source)] == ['record', 'live_events.announce',
                                                                          't.after.add']

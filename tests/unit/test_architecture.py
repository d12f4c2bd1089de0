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

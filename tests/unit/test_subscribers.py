"""The event → handler table (issue 9 §3): every event has its line, every handler a name a reader can
find, and docs/ARCHITECTURE.md shows exactly the table the code runs."""
import ast
import dataclasses
import inspect
from pathlib import Path

from groupbuy import domain_events, subscribers

DOC = Path(__file__).resolve().parents[2] / 'docs' / 'ARCHITECTURE.md'
DOMAIN = DOC.parents[1] / 'groupbuy'


def doc_rows() -> list[str]:
    text = DOC.read_text(encoding='utf-8')
    table = text.split('<!-- event table:', 1)[1].split('<!-- end of event table -->', 1)[0]
    return [line.strip() for line in table.splitlines() if line.startswith('| `')]


def code_rows() -> list[str]:
    return [f"| `{name}` | {', '.join(during) or '—'} | {', '.join(after) or '—'} |"
            for name, during, after in subscribers.table()]


def test_every_domain_event_has_a_line_in_the_table():
    events = {cls for _, cls in inspect.getmembers(domain_events, inspect.isclass)
              if dataclasses.is_dataclass(cls) and cls.__module__ == domain_events.__name__}
    assert events == set(subscribers.HANDLERS)


def test_every_handler_has_a_name_and_none_is_registered_twice_for_one_event():
    for kind, handlers in subscribers.HANDLERS.items():
        names = [h.__name__ for h in handlers.during + handlers.after]
        assert '<lambda>' not in names, kind
        assert len(names) == len(set(names)), kind


def test_the_architecture_doc_shows_the_table_the_code_runs():
    assert doc_rows() == code_rows()


def domain_imports(module: str) -> set[str]:
    """groupbuy modules `module` imports (relative or absolute), from its source."""
    tree = ast.parse((DOMAIN / f'{module}.py').read_text(encoding='utf-8'))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or node.module == 'groupbuy'):
            if node.module and node.module != 'groupbuy':
                found.add(node.module.split('.')[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith('groupbuy.'):
            found.add(node.module.split('.')[1])
    return {m for m in found if (DOMAIN / f'{m}.py').exists()}


def test_the_handlers_import_no_transition_so_the_table_can_never_import_itself_in_a_loop():
    seen, todo = set(), ['subscribers']
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(domain_imports(module))
    assert 'transition' not in seen, sorted(seen)

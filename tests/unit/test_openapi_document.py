"""docs/openapi.yaml lists exactly the routes the app serves (kept true in the same commit)."""
import re
from pathlib import Path

from flask import Flask

from miniapp_api import register_blueprints

DOC = Path(__file__).resolve().parents[2] / 'docs' / 'openapi.yaml'
METHODS = {'get', 'post', 'patch', 'put', 'delete'}


def documented() -> set[tuple[str, str]]:
    found, path = set(), None
    for line in DOC.read_text().splitlines():
        if m := re.match(r'^  (/\S*):\s*$', line):
            path = m.group(1)
        elif path and (m := re.match(r'^    (\w+):', line)) and m.group(1) in METHODS:
            found.add((m.group(1).upper(), path))
        elif re.match(r'^\S', line):
            path = None
    return found


def served() -> set[tuple[str, str]]:
    app = Flask(__name__)
    register_blueprints(app)
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == 'static' or not rule.rule.startswith(('/api', '/admin/api', '/healthz')):
            continue
        path = re.sub(r'<(?:\w+:)?(\w+)>', r'{\1}', rule.rule)
        routes |= {(m, path) for m in rule.methods - {'HEAD', 'OPTIONS'}}
    return routes


def test_every_served_route_is_documented_and_nothing_else():
    assert served() == documented()


def test_the_parser_reads_paths_and_methods():
    assert ('POST', '/api/groups/{share_code}/join') in documented()

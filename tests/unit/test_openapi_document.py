"""docs/openapi.yaml lists exactly the routes the app serves (kept true in the same commit)."""
import re
from pathlib import Path

from flask import Flask

from wsgi import register_blueprints

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
        if rule.endpoint == 'static' or not rule.rule.startswith(('/api', '/admin/api', '/healthz', '/metrics')):
            continue
        path = re.sub(r'<(?:\w+:)?(\w+)>', r'{\1}', rule.rule)
        routes |= {(m, path) for m in rule.methods - {'HEAD', 'OPTIONS'}}
    return routes


def test_every_served_route_is_documented_and_nothing_else():
    assert served() == documented()


def test_the_parser_reads_paths_and_methods():
    assert ('POST', '/api/groups/{share_code}/join') in documented()


def test_every_error_code_the_app_answers_with_is_documented():
    import yaml
    from groupbuy.errors import DomainError
    from miniapp_api.errors import HTTP_CODES
    served()  # imports every route module, so every error class exists

    def codes(cls):
        return {cls.code} | {c for sub in cls.__subclasses__() for c in codes(sub)}
    answered = (codes(DomainError) - {'domain_error'}) | set(HTTP_CODES.values()) | {'http_error', 'internal_error'}
    enum = yaml.safe_load(DOC.read_text())['components']['schemas']['Error']['properties']['error']['properties']
    assert answered <= set(enum['code']['enum'])


def test_numeric_path_parameters_are_documented_as_database_ids():
    import yaml
    doc = yaml.safe_load(DOC.read_text())

    def resolve(node):
        return resolve(doc['components']['parameters'][node['$ref'].rsplit('/', 1)[1]]) if '$ref' in node else node
    app = Flask(__name__)
    register_blueprints(app)
    for rule in app.url_map.iter_rules():
        path = re.sub(r'<(?:\w+:)?(\w+)>', r'{\1}', rule.rule)
        for operation in doc['paths'].get(path, {}).values():
            for name, converter in rule._converters.items():
                param = next(p for p in map(resolve, operation['parameters']) if p['name'] == name)
                is_id = param['schema'] == {'$ref': '#/components/schemas/Id'}
                assert is_id == (type(converter).__name__ == 'IdConverter'), (path, name)

"""Log lines (config/logs.py): gunicorn's access line becomes fields in JSON, with the answer's request id; a
text line names the request id after the logger."""
import json
import logging

from gunicorn.glogging import SafeAtoms

from config import logs
from miniapp_api import request_id


def formatted(log_format: str, record: logging.LogRecord, *filters) -> str:
    for f in filters:
        f.filter(record)
    return logs.formatter(log_format).format(record)


def test_an_access_line_in_json_is_the_requests_fields_with_its_id():
    atoms = SafeAtoms({'h': '10.0.0.9', 'm': 'POST', 'U': '/api/groups/a"b/join', 's': '201', 'b': '512', 'M': 12,
                       '{x-request-id}o': 'lb-0123456789'})
    record = logging.LogRecord('gunicorn.access', logging.INFO, __file__, 1, '%(h)s "%(m)s %(U)s" %(s)s', (atoms,), None)
    line = json.loads(formatted('json', record, logs.AccessFields()))
    assert {k: line[k] for k in ('logger', 'method', 'path', 'status', 'bytes', 'ms', 'remote', 'request_id')} == {
        'logger': 'gunicorn.access', 'method': 'POST', 'path': '/api/groups/a"b/join', 'status': 201, 'bytes': 512,
        'ms': 12, 'remote': '10.0.0.9', 'request_id': 'lb-0123456789'}
    assert line['message'] == '10.0.0.9 "POST /api/groups/a\\"b/join" 201'  # gunicorn's own text line, as in text


def test_a_text_line_names_the_request_after_the_logger_and_a_line_outside_one_does_not():
    record = logging.LogRecord('groupbuy.refunds', logging.INFO, __file__, 1, 'refund %s sent', (7,), None)
    with request_id.bound('req-0123456789'):
        assert formatted('text', record, logs.RequestIdField()).endswith(
            'INFO groupbuy.refunds [req-0123456789]: refund 7 sent')
    outside = logging.LogRecord('jobs.scheduler', logging.INFO, __file__, 1, 'tick', (), None)
    assert formatted('text', outside, logs.RequestIdField()).endswith('INFO jobs.scheduler: tick')
    assert json.loads(formatted('json', outside, logs.RequestIdField()))['request_id'] is None

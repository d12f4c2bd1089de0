"""Property-based fuzzing of WeChat Pay's callbacks: random bytes, broken and hostile XML (DTDs, entities,
odd encodings, nesting, repeats), and notifications signed (or encrypted) with our API key, as WeChat
would, carrying random fields and amounts, so they get past the signature and reach the domain.

Whatever arrives, the answer is WeChat's XML: SUCCESS with 200, or FAIL with 400 and nothing changed."""
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

SETTINGS = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
FIELDS = ['appid', 'mch_id', 'nonce_str', 'sign', 'sign_type', 'result_code', 'return_code', 'openid',
          'trade_type', 'total_fee', 'cash_fee', 'transaction_id', 'out_trade_no', 'time_end', 'req_info',
          'refund_fee', 'out_refund_no', 'refund_status']
text = st.text(max_size=40)
# What a signer could put in a field: any text XML 1.0 can carry (no control characters), outside CDATA's end.
field_text = st.text(st.characters(blacklist_categories=('Cc', 'Cs')), max_size=40).filter(lambda t: ']]>' not in t)
tag = st.one_of(st.sampled_from(FIELDS), st.from_regex(r'[A-Za-z_][A-Za-z0-9_.-]{0,12}', fullmatch=True))
amounts = st.one_of(st.integers(-2 ** 70, 2 ** 70).map(str), field_text,
                    st.sampled_from(['', ' 9900', '9900 ', '٣', '1_000', '1e3', '0x10', '9' * 5000, '-0']))


def element(name, value) -> str:
    return f'<{name}>{value}</{name}>'


@st.composite
def hostile_xml(draw) -> bytes:
    """Documents that are almost, or not at all, a WeChat notification."""
    body = ''.join(draw(st.lists(st.one_of(
        st.tuples(tag, text.map(lambda t: t.replace('&', '&amp;').replace('<', '&lt;'))).map(lambda kv: element(*kv)),
        st.tuples(tag, text.filter(lambda t: ']]>' not in t)).map(lambda kv: element(kv[0], f'<![CDATA[{kv[1]}]]>')),
        st.tuples(tag, tag, text).map(lambda t: element(t[0], element(t[1], ''))),  # nested
        st.sampled_from(['&lol;', '&amp;', '<!-- c -->', '<?pi x?>', '<x a="1"/>', '</xml>', '<', ']]>']),
    ), max_size=8)))
    root = draw(st.sampled_from(['xml', 'xml', 'root', 'XML', 'xml xmlns="urn:x"']))
    prolog = draw(st.sampled_from([
        '', '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="GBK"?>',
        '<?xml version="1.0" encoding="ISO-8859-1"?>', '<?xml version="1.0" encoding="bogus"?>',
        '<!DOCTYPE xml [<!ENTITY lol "lol">]>', '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd">',
        '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    ]))
    document = f'{prolog}<{root}>{body}</{root.split()[0]}>'
    encoding = draw(st.sampled_from(['utf-8', 'utf-8', 'utf-16', 'gbk', 'latin-1']))
    return document.encode(encoding, errors='replace')


anything = st.one_of(st.binary(max_size=300), text.map(str.encode), hostile_xml())


def answer(fuzzable, path: str, body: bytes) -> str:
    """Post `body`; the answer must be WeChat's XML, SUCCESS with 200 or FAIL with 400, a FAIL changing
    nothing. Returns return_code."""
    before = fuzzable.state()
    response = fuzzable.client.post(path, data=body, content_type='text/xml')
    assert response.status_code in (200, 400), (body[:300], response.status_code, response.get_data()[:300])
    code = ElementTree.fromstring(response.get_data()).findtext('return_code')
    assert code == ('SUCCESS' if response.status_code == 200 else 'FAIL'), response.get_data()
    if code == 'FAIL':
        assert fuzzable.state() == before, (body[:300], response.get_data())
    return code


@SETTINGS
@given(body=anything)
def test_any_body_gets_wechats_answer_on_the_payment_callback(fuzzable, body):
    assert answer(fuzzable, '/api/pay/notify', body) == 'FAIL'  # nothing unsigned is ever accepted


@SETTINGS
@given(body=anything)
def test_any_body_gets_wechats_answer_on_the_refund_callback(fuzzable, body):
    assert answer(fuzzable, '/api/pay/refund-notify', body) == 'FAIL'  # nothing unencrypted is ever accepted


@SETTINGS
@given(data=st.data())
def test_signed_payments_with_random_fields_reach_the_domain_and_never_break_it(fuzzable, data):
    order, ours = fuzzable.member_order, fuzzable.settings
    fields = data.draw(st.fixed_dictionaries({
        'out_trade_no': st.one_of(st.just(order['out_trade_no']), field_text),
        'total_fee': st.one_of(st.just(str(order['amount_fen'])), amounts),
    }, optional={
        'transaction_id': field_text, 'result_code': st.sampled_from(['SUCCESS', 'FAIL', '']),
        'return_code': st.sampled_from(['SUCCESS', 'FAIL']), 'appid': st.sampled_from([ours.wechat_app_id, None, 'wx0']),
        'mch_id': st.sampled_from([ours.wechat_mch_id, None, '0']), 'time_end': st.one_of(field_text, st.from_regex(r'[0-9]{14}', fullmatch=True)),
    }))
    extra = data.draw(st.dictionaries(tag.filter(lambda t: t not in ('sign', 'xml') + tuple(fields)), field_text,
                                      max_size=3))
    answer(fuzzable, '/api/pay/notify', fuzzable.payment_xml(**{**extra, **fields}))


@SETTINGS
@given(data=st.data())
def test_encrypted_refund_notices_with_random_fields_reach_the_domain_and_never_break_it(fuzzable, data):
    refund, ours = fuzzable.refund, fuzzable.settings
    inner = data.draw(st.fixed_dictionaries({
        'out_refund_no': st.one_of(st.just(refund.out_refund_no), field_text),
        'refund_fee': st.one_of(st.just(str(refund.amount_fen)), amounts),
        'refund_status': st.sampled_from(['SUCCESS', 'CHANGE', 'REFUNDCLOSE', 'PROCESSING', '']),
    }, optional={
        'refund_id': field_text, 'total_fee': amounts, 'nested': st.just('<a><b>1</b></a>'),
    }))
    escaped = ''.join(element(k, v if k == 'nested' else v.replace('&', '&amp;').replace('<', '&lt;'))
                      for k, v in inner.items())
    root = data.draw(st.sampled_from(['root', 'root', 'xml']))
    outer = data.draw(st.fixed_dictionaries({}, optional={
        'appid': st.sampled_from([ours.wechat_app_id, None, 'wx0']), 'mch_id': st.sampled_from([ours.wechat_mch_id, None]),
        'return_code': field_text}))
    answer(fuzzable, '/api/pay/refund-notify', fuzzable.refund_xml(f'<{root}>{escaped}</{root}>', **outer))

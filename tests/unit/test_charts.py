"""The console's SVG charts: well-formed, scaled by a viewBox, bars in proportion, every text escaped,
nothing fetched and nothing run, and a chart with no data says so instead of failing."""
import re
import xml.etree.ElementTree as ElementTree

import pytest

from console import charts

SVG = '{http://www.w3.org/2000/svg}'
DAYS = [{'day': '2026-05-10', 'rate': 0.5}, {'day': '2026-05-11', 'rate': None},
        {'day': '2026-05-12', 'rate': 1.0}, {'day': '2026-05-13', 'rate': 0.25}]


def parsed(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)
    assert root.tag == f'{SVG}svg' and re.fullmatch(r'0 0 \d+ \d+', root.get('viewBox'))
    assert root.get('width') == '100%'
    return root


def test_bars_are_as_long_as_their_values_against_the_largest():
    root = parsed(charts.bar_chart([{'c': 'a', 'n': 40}, {'c': 'b', 'n': 10}, {'c': 'c', 'n': 20}], 'c', 'n', 'x'))
    widths = [float(r.get('width')) for r in root.iter(f'{SVG}rect')]
    assert widths[0] > 0 and [w / widths[0] for w in widths] == [1.0, 0.25, 0.5]


def test_a_negative_value_is_drawn_by_its_size_and_marked_and_none_draws_no_bar():
    root = parsed(charts.bar_chart([{'c': 'in', 'n': 100}, {'c': 'out', 'n': -50}, {'c': '?', 'n': None}],
                                   'c', 'n', 'net'))
    bars = list(root.iter(f'{SVG}rect'))
    assert len(bars) == 2 and bars[1].get('class') == 'negative'
    assert float(bars[1].get('width')) * 2 == pytest.approx(float(bars[0].get('width')))


@pytest.mark.parametrize('draw', [
    lambda name: charts.bar_chart([{'c': name, 'n': 1}], 'c', 'n', name),
    lambda name: charts.line_chart([{'d': name, 'v': 1}, {'d': name, 'v': 2}], 'd', 'v', name),
    lambda name: charts.funnel_chart([{'label': name, 'count': 3}], title=name)])
def test_labels_from_the_data_are_escaped_and_characters_xml_cannot_hold_are_dropped(draw):
    name = '<script>alert("x")</script> & \x01"小明"'
    svg = draw(name)
    root = parsed(svg)  # well-formed despite the name
    assert '<script' not in svg and not list(root.iter(f'{SVG}script'))
    assert any('<script>alert("x")</script> & "小明"' in (t.text or '') for t in root.iter())


def test_a_chart_references_nothing_outside_itself():
    for svg in (charts.line_chart(DAYS, 'day', 'rate', 'r'), charts.bar_chart(DAYS, 'day', 'rate', 'r'),
                charts.funnel_chart([{'label': 'a', 'count': 1}], title='f')):
        assert not re.search(r'href|src=|url\(|<script|on\w+=', svg)


def test_a_line_leaves_a_gap_where_a_value_is_missing_and_rises_with_the_value():
    root = parsed(charts.line_chart(DAYS, 'day', 'rate', '成团率', fmt=charts.percent))
    lines = [p.get('points').split() for p in root.iter(f'{SVG}polyline')]
    assert [len(points) for points in lines] == [2]  # 5-10 stands alone; 5-12 → 5-13 is the one line
    dots = [(float(c.get('cx')), float(c.get('cy'))) for c in root.iter(f'{SVG}circle')]
    assert len(dots) == 3 and dots[1][1] < dots[0][1] < dots[2][1]  # 100 % highest, 25 % lowest (y grows down)
    assert [t.text for t in root.iter(f'{SVG}title')] == ['2026-05-10: 50%', '2026-05-12: 100%', '2026-05-13: 25%']


@pytest.mark.parametrize('svg', [
    charts.line_chart([], 'day', 'rate', '成团率'), charts.line_chart([{'day': 'x', 'rate': None}], 'day', 'rate', 't'),
    charts.bar_chart([], 'c', 'n', '课程'), charts.funnel_chart([{'label': 'a', 'count': 0}], title='漏斗')])
def test_nothing_to_draw_gives_a_no_data_chart(svg):
    root = parsed(svg)
    assert root.get('data-empty') == 'true' and root.get('aria-label').endswith('no data')
    assert '暂无数据' in svg and not list(root.iter(f'{SVG}rect'))


def test_the_funnel_narrows_with_its_counts_and_shows_the_step_rate():
    rows = [{'label': '分享', 'count': 4, 'of_previous': None}, {'label': '支付', 'count': 1, 'of_previous': 0.25}]
    root = parsed(charts.funnel_chart(rows, title='漏斗'))
    first, second = [float(r.get('width')) for r in root.iter(f'{SVG}rect')]
    assert second / first == pytest.approx(0.25)
    assert '1 (25%)' in [t.text for t in root.iter(f'{SVG}text')]


def test_numbers_and_rates_read_plainly():
    assert [charts.number(v) for v in (12345, 0.66667, None)] == ['12,345', '0.6667', '—']
    assert [charts.percent(v) for v in (0.6667, 0.5, None)] == ['66.7%', '50%', '—']

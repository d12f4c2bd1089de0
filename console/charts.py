"""Charts for the console, drawn on the server as inline SVG from a table's rows (groupbuy/analytics.py):
no JavaScript, no CDN, nothing fetched. Each chart has a viewBox and `width="100%"`, so it scales to a
phone; every text from the data (a course title, a nickname) is escaped and stripped of characters XML
cannot hold. A chart with nothing to draw says so ("暂无数据", `data-empty`) instead of failing.

Pure functions: rows in, a string out. Hovering a point or a bar shows its exact value (SVG <title>)."""
import re
from xml.sax.saxutils import escape, quoteattr

WIDTH = 640
PAD = 12
FONT = 13
_NOT_XML = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')


def number(value) -> str:
    """12345 → '12,345'; 0.66667 → '0.6667'; None → '—'."""
    if value is None:
        return '—'
    return f'{value:,}' if isinstance(value, int) else f'{round(value, 4):,}'


def percent(value) -> str:
    """A rate: 0.6667 → '66.7%'; None → '—'."""
    return '—' if value is None else f'{value * 100:.1f}%'.replace('.0%', '%')


def line_chart(rows: list[dict], x: str, y: str, title: str, fmt=number, height: int = 220) -> str:
    """A per-day series: row[x] along the bottom (first and last labelled), row[y] up from zero. A None
    value leaves a gap in the line rather than a drop to zero."""
    values = [row.get(y) for row in rows]
    if not any(v is not None for v in values):
        return _empty(title)
    top, bottom, left, right = PAD + FONT + 8, height - PAD - FONT - 4, PAD + 8, WIDTH - PAD - 8
    highest = max([v for v in values if v is not None] + [0]) or 1
    step = (right - left) / max(len(rows) - 1, 1)

    def point(i, v):
        return left + i * step if len(rows) > 1 else (left + right) / 2, bottom - (bottom - top) * v / highest

    segments, current, dots = [], [], []
    for i, (row, v) in enumerate(zip(rows, values)):
        if v is None:
            if current:
                segments.append(current)
            current = []
            continue
        px, py = point(i, v)
        current.append(f'{px:.1f},{py:.1f}')
        dots.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3"><title>{_text(row.get(x))}: {_text(fmt(v))}'
                    f'</title></circle>')
    segments += [current] if current else []
    lines = [f'<polyline fill="none" stroke="currentColor" stroke-width="2" points="{" ".join(s)}"/>'
             for s in segments if len(s) > 1]
    axis = [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>',
            f'<text x="{WIDTH - PAD}" y="{PAD + FONT}" text-anchor="end">{_text("最高 " + fmt(highest))}</text>',
            f'<text x="{left}" y="{height - PAD}">{_text(rows[0].get(x))}</text>']
    if len(rows) > 1:
        axis.append(f'<text x="{right}" y="{height - PAD}" text-anchor="end">{_text(rows[-1].get(x))}</text>')
    return _svg(title, height, [_title_text(title), *axis, *lines, *dots])


def bar_chart(rows: list[dict], label: str, value: str, title: str, fmt=number) -> str:
    """One horizontal bar per row, its length proportional to row[value] (the longest is the largest
    magnitude; a negative value draws a bar marked `negative`; None draws none)."""
    values = [row.get(value) for row in rows]
    if not any(v is not None for v in values):
        return _empty(title)
    label_w, value_w, row_h = 170, 80, 26
    scale = max(abs(v) for v in values if v is not None) or 1
    room = WIDTH - 2 * PAD - label_w - value_w
    parts, top = [_title_text(title)], PAD + FONT + 10
    for i, (row, v) in enumerate(zip(rows, values)):
        y = top + i * row_h
        name = '' if row.get(label) is None else str(row.get(label))
        parts.append(f'<text x="{PAD}" y="{y + 16}">{_text(_short(name))}<title>{_text(name)}</title></text>')
        if v is not None:
            width = room * abs(v) / scale
            css = ' class="negative" fill="#c0392b"' if v < 0 else ' fill="currentColor"'
            parts.append(f'<rect x="{PAD + label_w}" y="{y + 4}" width="{width:.1f}" height="{row_h - 8}"{css}>'
                         f'<title>{_text(name)}: {_text(fmt(v))}</title></rect>')
        parts.append(f'<text x="{WIDTH - PAD}" y="{y + 16}" text-anchor="end">{_text(fmt(v))}</text>')
    return _svg(title, top + len(rows) * row_h + PAD, parts)


def funnel_chart(rows: list[dict], label: str = 'label', value: str = 'count', title: str = '',
                 rate: str = 'of_previous') -> str:
    """Steps as centred bars, each as wide as its count against the widest, with the count and the rate
    from the step before (row[rate])."""
    counts = [row.get(value) or 0 for row in rows]
    if not rows or not any(counts):
        return _empty(title)
    row_h, widest = 34, max(counts)
    room, middle = WIDTH - 2 * PAD - 200, WIDTH / 2
    parts, top = [_title_text(title)], PAD + FONT + 10
    for i, (row, n) in enumerate(zip(rows, counts)):
        y, width = top + i * row_h, max(room * n / widest, 1)
        name = _text(row.get(label))
        parts.append(f'<rect x="{middle - width / 2:.1f}" y="{y}" width="{width:.1f}" height="{row_h - 6}" '
                     f'fill="currentColor" opacity="{max(1 - 0.15 * i, 0.3):.2f}"><title>{name}: {n}</title></rect>')
        parts.append(f'<text x="{PAD}" y="{y + 19}">{name}</text>')
        after = '' if row.get(rate) is None else f' ({percent(row.get(rate))})'
        parts.append(f'<text x="{WIDTH - PAD}" y="{y + 19}" text-anchor="end">{_text(number(n) + after)}</text>')
    return _svg(title, top + len(rows) * row_h + PAD, parts)


def _empty(title: str) -> str:
    return _svg(title, 120, [_title_text(title), f'<text x="{WIDTH / 2}" y="70" text-anchor="middle" '
                                                 f'fill="#999">暂无数据</text>'], empty=True)


def _svg(title: str, height: float, parts: list[str], empty: bool = False) -> str:
    label = quoteattr(_clean(title or 'chart') + (': no data' if empty else ''))
    marker = ' data-empty="true"' if empty else ''
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
            f'role="img" aria-label={label}{marker} font-size="{FONT}" font-family="sans-serif">'
            + ''.join(parts) + '</svg>')


def _title_text(title: str) -> str:
    return f'<text x="{PAD}" y="{PAD + FONT}" font-weight="bold">{_text(title)}</text>' if title else ''


def _short(name: str, most: int = 14) -> str:
    return name if len(name) <= most else name[:most - 1] + '…'


def _clean(value) -> str:
    return _NOT_XML.sub('', '' if value is None else str(value))


def _text(value) -> str:
    return escape(_clean(value))

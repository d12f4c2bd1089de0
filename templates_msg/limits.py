"""WeChat's limits on subscribe-message values, by keyword type (the name before the digits: `thing1`
is a thing). WeChat refuses a whole message (47003) over one value that breaks them, so rendering cuts
each value to fit here, the one place values become template data."""
import re

KEYWORD = re.compile(r'^([a-z_]+?)\d+$')
ELLIPSIS = '…'
# type -> most characters WeChat takes (name: 10 when it holds 汉字, else 20)
MAX_CHARS = {'thing': 20, 'phrase': 5, 'number': 32, 'letter': 32, 'character_string': 32, 'symbol': 5,
             'phone_number': 17, 'car_number': 8, 'name': 20}
HAN = re.compile('[\u4e00-\u9fff]')


def fit(keyword: str, value: str) -> str:
    """`value` shortened to what WeChat takes for `keyword`; texts (thing) end in '…' when cut."""
    match = KEYWORD.match(keyword)
    kind = match.group(1) if match else None
    limit = MAX_CHARS.get(kind)
    if kind == 'name' and HAN.search(value):
        limit = 10
    if limit is None or len(value) <= limit:
        return value
    return value[:limit - 1] + ELLIPSIS if kind == 'thing' else value[:limit]

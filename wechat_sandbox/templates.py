"""Message templates the sandbox's accounts hold at WeChat ("my templates" in the admin consoles), and
the keyword rules WeChat enforces on a subscribe message's data.

A send with a template the account does not hold is refused (40037); a subscribe message whose value
breaks its keyword's rule is refused (47003, errmsg naming the keyword). A keyword's rule follows
from its name — `thing1` is a thing, `character_string7` a character_string — as WeChat's are. Rules
from WeChat's "订阅消息参数值内容限制说明" (subscribeMessage.send):

| type | WeChat's limit |
|---|---|
| thing | 20 characters or fewer |
| number | 32 digits or fewer, a decimal point allowed |
| letter | 32 letters or fewer |
| symbol | 5 symbols or fewer |
| character_string | 32 digits, letters or symbols or fewer |
| time | 24-hour time, optionally after a date; a range joined by "~" (15:01, 2019年10月1日 15:01) |
| date | a date, optionally with a 24-hour time; a range joined by "~" |
| amount | one currency sign + 10 digits or fewer, decimals allowed, may end in 元 |
| phone_number | 17 digits and symbols or fewer |
| car_number | 8 or fewer; first and last may be 汉字, the rest letters or digits |
| name | 10 汉字 or fewer, or 20 letters/symbols or fewer (mixed counts as Chinese) |
| phrase | 5 汉字 or fewer, nothing else |
Every value must be non-empty ("data.<keyword>.value is empty").
"""
import re

KINDS = ("group_opened", "member_joined", "group_succeeded", "group_failed", "deadline_nudge", "broadcast",
         "room_reminder")

# The demo accounts' templates: what an operator of Pinke adds in the consoles (ids as the app's defaults).
SUBSCRIBE = {
    "tpl-group_opened": ("thing1", "number2", "time3", "thing4"),
    "tpl-member_joined": ("thing1", "thing2", "number3", "time4"),
    "tpl-group_succeeded": ("thing1", "phrase2", "thing3"),
    "tpl-group_failed": ("thing1", "phrase2", "amount3", "thing4"),
    "tpl-deadline_nudge": ("thing1", "number2", "thing3", "thing4"),
    "tpl-broadcast": ("thing1",),
    "tpl-room_reminder": ("thing1", "time2", "thing3"),
}
OFFICIAL_ACCOUNT = {f"oa-tpl-{kind}": ("first", "keyword1", "keyword2", "remark") for kind in KINDS}
OFFICIAL_ACCOUNT["oa-tpl-broadcast"] = ("first",)

KEYWORD = re.compile(r"^([a-z_]+?)\d+$")
HAN = "\u4e00-\u9fff"
_DATE = r"(?:(?:\d{4}年)?\d{1,2}月\d{1,2}日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})"
_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
_TIME = rf"(?:{_DATE}\s*)?{_CLOCK}"
_DAY = rf"{_DATE}(?:\s*{_CLOCK})?"


def _ranged(point):
    return re.compile(rf"^{point}(?:\s*~\s*{point})?$")


def _name(value):
    if re.search(f"[{HAN}]", value):
        return len(value) <= 10 and not re.search(r"\d", value)
    return len(value) <= 20 and re.fullmatch(r"[A-Za-z !-/:-@\[-`{-~]+", value) is not None


RULES = {
    "thing": lambda v: len(v) <= 20,
    "number": re.compile(r"^(?=.{1,32}$)\d+(?:\.\d+)?$").match,
    "letter": re.compile(r"^[A-Za-z]{1,32}$").match,
    "symbol": re.compile(r"^[^\w\s]{1,5}$").match,
    "character_string": re.compile(r"^[!-~]{1,32}$").match,
    "time": _ranged(_TIME).match,
    "date": _ranged(_DAY).match,
    "amount": re.compile(r"^[¥￥$€£]?\d{1,10}(?:\.\d{1,2})?元?$").match,
    "phone_number": re.compile(r"^(?=.*\d)[\d+\-() ]{1,17}$").match,
    "car_number": re.compile(rf"^(?=.{{2,8}}$)[{HAN}A-Za-z0-9][A-Za-z0-9]*[{HAN}A-Za-z0-9]$").match,
    "name": _name,
    "phrase": re.compile(rf"^[{HAN}]{{1,5}}$").match,
}


def data_problem(keywords, data):
    """None if `data` fits the template's keywords, else WeChat's 47003 detail ("data.thing1.value invalid").
    Keys the template does not have are ignored, as WeChat does."""
    if not isinstance(data, dict) or not data:
        return "data is empty"
    for keyword in keywords:
        item = data.get(keyword)
        value = item.get("value") if isinstance(item, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            return f"data.{keyword}.value is empty"
        kind = KEYWORD.match(keyword)
        rule = RULES.get(kind.group(1)) if kind else None
        if rule is not None and not rule(value):
            return f"data.{keyword}.value invalid"
    return None

"""The facts a message about a group carries, as display-ready values, from the group's `Progress`.
The words for prices, time left and Beijing dates come from groupbuy/wording.py (the same words the
pages, bot and poster use); the message texts around them live in templates_msg/."""
import datetime as dt

from .progress import Progress
from .wording import beijing_time, time_left, yuan


def group_facts(p: Progress, now: dt.datetime) -> dict:
    return {'course': p.course_title, 'seats_left': p.seats_left, 'deadline': beijing_time(p.deadline_at),
            'share_code': p.share_code, 'group_id': p.group_id, 'price': yuan(p.price_fen),
            'time_left': time_left((p.deadline_at - now).total_seconds()) if p.deadline_at else ''}

"""The facts a message about a group carries, as display-ready values (Beijing time, yuan).
The wording itself lives in templates_msg/; these are the values it is filled with."""
import datetime as dt
from zoneinfo import ZoneInfo

from .models import Group, Seat

BEIJING = ZoneInfo('Asia/Shanghai')


def yuan(fen: int) -> str:
    return f'{fen / 100:.2f}'.rstrip('0').rstrip('.') if fen % 100 else str(fen // 100)


def beijing_time(t: dt.datetime | None) -> str:
    if t is None:
        return ''
    return t.replace(tzinfo=dt.timezone.utc).astimezone(BEIJING).strftime('%m月%d日 %H:%M')


def time_left(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and minutes:
        return f'{hours}小时{minutes}分钟'
    if hours:
        return f'{hours}小时'
    return f'{max(minutes, 1)}分钟'


def group_facts(group: Group, now: dt.datetime, paid: int | None = None) -> dict:
    if paid is None:
        paid = Seat.select().where(Seat.group == group.id, Seat.status == 'paid').count()
    return {'course': group.campaign.course.title, 'seats_left': max(group.size - paid, 0),
            'deadline': beijing_time(group.deadline_at), 'share_code': group.share_code,
            'group_id': group.id, 'price': yuan(group.campaign.group_price_fen),
            'time_left': time_left((group.deadline_at - now).total_seconds()) if group.deadline_at else ''}

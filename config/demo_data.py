"""Demo data for `make run`: one course, a day-long campaign and a two-minute one (to watch a
group fail and refund without waiting a day), and console accounts for the sandbox only."""
import json
import os
import secrets
from pathlib import Path

from groupbuy import catalog, operators
from groupbuy.models import Course, Operator



def seed_demo() -> list[str]:
    if Course.select().exists():
        return ['demo data: already there']
    course = catalog.create_course('Python 入门 30 讲', 19900)
    day = catalog.create_campaign(course_id=course.id, group_size=3, duration_s=24 * 3600,
                                  group_price_fen=9900, leader_price_fen=8900, per_user_limit=1)
    quick = catalog.create_campaign(course_id=course.id, group_size=3, duration_s=120,
                                    group_price_fen=9900, per_user_limit=1)
    return [f'demo data: course {course.id}, campaign {day.id} (3 people, 24 h), '
            f'campaign {quick.id} (3 people, 2 min)']


def seed_demo_operators(data_dir: str, now) -> dict[str, str]:
    """One console account per role with a random password, kept in DATA_DIR/demo_operators.json so the
    banner can show them. Only on the sandbox (`flask up` without real WeChat credentials); never when any
    operator exists already. Returns name → password."""
    path = Path(data_dir) / 'demo_operators.json'
    if Operator.select().exists():
        return json.loads(path.read_text()) if path.exists() else {}
    made = {}
    for name, role in operators.DEMO.items():
        made[name] = secrets.token_urlsafe(9)
        operators.create_operator(name, made[name], role, now)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w') as f:  # never world-readable
        json.dump(made, f)
    return made

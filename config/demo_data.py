"""Demo data for `make run`: one course, a day-long campaign and a two-minute one (to watch a
group fail and refund without waiting a day)."""
from groupbuy import catalog
from groupbuy.models import Course


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

"""One entry per message kind. Placeholders are filled from the facts the domain recorded:
course, seats_left, deadline (Beijing time), time_left, amount (yuan), share_code, joiner, message.
deadline, time_left and amount are written by groupbuy/wording.py ('5月10日 20:00', '1天1小时', '99.5'),
the same words the pages, bot and poster show; '5月10日 20:00' is also what a `time` keyword takes."""
from dataclasses import dataclass, field

GROUP_PAGE = 'pages/group/index?code={share_code}'


@dataclass(frozen=True)
class MessageKind:
    title: str
    text: str
    page: str
    subscribe: dict = field(default_factory=dict)  # mini-program subscribe template fields
    oa: dict = field(default_factory=dict)  # official-account template fields
    sms: str = ''


CATALOGUE = {
    'group_opened': MessageKind(
        title='开团成功',
        text='你发起的《{course}》拼团已开团，还差 {seats_left} 人，{deadline} 截止。快分享给好友一起拼！',
        page=GROUP_PAGE,
        subscribe={'thing1': '{course}', 'number2': '{seats_left}', 'time3': '{deadline}', 'thing4': '邀请好友参团'},
        oa={'first': '开团成功，还差 {seats_left} 人', 'keyword1': '{course}', 'keyword2': '{deadline}',
            'remark': '点击分享给好友'},
        sms='【拼课】你发起的《{course}》拼团已开团，还差{seats_left}人，{deadline}截止。'),
    'member_joined': MessageKind(
        title='有人参团了',
        text='{joiner} 加入了《{course}》拼团，还差 {seats_left} 人，{deadline} 截止。',
        page=GROUP_PAGE,
        subscribe={'thing1': '{course}', 'thing2': '{joiner}加入', 'number3': '{seats_left}', 'time4': '{deadline}'},
        oa={'first': '{joiner} 加入了拼团，还差 {seats_left} 人', 'keyword1': '{course}', 'keyword2': '{deadline}',
            'remark': '再邀请 {seats_left} 位好友就成团了'},
        sms='【拼课】{joiner}加入了《{course}》拼团，还差{seats_left}人。'),
    'group_succeeded': MessageKind(
        title='拼团成功',
        text='《{course}》拼团成功！打开小程序「我的课程」即可开始学习。',
        page='pages/courses/index',
        subscribe={'thing1': '{course}', 'phrase2': '拼团成功', 'thing3': '打开「我的课程」开始学习'},
        oa={'first': '拼团成功！', 'keyword1': '{course}', 'keyword2': '已成团', 'remark': '打开「我的课程」开始学习'},
        sms='【拼课】《{course}》拼团成功，打开小程序「我的课程」开始学习。'),
    'group_failed': MessageKind(
        title='拼团未成功，已退款',
        text='《{course}》拼团在截止时未满员，已为你原路退款 ¥{amount}，预计 1–3 个工作日到账。',
        page=GROUP_PAGE,
        subscribe={'thing1': '{course}', 'phrase2': '拼团失败', 'amount3': '¥{amount}', 'thing4': '原路退回，1–3个工作日到账'},
        oa={'first': '拼团未成功，已退款', 'keyword1': '{course}', 'keyword2': '¥{amount}',
            'remark': '款项原路退回，预计 1–3 个工作日到账'},
        sms='【拼课】《{course}》拼团未满员，已原路退款¥{amount}，1-3个工作日到账。'),
    'deadline_nudge': MessageKind(
        title='拼团即将截止',
        text='《{course}》拼团还差 {seats_left} 人，{time_left}后截止。转发给好友，马上成团！',
        page=GROUP_PAGE,
        subscribe={'thing1': '{course}', 'number2': '{seats_left}', 'thing3': '{time_left}后截止', 'thing4': '转发好友马上成团'},
        oa={'first': '拼团还差 {seats_left} 人', 'keyword1': '{course}', 'keyword2': '{time_left}后截止',
            'remark': '点击转发给好友'},
        sms='【拼课】《{course}》拼团还差{seats_left}人，{time_left}后截止，快邀请好友！'),
    'broadcast': MessageKind(
        title='拼课通知',
        text='{message}',
        page='{page}',
        subscribe={'thing1': '{message}'},
        oa={'first': '{message}'},
        sms='【拼课】{message}'),
    'room_reminder': MessageKind(  # a warm-up live room's subscribers, before it opens (groupbuy/rooms)
        title='直播即将开始',
        text='你预约的《{course}》直播 {deadline} 开始，记得准时来看，直播间里可以提问和拼团。',
        page='pages/room/index?id={room_id}',
        subscribe={'thing1': '{course}', 'time2': '{deadline}', 'thing3': '直播即将开始，准时来看'},
        oa={'first': '你预约的直播即将开始', 'keyword1': '{course}', 'keyword2': '{deadline}',
            'remark': '直播间里可以提问和拼团'},
        sms='【拼课】你预约的《{course}》直播{deadline}开始，记得准时来看。'),
}

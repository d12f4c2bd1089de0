"""What the bot says, in one place (zh-CN). A group's progress line is sharing.status_line, in the
words of groupbuy/wording.py, so the bot says what the page, the poster and the pushes say."""
from groupbuy.progress import Progress
from groupbuy.sharing import status_line

HELP = ('拼课小助手为你服务：\n'
        '· 回复「我的拼团」查看进行中的拼团（还差几人、剩多久）\n'
        '· 扫拼团海报上的二维码，马上收到拼团卡片\n'
        '· 回复「帮助」再看这条说明')
WELCOME = '欢迎关注拼课！和朋友一起拼，好课更便宜。'
NO_GROUPS = '你还没有进行中的拼团。打开小程序开个团，或者让好友把拼团链接发给你。'
GROUP_GONE = '这个拼团已经找不到了，看看其他拼团吧。'
CARD_COMING = '拼团卡片马上发给你，点开即可参团。'
LOOKING_UP = '正在查找你在小程序里的拼团，请过一会儿再回复「我的拼团」。'


def group_line(p: Progress, now) -> str:
    return f'《{p.course_title}》{status_line(p, now)}'


def my_groups(items: list[tuple[Progress, str]], now) -> str:
    """Each live group with seats and time left and a link to its page."""
    lines = ['你的拼团：']
    for i, (p, link) in enumerate(items, 1):
        lines.append(f'{i}. {group_line(p, now)}\n<a href="{link}">查看拼团</a>')
    return '\n'.join(lines)

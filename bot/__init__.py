"""The official-account bot (`/wechat/callback`): WeChat pushes what followers say and do; the bot
answers within WeChat's 5 seconds with a line of text and leaves slow work (cards, profiles) to
RQ jobs (`jobs/bot_tasks.py`). `callback` speaks WeChat's protocol, `conversation` decides the
answer, `texts` holds the words."""

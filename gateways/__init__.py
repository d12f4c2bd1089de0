"""The outside world behind the domain's ports (groupbuy/ports.py): WeChat's mini-program and official-account
APIs and WeChat Pay through wechatpy, and SMS. The domain calls these only through the ports; the composition
root (config/wiring.py) decides which implementation sits behind each."""

"""An order remembers the appid WeChat Pay made it for (the mini-program's or the official account's: H5 pages in
WeChat's browser pay through the official account), since every later call on it must carry that appid."""
from peewee import CharField
from playhouse.migrate import migrate


def up(database, migrator):
    migrate(migrator.add_column('order', 'pay_appid', CharField(max_length=32, null=True)))

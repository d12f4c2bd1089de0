"""Official-account identities on User: oa_openid, follows_oa, phone; openid becomes optional.

Someone who first meets us through the official account (the bot, or the H5 page opened in
WeChat) has no mini-program openid yet, so `user.openid` may be null from here on.

SQLite cannot ALTER a column's NULL-ness. peewee's fallback rebuilds the table (DROP + rename),
which inside our migration transaction — with foreign keys on — would fire `ON DELETE SET NULL`
on every row that points at a user. Instead we use the procedure SQLite documents for removing a
NOT NULL constraint ("Making Other Kinds Of Table Schema Changes", lang_altertable.html §7):
edit the stored CREATE TABLE text, bump schema_version, run integrity_check. No row moves.
"""
from peewee import SQL, BooleanField, CharField, PostgresqlDatabase
from playhouse.migrate import migrate

OPENID_NOT_NULL = '"openid" VARCHAR(64) NOT NULL'


def up(database, migrator):
    migrate(
        migrator.add_column('user', 'oa_openid', CharField(max_length=64, null=True)),
        # NOT NULL with a database default in one ALTER: peewee's add-then-SET-NOT-NULL path
        # rebuilds the table on SQLite (see above).
        migrator.add_column('user', 'follows_oa', BooleanField(default=False, constraints=[SQL('DEFAULT FALSE')]),
                            allow_not_null=True),
        migrator.add_column('user', 'phone', CharField(max_length=32, null=True)),
        migrator.add_column('user', 'phone_country_code', CharField(max_length=8, null=True)),
        migrator.add_index('user', ('oa_openid',), unique=True),
    )
    if isinstance(database, PostgresqlDatabase):
        migrate(migrator.drop_not_null('user', 'openid'))
    else:
        _sqlite_drop_openid_not_null(database)


def _sqlite_drop_openid_not_null(database):
    sql = database.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'user'").fetchone()[0]
    if sql.count(OPENID_NOT_NULL) != 1:
        raise RuntimeError(f'unexpected user table definition, not migrating: {sql}')
    version = database.execute_sql('PRAGMA schema_version').fetchone()[0]
    database.execute_sql('PRAGMA writable_schema = ON')
    try:
        database.execute_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'user'",
                             (sql.replace(OPENID_NOT_NULL, '"openid" VARCHAR(64)'),))
        database.execute_sql(f'PRAGMA schema_version = {int(version) + 1}')
    finally:
        database.execute_sql('PRAGMA writable_schema = OFF')
    check = database.execute_sql('PRAGMA integrity_check').fetchone()[0]
    if check != 'ok':
        raise RuntimeError(f'integrity_check after the schema edit: {check}')

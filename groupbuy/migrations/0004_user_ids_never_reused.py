"""User ids are never handed out twice, and every user gets a `token_key` (issue 8 §1).

An account merge deletes the dropped user row. On SQLite an `INTEGER PRIMARY KEY` without
AUTOINCREMENT takes max(id) + 1, so the next newcomer got the merged-away id — and the old
tokens naming it. PostgreSQL's sequences never reuse, so there only `token_key` is added.

SQLite cannot ALTER a primary key, and rebuilding the table inside our migration transaction
(foreign keys on) would fire `ON DELETE SET NULL` on every row that points at a user. So, as in
0002, the stored CREATE TABLE text is edited (lang_altertable.html §7) and `sqlite_sequence`
starts above every id ever given out, including ids already merged away (from `users_merged`).
"""
from peewee import PostgresqlDatabase

PLAIN_ID = '"id" INTEGER NOT NULL PRIMARY KEY,'
AUTOINCREMENT_ID = '"id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,'


def up(database, migrator):
    if isinstance(database, PostgresqlDatabase):
        database.execute_sql('ALTER TABLE "user" ADD COLUMN "token_key" VARCHAR(32) NOT NULL DEFAULT \'\'')
        database.execute_sql('UPDATE "user" SET "token_key" = substr(md5(random()::text || "id"::text), 1, 16)')
        database.execute_sql('ALTER TABLE "user" ALTER COLUMN "token_key" DROP DEFAULT')
        return
    database.execute_sql('ALTER TABLE "user" ADD COLUMN "token_key" VARCHAR(32) NOT NULL DEFAULT \'\'')
    database.execute_sql('UPDATE "user" SET "token_key" = lower(hex(randomblob(8)))')
    _sqlite_autoincrement(database)


def _sqlite_autoincrement(database):
    sql = database.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'user'").fetchone()[0]
    if sql.count(PLAIN_ID) != 1:
        raise RuntimeError(f'unexpected user table definition, not migrating: {sql}')
    # sqlite_sequence exists once any AUTOINCREMENT table has been created; make sure it does.
    database.execute_sql('CREATE TABLE IF NOT EXISTS "_pinke_seq_maker" ("id" INTEGER PRIMARY KEY AUTOINCREMENT)')
    database.execute_sql('DROP TABLE "_pinke_seq_maker"')
    version = database.execute_sql('PRAGMA schema_version').fetchone()[0]
    database.execute_sql('PRAGMA writable_schema = ON')
    try:
        database.execute_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'user'",
                             (sql.replace(PLAIN_ID, AUTOINCREMENT_ID),))
        database.execute_sql(f'PRAGMA schema_version = {int(version) + 1}')
    finally:
        database.execute_sql('PRAGMA writable_schema = OFF')
    highest = database.execute_sql(
        'SELECT max(coalesce((SELECT max("id") FROM "user"), 0), coalesce((SELECT max(CAST('
        "json_extract(props, '$.merged_user') AS INTEGER)) FROM event WHERE kind = 'users_merged'), 0))"
    ).fetchone()[0]
    database.execute_sql("DELETE FROM sqlite_sequence WHERE name = 'user'")
    database.execute_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('user', ?)", (int(highest),))
    check = database.execute_sql('PRAGMA integrity_check').fetchone()[0]
    if check != 'ok':
        raise RuntimeError(f'integrity_check after the schema edit: {check}')

"""A version number for what the workers cache (the question script, the studio settings).

Every change to either table, however it is made (the admin, a queryset update, raw SQL, a
TRUNCATE), sets `conversations_configversion.version` to a new value of a sequence, in the
changing transaction. A sequence never hands out a number twice, even when that transaction
rolls back, so a version a worker has cached stands for exactly one state of the tables. The
webhook reads the version in the statement that locks the sender (flows/inbound_sql.py).
"""

from django.db import migrations

TABLES = ("conversations_question", "conversations_studiosettings")

CREATE = """
CREATE SEQUENCE conversations_configversion_seq;
CREATE TABLE conversations_configversion (
    id smallint PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO conversations_configversion VALUES (1, nextval('conversations_configversion_seq'));
CREATE FUNCTION conversations_bump_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO conversations_configversion VALUES (1, nextval('conversations_configversion_seq'))
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;
"""
TRIGGERS = """
CREATE TRIGGER {table}_bumps_config_version
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION conversations_bump_config_version();
"""
DROP = """
DROP FUNCTION conversations_bump_config_version() CASCADE;
DROP TABLE conversations_configversion;
DROP SEQUENCE conversations_configversion_seq;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0010_addresses_without_plus"),
    ]

    operations = [
        migrations.RunSQL(CREATE + "".join(TRIGGERS.format(table=t) for t in TABLES), DROP),
    ]

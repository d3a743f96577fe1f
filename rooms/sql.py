"""Hand-written SQL for the hot paths, where the ORM's own work dominated.

The message path: both statements use RETURNING (SQLite >= 3.35, PostgreSQL), so a batch costs one
statement per room for its seqs and one for its rows. Profiled with 40 messages in 8 rooms: see
docs/benchmarks.md. The handshake: the online list, the largest of a handshake's queries.
"""

from django.contrib.auth.models import Group
from django.db import connection

from .models import FACILITATORS_GROUP, Connection, Message, Room, ServerProcess, User

_INSERT_FIELDS = ["room", "seq", "author", "author_role", "client_id", "body", "risk_level", "created_at",
                  "hidden_at"]


def reserve_seqs(room_id: int, count: int) -> int:
    """Take the room's next `count` seqs; returns the last. The row update locks the room
    (PostgreSQL) or takes the write lock (SQLite), so concurrent writers queue: seq stays gapless."""
    table = connection.ops.quote_name(Room._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last_seq = last_seq + %s WHERE id = %s RETURNING last_seq",
                       [count, room_id])
        return cursor.fetchone()[0]


def insert_messages(messages: list[Message]) -> None:
    """INSERT the unsaved messages in one statement and set their primary keys. A repeated
    (author, client_id) raises IntegrityError, as Model.save would."""
    if not messages:
        return
    fields = [Message._meta.get_field(name) for name in _INSERT_FIELDS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    values = []
    for message in messages:
        for field in fields:
            values.append(field.get_db_prep_save(getattr(message, field.attname), connection))
    pk, author, client_id = (quote(Message._meta.get_field(n).column) for n in ("id", "author", "client_id"))
    as_uuid = Message._meta.get_field("client_id").to_python  # SQLite returns hex text, PostgreSQL a UUID
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(Message._meta.db_table)} ({columns}) VALUES "
                       f"{', '.join([row] * len(messages))} RETURNING {pk}, {author}, {client_id}", values)
        ids = {(author_id, as_uuid(cid)): pk_value for pk_value, author_id, cid in cursor.fetchall()}
    for message in messages:  # matched on (author, client_id), unique: RETURNING promises no row order
        message.pk = ids[(message.author_id, as_uuid(message.client_id))]
        message._state.adding = False


def online_rows(room_id: int, live_since) -> list[tuple[int, str, bool, bool, bool]]:
    """(id, username, is_superuser, is_staff, is facilitator) of everyone with a socket in the room
    on a process that beat since `live_since`, by username. Building this with the ORM cost more
    than running it, in every handshake (docs/benchmarks.md, "Reconnect storm")."""
    q = connection.ops.quote_name
    member = User.groups.through

    def column(model, field: str) -> str:
        return q(model._meta.get_field(field).column)

    def table(model) -> str:
        return q(model._meta.db_table)

    since = ServerProcess._meta.get_field("seen_at").get_db_prep_value(live_since, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT u.{column(User, 'id')}, u.{column(User, 'username')}, u.{column(User, 'is_superuser')},"
            f" u.{column(User, 'is_staff')}, EXISTS (SELECT 1 FROM {table(member)} m"
            f" INNER JOIN {table(Group)} g ON g.{column(Group, 'id')} = m.{column(member, 'group')}"
            f" WHERE m.{column(member, 'user')} = u.{column(User, 'id')} AND g.{column(Group, 'name')} = %s)"
            f" FROM {table(User)} u WHERE u.{column(User, 'id')} IN ("
            f"SELECT c.{column(Connection, 'user')} FROM {table(Connection)} c"
            f" INNER JOIN {table(ServerProcess)} s ON s.{column(ServerProcess, 'id')} = c.{column(Connection, 'server')}"
            f" WHERE c.{column(Connection, 'room')} = %s AND s.{column(ServerProcess, 'seen_at')} >= %s)"
            f" ORDER BY u.{column(User, 'username')}",
            [FACILITATORS_GROUP, room_id, since])
        return [(pk, name, bool(superuser), bool(staff), bool(facilitator))
                for pk, name, superuser, staff, facilitator in cursor.fetchall()]

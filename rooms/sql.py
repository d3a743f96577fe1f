"""Hand-written SQL for the message hot path, where the ORM's per-row work dominated a batch.

Both statements use RETURNING (SQLite >= 3.35, PostgreSQL), so a batch costs one statement per
room for its seqs and one for its rows. Profiled with 40 messages in 8 rooms: see docs/benchmarks.md.
"""

from django.db import connection

from .models import Message, Room

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
    pk, room, seq = (quote(Message._meta.get_field(n).column) for n in ("id", "room", "seq"))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(Message._meta.db_table)} ({columns}) VALUES "
                       f"{', '.join([row] * len(messages))} RETURNING {pk}, {room}, {seq}", values)
        ids = {(room_id, seq_value): pk_value for pk_value, room_id, seq_value in cursor.fetchall()}
    for message in messages:  # matched on (room, seq): RETURNING promises no row order
        message.pk = ids[(message.room_id, message.seq)]
        message._state.adding = False

"""Production-style settings (DEBUG off) for the suite; only the secret is supplied here."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

from chatserver.settings import *  # noqa: E402,F403

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import tempfile

    # A file, like production: the in-memory shared-cache database fails with "table is
    # locked" under concurrent writers instead of waiting, so it would hide real behaviour.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"chat-test-{os.getpid()}.sqlite3")}  # noqa: F405

    import atexit
    import contextlib

    def _remove_test_database_journals(name=DATABASES["default"]["TEST"]["NAME"]):  # noqa: F405
        """Threads of the async tests keep connections open to the end, so SQLite leaves the
        write-ahead log and its index behind after the test database is dropped."""
        for leftover in (name + "-wal", name + "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)

    atexit.register(_remove_test_database_journals)

# Hashing cost is not under test and dominates creating people (PBKDF2: ~0.5 s each here).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

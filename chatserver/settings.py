"""Settings, read from the environment (django-environ).

Defaults are the embedded single-process setup (SQLite + in-memory channel layer).
`REDIS_URL` switches to channels-redis, `DATABASE_URL` to that database.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():  # optional; absent in CI and `make run`
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_countries",
    "axes",
    "rooms",
    "escalation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "chatserver.urls"
ASGI_APPLICATION = "chatserver.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "chatserver" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer (several Daphne processes may share the file);
    # IMMEDIATE takes the write lock up front so two writers queue instead of deadlocking.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
# Keep connections: Channels closes "old" ones around every database_sync_to_async call, so with
# the default of 0 each call would open a new connection (and, for SQLite, re-run the pragmas).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=600))
# A health check runs before every database_sync_to_async call under Channels; worth it for a
# server across the network (PostgreSQL), pointless for a local SQLite file.
DATABASES["default"].setdefault(
    "CONN_HEALTH_CHECKS", DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# redis-py caps a pool at 100 connections by default, which a few hundred sockets sending at once
# exhaust (MaxConnectionsError). Size it for thousands (the channel layer's and the room fan-out's).
REDIS_MAX_CONNECTIONS = env.int("REDIS_MAX_CONNECTIONS", default=2000)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": REDIS_MAX_CONNECTIONS,
                        # redis-py 8 defaults to a 5 s read timeout, which the layer's blocking
                        # receive (BZPOPMIN) trips whenever a channel is idle (channels_redis#422).
                        "socket_timeout": None,
                    }
                ],
                "capacity": env.int("CHANNEL_CAPACITY", default=1000),
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chatserver.layers.EmbeddedChannelLayer",
            "CONFIG": {"capacity": env.int("CHANNEL_CAPACITY", default=1000)},
        }
    }

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "rooms.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "lobby"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # counts failed logins, refuses when locked out
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # one person from one place, not a whole campus
AXES_LOCKOUT_CALLABLE = "rooms.views.locked_out"  # a styled page: when to try again, and help without signing in
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Security (production defaults; HTTPS assumed unless DEBUG or HTTPS=0) -----------------
HTTPS = env.bool("HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)

# Scripts and styles only from this site: no inline script anywhere (data travels in json_script).
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],  # Django's admin ships inline scripts of its own
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],  # the room and console sockets, same origin
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- I18N / static --------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# Serving straight from the app folders keeps deployment free of a collectstatic step;
# set STATIC_ROOT (and WHITENOISE_USE_FINDERS=0) to serve collected, hashed files instead.
STATIC_ROOT = env.str("STATIC_ROOT", default=None)
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}

# --- Escalation -------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="peer-support@localhost")
ESCALATION = {
    # Re-send an unacknowledged alert this often, per level (seconds).
    "RESEND_SECONDS": {
        "imminent": env.int("RESEND_IMMINENT_SECONDS", default=30),
        "crisis": env.int("RESEND_CRISIS_SECONDS", default=120),
    },
    "WIDEN_AFTER": env.int("ALERT_WIDEN_AFTER", default=3),  # sends before every facilitator hears
    "DUTY_GRACE_SECONDS": env.int("DUTY_GRACE_SECONDS", default=300),  # on duty this long after leaving
    "ONCALL_EMAIL": env.str("ONCALL_EMAIL", default=""),
    "WEBHOOK_URL": env.str("ALERT_WEBHOOK_URL", default=""),
    "WEBHOOK_SECRET": env.str("ALERT_WEBHOOK_SECRET", default=""),
    "WEBHOOK_TIMEOUT_SECONDS": 5,
    "CONSOLE_URL": env.str("CONSOLE_URL", default="http://127.0.0.1:8000/console/"),
    "WATCHDOG_TICK_SECONDS": env.float("WATCHDOG_TICK_SECONDS", default=5),
    # The relay's look at the outbox: the second reader's alerts and cards reach sockets this way.
    "OUTBOX_POLL_SECONDS": env.float("OUTBOX_POLL_SECONDS", default=0.2),
    # Outbox rows hold whole alert frames (a person's words, other people's as context); every
    # relay has handed a row on within seconds, so the watchdog deletes it after this.
    "OUTBOX_KEEP_SECONDS": env.int("OUTBOX_KEEP_SECONDS", default=600),
    "SCREENING": {
        "BATCH_SIZE": env.int("SCREENING_BATCH_SIZE", default=64),
        "POLL_SECONDS": env.float("SCREENING_POLL_SECONDS", default=0.2),
        "NICE": env.int("SCREENING_NICE", default=10),  # CPU priority below the web process
        # A batch whose worker has not finished it this long after claiming is taken over.
        "LEASE_SECONDS": env.float("SCREENING_LEASE_SECONDS", default=15),
        # A missing message id is waited for this long (PostgreSQL: a transaction still committing).
        "GAP_SETTLE_SECONDS": env.float("SCREENING_GAP_SETTLE_SECONDS", default=1),
        # ... and the message behind one that commits later still is read, up to this long after.
        "GAP_FORGET_SECONDS": env.float("SCREENING_GAP_FORGET_SECONDS", default=3600),
        # No worker heartbeat for this long: the console and admin say the second reader is offline.
        "OFFLINE_SECONDS": env.float("SCREENING_OFFLINE_SECONDS", default=30),
        # The encoder's files, when not from its package (a checked copy; the pins still apply).
        "ENCODER_DIR": env.str("SCREENING_ENCODER_DIR", default=""),
    },
    # A distress message stands this long: a goodbye within it reads as a goodbye note.
    "DISTRESS_CONTEXT_MINUTES": env.int("DISTRESS_CONTEXT_MINUTES", default=30),
}

# --- Chat -----------------------------------------------------------------------------------
CHAT = {
    "MAX_BODY_CHARS": 4000,
    "MAX_FRAME_BYTES": 16 * 1024,
    "HISTORY_ON_CONNECT": 50,
    "HISTORY_PAGE_MAX": 100,
    "REPLAY_MAX": 1000,
    "TYPING_THROTTLE_SECONDS": 3.0,
    "PRESENCE_HEARTBEAT_SECONDS": env.int("PRESENCE_HEARTBEAT_SECONDS", default=20),
    # Room and lobby handshakes in progress at once per process, how many may wait for a turn, and
    # for how long (under Daphne's 5 s handshake timeout); the rest are refused and retry
    # (rooms/admission.py, docs/benchmarks.md "Reconnect storm"). Console handshakes have slots of
    # their own, so a storm never keeps a facilitator out and a flood of them never keeps rooms out.
    "HANDSHAKE_SLOTS": env.int("HANDSHAKE_SLOTS", default=4),
    "HANDSHAKE_QUEUE": env.int("HANDSHAKE_QUEUE", default=200),
    "HANDSHAKE_WAIT_SECONDS": env.float("HANDSHAKE_WAIT_SECONDS", default=3.0),
    "CONSOLE_HANDSHAKE_SLOTS": env.int("CONSOLE_HANDSHAKE_SLOTS", default=2),
    # Per person, burst and sustained (facilitators exempt); `limits` notation.
    "RATE_LIMITS": env.str("CHAT_RATE_LIMITS", default="5/10 seconds;30/minute"),
    "REPEAT_LIMIT": env.str("CHAT_REPEAT_LIMIT", default="1/30 seconds"),  # the same text again
    "FRAME_RATE": env.str("CHAT_FRAME_RATE", default="30/second"),  # per socket; above it: closed
    "MAX_LINKS": env.int("CHAT_MAX_LINKS", default=3),
    # Per person, across processes (rooms/ratelimits.py). A help request over its rate is never
    # refused: it joins the person's open alert without telling facilitators again.
    "HELP_RATE": env.str("CHAT_HELP_RATE", default="1/minute"),
    "CONCERN_RATE": env.str("CHAT_CONCERN_RATE", default="10/10 minutes"),
    "REPORT_RATE": env.str("CHAT_REPORT_RATE", default="10/10 minutes"),
    # Room and lobby handshakes a person may open per window, and room sockets open at once.
    "HANDSHAKE_RATE": env.str("CHAT_HANDSHAKE_RATE", default="30/minute"),
    "SOCKETS_PER_PERSON": env.int("CHAT_SOCKETS_PER_PERSON", default=30),
    # Consoles and facilitators' room sockets read their standing again this often (rooms/standing.py).
    "STANDING_RECHECK_SECONDS": env.float("STANDING_RECHECK_SECONDS", default=30),
    # `manage.py purge_old_messages` deletes messages older than this (docs/privacy.md).
    "MESSAGE_RETENTION_DAYS": env.int("MESSAGE_RETENTION_DAYS", default=365),
}

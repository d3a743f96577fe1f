"""The Channels tutorial chat, reproduced as a baseline: no database writes, no checks."""

import os

SECRET_KEY = "baseline-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["daphne", "channels"]
ROOT_URLCONF = "bench.baselines.tutorial.urls"
ASGI_APPLICATION = "bench.baselines.tutorial.asgi.application"
DATABASES = {}
USE_TZ = True
if os.environ.get("REDIS_URL"):
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                  "CONFIG": {"hosts": [{"address": os.environ["REDIS_URL"], "socket_timeout": None}]}}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")
django_asgi_app = get_asgi_application()  # set up Django before importing consumers

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from chatserver.routing import CONSOLE_PATHS, websocket_urlpatterns  # noqa: E402
from django.urls import reverse  # noqa: E402

from chatserver import websocket_closing  # noqa: E402
from escalation.detection import detector_for  # noqa: E402
from rooms.admission import HandshakeGate  # noqa: E402

websocket_closing.install()

# First-use costs paid at start, not inside the first crisis message: compiling the lexicon
# (~100 ms) and building the URL resolver that alert payloads use.
detector_for()
reverse("room", args=["warm-up"])

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            HandshakeGate(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), console_paths=CONSOLE_PATHS)
        ),
    }
)
# What start-up made (Django, the lexicon's index, the URL resolver: 115,000 objects) lives as long
# as the process: moved out of the collector's sight, a full collection no longer walks it. Under
# room load one took 51-56 ms, stalling every socket at once, and set the p99 (docs/benchmarks.md,
# "Session 9"); now 12 ms. Start-up's own garbage is collected first rather than kept for good.
gc.collect()
gc.freeze()

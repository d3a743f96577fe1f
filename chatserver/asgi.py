import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")
django_asgi_app = get_asgi_application()  # set up Django before importing consumers

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from chatserver.routing import CONSOLE_PATHS, websocket_urlpatterns  # noqa: E402
from django.urls import reverse  # noqa: E402

from escalation.detection import detector_for  # noqa: E402
from rooms.admission import HandshakeGate  # noqa: E402

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

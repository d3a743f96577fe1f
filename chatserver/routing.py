from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path

from escalation.routing import websocket_urlpatterns as console_patterns
from rooms.routing import websocket_urlpatterns as room_patterns


class NoSuchSocket(AsyncWebsocketConsumer):
    """Any other path: refused like a missing room (HTTP 403 before the upgrade), not a traceback
    in the log for each probe."""

    async def connect(self):
        await self.close(code=4404)


websocket_urlpatterns = [*room_patterns, *console_patterns, re_path(r"", NoSuchSocket.as_asgi())]
CONSOLE_PATHS = tuple("/" + str(pattern.pattern) for pattern in console_patterns)  # a line of their own at the handshake gate

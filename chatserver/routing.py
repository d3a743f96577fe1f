from escalation.routing import websocket_urlpatterns as console_patterns
from rooms.routing import websocket_urlpatterns as room_patterns

websocket_urlpatterns = [*room_patterns, *console_patterns]
CONSOLE_PATHS = tuple("/" + str(pattern.pattern) for pattern in console_patterns)  # a line of their own at the handshake gate

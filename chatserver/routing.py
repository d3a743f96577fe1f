from rooms.routing import websocket_urlpatterns as room_patterns

websocket_urlpatterns = [*room_patterns]

from django.urls import path

from . import consumers

websocket_urlpatterns = [path("ws/facilitator/", consumers.ConsoleConsumer.as_asgi())]

from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = "Rooms and people"

    def ready(self):
        from . import standing  # noqa: F401  connects the account-change notices to open sockets

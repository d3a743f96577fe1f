"""The one place code asks for the time, so tests can move it instead of sleeping."""

import time

from django.utils import timezone


class Clock:
    def now(self):
        return timezone.now()

    def monotonic(self) -> float:
        return time.monotonic()


clock = Clock()

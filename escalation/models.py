from django.conf import settings
from django.db import models
from django_countries.fields import CountryField

from escalation.detection import Level
from rooms.models import AppendOnlyModel

LEVEL_CHOICES = [(level.value, level.value) for level in Level]
LEVEL_RANK = {level.value: level.rank for level in Level}


class Hotline(models.Model):
    """A crisis service. A blank country is the fallback for everywhere not listed."""

    country = CountryField(blank=True, db_index=True)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True, help_text="As shown, e.g. 116 123")
    tel = models.CharField(max_length=40, blank=True, help_text="Dialable, for tel: links, e.g. 116123")
    sms = models.CharField(max_length=40, blank=True, help_text="Number for sms: links")
    sms_body = models.CharField(max_length=40, blank=True, help_text="Text to send, e.g. HOME")
    url = models.URLField(blank=True)
    is_primary = models.BooleanField(default=False, help_text="The one shown first for its country.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["country", "-is_primary", "position", "name"]

    def __str__(self):
        return f"{self.name} ({self.country or 'anywhere'})"


class FacilitatorDuty(models.Model):
    """A facilitator's duty state; it outlives any one socket."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="duty")
    on_duty = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    topics = models.JSONField(default=list, blank=True, help_text="Room topics covered; empty = all.")

    class Meta:
        verbose_name_plural = "facilitator duty"

    def __str__(self):
        return f"{self.user} ({'on' if self.on_duty else 'off'} duty)"


class ConsoleConnection(models.Model):
    """An open facilitator console socket, tied to the web process that holds it."""

    channel_name = models.CharField(primary_key=True, max_length=200)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consoles")
    server = models.ForeignKey("rooms.ServerProcess", on_delete=models.CASCADE, related_name="consoles")
    connected_at = models.DateTimeField(auto_now_add=True)


class Alert(models.Model):
    class Source(models.TextChoices):
        DETECTOR = "detector"
        SECOND_READER = "second_reader"  # the screening worker's learned reader, after the message path
        SELF_REFERRAL = "self_referral"
        PEER_REPORT = "peer_report"

    class Status(models.TextChoices):
        OPEN = "open"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"

    UNRESOLVED = (Status.OPEN, Status.ACKNOWLEDGED)  # facilitators are still on it

    level = models.CharField(max_length=10, choices=LEVEL_CHOICES)
    source = models.CharField(max_length=16, choices=Source.choices)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN, db_index=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="alerts_about"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts_reported"
    )
    room = models.ForeignKey("rooms.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    message = models.ForeignKey(
        "rooms.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    signals = models.JSONField(default=list, blank=True, help_text="Why the detector fired.")
    second_reader = models.JSONField(
        default=dict, blank=True,
        help_text="The learned reader's verdict on the alert's message: raised, agrees or doubts; its score.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts_assigned"
    )
    outcome = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True)
    support_room = models.ForeignKey(
        "rooms.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="support_for"
    )
    created_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Delivery state, kept here so the watchdog survives restarts.
    notify_count = models.PositiveIntegerField(default=0)
    next_notify_at = models.DateTimeField(null=True, blank=True, db_index=True)
    widened = models.BooleanField(default=False)
    out_of_band_at = models.DateTimeField(null=True, blank=True)
    out_of_band_due = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"#{self.pk} {self.level} {self.status}"

    @property
    def rank(self) -> int:
        return LEVEL_RANK[self.level]

    @property
    def doubted(self) -> bool:
        """The second reader read its message as likely not a crisis (it still waits for a person)."""
        return self.second_reader.get("verdict") == "doubts"


class AlertEvent(AppendOnlyModel):
    """Append-only log of everything that happened to an alert, and who did it."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]


class Notification(models.Model):
    """Outbox: a frame for facilitators' consoles, relayed by whichever process holds them."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    recipients = models.JSONField(default=list)  # facilitators' user ids: their consoles
    person = models.ForeignKey(  # or the person's own room sockets (the hotline card)
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField()


class ScreeningCursor(models.Model):
    """How far the message stream has been handed out to screening batches (one row)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    claimed_through = models.BigIntegerField(help_text="Every message id up to this one is in a batch.")


class ScreeningBatch(models.Model):
    """A run of messages one worker is reading: ids after `after` up to `through`. The lease lets
    another worker take it over when its worker dies; `done_at` is set in the same transaction as
    the alerts the batch raises, so a batch acts once however often it is read."""

    after = models.BigIntegerField()
    through = models.BigIntegerField()
    worker = models.CharField(max_length=100)
    leased_until = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    error = models.TextField(blank=True, help_text="Why its one message could not be read, if it could not.")

    class Meta:
        indexes = [models.Index(fields=["done_at", "leased_until"])]


class ScreeningGap(models.Model):
    """A message id the cursor passed before its message was visible (PostgreSQL hands ids out
    before commit): if the message appears later it is read as a batch of its own."""

    id = models.BigIntegerField(primary_key=True)
    noticed_at = models.DateTimeField()


class ScreeningWorker(models.Model):
    """A screening worker's heartbeat: the console and the admin say the second reader is offline
    when no worker has beaten for a while, or when a worker refused to load its model."""

    id = models.CharField(primary_key=True, max_length=100)
    seen_at = models.DateTimeField()
    read_count = models.PositiveBigIntegerField(default=0)
    refused = models.TextField(blank=True, help_text="Why the learned reader would not start, if it would not.")

    def __str__(self):
        return self.id

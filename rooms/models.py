import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import MinLengthValidator
from django.db import models
from django.utils.functional import cached_property
from django_countries.fields import CountryField

from . import lookalikes

FACILITATORS_GROUP = "Facilitators"


def role_of(staff: bool, facilitator: bool) -> str:
    """Staff and superusers are admins; members of the facilitators group, facilitators."""
    return Role.ADMIN if staff else Role.FACILITATOR if facilitator else Role.PEER


class Role(models.TextChoices):
    PEER = "peer"
    FACILITATOR = "facilitator"
    ADMIN = "admin"


class User(AbstractUser):
    """A person, known to others only by a pseudonym (`username`)."""

    username = models.CharField(
        "pseudonym",
        max_length=32,
        unique=True,
        validators=[UnicodeUsernameValidator(), MinLengthValidator(2)],
        help_text="2-32 characters: letters, digits and @/./+/-/_ only.",
        error_messages={"unique": "That pseudonym is taken."},
    )
    email = models.EmailField("e-mail (optional)", blank=True)
    country = CountryField(blank=True, help_text="Used to show the right hotline.")
    # The pseudonym's look-alike keys (rooms/lookalikes.py): sign-up refuses a name whose key is taken.
    skeleton = models.CharField(max_length=64, db_index=True, editable=False, default="")
    skeleton_capitals = models.CharField(max_length=64, db_index=True, editable=False, default="")

    def save(self, *args, **kwargs):
        self.skeleton, self.skeleton_capitals = lookalikes.keys(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "skeleton", "skeleton_capitals"}
        super().save(*args, **kwargs)

    @cached_property
    def role(self) -> str:
        staff = self.is_superuser or self.is_staff
        return role_of(staff, not staff and self.groups.filter(name=FACILITATORS_GROUP).exists())

    @property
    def is_facilitator(self) -> bool:
        return self.role in (Role.FACILITATOR, Role.ADMIN)


class AppendOnlyModel(models.Model):
    """A record written once and never changed or deleted (audit log, alert events)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(f"{self._meta.verbose_name} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{self._meta.verbose_name} is append-only.")


class Room(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)
    topic = models.CharField(max_length=60, help_text="Lobby heading the room is listed under.")
    description = models.CharField(max_length=280, blank=True)
    guidelines = models.TextField(blank=True)
    is_private = models.BooleanField(
        default=False, help_text="Only members may join (e.g. a private support room)."
    )
    position = models.PositiveSmallIntegerField(default=0)
    locked = models.BooleanField(default=False, help_text="Read-only for peers.")
    slow_mode_seconds = models.PositiveIntegerField(default=0, help_text="Seconds between a peer's messages.")
    hold_imminent = models.BooleanField(
        default=False,
        help_text="Hold messages the detector rates imminent from peers until a facilitator restores them. "
                  "The author still sees theirs and gets the support card; facilitators see it at once.",
    )
    pinned_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Empty: the guidelines are pinned.",
    )
    # The last seq handed out; incremented in the same transaction that stores a message,
    # so seq is gapless even when that transaction rolls back.
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    @property
    def group_name(self) -> str:
        return f"room.{self.pk}"


class Membership(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="one_membership")]


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    # The room's order, gapless for everyone who can see the room. A message held for review has
    # none until a facilitator restores it: a seq taken and never shown would tell peers that
    # something was held, and typing just before would tell them whose (docs/escalation.md).
    seq = models.PositiveBigIntegerField(null=True, blank=True)
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="messages")
    author_role = models.CharField(max_length=16, choices=Role.choices, default=Role.PEER)
    client_id = models.UUIDField(default=uuid.uuid4)
    body = models.TextField()
    # The detector's tier: for facilitators and admins only, never sent to peers.
    risk_level = models.CharField(max_length=10, default="none", db_index=True)
    hidden_at = models.DateTimeField(null=True, blank=True)  # hidden from peers, kept for the record
    hidden_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="one_seq_per_room"),
            models.UniqueConstraint(fields=["author", "client_id"], name="idempotent_send"),
        ]
        indexes = [
            # Every message batch asks for its authors' recent distress messages
            # (escalation.services.earlier_risk): without it, every distress message ever stored.
            models.Index(fields=["author", "risk_level", "created_at"], name="message_author_risk_time"),
        ]

    def __str__(self):
        return f"{self.room.slug}#{self.seq}"


class ServerProcess(models.Model):
    """One running web process; presence rows of a process that stops beating are stale."""

    id = models.CharField(primary_key=True, max_length=40)
    seen_at = models.DateTimeField()


class Connection(models.Model):
    """One open room socket: who is online where, shared by every process."""

    channel_name = models.CharField(primary_key=True, max_length=200)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="connections")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="connections")
    server = models.ForeignKey(ServerProcess, on_delete=models.CASCADE, related_name="connections")
    connected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["room", "user"])]


class Sanction(models.Model):
    """A timeout, removal or ban of a person, in one room or (room empty) the whole service."""

    class Kind(models.TextChoices):
        TIMEOUT = "timeout"  # may read, may not post, until `until`
        KICK = "kick"  # removed from the room until a facilitator lets them back (lifted)
        BAN = "ban"  # may not enter (room) or use the service at all (no room)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sanctions")
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.CASCADE, related_name="sanctions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    reason = models.CharField(max_length=500, blank=True)
    until = models.DateTimeField(null=True, blank=True, help_text="Empty: until lifted.")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["user", "kind", "lifted_at"])]


class PersonalMute(models.Model):
    """One person choosing not to see another's messages. Nobody else is affected."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mutes")
    muted = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "muted"], name="one_mute")]


class Report(models.Model):
    class Reason(models.TextChoices):
        HARASSMENT = "harassment"
        SPAM = "spam"
        UNSAFE = "unsafe"
        OTHER = "other"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="reports_made")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")


class AuditEntry(AppendOnlyModel):
    """Append-only record of every moderation action: who, what, whom, where, when, why."""

    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=30, db_index=True)
    target = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit log"

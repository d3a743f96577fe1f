"""An open socket keeps only the standing its person still has.

A socket is signed in once, at its handshake. Signing out, a password change, deactivation,
deletion and a change of role (the Facilitators group, staff, superuser) must reach the sockets
already open, on every process, or a demoted facilitator keeps hearing alerts and a shared
device stays signed in to a room. So each of those sends a notice to the person's account group
through the channel layer; every socket of theirs (room, lobby, console) then reads its session
and the person again, with Django's own session checks, and ends or carries on with what it finds.
Privileged frames (moderation, the console's actions) read the standing again themselves, so a
notice lost while the channel layer was down cannot leave a power behind.
"""

import asyncio
import hashlib
import logging
from importlib import import_module
from types import SimpleNamespace

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from .models import User

log = logging.getLogger(__name__)

CLOSE_SIGNED_OUT = 4401  # as a handshake without a sign-in is refused
SEND_SECONDS = 2
SIGNED_OUT = "You are signed out on this device. Sign in again to carry on."
DELETED = "This account has been deleted."


def account_group(user_id: int) -> str:
    """Every open socket of this person, of every kind."""
    return f"account.{user_id}"


def session_tag(session_key: str | None) -> str:
    """Names a session on the channel layer without sending the key itself."""
    return hashlib.sha256((session_key or "").encode()).hexdigest()[:32]


def current(session_key: str | None, user_id: int, signing_out: bool = False) -> User | str:
    """The person as the database has them now, or why this socket's sign-in no longer holds.

    Django's get_user applies every rule a page request would: the session exists and has not
    expired, it names this person, the password has not changed since, the account is active."""
    if not signing_out:
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        user = auth.get_user(SimpleNamespace(session=store))
        if user.is_authenticated and user.pk == user_id:
            user.role  # read here, in the database hop, for the socket's checks of the role  # noqa: B018
            return user
    return SIGNED_OUT if User.objects.filter(pk=user_id).exists() else DELETED


def tell(user_ids, signed_out_session: str | None = None) -> None:
    """Ask every open socket of these people to read their standing again (after the commit)."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    event = {"type": "account.changed"}
    if signed_out_session is not None:
        event["signed_out"] = session_tag(signed_out_session)

    async def send():
        layer = get_channel_layer()
        for user_id in ids:
            try:  # bounded: a Redis that hangs must not hang a sign-out or an admin's save
                await asyncio.wait_for(layer.group_send(account_group(user_id), event), SEND_SECONDS)
            except Exception:  # the change is stored; privileged sockets check it again on their own
                log.warning("could not tell user %s's open sockets of an account change", user_id)

    transaction.on_commit(async_to_sync(send))


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    # Sent before Django flushes the session, so the sockets cannot yet see it gone: the notice
    # names the session that is ending instead.
    if user is not None and user.pk is not None:  # a deleted account is told by _account_deleted
        session = getattr(request, "session", None)  # channels.auth.logout sends no request
        tell([user.pk], signed_out_session=session.session_key if session is not None else None)


@receiver(post_save, sender=User)
def _account_saved(sender, instance, created, update_fields=None, raw=False, **kwargs):
    if created or raw or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # a sign-in stamps last_login: nothing about an open socket changes
    tell([instance.pk])


@receiver(post_delete, sender=User)
def _account_deleted(sender, instance, **kwargs):
    tell([instance.pk])


@receiver(m2m_changed, sender=User.groups.through)
def _groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action == "pre_clear" and reverse:
        instance._standing_members = list(instance.user_set.values_list("pk", flat=True))
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        tell([instance.pk])
    elif action == "post_clear":
        tell(getattr(instance, "_standing_members", []))
    else:
        tell(pk_set or [])


@receiver(post_save, sender=Group)
@receiver(pre_delete, sender=Group)
def _group_changed(sender, instance, **kwargs):
    """A group renamed or deleted changes the role of everyone in it."""
    if instance.pk is not None:
        tell(instance.user_set.values_list("pk", flat=True))

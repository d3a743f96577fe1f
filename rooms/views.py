from itertools import groupby

from django.contrib.auth import login, logout
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from escalation.hotlines import hotlines_for

from . import moderation, privacy, selectors
from .errors import ChatError
from .forms import DeleteAccountForm, SignupForm
from .models import Room


@login_required
def lobby(request):
    rooms = list(selectors.visible_rooms(request.user).order_by("topic", "position", "name"))
    counts = selectors.online_counts(request.user)
    for room in rooms:
        room.online = counts.get(room.slug, 0)
    topics = [(topic, list(group)) for topic, group in groupby(rooms, key=lambda r: r.topic)]
    return render(request, "rooms/lobby.html", {"topics": topics})


@login_required
def room(request, slug):
    room = get_object_or_404(Room, slug=slug)
    if not selectors.can_enter(room, request.user):
        raise PermissionDenied("This room is private.")
    try:
        moderation.check_can_enter(request.user, room)
    except ChatError as refusal:
        # Removed or not, someone may be struggling: the hotline stays one tap away.
        lines = hotlines_for(request.user.country.code or "")[:1]
        return render(request, "rooms/removed.html", {"room": room, "detail": refusal.detail, "lines": lines},
                      status=403)
    config = {
        "slug": room.slug,
        "me": {"id": request.user.pk, "name": request.user.username, "role": request.user.role},
    }
    return render(request, "rooms/room.html", {"room": room, "room_config": config})


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("lobby")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("lobby")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        privacy.delete_account(request.user)
        logout(request)
        return render(request, "rooms/account_deleted.html", {"lines": hotlines_for("")[:1]})
    return render(request, "rooms/account.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def account_export(request):
    response = JsonResponse(privacy.export_user_data(request.user), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{request.user.username}-data.json"'
    response["Cache-Control"] = "no-store"
    return response


def privacy_notice(request):
    return render(request, "rooms/privacy.html", {"retention_days": settings.CHAT["MESSAGE_RETENTION_DAYS"]})


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer after too many wrong passwords (AXES_LOCKOUT_CALLABLE): the page says
    when to try again, and that help needs no sign-in."""
    from axes.helpers import get_client_username, get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    return render(request, "registration/locked_out.html", {
        "username": get_client_username(request, credentials) or "",
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": max(1, round(cool_off.total_seconds() / 60)) if cool_off else None,
    }, status=429)

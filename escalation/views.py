from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation.trans_real import parse_accept_lang_header
from django_countries import countries

from .emergency import emergency_numbers
from .hotlines import hotlines_for

AUDIT_ACTIONS = ["hide", "restore", "timeout", "kick", "ban_room", "ban_service", "lift_timeout", "lift_ban",
                 "lock", "unlock", "slow_mode", "pin", "unpin", "report", "close_report", "hold",
                 "alert_acknowledge", "alert_step_in", "alert_resolve"]


def visitors_country(request) -> str:
    """The country asked for, else the signed-in person's, else the browser's language region
    ("en-GB" -> GB); empty when none is known."""
    asked = request.GET.get("country", "").upper()
    if asked in countries:
        return asked
    if request.user.is_authenticated and request.user.country:
        return request.user.country.code
    for tag, _ in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        region = tag.partition("-")[2].upper()
        if region in countries:
            return region
    return ""


def help_now(request):
    """"Need help now?": for anyone, signed in or not, linked from every page."""
    country = visitors_country(request)
    return render(request, "escalation/help.html", {
        "country": country,
        "country_name": dict(countries).get(country, ""),
        "countries": list(countries),
        "lines": hotlines_for(country),
        "emergency": emergency_numbers(country),
    })


@login_required
def console(request):
    if not request.user.is_facilitator:
        raise PermissionDenied("The console is for facilitators.")
    return render(request, "escalation/console.html", {
        "me": {"id": request.user.pk, "name": request.user.username},
        "audit_actions": AUDIT_ACTIONS,
    })

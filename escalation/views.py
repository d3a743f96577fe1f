from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

AUDIT_ACTIONS = ["hide", "restore", "timeout", "kick", "ban_room", "ban_service", "lift_timeout", "lift_ban",
                 "lock", "unlock", "slow_mode", "pin", "unpin", "report", "close_report", "hold"]


@login_required
def console(request):
    if not request.user.is_facilitator:
        raise PermissionDenied("The console is for facilitators.")
    return render(request, "escalation/console.html", {
        "me": {"id": request.user.pk, "name": request.user.username},
        "audit_actions": AUDIT_ACTIONS,
    })

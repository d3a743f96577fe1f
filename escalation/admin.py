from django.contrib import admin, messages

from . import screening
from .models import Alert, AlertEvent, FacilitatorDuty, Hotline, ScreeningWorker


def warn_if_second_reader_offline(request) -> None:
    status = screening.status()
    if not status["online"]:
        seen = f" Last seen {status['last_seen_at']}." if status["last_seen_at"] else " No worker has ever run."
        refused = f" It refused to start: {status['refused']}" if status["refused"] else ""
        messages.warning(request, "The second reader is offline: only the lexicon is reading messages "
                                  f"(start `python manage.py escalation_screen`).{seen}{refused}")


@admin.register(Hotline)
class HotlineAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "phone", "sms", "sms_body", "is_primary", "position")
    list_filter = ("country", "is_primary")
    search_fields = ("name", "description")


@admin.register(FacilitatorDuty)
class FacilitatorDutyAdmin(admin.ModelAdmin):
    list_display = ("user", "on_duty", "last_seen_at", "topics")
    list_filter = ("on_duty",)


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "kind", "actor", "detail")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("pk", "level", "source", "status", "room", "subject", "assignee", "created_at", "notify_count")
    list_filter = ("status", "level", "source", "widened")
    readonly_fields = [f.name for f in Alert._meta.fields]
    inlines = [AlertEventInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the safety record is kept

    def changelist_view(self, request, extra_context=None):
        warn_if_second_reader_offline(request)
        return super().changelist_view(request, extra_context)


@admin.register(ScreeningWorker)
class ScreeningWorkerAdmin(admin.ModelAdmin):
    list_display = ("id", "seen_at", "read_count", "refused")
    readonly_fields = ("id", "seen_at", "read_count", "refused")

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        warn_if_second_reader_offline(request)
        return super().changelist_view(request, extra_context)

from django.contrib import admin

from .models import Alert, AlertEvent, FacilitatorDuty, Hotline


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

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import AuditEntry, Membership, Message, Report, Room, Sanction, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, ("Peer support", {"fields": ("country",)}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("Peer support", {"fields": ("country",)}))
    list_display = ("username", "country", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_active", "groups", "country")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "topic", "slug", "is_private", "hold_imminent", "position", "last_seq")
    list_filter = ("topic", "is_private")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "topic", "description")
    inlines = [MembershipInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("room", "seq", "author", "author_role", "created_at", "short_body")
    list_filter = ("room", "author_role")
    search_fields = ("body", "author__username")
    raw_id_fields = ("author",)
    readonly_fields = ("room", "seq", "author", "author_role", "client_id", "created_at")

    @admin.display(description="body")
    def short_body(self, message):
        return message.body[:80]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor", "target", "room", "reason")
    list_filter = ("action", "room", "created_at")
    search_fields = ("actor__username", "target__username", "reason")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record is append-only


@admin.register(Sanction)
class SanctionAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "room", "until", "created_by", "created_at", "lifted_at")
    list_filter = ("kind", "room")
    search_fields = ("user__username", "reason")
    raw_id_fields = ("user", "created_by", "lifted_by")


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "reason", "reporter", "message", "closed_at")
    list_filter = ("reason", "closed_at")
    raw_id_fields = ("message", "reporter", "closed_by")

from django.urls import path

from . import views

urlpatterns = [
    path("", views.lobby, name="lobby"),
    path("signup/", views.signup, name="signup"),
    path("account/", views.account, name="account"),
    path("privacy/", views.privacy_notice, name="privacy"),
    path("account/export/", views.account_export, name="account_export"),
    path("rooms/<slug:slug>/", views.room, name="room"),
]

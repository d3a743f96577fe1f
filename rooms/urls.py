from django.urls import path

from . import views

urlpatterns = [
    path("", views.lobby, name="lobby"),
    path("signup/", views.signup, name="signup"),
    path("rooms/<slug:slug>/", views.room, name="room"),
]

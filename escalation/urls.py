from django.urls import path

from . import views

urlpatterns = [
    path("console/", views.console, name="console"),
    path("help/", views.help_now, name="help"),
]

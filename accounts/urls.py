from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("invitation/<token:token>/", views.accept_invitation, name="accept-invitation"),
    path("preferences/", views.preferences, name="preferences"),
    path("access-log/", views.access_log, name="access-log"),
    path("confirm/school-sign-in/", views.reauthenticate_with_provider, name="reauthenticate-with-provider"),
]

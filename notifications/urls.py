from django.contrib.auth.decorators import login_not_required
from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    # The demo mailbox is public in DEBUG so a new student can read their invitation; 404 otherwise.
    path("dev/mailbox/", login_not_required(views.mailbox), name="mailbox"),
    path("dev/mailbox/<token:key>/", login_not_required(views.mailbox_message), name="mailbox-message"),
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read/", views.mark_read, name="mark-read"),
    path("notifications/<int:pk>/open/", views.notification_open, name="open"),
    path("notifications/preferences/", views.preferences, name="preferences"),
]

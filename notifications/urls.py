from django.contrib.auth.decorators import login_not_required
from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    # The demo mailbox is public in DEBUG so a new student can read their invitation.
    path("mailbox/", login_not_required(views.mailbox), name="mailbox"),
    path("mailbox/<str:key>/", login_not_required(views.mailbox_message), name="mailbox-message"),
]

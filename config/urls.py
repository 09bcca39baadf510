from django.contrib import admin
from django.urls import include, path

import config.admin  # noqa: F401  (locks the admin down before its URLs are built)
from curriculum import views as curriculum_views

urlpatterns = [
    path("", curriculum_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("me/", include("accounts.urls")),
    path("", include("curriculum.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The demo mailbox answers 404 unless DEBUG is on (notifications/permissions.py).
    path("dev/", include("notifications.urls")),
]

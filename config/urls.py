from allauth.account import views as allauth_views
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

import config.admin  # locks the admin down before its URLs are built
import config.converters  # noqa: F401  (registers the converters the apps' URLs use)
from accounts import views as account_views
from accounts.decorators import presence_required
from config import health
from curriculum.views import coursework as curriculum_views

urlpatterns = [
    path("", curriculum_views.home, name="home"),
    path("admin/", admin.site.urls),
    # Public, for a load balancer: is the database and Redis reachable from this process?
    path("healthz", health.healthz, name="healthz"),
    # Someone without a password (signed in through the school, or by emailed code) may set one: a new
    # way in, so they confirm they are at the device first, at the school's provider when linked to it.
    path("accounts/password/set/", presence_required(allauth_views.password_set), name="account_set_password"),
    path("accounts/3rdparty/", account_views.not_offered, name="socialaccount_connections"),
    path("accounts/3rdparty/signup/", account_views.not_offered, name="socialaccount_signup"),
    path("accounts/", include("allauth.urls")),
    path("me/", include("accounts.urls")),
    path("", include("curriculum.urls")),
    path("", include("externships.urls")),
    path("", include("certifications.urls")),
    # Public: a visitor on the sign-in page may switch language before signing in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # The notification centre; and the demo mailbox, which answers 404 unless DEBUG is on.
    path("", include("notifications.urls")),
]

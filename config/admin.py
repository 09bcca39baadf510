"""Django admin for superusers only, signed in through allauth and with two-factor turned on."""

from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def superuser_with_two_factor(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser and is_mfa_enabled(user))


admin.site.has_permission = superuser_with_two_factor  # type: ignore[method-assign]
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = _("Checkoff administration")

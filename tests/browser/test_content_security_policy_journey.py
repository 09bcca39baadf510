"""The Content-Security-Policy in Chromium: a visitor switches language and opens the menus, and an
administrator with two-factor sign-in opens the admin; the browser reports no violation and no console
error anywhere (an inline script, handler or style refused by the policy would show here). Every page
of the demo, as each of its people, is walked the same way in test_accessibility_crawl.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal import auth as totp
from allauth.mfa.utils import encrypt
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, Watched

pytestmark = pytest.mark.browser


def test_a_visitor_switches_language_and_the_menus_open_without_a_policy_violation(
    live_server: Any, watched: Callable[..., Watched], db: Any
) -> None:
    visitor = watched(**PHONE)
    visitor.visit(reverse("account_login"))
    # Choosing a language changes nothing until the button is pressed (WCAG 3.2.2: no change of context
    # on input); then the page comes back in Spanish.
    visitor.page.get_by_label("Language").select_option("es")
    expect(visitor.page.locator("html")).to_have_attribute("lang", "en")
    visitor.page.get_by_role("button", name="Change").click()
    expect(visitor.page.locator("html")).to_have_attribute("lang", "es")
    assert visitor.problems == []


def test_an_administrator_opens_the_admin_without_a_policy_violation(
    live_server: Any, watched: Callable[..., Watched], db: Any
) -> None:
    root = factories.UserFactory.create(email="root@school.test", is_staff=True, is_superuser=True)
    secret = totp.generate_totp_secret()
    Authenticator.objects.create(user=root, type=Authenticator.Type.TOTP, data={"secret": encrypt(secret)})
    program = factories.ProgramFactory.create()
    administrator = watched(**DESKTOP)
    # The admin's own sign-in is allauth's, with the second step.
    administrator.visit(reverse("admin:login"))
    administrator.page.get_by_label("Email").fill(root.email)
    administrator.page.get_by_label("Password").fill(factories.PASSWORD)
    administrator.page.get_by_role("button", name="Sign in").click()
    code = totp.format_hotp_value(totp.hotp_value(secret, next(totp.yield_hotp_counters_from_time())))
    administrator.page.get_by_label("Code").fill(code)
    administrator.page.get_by_role("button", name="Sign in").click()
    expect(administrator.page).to_have_url(re.compile(reverse("admin:index") + "$"))
    for url in (
        reverse("admin:index"),
        reverse("admin:curriculum_program_changelist"),
        reverse("admin:curriculum_program_change", args=[program.pk]),
        reverse("admin:accounts_user_change", args=[root.pk]),
    ):
        administrator.visit(url)
        expect(administrator.page.locator("#content")).to_be_visible()
    assert administrator.problems == []

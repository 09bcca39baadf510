"""Sign-in, invitations, two-factor rules and the admin site."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core import mail
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts import services, tokens
from accounts.emails import INVITATION
from accounts.models import Invitation, User
from notifications import services as outbox
from notifications.models import Message, Notification
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def invite(person: User) -> Invitation:
    return services.invite_users(users=[person], invited_by=None)[0]


def invitation_path(invitation: Invitation) -> str:
    return reverse("accounts:accept-invitation", args=[tokens.make_token(invitation.pk)])


@pytest.fixture
def newcomer(db):
    return User.objects.create_user("newcomer@school.test", first_name="Nia", last_name="Cole")


class TestSignIn:
    def test_a_person_signs_in_with_email_and_password(self, client, alice):
        response = client.post(reverse("account_login"), {"login": alice.email.upper(), "password": factories.PASSWORD})
        assert response.status_code == 302
        assert response.url == reverse("home")

    def test_a_wrong_password_is_refused(self, client, alice):
        response = client.post(reverse("account_login"), {"login": alice.email, "password": "not it at all"})
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session

    def test_repeated_failures_lock_the_account_out_even_for_the_right_password(self, client, alice):
        for _ in range(5):
            client.post(reverse("account_login"), {"login": alice.email, "password": "guessing wrong"})
        response = client.post(reverse("account_login"), {"login": alice.email, "password": factories.PASSWORD})
        assert "_auth_user_id" not in client.session
        assert "Too many failed login attempts" in response.content.decode()

    def test_sign_up_is_closed(self, client, db):
        response = client.post(
            reverse("account_signup"), {"email": "walk-in@school.test", "password1": "x" * 12, "password2": "x" * 12}
        )
        assert not User.objects.filter(email="walk-in@school.test").exists()
        assert response.status_code == 200

    def test_the_login_page_is_public_and_everything_else_is_not(self, client, db):
        assert client.get(reverse("account_login")).status_code == 200
        assert client.get(reverse("curriculum:program-list")).status_code == 302

    def test_a_password_reset_email_is_sent(self, client, alice, mailoutbox):
        client.post(reverse("account_reset_password"), {"email": alice.email})
        assert [message.to for message in mailoutbox] == [[alice.email]]


class TestInvitations:
    def test_an_invitation_is_emailed_after_commit_in_the_persons_language(
        self, newcomer, django_capture_on_commit_callbacks
    ):
        newcomer.preferred_language = "es"
        newcomer.save()
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invite(newcomer)
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == [newcomer.email]
        assert invitation_path(invitation).split("/invitation/")[0] in message.body
        assert getattr(message, "alternatives", None)  # text and HTML
        assert "contraseña" in message.body
        sent = Message.objects.get(kind=INVITATION, context__invitation_id=invitation.pk)
        assert (sent.state, sent.channel) == (Message.State.SENT, "email")
        assert not Notification.objects.filter(recipient=newcomer).exists()  # not in the app: no way in yet

    def test_sending_twice_sends_once(self, newcomer):
        invite(newcomer)
        outbox.send_due()
        outbox.send_due()
        assert len(mail.outbox) == 1

    def test_a_failed_send_is_tried_again_later(self, newcomer):
        invite(newcomer)
        failing = mock.patch(
            "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("mail server down")
        )
        with failing:
            outbox.send_due()
        sent = Message.objects.get(kind=INVITATION)
        assert (sent.state, sent.attempts, sent.last_error) == (Message.State.PENDING, 1, "OSError: mail server down")
        Message.objects.filter(pk=sent.pk).update(next_attempt_at=sent.created_at)  # its wait is over
        outbox.send_due()
        assert len(mail.outbox) == 1

    def test_an_invitation_accepted_before_its_email_left_is_not_sent(self, client, newcomer):
        invitation = invite(newcomer)
        services.accept_invitation(invitation=invitation, password="a long new passphrase")
        outbox.send_due()
        assert mail.outbox == []
        sent = Message.objects.get(kind=INVITATION)
        assert (sent.state, sent.last_error) == (
            Message.State.CANCELLED,
            "the invitation was accepted before it was sent",
        )

    def test_accepting_sets_the_password_verifies_the_email_and_signs_in(self, client, newcomer):
        invitation = invite(newcomer)
        password = "a long new passphrase"
        response = client.post(invitation_path(invitation), {"password1": password, "password2": password})
        assert response.status_code == 302
        newcomer.refresh_from_db()
        assert newcomer.check_password(password)
        assert EmailAddress.objects.get(user=newcomer).verified
        assert client.session["_auth_user_id"] == str(newcomer.pk)

    def test_a_used_invitation_cannot_be_used_again(self, client, newcomer):
        invitation = invite(newcomer)
        client.post(
            invitation_path(invitation), {"password1": "a long new passphrase", "password2": "a long new passphrase"}
        )
        client.logout()
        response = client.post(
            invitation_path(invitation), {"password1": "another passphrase!", "password2": "another passphrase!"}
        )
        assert response.status_code == 410
        newcomer.refresh_from_db()
        assert newcomer.check_password("a long new passphrase")

    def test_a_forged_token_is_404(self, client, newcomer):
        invite(newcomer)
        assert client.get(reverse("accounts:accept-invitation", args=["forged:token"])).status_code == 404

    def test_an_expired_invitation_is_404(self, client, newcomer):
        invitation = invite(newcomer)
        token = tokens.make_token(invitation.pk)
        later = time.time() + settings.INVITATION_VALID_DAYS * 24 * 3600 + 60
        with mock.patch("django.core.signing.time.time", return_value=later):
            assert client.get(reverse("accounts:accept-invitation", args=[token])).status_code == 404

    def test_mismatched_or_weak_passwords_say_why_and_change_nothing(self, client, newcomer):
        invitation = invite(newcomer)
        response = client.post(
            invitation_path(invitation), {"password1": "a long new passphrase", "password2": "different"}
        )
        assert "password2" in response.context["form"].errors
        response = client.post(invitation_path(invitation), {"password1": "12345", "password2": "12345"})
        assert "password2" in response.context["form"].errors
        newcomer.refresh_from_db()
        assert not newcomer.has_usable_password()

    def test_the_invitation_page_rejects_put(self, client, newcomer):
        assert client.put(invitation_path(invite(newcomer))).status_code == 405


class TestPreferences:
    def test_a_person_chooses_spanish_and_pages_follow(self, client, alice):
        client.force_login(alice)
        response = client.post(
            reverse("accounts:preferences"),
            {"first_name": "Alicia", "last_name": alice.last_name, "preferred_language": "es"},
        )
        assert response.status_code == 302
        alice.refresh_from_db()
        assert (alice.first_name, alice.preferred_language) == ("Alicia", "es")
        home = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
        assert home.headers["Content-Language"] == "es"
        assert '<html lang="es">' in home.content.decode()

    def test_an_unknown_language_is_refused_on_its_field(self, client, alice):
        client.force_login(alice)
        response = client.post(
            reverse("accounts:preferences"), {"first_name": "A", "last_name": "B", "preferred_language": "xx"}
        )
        assert "preferred_language" in response.context["form"].errors

    def test_preferences_reject_delete(self, client, alice):
        client.force_login(alice)
        assert client.delete(reverse("accounts:preferences")).status_code == 405


def add_totp(user: User) -> None:
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "not-used-in-this-test"})


class TestTwoFactorRule:
    def test_staff_without_an_authenticator_are_sent_to_set_one_up(self, client, irene, program):
        program.require_staff_two_factor = True
        program.save()
        client.force_login(irene)
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response.url == reverse("mfa_activate_totp")

    def test_staff_with_an_authenticator_go_on(self, client, irene, program):
        program.require_staff_two_factor = True
        program.save()
        add_totp(irene)
        client.force_login(irene)
        assert client.get(reverse("home")).status_code == 200

    def test_students_are_not_asked(self, client, alice, program):
        program.require_staff_two_factor = True
        program.save()
        client.force_login(alice)
        assert client.get(reverse("home")).status_code == 200

    def test_without_the_rule_staff_go_on(self, client, irene):
        client.force_login(irene)
        assert client.get(reverse("home")).status_code == 200


class TestAdminSite:
    def test_anonymous_visitors_are_sent_to_the_sign_in_page(self, client, db):
        response = client.get("/admin/", follow=True)
        assert response.redirect_chain[-1][0].startswith(reverse("account_login"))

    def test_program_staff_are_not_admins(self, client, dana):
        client.force_login(dana)
        response = client.get("/admin/", follow=True)
        assert response.status_code in (403, 200)
        assert "Site administration" not in response.content.decode()

    def test_a_superuser_needs_two_factor(self, client, db):
        root = User.objects.create_superuser("root@school.test", "a long admin passphrase")
        client.force_login(root)
        assert "Site administration" not in client.get("/admin/", follow=True).content.decode()
        add_totp(root)
        assert "Site administration" in client.get("/admin/").content.decode()


class TestDemoMailbox:
    def test_in_debug_it_lists_the_mail_sent(self, client, settings, newcomer):
        settings.DEBUG = True
        settings.EMAIL_BACKEND = "notifications.mail.DemoMailboxBackend"
        invite(newcomer)
        outbox.send_due()
        page = client.get(reverse("notifications:mailbox")).content.decode()
        assert "newcomer@school.test" in page

    def test_without_debug_it_is_404(self, client, settings, db):
        settings.DEBUG = False
        assert client.get(reverse("notifications:mailbox")).status_code == 404

    def test_it_rejects_post(self, client, settings, db):
        settings.DEBUG = True
        assert client.post(reverse("notifications:mailbox")).status_code == 405


def test_a_visitor_may_switch_language_before_signing_in(client, db):
    response = client.post(reverse("set_language"), {"language": "es", "next": reverse("account_login")})
    assert response.status_code == 302
    assert response.url == reverse("account_login")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"


def test_staff_turn_on_two_factor_and_then_sign_in_needs_the_code(client, irene):
    from allauth.mfa.totp.internal import auth as totp

    client.post(reverse("account_login"), {"login": irene.email, "password": factories.PASSWORD})
    # allauth asks for the password again, even right after signing in, before showing a secret.
    client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    code = totp.format_hotp_value(totp.hotp_value(secret, next(totp.yield_hotp_counters_from_time())))
    assert client.post(reverse("mfa_activate_totp"), {"code": code}).status_code == 302
    assert Authenticator.objects.filter(user=irene, type=Authenticator.Type.TOTP).exists()

    client.logout()
    response = client.post(reverse("account_login"), {"login": irene.email, "password": factories.PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session


def test_two_factor_setup_asks_for_the_password_again(client, irene):
    client.force_login(irene)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.url.startswith(reverse("account_reauthenticate"))


def test_signing_in_works_while_redis_is_unreachable(client, alice, settings):
    settings.CACHES = {"default": {"BACKEND": "config.cache.TolerantRedisCache", "LOCATION": "redis://127.0.0.1:9/0"}}
    assert client.get(reverse("account_login")).status_code == 200
    response = client.post(reverse("account_login"), {"login": alice.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_off():
    environment = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    environment.update(
        {"DEBUG": "0", "DATABASE_URL": "postgresql://x@127.0.0.1:9/x", "REDIS_URL": "redis://127.0.0.1:9/0"}
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_the_footer_links_the_demo_mailbox_only_in_debug(client, settings, db):
    settings.DEBUG = True
    assert reverse("notifications:mailbox") in client.get(reverse("account_login")).content.decode()
    settings.DEBUG = False
    assert reverse("notifications:mailbox") not in client.get(reverse("account_login")).content.decode()


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_any_text_as_an_invitation_token_names_no_invitation(text):
    # Whatever a link was mangled into, reading it answers "no invitation", never an exception.
    assert tokens.read_token(text) is None

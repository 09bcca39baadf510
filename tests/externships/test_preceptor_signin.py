"""A preceptor has no password: they ask for a code by email, type it in, and are signed in.

The real allauth views and the test mail outbox; nothing of ours is mocked."""

from __future__ import annotations

import re

from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from externships.services import sites as services

CODE = re.compile(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", re.MULTILINE)


def request_code(client, email: str):
    return client.post(reverse("account_request_login_code"), {"email": email})


def code_from(message) -> str:
    match = CODE.search(message.body)
    assert match, f"no code in: {message.body}"
    return match.group(1)


def signed_in_as(client) -> str | None:
    return client.session.get("_auth_user_id")


class TestCodeSignIn:
    def test_a_preceptor_without_a_password_signs_in_with_an_emailed_code(self, client, paula):
        assert not paula.has_usable_password()
        response = request_code(client, paula.email)
        assert response.status_code == 302
        assert response.url == reverse("account_confirm_login_code")
        (message,) = mail.outbox
        assert message.to == [paula.email]
        assert message.subject == "[Checkoff] Your sign-in code"
        response = client.post(reverse("account_confirm_login_code"), {"code": code_from(message)})
        assert response.status_code == 302
        assert response.url == reverse("home")
        assert signed_in_as(client) == str(paula.pk)

    def test_the_code_may_be_typed_in_lower_case(self, client, paula):
        request_code(client, paula.email.upper())
        client.post(reverse("account_confirm_login_code"), {"code": code_from(mail.outbox[0]).lower()})
        assert signed_in_as(client) == str(paula.pk)

    def test_a_wrong_code_is_refused(self, client, paula):
        request_code(client, paula.email)
        response = client.post(reverse("account_confirm_login_code"), {"code": "AAAA-AAAA"})
        assert response.status_code == 200
        assert "code" in response.context["form"].errors
        assert signed_in_as(client) is None

    def test_after_three_wrong_codes_the_right_one_no_longer_works(self, client, paula):
        request_code(client, paula.email)
        code = code_from(mail.outbox[0])
        for _ in range(3):
            response = client.post(reverse("account_confirm_login_code"), {"code": "AAAA-AAAA"})
        assert response.status_code == 302
        client.post(reverse("account_confirm_login_code"), {"code": code})
        assert signed_in_as(client) is None

    def test_a_pending_request_is_not_sent_again_by_asking_again(self, client, paula):
        request_code(client, paula.email)
        response = request_code(client, paula.email)
        assert response.url == reverse("account_confirm_login_code")
        assert len(mail.outbox) == 1

    def test_codes_for_one_address_are_rate_limited_across_browsers(self, paula):
        """allauth's request_login_code limit (3 a minute per address): nobody floods a preceptor's inbox."""
        for _ in range(3):
            request_code(Client(), paula.email)
        response = request_code(Client(), paula.email)
        assert response.status_code == 200
        assert "email" in response.context["form"].errors
        assert len(mail.outbox) == 3

    def test_an_unknown_address_signs_nobody_in_and_learns_nothing(self, client, db):
        response = request_code(client, "nobody@clinic.test")
        assert response.status_code == 302  # the same answer as for a known address
        assert CODE.search(mail.outbox[0].body) is None
        assert signed_in_as(client) is None

    def test_the_code_email_speaks_the_persons_language_not_the_pages(self, client, paula):
        paula.preferred_language = "es"
        paula.save(update_fields=["preferred_language"])
        request_code(client, paula.email)  # the page is in English
        (message,) = mail.outbox
        assert message.subject == "[Checkoff] Su código de inicio de sesión"
        code_from(message)

    def test_the_code_email_is_ours_in_text_and_html(self, client, paula):
        request_code(client, paula.email)
        (message,) = mail.outbox
        code = code_from(message)
        assert "Here is your Checkoff sign-in code" in message.body
        assert "Hello from" not in message.body  # allauth's greeting names the host, not us
        html, kind = message.alternatives[0]
        assert kind == "text/html"
        assert code in html


class TestPages:
    def test_the_sign_in_page_offers_preceptors_an_emailed_code(self, client, db):
        page = client.get(reverse("account_login")).content.decode()
        assert "Email me a sign-in code" in page
        assert f'href="{reverse("account_request_login_code")}"' in page
        assert reverse("account_signup") not in page  # there is no open sign-up

    def test_the_code_pages_use_our_layout(self, client, paula):
        page = client.get(reverse("account_request_login_code")).content.decode()
        assert "Skip to content" in page and "Email me a sign-in code" in page
        assert 'class="btn btn-primary"' in page
        request_code(client, paula.email)
        page = client.get(reverse("account_confirm_login_code")).content.decode()
        assert "Skip to content" in page
        assert f"We emailed a code to {paula.email}" in page
        assert 'autocomplete="one-time-code"' in page

    def test_the_code_page_without_a_pending_request_sends_back_to_asking(self, client, db):
        response = client.get(reverse("account_confirm_login_code"))
        assert response.status_code == 302
        assert response.url == reverse("account_request_login_code")


class TestWelcome:
    def test_a_new_preceptor_is_welcomed_in_their_language_and_signs_in_from_it(
        self, client, site, carlos, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            preceptor = services.add_preceptor(
                site=site,
                email="rosa@clinic.test",
                first_name="Rosa",
                last_name="Díaz",
                title="",
                phone="",
                added_by=carlos,
            )
        preceptor.user.preferred_language = "es"
        preceptor.user.save(update_fields=["preferred_language"])
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.resend_welcome(preceptor=preceptor)
        (welcome,) = mail.outbox
        link = settings.SITE_URL + reverse("account_request_login_code")
        assert welcome.to == ["rosa@clinic.test"]
        assert link in welcome.body
        html, _kind = welcome.alternatives[0]
        assert '<html lang="es">' in html
        assert f'href="{link}"' in html

        page = client.get(reverse("account_request_login_code")).content.decode()
        assert "Email me a sign-in code" in page
        request_code(client, "rosa@clinic.test")
        client.post(reverse("account_confirm_login_code"), {"code": code_from(mail.outbox[-1])})
        assert signed_in_as(client) == str(preceptor.user_id)

    def test_the_welcome_goes_in_english_by_default(self, paula, django_capture_on_commit_callbacks):
        preceptor = paula.preceptorships.get()
        with django_capture_on_commit_callbacks(execute=True):
            services.resend_welcome(preceptor=preceptor)
        (welcome,) = mail.outbox
        assert welcome.subject == f"You are a preceptor at {preceptor.site.name} on Checkoff"
        assert '<html lang="en">' in welcome.alternatives[0][0]
        assert "You do not need a password" in welcome.body

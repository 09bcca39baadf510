"""Single sign-on's rules without a provider round trip: configuration from the environment, matching a
person to their account, the staff sign-in policy, re-authentication through the school and the pages.

The round trips through real identity providers are in tests/browser/test_single_sign_on_journey.py.
"""

from __future__ import annotations

import base64
import tempfile
import time
import zlib
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from allauth.account.models import EmailAddress
from allauth.core import context
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.test import RequestFactory
from django.urls import reverse

from accounts import services, single_sign_on
from accounts.models import Invitation, User
from config.single_sign_on import environment_problems, providers_from_environment
from curriculum import services as curriculum_services
from curriculum.models import ChecklistStep
from tests import factories
from tests.sso.saml_idp import make_key_and_certificate

IDP_SSO_URL = "https://idp.school.test/sso"
HOST = {"HTTP_HOST": "localhost"}  # a real request names its host; the SAML library reads it


def self_signed_certificate() -> str:
    with tempfile.TemporaryDirectory() as directory:
        _, certificate = make_key_and_certificate(Path(directory))
        return certificate.read_text()


CERTIFICATE = self_signed_certificate()
OIDC_ENVIRONMENT = {
    "SSO_OIDC_NAME": "Northside College",
    "SSO_OIDC_SERVER_URL": "https://login.school.test/tenant/v2.0",
    "SSO_OIDC_CLIENT_ID": "checkoff",
    "SSO_OIDC_CLIENT_SECRET": "s3cret",
}
SAML_ENVIRONMENT = {
    "SSO_SAML_NAME": "Northside SAML",
    "SSO_SAML_ENTITY_ID": "https://idp.school.test/metadata",
    "SSO_SAML_SSO_URL": IDP_SSO_URL,
    "SSO_SAML_CERTIFICATE": CERTIFICATE,
}


@pytest.fixture
def saml_school(settings):
    """The school's SAML identity provider, configured from the environment; nothing is fetched."""
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment(SAML_ENVIRONMENT)


@pytest.fixture
def both_providers(settings):
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment({**OIDC_ENVIRONMENT, **SAML_ENVIRONMENT})


def social_login(email: str, *, verified: bool = True, uid: str = "subject-1") -> SocialLogin:
    """What allauth builds from the SAML provider's answer before our adapter sees it."""
    account = SocialAccount(provider="saml", uid=uid, extra_data={})
    addresses = [EmailAddress(email=email, verified=verified, primary=True)] if email else []
    provider = account.get_provider(RequestFactory().get("/"))
    login = SocialLogin(user=User(email=email), account=account, email_addresses=addresses, provider=provider)
    login.lookup()
    return login


def sign_in(login: SocialLogin, invitation_id: int | None = None) -> User:
    request = RequestFactory().get("/")
    request.session = {}  # type: ignore[assignment]
    with context.request_context(request):
        return services.sign_in_through_provider(request=request, sociallogin=login, invitation_id=invitation_id)


def link(user: User, uid: str = "subject-1") -> SocialAccount:
    return SocialAccount.objects.create(user=user, provider="saml", uid=uid, extra_data={})


class TestConfigurationFromTheEnvironment:
    def test_nothing_set_means_no_provider(self):
        assert providers_from_environment({}) == {}
        assert environment_problems({}) == []

    def test_an_openid_connect_provider_takes_the_issuer_and_client(self):
        app = providers_from_environment(OIDC_ENVIRONMENT)["openid_connect"]["APPS"][0]
        assert app["provider_id"] == "school"
        assert app["client_id"] == "checkoff"
        assert app["secret"] == "s3cret"
        assert app["settings"]["server_url"] == "https://login.school.test/tenant/v2.0"
        assert "verified_email" not in app["settings"]

    def test_trusted_domains_vouch_for_addresses_a_provider_does_not_mark_verified(self):
        environment = {**OIDC_ENVIRONMENT, "SSO_OIDC_TRUSTED_EMAIL_DOMAINS": "School.test, staff.school.test"}
        app = providers_from_environment(environment)["openid_connect"]["APPS"][0]
        assert app["settings"]["verified_email"] == ["school.test", "staff.school.test"]

    def test_a_saml_provider_takes_its_certificate_as_one_line(self):
        app = providers_from_environment(SAML_ENVIRONMENT)["saml"]["APPS"][0]
        idp = app["settings"]["idp"]
        assert idp["sso_url"] == IDP_SSO_URL
        assert "-----" not in idp["x509cert"] and "\n" not in idp["x509cert"]
        assert app["settings"]["advanced"]["reject_idp_initiated_sso"] is True

    def test_a_saml_provider_may_come_from_its_metadata(self):
        environment = {"SSO_SAML_ENTITY_ID": "https://idp/e", "SSO_SAML_METADATA_URL": "https://idp/metadata"}
        idp = providers_from_environment(environment)["saml"]["APPS"][0]["settings"]["idp"]
        assert idp == {"entity_id": "https://idp/e", "metadata_url": "https://idp/metadata"}

    def test_a_custom_email_attribute_is_tried_first(self):
        environment = {**SAML_ENVIRONMENT, "SSO_SAML_EMAIL_ATTRIBUTE": "schoolMail"}
        mapping = providers_from_environment(environment)["saml"]["APPS"][0]["settings"]["attribute_mapping"]
        assert mapping["email"][0] == "schoolMail"

    @pytest.mark.parametrize(
        ("environment", "named"),
        [
            ({"SSO_OIDC_SERVER_URL": "https://login.school.test"}, "SSO_OIDC_CLIENT_SECRET"),
            ({**OIDC_ENVIRONMENT, "SSO_OIDC_SERVER_URL": "login.school.test"}, "https://"),
            ({"SSO_SAML_METADATA_URL": "https://idp/metadata"}, "SSO_SAML_ENTITY_ID"),
            ({"SSO_SAML_ENTITY_ID": "https://idp/e"}, "SSO_SAML_CERTIFICATE"),
            ({"STAFF_SIGN_IN": "always"}, "STAFF_SIGN_IN"),
        ],
    )
    def test_an_incomplete_setting_is_named_at_start(self, environment, named):
        problems = environment_problems(environment)
        assert len(problems) == 1
        assert named in problems[0]


@pytest.mark.usefixtures("saml_school")
class TestMatchingAPersonToTheirAccount:
    def test_an_invited_student_is_linked_by_the_address_the_provider_vouches_for(self, alice):
        Invitation.objects.create(user=alice)
        assert sign_in(social_login(alice.email.upper())) == alice
        account = SocialAccount.objects.get(user=alice)
        assert (account.provider, account.uid) == ("saml", "subject-1")
        assert EmailAddress.objects.get(user=alice, email=alice.email).verified
        assert Invitation.objects.get(user=alice).accepted_at is not None

    def test_a_linked_person_is_found_by_the_providers_id_even_after_their_address_changed(self, irene):
        link(irene)
        assert sign_in(social_login("irene.new@school.test")) == irene
        assert SocialAccount.objects.count() == 1

    def test_an_unknown_address_is_refused_and_nothing_is_written(self, alice):
        with pytest.raises(services.SignInRefused) as refusal:
            sign_in(social_login("stranger@school.test"))
        assert "No Checkoff account uses stranger@school.test" in refusal.value.message
        assert "ask your program director or coordinator" in refusal.value.message
        assert not User.objects.filter(email="stranger@school.test").exists()
        assert not SocialAccount.objects.exists()

    def test_an_address_the_provider_has_not_confirmed_is_refused(self, alice):
        with pytest.raises(services.SignInRefused) as refusal:
            sign_in(social_login(alice.email, verified=False))
        assert "has not confirmed that" in refusal.value.message
        assert not SocialAccount.objects.exists()

    def test_no_address_at_all_is_refused(self, db):
        with pytest.raises(services.SignInRefused, match="no email address released"):
            sign_in(social_login(""))

    def test_a_closed_account_is_refused(self, alice):
        alice.is_active = False
        alice.save()
        with pytest.raises(services.SignInRefused, match="inactive"):
            sign_in(social_login(alice.email))
        assert not SocialAccount.objects.exists()

    def test_an_invitation_must_come_back_as_the_person_invited(self, alice, bob):
        invitation = Invitation.objects.create(user=alice)
        with pytest.raises(services.SignInRefused) as refusal:
            sign_in(social_login(bob.email), invitation_id=invitation.pk)
        assert alice.email in refusal.value.message and bob.email in refusal.value.message
        assert Invitation.objects.get(pk=invitation.pk).accepted_at is None
        assert not SocialAccount.objects.exists()

    def test_a_preceptor_may_sign_in_through_the_school_too(self, paula):
        assert sign_in(social_login(paula.email)) == paula


class TestTheSignInPage:
    def test_without_a_provider_it_shows_email_sign_in_only(self, client, db):
        page = client.get(reverse("account_login")).content.decode()
        assert "Sign in with" not in page

    def test_the_schools_providers_come_first_then_email(self, client, db, both_providers):
        page = client.get(reverse("account_login")).content.decode()
        oidc, saml = page.index("Sign in with Northside College"), page.index("Sign in with Northside SAML")
        assert oidc < saml < page.index("Or sign in with your email address") < page.index('name="password"')
        assert reverse("openid_connect_login", kwargs={"provider_id": "school"}) in page
        assert reverse("saml_login", kwargs={"organization_slug": "school"}) in page

    def test_a_provider_without_a_name_is_the_schools_account(self, client, db, settings):
        settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment({**SAML_ENVIRONMENT, "SSO_SAML_NAME": ""})
        assert "Sign in with your school&#x27;s account" in client.get(reverse("account_login")).content.decode()

    def test_its_forms_may_go_on_to_the_providers_and_nowhere_else(self, client, db, both_providers):
        policy = client.get(reverse("account_login")).headers["Content-Security-Policy"]
        form_action = next(part for part in policy.split(";") if "form-action" in part).split()
        assert sorted(form_action[1:]) == ["'self'", "https://idp.school.test", "https://login.school.test"]

    def test_other_pages_keep_their_forms_at_home(self, client, alice, both_providers):
        client.force_login(alice)
        policy = client.get(reverse("accounts:preferences")).headers["Content-Security-Policy"]
        assert "form-action 'self';" in policy + ";"

    def test_it_is_in_spanish(self, client, db, both_providers):
        client.cookies["django_language"] = "es"
        page = client.get(reverse("account_login")).content.decode()
        assert "Entrar con Northside College" in page


@pytest.mark.usefixtures("saml_school")
class TestAnInvitationCompletedThroughTheSchool:
    def test_the_invitation_offers_the_schools_sign_in(self, client, alice):
        invitation = Invitation.objects.create(user=alice)
        page = client.get(invitation_path(invitation)).content.decode()
        assert "Sign in with Northside SAML" in page
        assert "Or choose a password" in page

    def test_choosing_it_goes_to_the_provider_remembering_the_invitation(self, client, alice):
        invitation = Invitation.objects.create(user=alice)
        response = client.post(invitation_path(invitation), {"provider": "saml"}, **HOST)
        assert response.status_code == 302
        assert response.url.startswith(IDP_SSO_URL + "?SAMLRequest=")
        assert client.session[single_sign_on.SESSION_INVITATION] == invitation.pk

    def test_an_unknown_provider_is_404(self, client, alice):
        invitation = Invitation.objects.create(user=alice)
        assert client.post(invitation_path(invitation), {"provider": "elsewhere"}).status_code == 404
        assert single_sign_on.SESSION_INVITATION not in client.session


def invitation_path(invitation: Invitation) -> str:
    from accounts import tokens

    return reverse("accounts:accept-invitation", args=[tokens.make_token(invitation.pk)])


def as_signed_in_through_provider(client, user: User) -> None:
    """A session whose sign-in went through the school, as allauth records it."""
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [{"method": "socialaccount", "at": time.time(), "provider": "saml"}]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


class TestTheStaffSignInPolicy:
    @pytest.fixture(autouse=True)
    def _policy(self, settings, saml_school):
        settings.STAFF_SIGN_IN = "provider_or_two_factor"

    def test_staff_signed_in_by_password_without_two_factor_set_it_up_first(self, client, irene):
        client.force_login(irene)
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response.url == reverse("mfa_activate_totp")
        shown = [str(message) for message in response.wsgi_request._messages]
        assert "through Northside SAML or with two-factor" in shown[0]

    def test_staff_signed_in_through_the_school_go_on(self, client, irene):
        as_signed_in_through_provider(client, irene)
        assert client.get(reverse("home")).status_code == 200

    def test_staff_with_two_factor_go_on(self, client, dana):
        Authenticator.objects.create(user=dana, type=Authenticator.Type.TOTP, data={"secret": "x"})
        client.force_login(dana)
        assert client.get(reverse("home")).status_code == 200

    def test_students_are_not_asked(self, client, alice):
        client.force_login(alice)
        assert client.get(reverse("home")).status_code == 200

    def test_a_program_requiring_two_factor_is_not_satisfied_by_the_school_sign_in(self, client, irene, program):
        program.require_staff_two_factor = True
        program.save()
        as_signed_in_through_provider(client, irene)
        assert client.get(reverse("home")).url == reverse("mfa_activate_totp")

    def test_without_a_provider_the_message_asks_for_two_factor_only(self, client, carlos, settings):
        settings.SOCIALACCOUNT_PROVIDERS = {}
        client.force_login(carlos)
        response = client.get(reverse("home"))
        shown = [str(message) for message in response.wsgi_request._messages]
        assert shown == ["Checkoff requires staff to sign in with two-factor. Set up an authenticator app to continue."]

    def test_by_default_nobody_is_asked(self, client, irene, settings):
        settings.STAFF_SIGN_IN = "any"
        client.force_login(irene)
        assert client.get(reverse("home")).status_code == 200


@pytest.mark.usefixtures("saml_school")
class TestConfirmingPresenceThroughTheSchool:
    """Re-authentication before signing, for someone who signs in only through the school."""

    @pytest.fixture
    def sso_irene(self, irene):
        irene.set_unusable_password()
        irene.save()
        link(irene)
        return irene

    @pytest.fixture
    def attempt(self, program, alice, sso_irene):
        """A passed check-off waiting for its examiner's signature."""
        program.framework = factories.FrameworkFactory()
        program.save()
        competency = factories.CompetencyFactory(framework=program.framework, code="I.P.1.a", title="blood pressure")
        step = ChecklistStep.objects.create(program=program, competency=competency, order=1, text="Hand hygiene")
        return curriculum_services.record_attempt(
            enrollment=alice.enrollments.get(),
            competency=competency,
            evaluator=sso_irene,
            performed_step_ids={step.pk},
            setting="lab",
            comment="",
        )

    def test_signing_asks_a_single_sign_on_instructor_to_confirm_at_the_school(self, client, sso_irene, attempt):
        as_signed_in_through_provider(client, sso_irene)
        sign_url = reverse("curriculum:attempt-sign", args=[attempt.pk])
        response = client.post(sign_url)
        assert response.url.startswith(reverse("accounts:reauthenticate-with-provider"))
        page = client.get(response.url)
        assert page.status_code == 200
        assert "Continue to Northside SAML" in page.content.decode()
        assert page.context["next"] == sign_url

    def test_continuing_asks_the_provider_to_check_again(self, client, sso_irene):
        as_signed_in_through_provider(client, sso_irene)
        response = client.post(reverse("accounts:reauthenticate-with-provider"), {"next": "/"}, **HOST)
        assert response.status_code == 302
        assert response.url.startswith(IDP_SSO_URL)
        request_xml = zlib.decompress(base64.b64decode(parse_qs(urlparse(response.url).query)["SAMLRequest"][0]), -15)
        assert b'ForceAuthn="true"' in request_xml
        assert client.session[single_sign_on.SESSION_REAUTHENTICATION]["user"] == sso_irene.pk

    def test_someone_not_linked_to_the_school_is_forbidden(self, client, irene):
        client.force_login(irene)
        assert client.get(reverse("accounts:reauthenticate-with-provider")).status_code == 403
        assert client.post(reverse("accounts:reauthenticate-with-provider")).status_code == 403

    def test_it_rejects_other_methods(self, client, sso_irene):
        client.force_login(sso_irene)
        assert client.put(reverse("accounts:reauthenticate-with-provider")).status_code == 405

    def test_it_needs_a_signed_in_person(self, client, db):
        response = client.get(reverse("accounts:reauthenticate-with-provider"))
        assert response.url.startswith(reverse("account_login"))

    def test_a_next_address_elsewhere_is_not_followed(self, client, sso_irene):
        client.force_login(sso_irene)
        page = client.get(reverse("accounts:reauthenticate-with-provider"), {"next": "https://evil.test/"})
        assert page.context["next"] == reverse("home")

    def test_a_password_instructor_also_sees_the_school_as_an_alternative(self, client, irene, alice):
        link(irene)
        client.force_login(irene)
        page = client.get(reverse("account_reauthenticate")).content.decode()
        assert "Confirm through your school&#x27;s sign-in" in page


class TestAProviderConfiguredWrongly:
    """The person reads that the school's sign-in is unavailable (502); the log names the cause."""

    def test_an_unreachable_openid_connect_provider(self, client, db, settings, caplog):
        settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment(
            {**OIDC_ENVIRONMENT, "SSO_OIDC_SERVER_URL": "http://127.0.0.1:9/unreachable"}
        )
        response = client.post(reverse("openid_connect_login", kwargs={"provider_id": "school"}), **HOST)
        assert response.status_code == 502
        assert "not available right now" in response.content.decode()
        assert "ConnectionError" in caplog.text

    def test_a_saml_certificate_that_is_not_one(self, client, db, settings, caplog):
        settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment(
            {**SAML_ENVIRONMENT, "SSO_SAML_SSO_URL": "not an address"}
        )
        response = client.post(reverse("saml_login", kwargs={"organization_slug": "school"}), **HOST)
        assert response.status_code == 502
        assert "idp_sso_url_invalid" in caplog.text

    def test_other_pages_errors_are_not_hidden(self, client, alice, settings):
        from accounts.middleware import SingleSignOnMiddleware

        middleware = SingleSignOnMiddleware(lambda request: None)  # type: ignore[return-value]
        request = RequestFactory().get("/courses/")
        assert middleware.process_exception(request, KeyError("x")) is None


@pytest.mark.usefixtures("saml_school")
def test_someone_signed_in_only_through_the_school_confirms_there_before_setting_a_password(client, irene):
    irene.set_unusable_password()
    irene.save()
    link(irene)
    as_signed_in_through_provider(client, irene)
    response = client.get(reverse("account_set_password"))
    assert response.url.startswith(reverse("accounts:reauthenticate-with-provider"))
    assert (
        client.post(reverse("account_set_password"), {"password1": "x" * 12, "password2": "x" * 12}).status_code == 302
    )
    irene.refresh_from_db()
    assert not irene.has_usable_password()


def test_a_preceptor_without_a_password_may_still_set_one(client, paula):
    paula.set_unusable_password()
    paula.save()
    client.force_login(paula)
    assert client.get(reverse("account_set_password")).status_code == 200


class TestConfiguredInTheAdmin:
    """Without code or environment: a superuser with two-factor adds the school's provider as one of
    allauth's social applications, and the sign-in page offers it."""

    @pytest.fixture
    def root(self, db):
        root = User.objects.create_superuser("root@school.test", "a long admin passphrase")
        Authenticator.objects.create(user=root, type=Authenticator.Type.TOTP, data={"secret": "x"})
        return root

    def test_an_openid_connect_provider_added_in_the_admin_appears_on_the_sign_in_page(self, client, root, settings):
        settings.SOCIALACCOUNT_PROVIDERS = {}
        client.force_login(root)
        form = client.get("/admin/socialaccount/socialapp/add/")
        assert form.status_code == 200
        response = client.post(
            "/admin/socialaccount/socialapp/add/",
            {
                "provider": "openid_connect",
                "provider_id": "school",
                "name": "Westside University",
                "client_id": "checkoff",
                "secret": "s3cret",
                "key": "",
                "settings": '{"server_url": "https://login.westside.test"}',
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        client.logout()
        page = client.get(reverse("account_login"))
        assert "Sign in with Westside University" in page.content.decode()
        assert "https://login.westside.test" in page.headers["Content-Security-Policy"]


class TestPagesNotOffered:
    @pytest.mark.parametrize("name", ["socialaccount_connections", "socialaccount_signup"])
    def test_linking_and_signing_up_through_a_provider_are_not_pages(self, client, alice, name):
        assert client.get(reverse(name)).status_code == 404
        client.force_login(alice)
        assert client.get(reverse(name)).status_code == 404

    @pytest.mark.parametrize("path", ["/accounts/oidc/%00/login/", "/accounts/saml/%00/acs/finish/"])
    def test_a_provider_id_with_a_nul_is_not_found(self, client, db, path):
        assert client.get(path).status_code == 404

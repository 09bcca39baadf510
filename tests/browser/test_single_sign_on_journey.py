"""Single sign-on in Chromium, through real identity providers: panva's oidc-provider on node and
pysaml2's IdP (tests/sso/providers.py), each started once for this module beside the live server.

People sign in through the school from the sign-in page and from an invitation, strangers and
forged, expired or wrongly configured answers are refused with a page that says so, staff meet the
sign-in policy through the school, and an instructor who has no password confirms at the school
before signing a check-off.

Data is made inside each test: the live server answers from another thread, which sees only what
was committed (live_server brings transactional_db). The `settings` fixture switches the providers
on for the live server too: it runs in this process.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse
from playwright.sync_api import Page, Request, Response, Route, expect

from accounts import services as account_services
from accounts import tokens
from accounts.models import Invitation, User
from config.single_sign_on import providers_from_environment
from curriculum import services as curriculum_services
from curriculum.models import Attempt, ChecklistStep, Signature
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, TABLET, screenshot
from tests.sso.providers import DEFAULT_PASSWORD, OidcProvider, SamlIdentityProvider
from tests.sso.saml_idp import make_key_and_certificate

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("single-sign-on-journey")]

SCHOOL = "Northside College"
SCHOOL_BUTTON = f"Sign in with {SCHOOL}"
REFUSED = "You are not signed in to Checkoff"
DID_NOT_WORK = "Sign-in through your school did not work"
POLICY_MESSAGE = f"Checkoff requires staff to sign in through {SCHOOL} or with two-factor"


# --- The identity providers, once for the module; each test switches Checkoff to the one it uses ----


@pytest.fixture(scope="module")
def oidc(live_server: Any) -> Iterator[OidcProvider]:
    with OidcProvider(redirect_uris=[f"{live_server.url}/accounts/oidc/school/login/callback/"]) as provider:
        yield provider


@pytest.fixture(scope="module")
def saml_idp(live_server: Any) -> Iterator[SamlIdentityProvider]:
    with SamlIdentityProvider(
        sp_entity_id=f"{live_server.url}/accounts/saml/school/metadata/",
        acs_url=f"{live_server.url}/accounts/saml/school/acs/",
    ) as provider:
        yield provider


def oidc_environment(oidc: OidcProvider, *, client_secret: str | None = None) -> dict[str, str]:
    return {
        "SSO_OIDC_NAME": SCHOOL,
        "SSO_OIDC_SERVER_URL": oidc.issuer,
        "SSO_OIDC_CLIENT_ID": oidc.client_id,
        "SSO_OIDC_CLIENT_SECRET": client_secret or oidc.client_secret,
    }


@pytest.fixture
def oidc_school(settings: Any, oidc: OidcProvider) -> OidcProvider:
    """Checkoff signs people in through the OpenID Connect provider, set up as an administrator would."""
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment(oidc_environment(oidc))
    return oidc


@pytest.fixture
def saml_school(settings: Any, saml_idp: SamlIdentityProvider) -> SamlIdentityProvider:
    """Checkoff signs people in through the SAML identity provider, known by its metadata address."""
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment(
        {
            "SSO_SAML_NAME": SCHOOL,
            "SSO_SAML_ENTITY_ID": saml_idp.entity_id,
            "SSO_SAML_METADATA_URL": saml_idp.metadata_url,
        }
    )
    return saml_idp


def unique_email(name: str) -> str:
    return f"{name}-{secrets.token_hex(4)}@example.test"


# --- Steps a person takes ----------------------------------------------------------------------------


def open_sign_in_page(visit: Callable[..., Page], device: dict[str, Any]) -> Page:
    page = visit(**device)
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name=SCHOOL_BUTTON)).to_be_visible()
    return page


def sign_in_at_provider(page: Page, provider_url: str, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """On the identity provider's own page (its origin, not Checkoff's): email, password, Sign in."""
    expect(page).to_have_url(re.compile("^" + re.escape(provider_url) + "/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in_through_school(page: Page, provider_url: str, email: str) -> None:
    """From a Checkoff page with the school's button: press it and sign in at the provider."""
    page.get_by_role("button", name=SCHOOL_BUTTON).click()
    sign_in_at_provider(page, provider_url, email)


def expect_home(page: Page, first_name: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {first_name}")
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))


def expect_signed_out(page: Page) -> None:
    """Home sends whoever is not signed in to the sign-in page."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


def callback_status(page: Page, path_part: str) -> Callable[[], int]:
    """The status Checkoff answered the provider's return with (the refusal is a 403, never a 500)."""
    seen: list[int] = []

    def note(response: Response) -> None:
        if path_part in response.url and response.request.resource_type == "document":
            seen.append(response.status)

    page.on("response", note)
    return lambda: seen[-1] if seen else 0


# --- OpenID Connect ------------------------------------------------------------------------------------


def test_a_student_signs_in_through_her_school_and_is_linked_to_her_account(
    live_server: Any, visit: Callable[..., Page], oidc_school: OidcProvider, alice: User
) -> None:
    # Alice was invited and never chose a password: the school's sign-in is her way in.
    alice.set_unusable_password()
    alice.save(update_fields=["password"])
    invitation = Invitation.objects.create(user=alice)
    oidc_school.add_account(alice.email, given_name="Alice", family_name=alice.last_name)

    page = open_sign_in_page(visit, PHONE)
    # The school's button comes first, then the email form.
    school_button = page.get_by_role("button", name=SCHOOL_BUTTON)
    email_field = page.get_by_label("Email")
    assert school_button.evaluate(
        "(button, field) => Boolean(button.compareDocumentPosition(field) & Node.DOCUMENT_POSITION_FOLLOWING)",
        email_field.element_handle(),
    ), "the email form comes before the school's button"
    expect(page.get_by_role("heading", name="Or sign in with your email address")).to_be_visible()
    screenshot(page, "sso-1-sign-in-page-phone")

    sign_in_through_school(page, oidc_school.issuer, alice.email)

    expect_home(page, "Alice")
    screenshot(page, "sso-2-student-home-phone")
    account = SocialAccount.objects.get(user=alice)
    assert account.uid == hashlib.sha256(alice.email.lower().encode()).hexdigest()
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is not None
    assert EmailAddress.objects.get(user=alice, email=alice.email).verified


def test_someone_the_school_knows_but_checkoff_does_not_is_refused_and_nobody_is_created(
    live_server: Any, visit: Callable[..., Page], oidc_school: OidcProvider
) -> None:
    stranger = unique_email("stranger")
    oidc_school.add_account(stranger, given_name="Sam")
    people = User.objects.count()

    page = open_sign_in_page(visit, DESKTOP)
    status = callback_status(page, "/accounts/oidc/school/login/callback/")
    sign_in_through_school(page, oidc_school.issuer, stranger)

    expect(page.get_by_role("heading", level=1)).to_have_text(REFUSED)
    expect(page.get_by_role("alert")).to_contain_text(f"No Checkoff account uses {stranger}")
    assert status() == 403
    screenshot(page, "sso-3-refused-desktop")
    expect_signed_out(page)
    assert User.objects.count() == people
    assert not User.objects.filter(email__iexact=stranger).exists()
    assert not SocialAccount.objects.exists()


def test_a_wrong_client_secret_says_the_schools_sign_in_did_not_work(
    live_server: Any,
    visit: Callable[..., Page],
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    oidc: OidcProvider,
    alice: User,
) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment(
        oidc_environment(oidc, client_secret="not-the-secret")
    )
    oidc.add_account(alice.email, given_name="Alice")

    page = open_sign_in_page(visit, PHONE)
    status = callback_status(page, "/accounts/oidc/school/login/callback/")
    sign_in_through_school(page, oidc.issuer, alice.email)

    expect(page.get_by_role("heading", level=1)).to_have_text(DID_NOT_WORK)
    assert 0 < status() < 500
    assert "invalid_client" in caplog.text  # the administrator reads why in the log
    expect_signed_out(page)
    assert not SocialAccount.objects.exists()


def test_an_invited_student_accepts_through_her_school(
    live_server: Any, visit: Callable[..., Page], oidc_school: OidcProvider, cohort: Any, dana: User
) -> None:
    nina = factories.EnrollmentFactory.create(
        cohort=cohort, student__first_name="Nina", student__verified=False
    ).student
    nina.set_unusable_password()
    nina.save(update_fields=["password"])
    (invitation,) = account_services.invite_users(users=[nina], invited_by=dana, program_id=cohort.program_id)
    oidc_school.add_account(nina.email, given_name="Nina")

    page = visit(**PHONE)
    page.goto(reverse("accounts:accept-invitation", args=[tokens.make_token(invitation.pk)]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Checkoff")
    screenshot(page, "sso-4-invitation-phone")
    sign_in_through_school(page, oidc_school.issuer, nina.email)

    expect_home(page, "Nina")
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert EmailAddress.objects.get(user=nina, email=nina.email).verified
    assert SocialAccount.objects.filter(user=nina).count() == 1


# --- SAML --------------------------------------------------------------------------------------------


def test_an_instructor_signs_in_through_the_schools_saml_provider(
    live_server: Any, visit: Callable[..., Page], saml_school: SamlIdentityProvider, irene: User
) -> None:
    saml_school.add_account(irene.email, given_name="Irene", family_name=irene.last_name)

    page = open_sign_in_page(visit, TABLET)
    sign_in_through_school(page, saml_school.base_url, irene.email)

    expect_home(page, "Irene")
    assert SocialAccount.objects.get(user=irene).provider == "saml"


def test_an_answer_altered_on_its_way_to_checkoff_is_refused(
    live_server: Any,
    visit: Callable[..., Page],
    caplog: pytest.LogCaptureFixture,
    saml_school: SamlIdentityProvider,
    alice: User,
    dana: User,
) -> None:
    """Someone between the provider and Checkoff puts the director's address in alice's answer."""
    saml_school.add_account(alice.email, given_name="Alice")
    forged: list[str] = []

    def put_danas_address_in(route: Route, request: Request) -> None:
        fields = parse_qs(request.post_data or "")
        xml = base64.b64decode(fields["SAMLResponse"][0]).decode()
        forged.append(xml.replace(alice.email, dana.email))
        fields["SAMLResponse"] = [base64.b64encode(forged[-1].encode()).decode()]
        route.continue_(post_data=urlencode(fields, doseq=True))

    page = open_sign_in_page(visit, DESKTOP)
    page.route("**/accounts/saml/school/acs/", put_danas_address_in)
    sign_in_through_school(page, saml_school.base_url, alice.email)

    expect(page.get_by_role("heading", level=1)).to_have_text(DID_NOT_WORK)
    assert forged and dana.email in forged[0] and alice.email not in forged[0], "the answer was not altered"
    assert "Signature validation failed" in caplog.text
    screenshot(page, "sso-5-did-not-work-desktop")
    expect_signed_out(page)
    assert not SocialAccount.objects.exists()


def test_an_expired_answer_is_refused(
    live_server: Any,
    visit: Callable[..., Page],
    caplog: pytest.LogCaptureFixture,
    saml_school: SamlIdentityProvider,
    alice: User,
) -> None:
    # The provider's clock runs half an hour behind: its assertion has already expired.
    saml_school.add_account(alice.email, given_name="Alice", clock_skew_minutes=-30)

    page = open_sign_in_page(visit, PHONE)
    sign_in_through_school(page, saml_school.base_url, alice.email)

    expect(page.get_by_role("heading", level=1)).to_have_text(DID_NOT_WORK)
    assert "expired" in caplog.text
    expect_signed_out(page)
    assert not SocialAccount.objects.exists()


def test_a_certificate_that_is_not_the_providers_is_refused(
    live_server: Any,
    visit: Callable[..., Page],
    caplog: pytest.LogCaptureFixture,
    settings: Any,
    saml_idp: SamlIdentityProvider,
    alice: User,
    tmp_path: Path,
) -> None:
    """The administrator pasted another certificate than the one the identity provider signs with."""
    _, another_certificate = make_key_and_certificate(tmp_path)
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment(
        {
            "SSO_SAML_NAME": SCHOOL,
            "SSO_SAML_ENTITY_ID": saml_idp.entity_id,
            "SSO_SAML_SSO_URL": saml_idp.sso_url,
            "SSO_SAML_CERTIFICATE": another_certificate.read_text(),
        }
    )
    saml_idp.add_account(alice.email, given_name="Alice")

    page = open_sign_in_page(visit, DESKTOP)
    sign_in_through_school(page, saml_idp.base_url, alice.email)

    expect(page.get_by_role("heading", level=1)).to_have_text(DID_NOT_WORK)
    assert "Signature validation failed" in caplog.text
    expect_signed_out(page)
    assert not SocialAccount.objects.exists()


# --- Staff ------------------------------------------------------------------------------------------


def test_staff_who_must_sign_in_strongly_set_up_two_factor_after_a_password_but_not_through_the_school(
    live_server: Any, visit: Callable[..., Page], settings: Any, oidc_school: OidcProvider, irene: User
) -> None:
    settings.STAFF_SIGN_IN = "provider_or_two_factor"
    oidc_school.add_account(irene.email, given_name="Irene")

    by_password = open_sign_in_page(visit, DESKTOP)
    by_password.get_by_label("Email").fill(irene.email)
    by_password.get_by_label("Password").fill(factories.PASSWORD)
    by_password.get_by_role("button", name="Sign In", exact=True).click()
    # allauth asks for the password once more before two-factor is set up (a sign-in is not a
    # re-authentication), then the setup page.
    expect(by_password).to_have_url(
        re.compile(r"/accounts/reauthenticate/\?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F$")
    )
    expect(by_password.get_by_text(POLICY_MESSAGE)).to_be_visible()
    screenshot(by_password, "sso-6-staff-policy-desktop")
    by_password.get_by_label("Password").fill(factories.PASSWORD)
    by_password.get_by_role("button", name="Confirm").click()
    expect(by_password).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))

    through_school = open_sign_in_page(visit, DESKTOP)
    sign_in_through_school(through_school, oidc_school.issuer, irene.email)
    expect_home(through_school, "Irene")


def test_an_instructor_without_a_password_confirms_at_the_school_before_signing(
    live_server: Any,
    visit: Callable[..., Page],
    oidc_school: OidcProvider,
    program: Any,
    alice: User,
    irene: User,
) -> None:
    irene.set_unusable_password()
    irene.save(update_fields=["password"])
    oidc_school.add_account(irene.email, given_name="Irene")
    program.framework = factories.FrameworkFactory.create()
    program.save()
    competency = factories.CompetencyFactory.create(framework=program.framework, code="I.P.1.a", title="blood pressure")
    step = ChecklistStep.objects.create(program=program, competency=competency, order=1, text="Hand hygiene")
    attempt: Attempt = curriculum_services.record_attempt(
        enrollment=alice.enrollments.get(),
        competency=competency,
        evaluator=irene,
        performed_step_ids={step.pk},
        setting="lab",
        comment="",
    )

    page = open_sign_in_page(visit, TABLET)
    sign_in_through_school(page, oidc_school.issuer, irene.email)
    expect_home(page, "Irene")

    page.goto(reverse("curriculum:attempt-detail", args=[attempt.pk]))
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    assert not Signature.objects.filter(attempt=attempt).exists(), "signed before she confirmed"
    screenshot(page, "sso-7-confirm-it-is-you-tablet")

    # The provider asks for her password again, though she signed in there minutes ago.
    page.get_by_role("button", name=f"Continue to {SCHOOL}").click()
    sign_in_at_provider(page, oidc_school.issuer, irene.email)

    expect(page).to_have_url(re.compile(rf"/attempts/{attempt.pk}/$"))
    expect(page.get_by_role("status")).to_contain_text("Signed.")
    expect(page.locator("#signature")).to_contain_text("Signed: performed and evaluated by Irene")
    assert Signature.objects.filter(attempt=attempt, signer=irene).exists()

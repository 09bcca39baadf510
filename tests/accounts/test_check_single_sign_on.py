"""`manage.py check_single_sign_on` against real providers: it names what is wrong before anyone signs in."""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from config.single_sign_on import providers_from_environment
from tests.sso.providers import OidcProvider, SamlIdentityProvider
from tests.sso.saml_idp import make_key_and_certificate

pytestmark = pytest.mark.xdist_group("check-single-sign-on")

SITE = "http://localhost:8000"


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with OidcProvider(redirect_uris=[f"{SITE}/accounts/oidc/school/login/callback/"]) as provider:
        yield provider


@pytest.fixture(scope="module")
def saml_idp() -> Iterator[SamlIdentityProvider]:
    with SamlIdentityProvider(
        sp_entity_id=f"{SITE}/accounts/saml/school/metadata/", acs_url=f"{SITE}/accounts/saml/school/acs/"
    ) as provider:
        yield provider


@pytest.fixture(autouse=True)
def _site(settings) -> None:
    settings.SITE_URL = SITE


def check(settings, environment: dict[str, str]) -> tuple[str, str]:
    """The command's report and its failure, if any."""
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment(environment)
    out = StringIO()
    try:
        call_command("check_single_sign_on", stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), ""


def oidc_environment(oidc: OidcProvider, secret: str) -> dict[str, str]:
    return {
        "SSO_OIDC_NAME": "Northside",
        "SSO_OIDC_SERVER_URL": oidc.issuer,
        "SSO_OIDC_CLIENT_ID": oidc.client_id,
        "SSO_OIDC_CLIENT_SECRET": secret,
    }


def expired_certificate() -> str:
    """A certificate that ran out 35 days ago."""
    with tempfile.TemporaryDirectory() as directory:
        _, certificate = make_key_and_certificate(
            Path(directory), valid_from=datetime.timedelta(days=-400), valid_until=datetime.timedelta(days=-35)
        )
        return certificate.read_text()


def test_nothing_configured_says_so(settings, db):
    report, failure = check(settings, {})
    assert "No single sign-on provider is configured" in report
    assert failure == ""


def test_a_working_openid_connect_client_is_confirmed(settings, db, oidc):
    report, failure = check(settings, oidc_environment(oidc, oidc.client_secret))
    assert failure == ""
    assert "client id and secret accepted by the token endpoint" in report
    assert f"redirect URI to register: {SITE}/accounts/oidc/school/login/callback/" in report


def test_a_wrong_client_secret_is_named(settings, db, oidc):
    report, failure = check(settings, oidc_environment(oidc, "not-the-secret"))
    assert "PROBLEM: Northside (openid_connect): the provider refuses the client id or secret" in report
    assert "1 problem(s)" in failure


def test_an_unreachable_provider_is_named(settings, db):
    environment = {
        "SSO_OIDC_SERVER_URL": "http://127.0.0.1:9",
        "SSO_OIDC_CLIENT_ID": "x",
        "SSO_OIDC_CLIENT_SECRET": "y",
    }
    report, failure = check(settings, environment)
    assert "cannot read the discovery document" in report
    assert failure


def test_a_saml_provider_from_its_metadata_is_confirmed(settings, db, saml_idp):
    report, failure = check(
        settings, {"SSO_SAML_ENTITY_ID": saml_idp.entity_id, "SSO_SAML_METADATA_URL": saml_idp.metadata_url}
    )
    assert failure == "", report
    assert "signing certificate CN=" in report
    assert f"ACS {SITE}/accounts/saml/school/acs/" in report


def test_a_certificate_that_is_not_the_metadatas_is_named(settings, db, saml_idp):
    environment = {
        "SSO_SAML_ENTITY_ID": saml_idp.entity_id,
        "SSO_SAML_METADATA_URL": saml_idp.metadata_url,
    }
    settings.SOCIALACCOUNT_PROVIDERS = providers_from_environment(environment)
    settings.SOCIALACCOUNT_PROVIDERS["saml"]["APPS"][0]["settings"]["idp"]["x509cert"] = "".join(
        expired_certificate().splitlines()[1:-1]
    )
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_single_sign_on", stdout=out)
    assert "not the one in the identity provider's metadata" in out.getvalue()


def test_an_expired_certificate_is_named(settings, db, saml_idp):
    report, failure = check(
        settings,
        {
            "SSO_SAML_ENTITY_ID": saml_idp.entity_id,
            "SSO_SAML_SSO_URL": saml_idp.sso_url,
            "SSO_SAML_CERTIFICATE": expired_certificate(),
        },
    )
    assert "PROBLEM" in report and "the signing certificate expired on" in report
    assert failure


def test_a_certificate_that_is_not_one_is_named(settings, db):
    report, failure = check(
        settings,
        {
            "SSO_SAML_ENTITY_ID": "https://idp.school.test/e",
            "SSO_SAML_SSO_URL": "https://idp.school.test/sso",
            "SSO_SAML_CERTIFICATE": "bm9wZQ==",
        },
    )
    assert "the signing certificate cannot be read" in report
    assert failure

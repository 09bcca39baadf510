"""The identity providers themselves, driven with `requests`, before any test trusts them with Checkoff.

A relying party's tests prove little if the provider would accept anything: so here a wrong password
is refused at the provider, a wrong client secret at the token endpoint, and a SAML response that is
expired or altered is refused by python3-saml, the library under allauth's SAML provider.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import lxml.html
import pytest
import requests
from lxml import etree
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from tests.sso.providers import DEFAULT_PASSWORD, OidcProvider, SamlIdentityProvider

pytestmark = pytest.mark.xdist_group("sso-providers")

# Nothing listens at the relying party's addresses: the flows stop where the browser would reach it.
REDIRECT_URI = "http://127.0.0.1:9/accounts/oidc/test-idp/login/callback/"
SP_ENTITY_ID = "http://127.0.0.1:9/accounts/saml/test-idp/metadata/"
ACS_URL = "http://127.0.0.1:9/accounts/saml/test-idp/acs/"
TIMEOUT = 10

MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
GIVEN_NAME = "urn:oid:2.5.4.42"
SURNAME = "urn:oid:2.5.4.4"
SUBJECT_ID = "urn:oasis:names:tc:SAML:attribute:subject-id"
DSIG, SAMLP, SAML = OneLogin_Saml2_Constants.NS_DS, OneLogin_Saml2_Constants.NS_SAMLP, OneLogin_Saml2_Constants.NS_SAML


def only_form(page: requests.Response) -> tuple[str, dict[str, str]]:
    """The page's one form: where it posts (absolute) and the values it would send as it stands."""
    document = lxml.html.fromstring(page.text)
    (form,) = document.forms
    return urljoin(page.url, form.action), dict(form.form_values())


def assert_login_form(page: requests.Response) -> None:
    """What a person sees, and what the browser tests find by label and button."""
    document = lxml.html.fromstring(page.text)
    labels = {label.text_content().strip(): label.get("for") for label in document.iter("label")}
    assert labels == {"Email": "email", "Password": "password"}
    assert [button.text_content().strip() for button in document.iter("button")] == ["Sign in"]


# --- OpenID Connect -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oidc() -> Iterator[OidcProvider]:
    with OidcProvider(redirect_uris=[REDIRECT_URI]) as provider:
        yield provider


@pytest.fixture(scope="module")
def discovery(oidc: OidcProvider) -> dict[str, Any]:
    response = requests.get(oidc.discovery_url, timeout=TIMEOUT)
    response.raise_for_status()
    return dict(response.json())


def open_login_page(oidc: OidcProvider, discovery: dict[str, Any], session: requests.Session) -> requests.Response:
    """The authorization request a relying party sends, followed to the provider's login page."""
    query = {
        "client_id": oidc.client_id,
        "response_type": "code",
        "scope": "openid email profile",
        "redirect_uri": REDIRECT_URI,
        "state": secrets.token_urlsafe(16),
        "nonce": "nonce-of-this-test",
    }
    page = session.get(discovery["authorization_endpoint"], params=query, timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    assert urlsplit(page.url).path.startswith("/interaction/")
    return page


def sign_in_for_code(
    oidc: OidcProvider, discovery: dict[str, Any], email: str, password: str = DEFAULT_PASSWORD
) -> str:
    """A whole sign-in, as the browser makes it, up to the redirect that brings the code back."""
    session = requests.Session()
    action, fields = only_form(open_login_page(oidc, discovery, session))
    response = session.post(action, data={**fields, "email": email, "password": password}, allow_redirects=False)
    for _ in range(10):
        assert response.status_code in (302, 303), response.text
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(REDIRECT_URI):
            query = parse_qs(urlsplit(location).query)
            assert "error" not in query, query
            assert query["iss"] == [oidc.issuer]
            return query["code"][0]
        response = session.get(location, allow_redirects=False, timeout=TIMEOUT)
    raise AssertionError("the provider never redirected back to the relying party")


def test_discovery_names_the_issuer_and_the_clients_one_authentication_method(oidc, discovery):
    assert discovery["issuer"] == oidc.issuer
    assert discovery["token_endpoint_auth_methods_supported"] == ["client_secret_post"]
    assert {"openid", "email", "profile"} <= set(discovery["scopes_supported"])
    assert discovery["authorization_endpoint"].startswith(oidc.issuer)


def test_authorization_code_flow_gives_a_signed_id_token_with_the_persons_claims(oidc, discovery):
    oidc.add_account("Ada.Lovelace@example.test", given_name="Ada", family_name="Lovelace")
    code = sign_in_for_code(oidc, discovery, "ada.lovelace@example.test")

    tokens = requests.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": oidc.client_id,
            "client_secret": oidc.client_secret,
        },
        timeout=TIMEOUT,
    )
    assert tokens.status_code == 200, tokens.text
    id_token = tokens.json()["id_token"]
    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(id_token, key, algorithms=["RS256"], audience=oidc.client_id, issuer=oidc.issuer)
    assert claims["email"] == "Ada.Lovelace@example.test"
    assert claims["email_verified"] is True
    assert (claims["given_name"], claims["family_name"], claims["name"]) == ("Ada", "Lovelace", "Ada Lovelace")
    assert claims["nonce"] == "nonce-of-this-test"

    userinfo = requests.get(
        discovery["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens.json()['access_token']}"},
        timeout=TIMEOUT,
    )
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["sub"] == claims["sub"]
    assert userinfo.json()["email"] == "Ada.Lovelace@example.test"


def test_a_code_is_not_exchanged_for_a_wrong_client_secret(oidc, discovery):
    oidc.add_account("grace@example.test", given_name="Grace")
    code = sign_in_for_code(oidc, discovery, "grace@example.test")

    tokens = requests.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": oidc.client_id,
            "client_secret": "not-the-secret",
        },
        timeout=TIMEOUT,
    )
    assert tokens.status_code == 401
    assert tokens.json()["error"] == "invalid_client"


def test_a_client_secret_beginning_with_a_dash_reaches_the_provider_whole():
    """Random secrets (token_urlsafe) may begin with "-": node must not read it as an option."""
    with OidcProvider(redirect_uris=[REDIRECT_URI], client_secret="-starts-like-an-option") as provider:
        provider.add_account("heidi@example.test")
        configuration = requests.get(provider.discovery_url, timeout=TIMEOUT).json()
        code = sign_in_for_code(provider, configuration, "heidi@example.test")
        tokens = requests.post(
            configuration["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "client_id": provider.client_id,
                "client_secret": "-starts-like-an-option",
            },
            timeout=TIMEOUT,
        )
    assert tokens.status_code == 200, tokens.text


def test_a_wrong_password_is_refused_on_the_providers_login_page(oidc, discovery):
    oidc.add_account("edsger@example.test")
    session = requests.Session()
    page = open_login_page(oidc, discovery, session)
    assert_login_form(page)
    action, fields = only_form(page)

    again = session.post(action, data={**fields, "email": "edsger@example.test", "password": "wrong"}, timeout=TIMEOUT)
    assert again.status_code == 200
    assert urlsplit(again.url).path.startswith("/interaction/")
    assert "Incorrect email or password." in again.text
    assert_login_form(again)


# --- SAML 2.0 ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saml_idp() -> Iterator[SamlIdentityProvider]:
    with SamlIdentityProvider(sp_entity_id=SP_ENTITY_ID, acs_url=ACS_URL) as provider:
        yield provider


def python3_saml_settings(saml_idp: SamlIdentityProvider, *, sso_url: str | None = None) -> OneLogin_Saml2_Settings:
    """python3-saml as Checkoff's allauth configures it, knowing the IdP from its metadata (which names
    the HTTP-Redirect address; `sso_url` stands in for it where a request is to name another)."""
    metadata = requests.get(saml_idp.metadata_url, timeout=TIMEOUT)
    metadata.raise_for_status()
    idp = OneLogin_Saml2_IdPMetadataParser.parse(metadata.text)["idp"]
    if sso_url is not None:
        idp["singleSignOnService"]["url"] = sso_url
    return OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": SP_ENTITY_ID,
                "assertionConsumerService": {"url": ACS_URL, "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST},
                "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_EMAIL_ADDRESS,
            },
            "idp": idp,
            "security": {
                "wantAssertionsSigned": True,
                "wantMessagesSigned": True,
                "requestedAuthnContext": False,
                "rejectDeprecatedAlgorithm": True,
            },
        },
        sp_validation_only=True,
    )


@pytest.fixture(scope="module")
def sp_settings(saml_idp: SamlIdentityProvider) -> OneLogin_Saml2_Settings:
    return python3_saml_settings(saml_idp)


# The request as Django would describe the ACS request to python3-saml: the URL the response was posted to.
ACS_REQUEST = {"https": "off", "http_host": urlsplit(ACS_URL).netloc, "script_name": urlsplit(ACS_URL).path}


def saml_sign_in(
    saml_idp: SamlIdentityProvider,
    sp_settings: OneLogin_Saml2_Settings,
    email: str,
    password: str = DEFAULT_PASSWORD,
    *,
    binding: str = OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT,
) -> tuple[str, str, requests.Response]:
    """The SP's AuthnRequest (by HTTP-Redirect, as allauth sends it, or HTTP-POST), the login form, and
    the page posting back to the ACS. Returns the request's id, the base64 SAMLResponse and that page."""
    authn_request = OneLogin_Saml2_Authn_Request(sp_settings)
    session = requests.Session()
    if binding == OneLogin_Saml2_Constants.BINDING_HTTP_POST:
        login = session.post(
            saml_idp.sso_post_url,
            data={"SAMLRequest": authn_request.get_request(deflate=False), "RelayState": "/after-sign-in/"},
            timeout=TIMEOUT,
        )
    else:
        login = session.get(
            saml_idp.sso_url,
            params={"SAMLRequest": authn_request.get_request(), "RelayState": "/after-sign-in/"},
            timeout=TIMEOUT,
        )
    assert login.status_code == 200, login.text
    assert_login_form(login)
    action, fields = only_form(login)
    posting = session.post(action, data={**fields, "email": email, "password": password}, timeout=TIMEOUT)
    assert posting.status_code == 200, posting.text
    action, fields = only_form(posting)
    assert action == ACS_URL
    assert fields["RelayState"] == "/after-sign-in/"
    return authn_request.get_id(), fields["SAMLResponse"], posting


def test_saml_metadata_gives_python3_saml_the_entity_the_sso_url_and_the_certificate(saml_idp):
    metadata = requests.get(saml_idp.metadata_url, timeout=TIMEOUT)
    assert metadata.status_code == 200
    idp = OneLogin_Saml2_IdPMetadataParser.parse(metadata.text)["idp"]
    assert idp["entityId"] == saml_idp.entity_id
    assert idp["singleSignOnService"]["url"] == saml_idp.sso_url
    assert idp["x509cert"] == saml_idp.x509cert
    assert saml_idp.certificate_pem.startswith("-----BEGIN CERTIFICATE-----")


def test_a_saml_sign_in_gives_a_signed_response_python3_saml_accepts(saml_idp, sp_settings):
    saml_idp.add_account("Barbara.Liskov@example.test", given_name="Barbara", family_name="Liskov")
    request_id, saml_response, page = saml_sign_in(saml_idp, sp_settings, "barbara.liskov@example.test")

    assert [button.text_content() for button in lxml.html.fromstring(page.text).iter("button")] == ["Continue"]
    response = OneLogin_Saml2_Response(sp_settings, saml_response)
    assert response.is_valid(ACS_REQUEST, request_id), response.get_error()
    document = etree.fromstring(base64.b64decode(saml_response))
    signed = [signature.getparent().tag for signature in document.iter(f"{{{DSIG}}}Signature")]
    assert signed == [f"{{{SAMLP}}}Response", f"{{{SAML}}}Assertion"]
    methods = {method.get("Algorithm") for method in document.iter(f"{{{DSIG}}}SignatureMethod")}
    assert methods == {OneLogin_Saml2_Constants.RSA_SHA256}
    assert response.get_nameid() == "Barbara.Liskov@example.test"
    attributes = response.get_attributes()
    assert attributes[MAIL] == ["Barbara.Liskov@example.test"]
    assert attributes[GIVEN_NAME] == ["Barbara"]
    assert attributes[SURNAME] == ["Liskov"]
    (subject_id,) = attributes[SUBJECT_ID]
    assert subject_id.endswith("@idp.test")


def test_the_post_binding_signs_in_as_well(saml_idp):
    saml_idp.add_account("frances@example.test", given_name="Frances", family_name="Allen")
    posting_settings = python3_saml_settings(saml_idp, sso_url=saml_idp.sso_post_url)
    request_id, saml_response, _ = saml_sign_in(
        saml_idp, posting_settings, "frances@example.test", binding=OneLogin_Saml2_Constants.BINDING_HTTP_POST
    )

    response = OneLogin_Saml2_Response(posting_settings, saml_response)
    assert response.is_valid(ACS_REQUEST, request_id), response.get_error()
    assert response.get_attributes()[MAIL] == ["frances@example.test"]


def test_a_wrong_password_is_refused_on_the_saml_login_page(saml_idp, sp_settings):
    saml_idp.add_account("alan@example.test")
    session = requests.Session()
    login = session.get(
        saml_idp.sso_url,
        params={"SAMLRequest": OneLogin_Saml2_Authn_Request(sp_settings).get_request()},
        timeout=TIMEOUT,
    )
    action, fields = only_form(login)
    again = session.post(action, data={**fields, "email": "alan@example.test", "password": "wrong"}, timeout=TIMEOUT)
    assert again.status_code == 200
    assert "Incorrect email or password." in again.text
    assert "SAMLResponse" not in again.text
    assert_login_form(again)


def test_an_assertion_from_a_clock_half_an_hour_behind_is_refused_as_expired(saml_idp, sp_settings):
    saml_idp.add_account("late@example.test", clock_skew_minutes=-30)
    request_id, saml_response, _ = saml_sign_in(saml_idp, sp_settings, "late@example.test")

    response = OneLogin_Saml2_Response(sp_settings, saml_response)
    assert not response.is_valid(ACS_REQUEST, request_id)
    assert "expired" in str(response.get_error())


def test_a_response_altered_after_signing_is_refused(saml_idp, sp_settings):
    saml_idp.add_account("honest@example.test")
    request_id, saml_response, _ = saml_sign_in(saml_idp, sp_settings, "honest@example.test")
    xml = base64.b64decode(saml_response).decode()
    assert "honest@example.test" in xml
    forged = base64.b64encode(xml.replace("honest@example.test", "mallory@example.test").encode()).decode()

    response = OneLogin_Saml2_Response(sp_settings, forged)
    assert not response.is_valid(ACS_REQUEST, request_id)
    assert "Signature validation failed" in str(response.get_error())

"""`manage.py check_single_sign_on`: ask each of the school's providers whether Checkoff's settings work,
before anyone tries to sign in, and say in plain words what is wrong.

OpenID Connect: the discovery document and its issuer, the signing keys, and the client id and secret,
tested by presenting them to the token endpoint with a code that cannot exist: a provider answers
`invalid_client` when the credentials are wrong and `invalid_grant` when they are right. SAML: the
metadata (when given by address), the signing certificate (readable, in date, the same as the
metadata's), and Checkoff's own settings as python3-saml reads them.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlsplit

from allauth.socialaccount.providers.base import Provider
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from cryptography import x509
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import RequestFactory

from accounts import single_sign_on
from config.single_sign_on import OIDC

IMPOSSIBLE_CODE = "checkoff-configuration-check"


class Command(BaseCommand):
    help = "Check the school's single sign-on providers: reachable, and accepting Checkoff's settings."

    def handle(self, *args: Any, **options: Any) -> None:
        site = urlsplit(settings.SITE_URL)
        request = RequestFactory().get("/", secure=site.scheme == "https", HTTP_HOST=site.netloc)
        providers = single_sign_on.school_providers(request)
        if not providers:
            self.stdout.write("No single sign-on provider is configured (see the README's Single sign-on).")
            return
        problems = 0
        for provider in providers:
            name = single_sign_on.display_name(provider)
            checks = self._oidc(request, provider) if provider.id == OIDC else self._saml(request, provider)
            for ok, line in checks:
                problems += not ok
                style = self.style.SUCCESS if ok else self.style.ERROR
                self.stdout.write(style(f"{'ok' if ok else 'PROBLEM'}: {name} ({provider.id}): {line}"))
        if problems:
            raise CommandError(f"{problems} problem(s) with single sign-on; people cannot sign in through it.")

    def _oidc(self, request: Any, provider: Provider) -> list[tuple[bool, str]]:
        from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter

        adapter = OpenIDConnectOAuth2Adapter(request, provider.app.provider_id)
        try:
            configuration = adapter.openid_config
        except Exception as error:
            return [(False, f"cannot read the discovery document at {provider.server_url}: {error}")]
        results = [(True, f"discovery document read; issuer {configuration.get('issuer')}")]
        expected = provider.app.settings["server_url"].rstrip("/")
        if configuration.get("issuer", "").rstrip("/") != expected:
            results.append(
                (False, f"the issuer {configuration.get('issuer')!r} is not SSO_OIDC_SERVER_URL {expected!r}")
            )
        client = adapter.get_client(request, provider.app)
        try:
            client.get_access_token(IMPOSSIBLE_CODE)
        except OAuth2Error as error:
            answer = str(error)
            if "invalid_client" in answer or "unauthorized_client" in answer:
                results.append((False, "the provider refuses the client id or secret (invalid_client)"))
            elif "invalid_grant" in answer:
                results.append((True, "client id and secret accepted by the token endpoint"))
            else:
                results.append((False, f"the token endpoint answered unexpectedly: {answer[:300]}"))
        except Exception as error:
            results.append((False, f"cannot reach the token endpoint: {error}"))
        else:
            results.append((False, "the token endpoint accepted a code it never issued"))
        results.append((True, f"redirect URI to register: {adapter.get_callback_url(request, provider.app)}"))
        return results

    def _saml(self, request: Any, provider: Provider) -> list[tuple[bool, str]]:
        from allauth.socialaccount.providers.saml.utils import build_saml_config
        from onelogin.saml2.settings import OneLogin_Saml2_Settings

        try:
            configuration = build_saml_config(request, provider.app.settings, provider.app.client_id)
            OneLogin_Saml2_Settings(configuration, sp_validation_only=False)
        except Exception as error:
            return [(False, f"the settings cannot be used: {error}")]
        idp = configuration["idp"]
        results = [(True, f"identity provider {idp.get('entityId')}, sign-on at {idp['singleSignOnService']['url']}")]
        certificates = [idp.get("x509cert"), *(idp.get("x509certMulti") or {}).get("signing", [])]
        for body in filter(None, certificates):
            results.append(self._certificate(body))
        inline = (provider.app.settings.get("idp") or {}).get("x509cert")
        if inline and idp.get("x509cert") and "".join(inline.split()) != "".join(idp["x509cert"].split()):
            results.append((False, "the configured certificate is not the one in the identity provider's metadata"))
        sp = configuration["sp"]
        results.append((True, f"Checkoff's entity id {sp['entityId']}, ACS {sp['assertionConsumerService']['url']}"))
        return results

    @staticmethod
    def _certificate(body: str) -> tuple[bool, str]:
        base64_body = "".join(line.strip() for line in body.splitlines() if not line.strip().startswith("-----"))
        pem = "-----BEGIN CERTIFICATE-----\n" + "".join(base64_body.split()) + "\n-----END CERTIFICATE-----\n"
        try:
            certificate = x509.load_pem_x509_certificate(pem.encode())
        except ValueError as error:
            return False, f"the signing certificate cannot be read: {error}"
        now = datetime.datetime.now(datetime.UTC)
        ends = certificate.not_valid_after_utc
        if ends < now:
            return False, f"the signing certificate expired on {ends:%Y-%m-%d}"
        if certificate.not_valid_before_utc > now:
            return False, f"the signing certificate is not valid before {certificate.not_valid_before_utc:%Y-%m-%d}"
        return True, f"signing certificate {certificate.subject.rfc4514_string()} valid until {ends:%Y-%m-%d}"

"""Checkoff's settings: one file, read from the environment, with defaults safe for a school's server.

Every value a deployment changes comes from an environment variable named like the setting. DEBUG is
off unless set, and DATABASE_URL, REDIS_URL and (with DEBUG off) SECRET_KEY must be given: a missing
one stops every process with a message naming it. Private servers under `.data/` (config/embedded.py)
start only when asked with EMBEDDED_SERVICES=1, as `make run`, `make test` and `make bench` do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import single_sign_on

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# Off unless asked for: a server installed from the README without it set shows no tracebacks,
# and `make run` (development) sets DEBUG=1 itself.
DEBUG = env_bool("DEBUG", default=False)

# Private PostgreSQL and Redis servers under .data/, for development only: started when a URL below
# is missing and this is on (`make run`, `make test` and `make bench` set it). Without it, a missing
# URL stops the process, so an administrator who forgot one never writes to a database of its own.
EMBEDDED_SERVICES = env_bool("EMBEDDED_SERVICES", default=False)

# The one key anyone can read (it is in this file): accepted only with DEBUG on.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production-0123456789"  # noqa: S105

SECRET_KEY = os.environ.get("SECRET_KEY", "") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")

# Signatures on check-offs are keyed with their own secret, so rotating SECRET_KEY (sessions,
# password reset links) does not invalidate the evidence of every signed attempt.
SIGNATURE_KEY = os.environ.get("SIGNATURE_KEY", "") or SECRET_KEY


def missing_settings() -> list[str]:
    """What the environment lacks for this process to start, one sentence each, all at once: an
    administrator setting up a server reads every gap in one go rather than one per attempt."""
    problems: list[str] = []
    examples = {
        "DATABASE_URL": "the PostgreSQL database, e.g. postgresql://checkoff_app:secret@db.school.example:5432/checkoff",
        "REDIS_URL": "the Redis server, e.g. redis://redis.school.example:6379/0",
    }
    unset = [name for name in examples if not os.environ.get(name) and not EMBEDDED_SERVICES]
    problems += [f"{name} is not set: set it to the address of {examples[name]}." for name in unset]
    if unset:
        problems.append(
            "For development only, `make run` and `make test` start private servers under .data/ "
            "for an unset address instead (they set EMBEDDED_SERVICES=1)."
        )
    problems += single_sign_on.environment_problems(os.environ)
    if not DEBUG:
        if not SECRET_KEY:
            problems.append("SECRET_KEY must be set when DEBUG is off.")
        for name, value in (("SECRET_KEY", SECRET_KEY), ("SIGNATURE_KEY", SIGNATURE_KEY)):
            if value == DEVELOPMENT_SECRET_KEY:
                problems.append(f"{name} is the development key published in config/settings.py; set a secret one.")
    return problems


if problems := missing_settings():
    raise ImproperlyConfigured("Checkoff cannot start:\n- " + "\n- ".join(problems))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "django_htmx",
    "template_partials",
    "csp",
    "accounts",
    "curriculum",
    "externships",
    "certifications",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.PreferredLanguageMiddleware",
    "accounts.middleware.BrokenChainMiddleware",
    "accounts.middleware.SingleSignOnMiddleware",
    "config.not_found.NotFoundPageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "curriculum.middleware.RequireStaffTwoFactorMiddleware",
    "curriculum.middleware.ProgramTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "curriculum.context_processors.navigation",
                "notifications.context_processors.unread",
            ],
        },
    }
]


# --- Services: PostgreSQL and Redis, given, or private ones when asked (EMBEDDED_SERVICES) --

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    from config import embedded  # only with EMBEDDED_SERVICES on: missing_settings() stopped us otherwise

    DATABASE_URL = embedded.postgres_url()
# A connection kept for the next request (CONN_MAX_AGE seconds) is reused only by the thread that opened it.
# That pays where a fixed set of threads serves every request (gunicorn's sync or gthread workers, Celery
# workers: set CONN_MAX_AGE there); runserver starts a thread per request, and each kept connection
# outlived its thread: 300 page views left 42 open until PostgreSQL refused more. So none is kept unless asked.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")))}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# JIT compilation costs the app's short report queries more than it saves: the readiness list of
# 500 students took 971 ms with it and 460 ms without (make bench). Off for our connections.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Several test runs may share one server (CI, parallel checkouts): each may name its own test database.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if not REDIS_URL:
    from config import embedded

    REDIS_URL = embedded.redis_url()

CACHES = {
    "default": {
        # A real shared cache: allauth's failed-login rate limits must hold across processes.
        "BACKEND": "config.cache.TolerantRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "checkoff"),
    }
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"notifications.tasks.send_outbox": {"queue": "mail"}}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
# With the broker down, a page that queues work gives up quickly; the outbox rows wait for beat's sender.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2


# --- People and sign-in -------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env_bool("FAST_PASSWORD_HASHER", default=False):
    # Tests only: hashing is the slowest thing a test does, and tests prove nothing about it.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# Preceptors are outside the school and have no password: they sign in with an emailed code.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 15 * 60
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Checkoff] "
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, stated so they can be seen and tuned per deployment.
    "login_failed": os.environ.get("RATE_LIMIT_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "reauthenticate": "10/m/ip",
    "change_password": "5/m/user",
    # Preceptors' emailed sign-in codes: a few a minute per address, as allauth sets by default.
    "request_login_code": os.environ.get("RATE_LIMIT_LOGIN_CODE", "20/m/ip,3/m/key"),
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Checkoff"
MFA_RECOVERY_CODE_COUNT = 10

# Single sign-on through the school's own identity provider (config/ and accounts/single_sign_on.py):
# an OpenID Connect provider and a SAML identity provider, from SSO_* variables or from the admin's social
# applications. Nobody is created by signing in; a person is matched to their account by an address
# the provider vouches for, and linked.
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = single_sign_on.providers_from_environment(os.environ)
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # the adapter matches by address under its own rules
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = int(os.environ.get("SSO_REQUESTS_TIMEOUT", "10"))
# Staff (directors, coordinators, instructors) may be required to sign in through the school's
# provider or with two-factor: "any" (the default) or "provider_or_two_factor".
STAFF_SIGN_IN = os.environ.get("STAFF_SIGN_IN", "any")

INVITATION_VALID_DAYS = int(os.environ.get("INVITATION_VALID_DAYS", "14"))


# --- Language and time --------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# One style for a date and one for a date and time, per language (config/formats/); these are the
# English ones, for text built with no language active.
FORMAT_MODULE_PATH = ["config.formats"]
DATE_FORMAT = SHORT_DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "M j, Y, P"
USE_TZ = True
TIME_ZONE = "UTC"


# --- Static files, uploads, mail ----------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / ".data" / "staticfiles"))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise looks here even while DEBUG serves from finders
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / ".data" / "media"))
# Compliance documents: never under a URL; served one by one by a view that checks who asks.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / ".data" / "private"))
STORAGES["private"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": "/unused/", "file_permissions_mode": 0o600},
}
# A preceptor without a password signs evaluations within this many seconds of a code sign-in.
EVALUATION_SIGNING_WINDOW = int(os.environ.get("EVALUATION_SIGNING_WINDOW", "3600"))
COMPLIANCE_UPLOAD_MAX_BYTES = int(os.environ.get("COMPLIANCE_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
ROSTER_UPLOAD_MAX_BYTES = int(os.environ.get("ROSTER_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024)))
# An import's preview (its file read and planned at upload) may be applied for this long.
IMPORT_PREVIEW_HOURS = int(os.environ.get("IMPORT_PREVIEW_HOURS", "24"))
# Applying an import runs as a Celery task. A queued or applying import with no news for this long
# (no batch written, no change of state) was lost, and its page offers to import it again.
IMPORT_APPLY_STALE_SECONDS = int(os.environ.get("IMPORT_APPLY_STALE_SECONDS", "120"))
# The worker stops an apply that runs longer than this; its transaction rolls back and writes nothing.
IMPORT_APPLY_TIME_LIMIT = int(os.environ.get("IMPORT_APPLY_TIME_LIMIT", "900"))

DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Checkoff <no-reply@checkoff.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "notifications.mail.DemoMailboxBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
# A mail server that stops answering holds a sender this long, not for ever.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEMO_MAILBOX_DIR = Path(os.environ.get("DEMO_MAILBOX_DIR", BASE_DIR / ".data" / "mail"))
# Where links in emails point: mail is sent by the worker, which has no request to ask.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- The outbox (notifications/) -----------------------------------------------------------

# Each app's module of message kinds; the domain apps' also say which reminders are due.
REMINDER_PROVIDERS = ["accounts.emails", "certifications.reminders", "curriculum.reminders", "externships.reminders"]
# The planner writes what is due up to this far ahead, each row with its exact time to send.
REMINDER_PLAN_AHEAD_SECONDS = int(os.environ.get("REMINDER_PLAN_AHEAD_SECONDS", str(6 * 3600)))
# How many due messages a sender claims at once.
OUTBOX_BATCH = int(os.environ.get("OUTBOX_BATCH", "50"))
# How often beat starts a sender (a notice starts one at once, after its commit).
OUTBOX_EVERY_SECONDS = float(os.environ.get("OUTBOX_EVERY_SECONDS", "5"))
# A message "sending" this long belongs to a sender that stopped: it waits again (an attempt counted).
OUTBOX_CLAIM_TIMEOUT = int(os.environ.get("OUTBOX_CLAIM_TIMEOUT", "600"))
# Attempts before a message fails, and the wait after the first failed one (doubling, at most an hour).
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "8"))
OUTBOX_RETRY_SECONDS = int(os.environ.get("OUTBOX_RETRY_SECONDS", "60"))

CELERY_BEAT_SCHEDULE = {
    "plan-reminders": {"task": "notifications.tasks.plan_reminders", "schedule": 900.0},
    # A run that waited longer than its interval is dropped: the next one sends the same rows.
    "send-outbox": {
        "task": "notifications.tasks.send_outbox",
        "schedule": OUTBOX_EVERY_SECONDS,
        "options": {"expires": max(OUTBOX_EVERY_SECONDS, 30.0)},
    },
}


# --- Security -----------------------------------------------------------------------------

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the app append to X-Forwarded-For (the access log's "from where").
PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "0"))
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every page's scripts, styles, fonts and images come from our own static files: no inline script,
# no style attribute, nothing from another origin. An injected <script> or on* handler therefore
# never runs. img-src allows data: for Bootstrap's icons and allauth's TOTP QR code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12

# --- Logs: one line per event, each with its request's id (config/request_id.py) ----------------

# First, so every other middleware's log lines already carry the id.
MIDDLEWARE.insert(0, "config.request_id.RequestIdMiddleware")
# A load balancer probes /healthz over plain HTTP on the app's own port: answer it, don't redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.request_id.RequestIdFilter"}},
    "formatters": {
        "line": {
            "()": "config.request_id.SingleLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
# Celery's worker and beat log through the same handler and format, rather than Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False


# --- Error tracker: Sentry, when SENTRY_DSN is set (the optional "sentry" extra of pyproject) ------

SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    try:
        import sentry_sdk
    except ImportError as error:
        raise ImproperlyConfigured(
            "SENTRY_DSN is set but sentry-sdk is not installed: install it (pip install 'sentry-sdk>=2.20,<3') "
            "or unset SENTRY_DSN."
        ) from error
    # No personal data: the tracker sees the error and its stack, never who was signed in, their
    # address, cookies, the body of what they sent or the stack's local variables (student records
    # are FERPA-protected).
    sentry_sdk.init(
        dsn=SENTRY_DSN,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=0.0,
    )

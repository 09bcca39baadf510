from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Roles come from elsewhere: staff roles in a program, enrollments."""

    email = models.EmailField(_("email address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Pages and emails use this language. Empty: the browser's language."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Django admin access only; program roles live in curriculum.StaffRole.
    is_staff = models.BooleanField(_("admin site access"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="user_email_lowercase"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.lower()
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def sortable_name(self) -> str:
        return f"{self.last_name}, {self.first_name}".strip(", ") or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.first_name or self.email


class Invitation(models.Model):
    """An emailed link with which a person chooses their password and first signs in. Its email
    leaves through the outbox (`notifications.Message`, kind "invitation")."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return _("Invitation for %(person)s") % {"person": self.user}


# --- Record chains: tamper evidence for append-only records (the logic is in accounts/chains.py) ---

# The "digest before" a chain's first row.
GENESIS = ""


def keyed_digest(payload: dict[str, Any]) -> str:
    """HMAC-SHA256 with SIGNATURE_KEY over the payload as canonical JSON: only the key's holder can forge it."""
    content = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(settings.SIGNATURE_KEY.encode(), content, hashlib.sha256).hexdigest()


def chain_value(value: Any) -> Any:
    """A field's value as a chain digest covers it: times in UTC (as the database returns them,
    whatever zone the writer used), dates and decimals as text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    return value


class ChainHead(models.Model):
    """Where one student's chain of one kind of record ends: how many rows it has and the last one's
    digest, sealed with the key. It is what shows a deleted last row, and its row lock is what makes
    appends to one chain wait for each other (and only for each other)."""

    kind = models.CharField(max_length=40)
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    length = models.PositiveIntegerField(default=0)
    last_digest = models.CharField(max_length=64, blank=True)
    seal = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "student"], name="chain_head_once_per_student")]

    def __str__(self) -> str:
        return f"{self.kind} chain of student {self.student_id}: {self.length} rows"

    @staticmethod
    def compute_seal(*, kind: str, student_id: int, length: int, last_digest: str) -> str:
        return keyed_digest({"head": kind, "student": student_id, "length": length, "last": last_digest})

    def is_sealed(self) -> bool:
        """Whether length and last digest are as the app last wrote them: a shortened head does not seal."""
        expected = self.compute_seal(
            kind=self.kind, student_id=self.student_id, length=self.length, last_digest=self.last_digest
        )
        return hmac.compare_digest(expected, self.seal)


class ChainedRecord(models.Model):
    """An append-only record that is a link of its student's chain of its kind.

    Each row's digest is keyed over the previous row's digest, its position and its own content
    (`CHAIN_FIELDS`), so editing, deleting or inserting a row (even with triggers off, by someone
    with the database but not SIGNATURE_KEY) breaks the chain at that row; the head shows a deleted
    last row. Rows are linked by `accounts.chains.link`, in the transaction that writes them."""

    CHAIN: ClassVar[str]
    CHAIN_FIELDS: ClassVar[tuple[str, ...]]

    chain_position = models.PositiveIntegerField(editable=False)
    chain_digest = models.CharField(max_length=64, editable=False)

    student_id: int

    class Meta:
        abstract = True

    def chain_values(self) -> list[Any]:
        return [chain_value(getattr(self, name)) for name in self.CHAIN_FIELDS]

    @classmethod
    def link_digest(cls, *, student_id: int, position: int, previous: str, values: Sequence[Any]) -> str:
        return keyed_digest(
            {"chain": cls.CHAIN, "student": student_id, "position": position, "previous": previous, "row": list(values)}
        )

    @classmethod
    def chain_rows(cls) -> models.QuerySet[Any]:
        """The rows that must be links: every row, unless a kind chains only some (approved hours)."""
        return cls._default_manager.all()

    @classmethod
    def content_problems(cls, pks: list[int]) -> dict[int, str]:
        """Rows among these whose own signed content no longer matches (a kind with a digest of its own
        over other tables says so); the chain covers the row itself."""
        return {}


def client_address(meta: dict[str, Any]) -> str | None:
    """Where a request came from. Behind PROXY_HOPS trusted proxies, the address the nearest
    untrusted hop was seen at in X-Forwarded-For; anything a client could forge is not believed."""
    candidate = meta.get("REMOTE_ADDR") or ""
    hops = settings.PROXY_HOPS
    if hops:
        forwarded = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
        candidate = forwarded[-hops] if len(forwarded) >= hops else ""
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class AccessLog(ChainedRecord):
    """Append-only record of who signed, revoked or looked at a student's record, from where.

    Students read theirs as "who viewed my record" (FERPA). A PostgreSQL trigger refuses UPDATE
    and DELETE on this table (migration accounts/0003), another TRUNCATE (0005), and each student's
    rows form a chain (`ChainedRecord`). Every row is about a student, so every row is in a chain.
    """

    CHAIN = "access_log"
    CHAIN_FIELDS = ("actor_id", "student_id", "action", "target", "at", "ip_address", "user_agent")

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed the competency record")
        SIGN = "sign", _("Signed a check-off")
        REVOKE = "revoke", _("Revoked a signature")
        DOWNLOAD = "download", _("Downloaded the master competency checklist")
        EVALUATE = "evaluate", _("Signed an externship evaluation")
        DOCUMENT = "document", _("Opened a compliance document")

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_log")
    action = models.CharField(max_length=20, choices=Action.choices)
    target = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["student", "-at"])]
        constraints = [
            models.UniqueConstraint(fields=["student", "chain_position"], name="access_log_chain_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.student} at {self.at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(
        cls,
        *,
        actor_id: int,
        student_id: int,
        action: str,
        target: str = "",
        request_meta: dict[str, Any] | None = None,
    ) -> AccessLog:
        """Write one row, linked into the student's chain. `request_meta` is a request's META: the
        client's address and browser."""
        from accounts import chains

        meta = request_meta or {}
        entry = cls(
            actor_id=actor_id,
            student_id=student_id,
            action=action,
            target=target,
            ip_address=client_address(meta),
            user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:300],
        )
        with transaction.atomic():
            chains.link([entry])
            entry.save(force_insert=True)
        return entry

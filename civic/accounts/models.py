from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

# The name a deleted account's proposals are shown under. The API gives this English
# text; the pages show it in the visitor's language (frontend/templatetags/people.py).
FORMER_RESIDENT = gettext_noop("a former resident")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified", True)
        extra.setdefault("display_name", "admin")
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account. Email is the login and never leaves staff-only views."""

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=80)
    district = models.ForeignKey(
        "strategy.District", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The language emails to this person are written in.
    language = models.CharField(
        max_length=2, default="ru", choices=[("ru", "ru"), ("kk", "kk"), ("en", "en")]
    )
    email_verified = models.BooleanField(default=False)
    # Emails about the city's answers to proposals this person wrote or reacted to; the
    # signed link in each such email turns them off in one click.
    notify_answers = models.BooleanField(default=True)
    # News about what this person follows, by email: each as it happens, once a day, or
    # never (the on-site list has it all the same).
    notify_email = models.CharField(
        max_length=10,
        default="daily",
        choices=[("immediate", "immediate"), ("daily", "daily"), ("off", "off")],
    )
    # Follow what one writes, comments on or reacts to.
    follow_automatically = models.BooleanField(default=True)
    # When the verification link was last mailed; accounts still unverified and
    # never mailed are picked up by the verification sweep (a lost message).
    verification_sent_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # An address the person asked to move to: it replaces `email` only once the link
    # mailed to it is opened, so a typo or someone else's address never takes the account.
    pending_email = models.EmailField(blank=True)
    # The version of the terms and privacy notice the person accepted, and when: the
    # record of consent the law on personal data asks the operator to be able to show.
    consented_terms_version = models.CharField(max_length=20, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    # When the person deleted the account. The row stays because their proposals (public
    # text the city answers) stay; everything that identified them is gone from it.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name or f"user {self.pk}"


class DataExport(models.Model):
    """The "download my data" file of one account, built in the background.

    One per account: asking again rebuilds it. The file lives under MEDIA_ROOT/exports/,
    which nothing serves; only its owner's request reads it, and a beat task removes it
    after CIVIC_EXPORT_RETENTION_DAYS.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="data_export")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to="exports/", blank=True, max_length=200)
    # Each build claims the export with the next attempt number; only that build may
    # finish it, so a redelivered message or a build the sweep took over cannot mix files.
    attempt = models.PositiveSmallIntegerField(default=0)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="data_export_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="data_export_status_age")]

    def __str__(self) -> str:
        return f"data export of {self.user_id} ({self.status})"

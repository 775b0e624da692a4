from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


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
    # When the verification link was last mailed; accounts still unverified and
    # never mailed are picked up by the verification sweep (a lost message).
    verification_sent_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name or f"user {self.pk}"

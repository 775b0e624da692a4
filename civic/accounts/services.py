from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from civic.accounts import roles
from civic.accounts.models import User
from civic.accounts.tokens import email_token_read
from civic.celery import enqueue_on_commit
from civic.errors import InvalidInput
from civic.text import clean_text
from strategy.models import District


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    display_name: str,
    district: District | None = None,
    language: str = "ru",
    password_hash: str | None = None,
) -> User:
    """Create a resident account and mail the verification link after commit.

    `password_hash`, when given, is `make_password(password)` computed by the caller
    once for many accounts (the demo loader); the password is still validated.
    """
    from civic.accounts.tasks import send_verification_email

    email = User.objects.normalize_email(email.strip()).lower()
    # The display name is public, beside every proposal: one visible line.
    display_name = clean_text(
        display_name, field="display_name", min_length=1, max_length=80, multiline=False
    )
    if User.objects.filter(email__iexact=email).exists():
        raise InvalidInput(
            gettext_noop("An account with this email already exists."),
            field="email",
            code="email_taken",
        )
    candidate = User(email=email, display_name=display_name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from exc
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=None if password_hash else password,
                display_name=display_name,
                district=district,
                language=language if language in ("ru", "kk", "en") else "ru",
            )
    except IntegrityError as exc:
        # Two registrations of one address at once: the unique index decides.
        raise InvalidInput(
            gettext_noop("An account with this email already exists."),
            field="email",
            code="email_taken",
        ) from exc
    if password_hash:
        user.password = password_hash
        user.save(update_fields=["password"])
    enqueue_on_commit(send_verification_email, user.pk)
    return user


@transaction.atomic
def user_verify_email(*, token: str) -> User:
    try:
        user_id, email = email_token_read(token)
    except signing.SignatureExpired as exc:
        raise InvalidInput(
            gettext_noop("This verification link has expired; ask for a new one."),
            field="token",
            code="token_expired",
        ) from exc
    except signing.BadSignature as exc:
        raise InvalidInput(
            gettext_noop("This verification link is not valid."),
            field="token",
            code="token_invalid",
        ) from exc
    user = User.objects.select_for_update().filter(pk=user_id, email=email).first()
    if user is None:
        raise InvalidInput(
            gettext_noop("This verification link is not valid."),
            field="token",
            code="token_invalid",
        )
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user


def user_mark_verification_sent(*, user_id: int) -> None:
    User.objects.filter(pk=user_id).update(verification_sent_at=timezone.now())


def user_resend_verification(*, user: User) -> None:
    from civic.accounts.tasks import send_verification_email

    if not user.email_verified:
        enqueue_on_commit(send_verification_email, user.pk)


@transaction.atomic
def role_grant(*, user: User, role: str) -> User:
    if role not in roles.ROLES:
        raise InvalidInput(f"Unknown role {role!r}; one of {', '.join(roles.ROLES)}.", field="role")
    if role == roles.RESIDENT:
        return user  # every account is a resident
    user.groups.add(Group.objects.get(name=role))
    if role == roles.ADMIN and not user.is_staff:
        # Admins also work in the Django admin.
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


@transaction.atomic
def role_revoke(*, user: User, role: str) -> User:
    if role not in roles.ROLES or role == roles.RESIDENT:
        raise InvalidInput(f"Role {role!r} cannot be revoked.", field="role")
    user.groups.remove(Group.objects.get(name=role))
    if role == roles.ADMIN and user.is_staff and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    return user


def user_set_language(*, user: User, language: str) -> User:
    """The language of the pages and of the emails sent to this person."""
    if language not in ("ru", "kk", "en"):
        raise InvalidInput(
            gettext_noop("Unknown language %(language)r."),
            field="language",
            params={"language": language},
        )
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


def user_set_answer_notifications(*, user: User, enabled: bool) -> User:
    """Emails about the city's answers on or off, from the signed link in such an email
    (no session needed) or from the account's own settings page."""
    if user.notify_answers != enabled:
        user.notify_answers = enabled
        user.save(update_fields=["notify_answers"])
    return user

import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_noop
from rest_framework.authtoken.models import Token

from civic.accounts import personal_data, roles
from civic.accounts.consent import terms_version
from civic.accounts.export import data_export_discard
from civic.accounts.models import FORMER_RESIDENT, User
from civic.accounts.rules import allows
from civic.accounts.selectors import staff_accounts, user_is_staff_account
from civic.accounts.tokens import (
    email_change_token_make,
    email_change_token_read,
    email_change_url,
    email_token_make,
    email_token_read,
    email_verification_url,
)
from civic.celery import enqueue_on_commit
from civic.errors import InvalidInput, NotAllowed
from civic.languages import LANGUAGE_CODES, supported_language
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
    accept_terms: bool = False,
) -> User:
    """Create a resident account and mail the verification link after commit.

    `password_hash`, when given, is `make_password(password)` computed by the caller
    once for many accounts (the demo loader); the password is still validated.
    `accept_terms` is the person's consent to the terms in force, recorded with its time.
    """

    _check_accepts(accept_terms)
    email = User.objects.normalize_email(email.strip()).lower()
    # The display name is public, beside every proposal: one visible line.
    display_name = clean_text(
        display_name, field="display_name", min_length=1, max_length=80, multiline=False
    )
    _check_not_former_resident(display_name)
    display_name_validate(display_name=display_name)
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
                language=supported_language(language),
                consented_terms_version=terms_version(),
                consented_at=timezone.now(),
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
    enqueue_on_commit("accounts.send_verification_email", user.pk)
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


def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def display_name_validate(*, display_name: str, user: User | None = None) -> None:
    """Refuse a resident a name a staff account uses (case and spacing aside), so that no
    one passes for a moderator or the city's responder beside a proposal. `user` is the
    account taking the name (None at registration); staff keep and share names freely."""
    if user is not None and user_is_staff_account(user):
        return
    others = staff_accounts().exclude(pk=user.pk) if user is not None else staff_accounts()
    wanted = _name_key(display_name)
    if any(_name_key(name) == wanted for name in others.values_list("display_name", flat=True)):
        raise InvalidInput(
            gettext_noop("This name is used by a member of staff; choose another."),
            field="display_name",
            code="display_name_reserved",
        )


def token_valid_since() -> datetime:
    """API tokens issued before this moment have expired (CIVIC_TOKEN_TTL_DAYS)."""
    return timezone.now() - timedelta(days=settings.CIVIC_TOKEN_TTL_DAYS)


@transaction.atomic
def token_issue(*, user: User) -> Token:
    """The account's API token at sign-in: the one it holds while that is valid, else a new
    one (DRF keeps one token per account, shared by the clients that signed in)."""
    Token.objects.filter(user=user, created__lte=token_valid_since()).delete()
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, key: str) -> None:
    """Sign-out, or an expired token met at authentication."""
    Token.objects.filter(key=key).delete()


@transaction.atomic
def user_credentials_revoke(*, user: User) -> int:
    """End every API token and every session of `user`; call it after the password changed
    (set, reset, or made unusable). Returns the number of tokens deleted.

    Sessions need no scan: each keeps an HMAC of the password hash, which Django checks on
    every request (django.contrib.auth.get_user) and flushes the session when it no longer
    matches, so the new password signs every browser out at its next request. A view that
    keeps its own session calls update_session_auth_hash, as Django's password views do.
    Tokens carry no such check, so they are deleted here.
    """
    return Token.objects.filter(user=user).delete()[0]


def user_mark_verification_sent(*, user_id: int) -> None:
    User.objects.filter(pk=user_id).update(verification_sent_at=timezone.now())


def user_resend_verification(*, user: User) -> None:

    if not user.email_verified:
        enqueue_on_commit("accounts.send_verification_email", user.pk)


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
    if language not in LANGUAGE_CODES:
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


NOTIFY_EMAIL_CHOICES = ("immediate", "daily", "off")


def user_set_notification_preferences(
    *, user: User, notify_email: str | None = None, follow_automatically: bool | None = None
) -> User:
    """How often news of what one follows comes by email, and whether writing, commenting
    and reacting follow a proposal. Also reached by the signed link in those emails."""
    changed = []
    if notify_email is not None:
        if notify_email not in NOTIFY_EMAIL_CHOICES:
            raise InvalidInput(
                gettext_noop("Choose immediate, daily or off."), field="notify_email"
            )
        if user.notify_email != notify_email:
            user.notify_email = notify_email
            changed.append("notify_email")
    if follow_automatically is not None and user.follow_automatically != follow_automatically:
        user.follow_automatically = follow_automatically
        changed.append("follow_automatically")
    if changed:
        user.save(update_fields=changed)
    return user


# --- Personal data: consent, profile, change of address, deletion -------------------------------


def _check_accepts(accept_terms: bool) -> None:
    if accept_terms is not True:
        raise InvalidInput(
            gettext_noop("Accept the terms of use and the privacy notice to go on."),
            field="accept_terms",
            code="terms_not_accepted",
        )


def _check_not_former_resident(display_name: str) -> None:
    """Deleted accounts' proposals are shown as by "a former resident", in each language;
    a living account taking that name would pass for one."""
    taken = {_name_key(FORMER_RESIDENT)}
    for language in LANGUAGE_CODES:
        with translation.override(language):
            taken.add(_name_key(translation.gettext(FORMER_RESIDENT)))
    if _name_key(display_name) in taken:
        raise InvalidInput(
            gettext_noop("This name is kept for deleted accounts; choose another."),
            field="display_name",
            code="display_name_reserved",
        )


@transaction.atomic
def user_accept_terms(*, user: User, accept_terms: bool) -> User:
    """Record the person's consent to the terms in force, with its time."""
    _check_accepts(accept_terms)
    user.consented_terms_version = terms_version()
    user.consented_at = timezone.now()
    user.save(update_fields=["consented_terms_version", "consented_at"])
    return user


@transaction.atomic
def user_profile_update(
    *, user: User, display_name: str, district: District | None, language: str
) -> User:
    """The name shown beside the person's proposals, their district and language."""
    display_name = clean_text(
        display_name, field="display_name", min_length=1, max_length=80, multiline=False
    )
    _check_not_former_resident(display_name)
    display_name_validate(display_name=display_name, user=user)
    if language not in LANGUAGE_CODES:
        raise InvalidInput(
            gettext_noop("Unknown language %(language)r."),
            field="language",
            params={"language": language},
        )
    user.display_name = display_name
    user.district = district
    user.language = language
    user.save(update_fields=["display_name", "district", "language"])
    return user


def _check_password(user: User, password: str) -> None:
    if not password or not user.check_password(password):
        raise NotAllowed(
            gettext_noop("The password is not right."), field="password", code="wrong_password"
        )


@transaction.atomic
def user_email_change_request(*, user: User, email: str, password: str) -> User:
    """Keep the new address as pending and mail it a link; the old address is told.

    The current password is asked so that someone at an unlocked screen cannot move the
    account to their own address and then reset the password. A newer request replaces
    an older one, whose link stops working.
    """

    email = User.objects.normalize_email((email or "").strip()).lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput(
            gettext_noop("Enter a valid email address."), field="email", code="invalid"
        ) from exc
    _check_password(user, password)
    if email == user.email:
        raise InvalidInput(
            gettext_noop("This is already the address of your account."),
            field="email",
            code="email_unchanged",
        )
    if User.objects.filter(email__iexact=email).exists():
        raise InvalidInput(
            gettext_noop("An account with this email already exists."),
            field="email",
            code="email_taken",
        )
    user.pending_email = email
    user.save(update_fields=["pending_email"])
    enqueue_on_commit("accounts.send_email_change", user.pk, email)
    return user


@transaction.atomic
def user_email_change_confirm(*, token: str) -> User:
    """The link mailed to the new address: the address becomes the account's, verified."""
    invalid = InvalidInput(
        gettext_noop("This link is not valid, or a newer change of address replaced it."),
        field="token",
        code="token_invalid",
    )
    try:
        user_id, email = email_change_token_read(token)
    except signing.SignatureExpired as exc:
        raise InvalidInput(
            gettext_noop("This link has expired; ask for the change again."),
            field="token",
            code="token_expired",
        ) from exc
    except signing.BadSignature as exc:
        raise invalid from exc
    user = (
        User.objects.select_for_update()
        .filter(pk=user_id, pending_email=email, is_active=True)
        .first()
    )
    if user is None:
        raise invalid
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise InvalidInput(
            gettext_noop("An account with this email already exists."),
            field="email",
            code="email_taken",
        )
    user.email = email
    user.pending_email = ""
    user.email_verified = True
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "pending_email", "email_verified"])
    except IntegrityError as exc:
        # Someone registered the address between the check and the write.
        raise InvalidInput(
            gettext_noop("An account with this email already exists."),
            field="email",
            code="email_taken",
        ) from exc
    return user


@transaction.atomic
def user_delete(*, user: User, password: str) -> None:
    """Delete the account at its owner's request, confirmed by the password.

    Everything that identifies the person goes: the address (replaced by a placeholder
    that can never receive mail and keeps the unique index happy), the password, the
    name, the district, consent, tokens, sessions, the data export. Each app erases what
    it keeps (personal_data: reactions go and tallies follow). The row stays, inactive,
    because the proposals stay: public text the city answers, shown as by "a former
    resident".
    """

    user = User.objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is not None:
        return
    _check_password(user, password)
    if not allows(user, "accounts.close_own_account"):
        # Staff act for the city: their decisions and answers are its record, and an
        # administrator closes their accounts (and reassigns the work) instead.
        raise NotAllowed(
            gettext_noop("Staff accounts are closed by an administrator."),
            code="staff_account",
        )
    personal_data.erase_all(user)
    data_export_discard(user=user)
    user.email = f"deleted-{user.pk}@invalid"
    user.pending_email = ""
    user.set_unusable_password()
    user.display_name = FORMER_RESIDENT
    user.district = None
    user.language = "ru"
    user.email_verified = False
    user.notify_answers = False
    user.notify_email = "off"
    user.follow_automatically = False
    user.consented_terms_version = ""
    user.consented_at = None
    user.is_active = False
    user.last_login = None
    user.deleted_at = timezone.now()
    user.save()
    user_credentials_revoke(user=user)
    # The new password hash already voids every session (Django checks it on each
    # request); the rows themselves are found and removed after the commit.
    enqueue_on_commit("accounts.end_sessions", user.pk)


def user_sessions_end(*, user_id: int) -> int:
    """Remove the stored sessions of an account: a scan, since sessions are not indexed by
    account; run in the background after a deletion."""
    ended = 0
    now = timezone.now()
    for session in Session.objects.filter(expire_date__gt=now).iterator(chunk_size=2000):
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id):
            ended += Session.objects.filter(pk=session.pk).delete()[0]
    return ended


@transaction.atomic
def user_email_change_cancel(*, user: User) -> User:
    """Forget the pending address: the link mailed to it stops working."""
    if user.pending_email:
        user.pending_email = ""
        user.save(update_fields=["pending_email"])
    return user


def verification_email_send(*, user_id: int) -> None:
    """Mail the link that confirms the address; once verified (or deleted), nothing."""
    user = User.objects.filter(pk=user_id).first()
    # A deleted account has a placeholder address that must never be written to.
    if user is None or user.email_verified or not user.is_active:
        return
    token = email_token_make(user_id=user.pk, email=user.email)
    language = supported_language(user.language)
    context = {"name": user.display_name, "url": email_verification_url(token, language)}
    with translation.override(language):
        subject = render_to_string("accounts/emails/verification_subject.txt", context)
        body = render_to_string("accounts/emails/verification.txt", context)
    send_mail(
        subject=" ".join(subject.split()),
        message=body.strip() + "\n",
        from_email=None,
        recipient_list=[user.email],
    )
    user_mark_verification_sent(user_id=user.pk)


def email_change_send(*, user_id: int, email: str) -> None:
    """The link to the new address, and a notice to the old one that a change was asked.

    A no-op if the account has since asked for another address (or none): that request
    mailed its own link.
    """
    user = User.objects.filter(pk=user_id, pending_email=email, is_active=True).first()
    if user is None:
        return
    language = supported_language(user.language)
    token = email_change_token_make(user_id=user.pk, email=email)
    context = {
        "name": user.display_name,
        "url": email_change_url(token, language),
        "masked": _masked(email),
    }
    with translation.override(language):
        for template, recipient in (("email_change", email), ("email_change_notice", user.email)):
            subject = render_to_string(f"accounts/emails/{template}_subject.txt", context)
            body = render_to_string(f"accounts/emails/{template}.txt", context)
            send_mail(
                subject=" ".join(subject.split()),
                message=body.strip() + "\n",
                from_email=None,
                recipient_list=[recipient],
            )


def _masked(email: str) -> str:
    """The new address as the old mailbox is told it: enough to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"

from celery import shared_task
from django.core.mail import send_mail
from django.utils import translation

from civic.accounts.models import User
from civic.accounts.tokens import email_token_make, email_verification_url

_SUBJECT = {
    "ru": "Подтвердите адрес электронной почты",
    "kk": "Электрондық пошта мекенжайын растаңыз",
    "en": "Confirm your email address",
}
_BODY = {
    "ru": "Здравствуйте, {name}!\n\nЧтобы подавать предложения, подтвердите адрес: {url}\n\n"
    "Ссылка действует три дня.",
    "kk": "Сәлеметсіз бе, {name}!\n\nҰсыныстар жіберу үшін мекенжайды растаңыз: {url}\n\n"
    "Сілтеме үш күн жарамды.",
    "en": "Hello {name},\n\nTo submit proposals, confirm your address: {url}\n\n"
    "The link is valid for three days.",
}


@shared_task(name="accounts.send_verification_email")
def send_verification_email(user_id: int) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None or user.email_verified:
        return
    token = email_token_make(user_id=user.pk, email=user.email)
    language = user.language if user.language in _BODY else "ru"
    with translation.override(language):
        send_mail(
            subject=_SUBJECT[language],
            message=_BODY[language].format(
                name=user.display_name, url=email_verification_url(token)
            ),
            from_email=None,
            recipient_list=[user.email],
        )

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civic.accounts import roles
from civic.accounts.models import User
from civic.accounts.services import role_grant
from civic.errors import InvalidInput


class Command(BaseCommand):
    help = "Grant a role (moderator, analyst, admin) to the account with this email."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("role", choices=roles.ROLES)

    def handle(self, *args: object, email: str, role: str, **options: object) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No account with email {email}.")
        try:
            role_grant(user=user, role=role)
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{email} is now {role}.")

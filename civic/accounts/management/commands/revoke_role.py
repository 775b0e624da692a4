from django.core.management.base import BaseCommand, CommandError, CommandParser

from civic.accounts import roles
from civic.accounts.models import User
from civic.accounts.services import role_revoke
from civic.errors import InvalidInput


class Command(BaseCommand):
    help = "Take a role (moderator, analyst, admin) away from the account with this email."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("role", choices=roles.STAFF_ROLES)

    def handle(self, *args: object, email: str, role: str, **options: object) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No account with email {email}.")
        try:
            role_revoke(user=user, role=role)
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{email} is no longer {role}.")

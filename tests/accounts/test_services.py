import threading

import pytest
from django.db import connection, connections

from civic.accounts.models import User
from civic.accounts.services import user_register
from civic.errors import InvalidInput


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL: set DATABASE_URL"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_registrations_of_one_email_at_once_give_one_account_and_one_400():
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def register() -> None:
        try:
            barrier.wait()
            user_register(
                email="same@example.org",
                password="a-long-enough-passphrase",
                display_name="Same",
                accept_terms=True,
            )
            outcomes.append("created")
        except InvalidInput as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "email_taken"]
    assert User.objects.filter(email="same@example.org").count() == 1


@pytest.mark.django_db
def test_email_is_case_insensitive_and_trimmed():
    user_register(
        email=" Aigerim@Example.org ",
        password="a-long-enough-passphrase",
        display_name="Айгерим",
        accept_terms=True,
    )
    with pytest.raises(InvalidInput) as error:
        user_register(
            email="aigerim@example.ORG",
            password="a-long-enough-passphrase",
            display_name="Другая",
            accept_terms=True,
        )
    assert error.value.field == "email"
    assert User.objects.get().email == "aigerim@example.org"

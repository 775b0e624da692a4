"""Fixtures of the page tests: a section, a second moderator, and proposals published,
pending and sent back for changes."""

import pytest

from civic.accounts.services import role_grant
from tests.factories import SectionFactory, UserFactory
from tests.frontend.helpers import _decide, _published, _submit, _themes


@pytest.fixture
def section(strategy):
    return SectionFactory(strategy=strategy, code="1", position=0, title_ru="Экология города")


@pytest.fixture
def other_moderator(db):
    user = UserFactory(display_name="Второй модератор")
    role_grant(user=user, role="moderator")
    return user


@pytest.fixture
def published(strategy, resident, moderator, section):
    return _published(resident, strategy, moderator, section=section, themes=_themes("ecology"))


@pytest.fixture
def pending(strategy, resident):
    return _submit(resident, strategy, title="Предложение на модерации")


@pytest.fixture
def changes_requested(strategy, resident, moderator):
    proposal = _submit(resident, strategy, title="Предложение на доработке")
    return _decide(proposal, moderator, "request_changes", note="Уточните адрес.")

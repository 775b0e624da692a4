"""load_demo on a server with debug off (issue 18): it refuses to create accounts with a
known password unless told to, and loads only the document when asked.

pytest-django runs the commands with debug off, as a production server has it; `make run`
turns debug on, and there load_demo loads everything without a flag.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from civic.accounts.models import User
from proposals.demo import DEMO_PASSWORD, DEMO_SLUG
from proposals.models import Proposal
from strategy.models import Section, Strategy

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_with_debug_off_it_refuses_and_says_how_not_to(settings, capsys):
    assert settings.DEBUG is False
    with pytest.raises(CommandError) as refused:
        call_command("load_demo")
    message = str(refused.value)
    assert "known password" in message
    assert "--force" in message
    assert "--strategy-only" in message
    assert not User.objects.exists()
    assert not Strategy.objects.filter(slug=DEMO_SLUG).exists()
    assert DEMO_PASSWORD not in capsys.readouterr().out


def test_the_refusal_is_exit_status_1_from_manage_py(tmp_path):
    # A release script must stop on it. It refuses before it touches the database.
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "demo-refusal-" + "k" * 50,
        "CIVIC_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "load_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "load_demo --force" in result.stderr
    assert DEMO_PASSWORD not in result.stdout + result.stderr


def test_strategy_only_loads_the_document_and_nobody(settings, capsys):
    call_command("load_demo", "--strategy-only")
    strategy = Strategy.objects.get(slug=DEMO_SLUG)
    assert strategy.status == Strategy.Status.OPEN
    assert Section.objects.filter(strategy=strategy).count() == 32
    assert strategy.versions.count() == 1
    assert not User.objects.exists()
    assert not Proposal.objects.exists()
    out = capsys.readouterr().out
    assert "no accounts or proposals" in out
    assert DEMO_PASSWORD not in out

    call_command("load_demo", "--strategy-only")  # again: nothing new
    assert strategy.versions.count() == 1
    assert not User.objects.exists()


@pytest.mark.slow
def test_force_loads_the_whole_demo_with_debug_off(settings, capsys):
    call_command("load_demo", "--force")
    assert User.objects.filter(email="admin@demo.civic.kz").exists()
    assert Proposal.objects.filter(strategy__slug=DEMO_SLUG).count() > 100
    assert f"password: {DEMO_PASSWORD}" in capsys.readouterr().out

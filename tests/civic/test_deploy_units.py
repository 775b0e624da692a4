"""The production process layout shipped in deploy/systemd (docs/operations.md): every
process restarts by itself, beat runs once and apart from the workers, and systemd
accepts the files as they are written."""

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
SERVICES = ["civic-web.service", "civic-worker.service", "civic-beat.service"]


def _unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(UNITS / name)
    return parser


@pytest.mark.parametrize("name", SERVICES)
def test_each_process_comes_back_by_itself(name):
    unit = _unit(name)
    assert unit["Service"]["Restart"] == "always"
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"  # never gives up restarting
    assert unit["Unit"]["PartOf"] == "civic.target"
    assert unit["Install"]["WantedBy"] == "civic.target"
    assert unit["Service"]["EnvironmentFile"] == "/etc/civic/civic.env"


def test_the_target_starts_all_three_and_beat_runs_apart():
    wants = _unit("civic.target")["Unit"]["Wants"].split()
    assert sorted(wants) == sorted(SERVICES)
    commands = {name: _unit(name)["Service"]["ExecStart"] for name in SERVICES}
    assert " beat " in commands["civic-beat.service"] + " "
    assert " -B" not in commands["civic-worker.service"]
    assert "--beat" not in commands["civic-worker.service"]
    assert [name for name, command in commands.items() if " beat" in command] == [
        "civic-beat.service"
    ]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_units(tmp_path):
    # The paths of a real installation do not exist here: point them at stand-ins.
    (tmp_path / "civic.env").write_text("")
    for path in UNITS.iterdir():
        text = (
            path.read_text()
            .replace("/srv/civic/.venv/bin/", "/bin/")
            .replace("/srv/civic", str(tmp_path))
            .replace("/etc/civic/civic.env", str(tmp_path / "civic.env"))
            .replace("User=civic", "User=root")
            .replace("Group=civic", "Group=root")
        )
        for program in ("gunicorn", "celery"):
            text = text.replace(f"/bin/{program} ", "/bin/true ")
        (tmp_path / path.name).write_text(text)
    result = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            "--man=no",
            *(str(tmp_path / p.name) for p in UNITS.iterdir()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown" not in result.stderr and "ignoring" not in result.stderr, result.stderr

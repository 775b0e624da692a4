"""A built wheel is the whole product (issue 18): installed into a fresh virtual environment
outside the checkout, it runs the release steps, loads the demo and serves pages from any
directory, and writes nothing beside its own code or into the checkout.

Slow but real: it builds the wheel from a copy of the sources (without the .mo files the
checkout has compiled, so the build must make them), installs it with its dependencies
through pip as configured on the machine (PyPI, or pip's cache and local indexes), runs
`civic-admin` and gunicorn from the new environment's bin/ in another working directory,
and speaks HTTP to it. About a minute, most of it pip unpacking NumPy, SciPy and
scikit-learn. Never skipped: a network or packaging failure fails it.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

# Left out of the copy the wheel is built from: what a clean clone does not have, and the
# compiled catalogues, which the build must make itself.
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "data",
    "staticfiles",
    "artifacts",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    "*.mo",
    ".pytest_cache",
    ".ruff_cache",
)
# Variables of the environment running the suite that would configure the installed Civic.
CONFIGURING = ("DJANGO_", "CIVIC_", "EMAIL_", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT")


@dataclass
class Installed:
    venv: Path
    site_packages: Path
    # The folders and files the wheel put into site-packages (civic, strategy, ...).
    package_paths: list[Path]

    def bin(self, program: str) -> str:
        return str(self.venv / "bin" / program)


def _run(args: list[str], *, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel, built and installed into a virtual environment of its own."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    pip_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(source), "-w", str(base)],
        cwd=base,
        env=pip_env,
        timeout=300,
    )
    (wheel,) = base.glob("civic-*.whl")
    venv = base / "venv"
    # The suite's pip installs into the new environment (--python): creating one without
    # pip saves bootstrapping a second pip. Bytecode is compiled below, for Civic's own
    # packages only: pip's compiling of every dependency is half the install's time.
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=120)
    python = venv / "bin" / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-compile",
            str(wheel),
        ],
        cwd=base,
        env=pip_env,
        timeout=900,
    )
    found = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=base,
        timeout=60,
    )
    site_packages = Path(found.stdout.strip())
    (dist_info,) = site_packages.glob("civic-*.dist-info")
    top_level = (dist_info / "top_level.txt").read_text().split()
    assert sorted(top_level) == ["civic", "frontend", "proposals", "strategy"]
    package_paths = [site_packages / name for name in top_level] + [dist_info]
    # As a pip install does by default: without it, the first run would write the
    # bytecode caches into the installed packages.
    _run(
        [str(python), "-m", "compileall", "-q", *map(str, package_paths[:-1])],
        timeout=300,
    )
    return Installed(venv=venv, site_packages=site_packages, package_paths=package_paths)


def _files(*roots: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """Every file under the roots, with its size and modification time."""
    found = {}
    for root in roots:
        for folder, subfolders, names in os.walk(root):
            subfolders[:] = [name for name in subfolders if name not in skip]
            for name in names:
                path = Path(folder) / name
                stat = path.stat()
                found[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


@pytest.fixture
def site(installed: Installed, tmp_path: Path) -> Iterator[dict]:
    """A working directory and a production environment, every folder in tmp_path."""
    folders = {name: tmp_path / name for name in ("run", "data", "static", "media", "mail")}
    folders["run"].mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(CONFIGURING) and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(
        {
            "PATH": f"{installed.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "wheel-" + "s3cr3t" * 10,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "CIVIC_DATA_DIR": str(folders["data"]),
            "DJANGO_STATIC_ROOT": str(folders["static"]),
            "MEDIA_ROOT": str(folders["media"]),
            # SQLite and tasks in the web process, on purpose (civic/checks.py): this is the
            # package's test, not the services'. Emails go to files, not the log.
            "CIVIC_EMBEDDED": "1",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(folders["mail"]),
        }
    )
    yield {"env": env, **folders}


def test_installed_wheel_releases_loads_the_demo_and_serves(installed, site, tmp_path):
    cwd, env = site["run"], site["env"]
    before_package = _files(*installed.package_paths)
    before_checkout = set(_files(ROOT, skip=(".venv", ".git")))

    where = _run(
        [
            installed.bin("python"),
            "-c",
            "import civic, sys; print(civic.__file__); print(sys.path)",
        ],
        cwd=cwd,
        env=env,
        timeout=60,
    )
    civic_file, search_path = where.stdout.splitlines()
    assert Path(civic_file).is_relative_to(installed.site_packages)
    assert str(ROOT) not in search_path

    def admin(*args: str, timeout: float = 300) -> str:
        return _run([installed.bin("civic-admin"), *args], cwd=cwd, env=env, timeout=timeout).stdout

    # The release steps (docs/deploy.md), then the demo.
    admin("check")
    admin("migrate", "--noinput")
    admin("collectstatic", "--noinput")
    shipped = admin("compile_translations")
    assert "ships its catalogues compiled" in shipped and "nothing written" in shipped
    demo = admin("load_demo", "--force")
    assert "almaty-2050" in demo
    # The theme suggester's evaluation texts, read from the package.
    assert "transport" in admin("evaluate_suggester")
    assert (site["data"] / "civic.sqlite3").is_file()
    assert (site["static"] / "staticfiles.json").is_file()

    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed after the process
    web = subprocess.Popen(
        [installed.bin("gunicorn"), "civic.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, themes = _get(f"{base}/api/v1/themes/")
                break
            except OSError:
                assert web.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "gunicorn did not answer in 60 s"
                time.sleep(0.3)
        assert status == 200, themes

        status, page = _get(f"{base}/ru/")
        assert status == 200, page[-2000:]
        # From the compiled catalogue, not from the demo's Russian document.
        assert "Перейти к содержимому" in page and "Skip to content" not in page
        stylesheet = re.search(r'href="(/static/frontend/civic\.[0-9a-f]+\.css)"', page)
        assert stylesheet, "the page links no hashed stylesheet (collectstatic's manifest)"
        status, css = _get(base + stylesheet.group(1))
        assert status == 200 and css == (ROOT / "frontend/static/frontend/civic.css").read_text()
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
        log.close()

    after_package = _files(*installed.package_paths)
    changed = {
        path
        for path in before_package.keys() | after_package.keys()
        if before_package.get(path) != after_package.get(path)
    }
    assert not changed, f"written into the installed package: {sorted(changed)}"
    written = set(_files(ROOT, skip=(".venv", ".git"))) ^ before_checkout
    assert not written, f"written into the checkout: {sorted(written)}"
    # Everything the run wrote is in the folders it was given, none in the working directory.
    assert not any(cwd.iterdir())


def test_installed_wheel_refuses_to_guess_its_folders(installed, site):
    env = {
        k: v for k, v in site["env"].items() if k not in ("CIVIC_DATA_DIR", "DJANGO_STATIC_ROOT")
    }
    done = subprocess.run(
        [installed.bin("civic-admin"), "check"],
        cwd=site["run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "CIVIC_DATA_DIR and DJANGO_STATIC_ROOT must be set" in done.stderr
    assert not any(site["run"].iterdir()), "wrote into the working directory"

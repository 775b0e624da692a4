"""Civic behind the shipped nginx configuration (deploy/nginx/civic.conf), end to end.

A real nginx runs the shipped file, with only its placeholders replaced (ports, the
certificate, the static folder), in front of a real gunicorn started as
deploy/systemd/civic-web.service starts it, with debug off, DJANGO_SECURE=1 and
CIVIC_NUM_PROXIES=1, on 127.0.0.1. The client speaks HTTPS to nginx with a throwaway
self-signed certificate.
"""

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "nginx" / "civic.conf"
HOST = "civic.example.org"  # the config's server_name, kept as it is

MISSING = [program for program in ("nginx", "openssl") if shutil.which(program) is None]
# CI sets CIVIC_REQUIRE_NGINX=1: there a missing nginx fails the test instead of skipping it.
REQUIRED = bool(os.environ.get("CIVIC_REQUIRE_NGINX"))
pytestmark = pytest.mark.skipif(
    bool(MISSING) and not REQUIRED,
    reason=f"needs {' and '.join(MISSING)} (Debian packages nginx, openssl)",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _replace(text: str, old: str, new: str) -> str:
    # A placeholder that is no longer in the shipped file must fail here, not leave the
    # test running against a production path.
    assert old in text, f"{old!r} is not in {CONFIG.name}: update this test's substitutions"
    return text.replace(old, new)


def render_config(
    *, http_port: int, https_port: int, upstream_port: int, cert: Path, key: Path, static: Path
) -> str:
    text = CONFIG.read_text()
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    text = _replace(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    # A CI container may have no IPv6; the IPv4 lines carry the test.
    text, ipv6_lines = re.subn(r"^\s*listen \[::\]:.*\n", "", text, flags=re.MULTILINE)
    assert ipv6_lines == 2, text
    text = _replace(text, "/etc/ssl/certs/civic.example.org.fullchain.pem", str(cert))
    text = _replace(text, "/etc/ssl/private/civic.example.org.key", str(key))
    text = _replace(text, "/var/lib/civic/static/", f"{static}/")
    text = _replace(text, "/var/log/nginx/civic.access.log", str(static.parent / "civic.log"))
    return _replace(text, "127.0.0.1:8000", f"127.0.0.1:{upstream_port}")


def main_config(folder: Path, site: Path) -> str:
    """The nginx.conf a distribution ships around a site file, with every path it writes
    in `folder`, so that nginx runs as the current user."""
    # As root nginx would switch its workers to `nobody`, who cannot read pytest's
    # private temporary folders; as another user the directive is ignored.
    user = "user root;" if os.geteuid() == 0 else ""
    mime = Path("/etc/nginx/mime.types")
    types = (
        f"include {mime};"
        if mime.is_file()
        else "types { text/html html; text/css css; application/javascript js; text/plain txt; }"
    )
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} info;
events {{ worker_connections 64; }}
http {{
    {types}
    default_type application/octet-stream;
    access_log {folder / "access.log"};
{temp}
    include {site};
}}
"""


@dataclass
class Site:
    https_port: int
    http_port: int
    upstream_port: int
    cert: Path
    static: Path
    folder: Path

    def request(
        self,
        path: str,
        *,
        https: bool = True,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        source: str | None = None,
        port: int | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request to nginx (or, with `port`, straight to gunicorn), from `source`."""
        address = ("127.0.0.1", port or (self.https_port if https else self.http_port))
        source_address = (source, 0) if source else None
        if https and port is None:
            context = ssl.create_default_context(cafile=str(self.cert))
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                *address, timeout=15, context=context, source_address=source_address
            )
        else:
            connection = http.client.HTTPConnection(
                *address, timeout=15, source_address=source_address
            )
        try:
            connection.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()


def _log_tail(*paths: Path) -> str:
    return "\n".join(
        f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
        for path in paths
        if path.exists()
    )


def _wait_for(check, what: str, logs: tuple[Path, ...], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{what} did not come up in {timeout} s\n{_log_tail(*logs)}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    if MISSING:
        pytest.fail(f"CIVIC_REQUIRE_NGINX is set, but {' and '.join(MISSING)} is not installed")
    folder = tmp_path_factory.mktemp("proxy")
    static, data = folder / "static", folder / "data"
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],  # fmt: skip
        check=True,
        capture_output=True,
        timeout=60,
    )
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="civic.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECURE="1",
        CIVIC_NUM_PROXIES="1",
        DJANGO_SECRET_KEY="proxy-test-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS=HOST,
        CIVIC_SITE_URL=f"https://{HOST}",
        CIVIC_DATA_DIR=str(data),
        DATABASE_URL=f"sqlite:///{data / 'civic.sqlite3'}",
        DJANGO_STATIC_ROOT=str(static),
        MEDIA_ROOT=str(data / "media"),
        CIVIC_THROTTLE_LOGIN="3/hour",
        # SQLite and tasks in process are on purpose here: no warnings about them.
        CIVIC_EMBEDDED="1",
    )
    # The two release steps, side by side: each takes seconds.
    release = [
        subprocess.Popen(
            [sys.executable, "manage.py", *command, "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for command in (["migrate"], ["collectstatic"])
    ]
    for step in release:
        output, _ = step.communicate(timeout=300)
        assert step.returncode == 0, output.decode(errors="replace")[-3000:]

    site = Site(_free_port(), _free_port(), _free_port(), cert, static, folder)
    (folder / "civic.conf").write_text(
        render_config(
            http_port=site.http_port,
            https_port=site.https_port,
            upstream_port=site.upstream_port,
            cert=cert,
            key=key,
            static=static,
        )
    )
    (folder / "nginx.conf").write_text(main_config(folder, folder / "civic.conf"))
    gunicorn_log, nginx_log = folder / "gunicorn.log", folder / "error.log"
    processes: list[subprocess.Popen] = []
    try:
        with gunicorn_log.open("wb") as log:
            processes.append(
                subprocess.Popen(
                    # As civic-web.service runs it; one worker is enough for these requests.
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "-c",
                        "deploy/gunicorn.conf.py",
                        "--bind",
                        f"127.0.0.1:{site.upstream_port}",
                        "--workers",
                        "1",
                        "civic.wsgi",
                    ],  # fmt: skip
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        with (folder / "nginx.out").open("wb") as log:
            processes.append(
                subprocess.Popen(
                    [
                        "nginx",
                        "-p",
                        str(folder),
                        "-c",
                        str(folder / "nginx.conf"),
                        "-g",
                        "daemon off;",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        logs = (gunicorn_log, nginx_log, folder / "nginx.out")
        _wait_for(
            lambda: site.request("/healthz", port=site.upstream_port)[0] == 200, "gunicorn", logs
        )
        _wait_for(lambda: site.request("/healthz")[0] == 200, "nginx", logs)
        yield site
    finally:
        for process in reversed(processes):
            _stop(process)


def _hashed_stylesheet(site: Site) -> str:
    manifest = json.loads((site.static / "staticfiles.json").read_text())["paths"]
    return next(hashed for name, hashed in manifest.items() if name.endswith(".css"))


def test_https_answers_and_plain_http_is_redirected(site):
    status, _, body = site.request("/ru/")
    assert status == 200, body[:2000]

    status, headers, _ = site.request("/ru/?page=2", https=False)
    assert status == 301
    assert headers["Location"] == f"https://{HOST}/ru/?page=2"


def test_django_sees_https_from_nginx_and_no_client_can_claim_it(site):
    # HSTS and secure cookies come only from Django, and only for a request it takes for
    # HTTPS: nginx's X-Forwarded-Proto says so.
    status, headers, _ = site.request("/ru/login/")
    assert status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert any("csrftoken=" in c and "Secure" in c for c in headers.get_all("Set-Cookie"))

    # A client's own header is replaced, not passed on: "http" over TLS is still HTTPS
    # (passed on, Django would redirect to https:// for ever) ...
    status, headers, _ = site.request("/ru/login/", headers={"X-Forwarded-Proto": "http"})
    assert status == 200
    assert "Strict-Transport-Security" in headers
    # ... and "https" over plain HTTP (a health check, the one thing not redirected) is
    # still plain HTTP to Django: no HSTS on it.
    status, headers, _ = site.request(
        "/healthz", https=False, headers={"X-Forwarded-Proto": "https"}
    )
    assert status == 200
    assert "Strict-Transport-Security" not in headers


def test_health_checks_answer_over_plain_http_on_this_machine(site):
    status, headers, body = site.request("/healthz", https=False)
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert "Location" not in headers
    status, _, body = site.request("/readyz", https=False)
    assert status == 200, body
    assert json.loads(body)["checks"]["database"]["status"] == "ok"
    # Only the allowed addresses (127.0.0.1, ::1): another one is refused by nginx, over
    # plain HTTP and over HTTPS alike.
    status, _, _ = site.request("/readyz", https=False, source="127.0.0.2")
    assert status == 403
    assert site.request("/readyz", source="127.0.0.2")[0] == 403
    assert site.request("/readyz")[0] == 200


def test_the_access_log_keeps_no_token_of_an_emailed_link(site):
    secret = "Nq4-secret-token-from-an-email"
    for path in (
        f"/ru/verify-email/{secret}/",
        f"/kk/unsubscribe/notifications/{secret}/",
        f"/en/password-reset/MQ/{secret}/",
        f"/ru/proposals/?q={secret}",
    ):
        site.request(path, headers={"Referer": f"https://mail.example.org/{secret}"})
    site.request("/healthz")  # written after the ones above: the log has them all by now
    log = (site.static.parent / "civic.log").read_text()
    assert "/ru/verify-email/<token>/" in log and "/en/password-reset/MQ/<token>/" in log
    assert secret not in log


def _sign_in(site: Site, source: str | None = None, forwarded_for: str | None = None) -> int:
    headers = {"Content-Type": "application/json"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    body = json.dumps({"email": "nobody@example.org", "password": "wrong"}).encode()
    status, _, _ = site.request(
        "/api/v1/auth/token/", method="POST", headers=headers, body=body, source=source
    )
    return status


def test_the_rate_limit_counts_each_client_not_the_proxy_nor_a_forged_address(site):
    # Every request reaches gunicorn from nginx, 127.0.0.1; the limit is 3 sign-ins an hour.
    assert [_sign_in(site) for _ in range(3)] == [401, 401, 401]
    assert _sign_in(site) == 429
    # An address the client writes itself comes before the one nginx appends: not counted.
    assert _sign_in(site, forwarded_for="203.0.113.9") == 429
    assert _sign_in(site, forwarded_for="203.0.113.9, 198.51.100.7") == 429
    # Another client (nginx sees 127.0.0.2) has its own limit, although gunicorn sees the
    # same proxy address for both. With CIVIC_NUM_PROXIES=0 this would be 429.
    assert _sign_in(site, source="127.0.0.2") == 401


def test_nginx_serves_the_static_files_itself(site):
    stylesheet = _hashed_stylesheet(site)
    status, headers, body = site.request(f"/static/{stylesheet}")
    assert status == 200 and body
    assert headers["Content-Type"].startswith("text/css")
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # The .gz file collectstatic wrote, as it is (gzip_static).
    status, headers, body = site.request(
        f"/static/{stylesheet}", headers={"Accept-Encoding": "gzip"}
    )
    assert (status, headers["Content-Encoding"]) == (200, "gzip")
    assert body == (site.static / f"{stylesheet}.gz").read_bytes()

    # A file added after gunicorn started is unknown to WhiteNoise (it lists the folder at
    # start-up): only nginx can serve it.
    probe = site.static / "frontend" / "probe.0123456789ab.txt"
    probe.write_text("served by nginx")
    path = f"/static/{probe.relative_to(site.static)}"
    # Asked of gunicorn as nginx would ask it (else Django redirects to HTTPS).
    direct = site.request(path, port=site.upstream_port, headers={"X-Forwarded-Proto": "https"})
    assert direct[0] == 404
    status, headers, body = site.request(path)
    assert (status, body) == (200, b"served by nginx")
    assert headers["X-Content-Type-Options"] == "nosniff"

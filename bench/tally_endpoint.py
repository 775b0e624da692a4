"""Requests per second of the public tally endpoint, beside a view that does no database work.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/tally_endpoint.py

Starts gunicorn on a free local port (sync workers, one per core), loads the demo
if the database has no almaty-2050 yet, and drives each URL with wrk (Debian's
package `wrk`) for a few seconds:
  /healthz                                   no database, no cache: the ceiling
  /api/v1/strategies/almaty-2050/tallies/    the tally snapshot, from the cache
  /api/v1/proposals/?page_size=20            a list that queries the database, for contrast
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
URLS = {
    "no-database view (/healthz)": "/healthz",
    "tally endpoint": "/api/v1/strategies/almaty-2050/tallies/",
    "proposal list (database)": "/api/v1/proposals/?page_size=20",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-" + "k" * 50),
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "load_demo", "--force"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "civic.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.2)
        print(
            f"gunicorn: {args.workers} sync workers; wrk: {args.connections} connections, "
            f"{args.seconds} s each; database: {env.get('DATABASE_URL', 'sqlite')}; "
            f"cache: {'redis' if env.get('REDIS_URL') else 'local memory'}"
        )
        rates = {}
        for name, path in URLS.items():
            # Warm every worker's connections and caches first.
            subprocess.run(
                ["wrk", "-t2", "-c4", "-d2s", base + path], check=True, capture_output=True
            )
            out = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{args.connections}",
                    f"-d{args.seconds}s",
                    "--latency",
                    base + path,
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            p99 = re.search(r"99%\s+(\S+)", out).group(1)
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            rates[name] = rate
            print(
                f"{name:32} {rate:9.0f} req/s   p99 {p99:>8}"
                + (f"   NON-2xx: {errors.group(1)}" if errors else "")
            )
        ceiling = rates["no-database view (/healthz)"]
        print(f"tally endpoint at {rates['tally endpoint'] / ceiling:.0%} of the no-database view")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


if __name__ == "__main__":
    main()

"""A throwaway PostgreSQL server for the suite's PostgreSQL run (`make test`).

`python -m tests.pgserver start` initialises a cluster in a temporary directory (once), starts it
on a loopback port and prints its DATABASE_URL; `stop` stops it. Debian's `postgresql` package
provides the binaries; as root, the server runs as the `postgres` user, as PostgreSQL insists.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PORT = int(os.environ.get("TEST_PG_PORT", "54329"))
DATA = Path(tempfile.gettempdir()) / f"chat-test-pg-{PORT}"
SUPERUSER = "chat"
URL = f"postgres://{SUPERUSER}@127.0.0.1:{PORT}/{SUPERUSER}"
# Durability off: a test cluster is thrown away, and fsync dominates its run time otherwise.
SERVER_OPTIONS = f"-p {PORT} -k {DATA} -c listen_addresses=127.0.0.1 -c max_connections=300 " \
                 "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if not found:
        sys.exit("PostgreSQL is not installed; `make test` installs Debian's postgresql package.")
    return Path(found[-1]).parent


def run(*command: str) -> None:
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        command = ("runuser", "-u", "postgres", "--", *command)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def running() -> bool:
    return (DATA / "postmaster.pid").exists() and subprocess.run(
        [str(bin_dir() / "pg_isready"), "-h", "127.0.0.1", "-p", str(PORT)], capture_output=True
    ).returncode == 0


def start() -> None:
    binaries = bin_dir()
    if not (DATA / "PG_VERSION").exists():
        shutil.rmtree(DATA, ignore_errors=True)
        DATA.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(DATA, "postgres", "postgres")
        run(str(binaries / "initdb"), "-D", str(DATA), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8")
    if not running():
        run(str(binaries / "pg_ctl"), "-D", str(DATA), "-l", str(DATA / "server.log"), "-o", SERVER_OPTIONS,
            "-w", "start")
        subprocess.run([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(PORT), "-U", SUPERUSER, SUPERUSER],
                       capture_output=True)  # fails harmlessly when it exists
    print(URL)


def stop() -> None:
    if (DATA / "postmaster.pid").exists():
        run(str(bin_dir() / "pg_ctl"), "-D", str(DATA), "-m", "fast", "-w", "stop")


if __name__ == "__main__":
    {"start": start, "stop": stop}[sys.argv[1] if len(sys.argv) > 1 else "start"]()

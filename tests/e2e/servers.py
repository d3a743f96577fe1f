"""Real processes for end-to-end tests: redis-server, Daphne, and a signed-in HTTP session."""

import atexit
import contextlib
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class RedisServer:
    def __init__(self, workdir: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; `make test` installs it")
        self.port = free_port()
        self.workdir = workdir
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self):
        stop(self.process)

    def kill(self):
        self.process.kill()
        self.process.wait()


def _manage(env: dict, *args) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {args} failed:\n{result.stderr}")
    return result.stdout


class Databases:
    """Each site gets its own database, copied from one that was migrated and loaded with the
    demo data once per run: SQLite files by default, PostgreSQL when DATABASE_URL points there."""

    _template: str | None = None

    def __init__(self):
        self.server = os.environ.get("DATABASE_URL", "")
        self.postgres = self.server.startswith("postgres")

    def _url(self, name: str, workdir: Path) -> str:
        if self.postgres:
            return self.server.rsplit("/", 1)[0] + "/" + name
        return f"sqlite:///{workdir / name}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as connection:
            connection.execute(sql)

    def create(self, workdir: Path, env: dict) -> str:
        if Databases._template is None:
            Databases._template = self._build_template(env)
        if self.postgres:
            name = f"e2e_{os.getpid()}_{free_port()}"
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{Databases._template}"')
            return self._url(name, workdir)
        shutil.copyfile(Databases._template, workdir / "site.sqlite3")
        return self._url("site.sqlite3", workdir)

    def _build_template(self, env: dict) -> str:
        if self.postgres:
            name = f"e2e_template_{os.getpid()}"
            self._admin(f'DROP DATABASE IF EXISTS "{name}"')
            self._admin(f'CREATE DATABASE "{name}"')
            atexit.register(self._admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            url = self._url(name, Path())
        else:
            folder = Path(tempfile.mkdtemp(prefix="chat-e2e-template-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            name = str(folder / "template.sqlite3")
            url = f"sqlite:///{name}"
        template_env = {**env, "DATABASE_URL": url, "CONN_MAX_AGE": "0"}
        _manage(template_env, "migrate", "--noinput", "-v0")
        _manage(template_env, "load_demo")
        if not self.postgres:  # fold the write-ahead log into the file we copy
            import sqlite3

            with sqlite3.connect(name) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                connection.execute("PRAGMA journal_mode=DELETE")
        return name

    def drop(self, url: str) -> None:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


class Site:
    """A database prepared with migrations and the demo data, shared by the servers."""

    def __init__(self, workdir: Path, redis_url: str = ""):
        self.env = {
            **os.environ,
            "SECRET_KEY": "e2e-secret",
            "DEBUG": "0",
            "HTTPS": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PRESENCE_HEARTBEAT_SECONDS": "5",
        }
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        else:
            self.env.pop("REDIS_URL", None)
        self.workdir = workdir
        self.databases = Databases()
        self.env["DATABASE_URL"] = self.databases.create(workdir, self.env)
        self.servers: list[subprocess.Popen] = []

    def manage(self, *args) -> str:
        return _manage(self.env, *args)

    def start_daphne(self, *options: str, port: int | None = None) -> int:
        """A Daphne process on a free port, or on `port` again after its process died."""
        port = port or free_port()
        log = open(self.workdir / f"daphne-{port}.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-e", f"tcp:port={port}:interface=127.0.0.1:backlog=1024", *options,
             "chatserver.asgi:application"],  # listening as the Procfile does
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        wait_for_port(port, process)
        self.servers.append(process)
        return port

    def start_process(self, *manage_args: str) -> subprocess.Popen:
        """A management command running beside the servers (the Procfile's worker)."""
        log = open(self.workdir / f"{manage_args[0]}-{len(self.servers)}.log", "w")
        process = subprocess.Popen([sys.executable, "manage.py", *manage_args], cwd=ROOT, env=self.env,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.servers.append(process)
        return process

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the site's database directly, as a test's own eyes (SQLite file or PostgreSQL)."""
        url = self.env["DATABASE_URL"]
        if url.startswith("sqlite"):
            import sqlite3

            with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)) as connection:
                return connection.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            return connection.execute(sql.replace("?", "%s"), params).fetchall()

    def stop_all(self):
        for process in self.servers:
            stop(process)
        self.databases.drop(self.env["DATABASE_URL"])


def login(port: int, username: str, password: str) -> str:
    """Sign in through the real login form (CSRF and all); returns the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(f"{base}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    request = urllib.request.Request(f"{base}/login/", data=data.encode(), headers={"Referer": f"{base}/login/"})
    opener.open(request).read()
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise RuntimeError(f"login as {username} failed")
    return cookies["sessionid"]


def logout(port: int, session: str) -> None:
    """Press the page's "Log out" button with this session (CSRF and all)."""
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("Cookie", f"sessionid={session}")]
    page = opener.open(f"{base}/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(f"{base}/logout/", data=data, headers={
        "Referer": f"{base}/", "Cookie": f"sessionid={session}; csrftoken={csrf}"})
    urllib.request.urlopen(request).read()

"""A private, throw-away PostgreSQL cluster for tests, never the system service on port 5432.

Each cluster lives in its own directory (data, unix sockets, log) and listens on a free
loopback port with a random password, so tests can run beside a production server and beside
each other. PostgreSQL refuses to run as root, so under root the server runs as the `postgres`
OS user through `runuser`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

SYSTEM_PORT = 5432
"""The port of a system PostgreSQL service; a test cluster never uses it."""

_SEARCH_DIRS = "/usr/lib/postgresql/*/bin"
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_START_ATTEMPTS = 3
_SUPERUSER = "postgres"
_MAX_SOCKET_PATH = 107


class PostgresError(RuntimeError):
    """A test cluster could not be set up, started, used or stopped."""


class PostgresNotInstalledError(PostgresError):
    """The PostgreSQL server programs are not installed on this machine."""

    def __init__(self) -> None:
        super().__init__(
            "PostgreSQL server programs (initdb, pg_ctl) were not found on PATH or under "
            f"{_SEARCH_DIRS}. Install them with `sudo deploy/ensure-postgres.sh` "
            "(on Debian/Ubuntu this is `apt-get install postgresql`)."
        )


def find_postgres_binary(name: str) -> Path:
    """The path of server program `name` (initdb, pg_ctl): PATH first, then the newest version."""
    found = shutil.which(name)
    if found:
        return Path(found)
    candidates = list(Path("/").glob(_SEARCH_DIRS.lstrip("/") + f"/{name}"))
    if not candidates:
        raise PostgresNotInstalledError()
    return max(candidates, key=lambda path: _version_key(path.parent.parent.name))


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)) or (0,)


def _free_port() -> int:
    """A loopback port nobody listens on right now (never the system service's port)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port != SYSTEM_PORT:
            return port


class PostgresCluster:
    """A running private cluster; `create_database` hands out SQLAlchemy URLs into it."""

    def __init__(
        self, root: Path, *, owns_root: bool, run_as: tuple[str, ...], pg_ctl: Path
    ) -> None:
        self.root = root
        self.port = 0
        self.owns_root = owns_root
        self._password = secrets.token_urlsafe(24)
        self._run_as = run_as
        self._pg_ctl = pg_ctl
        self._admin: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def __repr__(self) -> str:
        return f"PostgresCluster(root={str(self.root)!r}, port={self.port})"

    @classmethod
    def start(cls, base_dir: str | Path | None = None) -> PostgresCluster:
        """Create and start a cluster in a new directory under `base_dir`.

        Without `base_dir` the cluster gets a fresh directory in the system temp dir, removed
        again by `stop()`. Under root, `base_dir` must be reachable by the `postgres` user.
        """
        initdb = find_postgres_binary("initdb")
        pg_ctl = find_postgres_binary("pg_ctl")
        run_as = _run_as_postgres()
        root = Path(tempfile.mkdtemp(prefix="dlt-pg-", dir=base_dir))
        cluster = cls(root, owns_root=base_dir is None, run_as=run_as, pg_ctl=pg_ctl)
        try:
            cluster._prepare_root()
            cluster._initdb(initdb)
            cluster._start_server()
        except BaseException:
            cluster._stopped = True
            if cluster.owns_root:
                shutil.rmtree(root, ignore_errors=True)
            raise
        atexit.register(cluster.stop)
        return cluster

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    # -- set-up ---------------------------------------------------------------------------

    def _prepare_root(self) -> None:
        socket_path = self.socket_dir / ".s.PGSQL.65535"
        if len(str(socket_path).encode()) > _MAX_SOCKET_PATH:
            raise PostgresError(
                f"the unix socket path {socket_path} is longer than {_MAX_SOCKET_PATH} bytes, "
                "which PostgreSQL cannot use; pass a shorter base_dir (or none)"
            )
        self.socket_dir.mkdir()
        if not self._run_as:
            return
        account = pwd.getpwnam(_SUPERUSER)
        for path in (self.root, self.socket_dir):
            os.chown(path, account.pw_uid, account.pw_gid)
        probe = subprocess.run([*self._run_as, "test", "-w", str(self.root)], check=False)
        if probe.returncode != 0:
            raise PostgresError(
                f"the {_SUPERUSER!r} OS user cannot reach {self.root}; pass a base_dir whose "
                "parent directories it can enter (or no base_dir to use the system temp dir)"
            )

    def _initdb(self, initdb: Path) -> None:
        password_file = self.root / "password"
        password_file.write_text(self._password)
        password_file.chmod(0o600)
        if self._run_as:
            account = pwd.getpwnam(_SUPERUSER)
            os.chown(password_file, account.pw_uid, account.pw_gid)
        try:
            self._run(
                str(initdb),
                "--pgdata",
                str(self.data_dir),
                "--username",
                _SUPERUSER,
                f"--pwfile={password_file}",
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            )
        finally:
            password_file.unlink()
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": _conf_string(str(self.socket_dir)),
            "fsync": "on",
            "synchronous_commit": "on",
            "max_connections": "200",
        }
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# dlt test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _start_server(self) -> None:
        for _attempt in range(_START_ATTEMPTS):
            self.port = _free_port()
            result = self._run(
                str(self._pg_ctl),
                "--pgdata",
                str(self.data_dir),
                "--log",
                str(self.log_file),
                "--wait",
                "--timeout=60",
                f"--options=-p {self.port}",
                "start",
                check=False,
            )
            if result.returncode == 0:
                return
        raise PostgresError(
            f"PostgreSQL did not start after {_START_ATTEMPTS} attempts; "
            f"its log {self.log_file} ends with:\n{self._log_tail()}"
        )

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self._run_as, *command], capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise PostgresError(
                f"{Path(command[0]).name} failed with exit code {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(log unreadable: {exc})"

    # -- use ------------------------------------------------------------------------------

    def url(self, database: str) -> str:
        """The SQLAlchemy URL (psycopg 3 driver) of `database` in this cluster."""
        return URL.create(
            "postgresql+psycopg",
            username=_SUPERUSER,
            password=self._password,
            host="127.0.0.1",
            port=self.port,
            database=database,
        ).render_as_string(hide_password=False)

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        if not _DB_NAME.fullmatch(name):
            raise PostgresError(
                f"database name {name!r} must be lowercase letters, digits and underscores, "
                "starting with a letter or underscore, at most 63 characters"
            )
        with self._lock:
            admin = self._admin_connection()
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting any clients still attached to it.

        Dropping finished test databases keeps the cluster small: their pages never have to
        be checkpointed, which otherwise makes later tests and the shutdown slow.
        """
        with self._lock:
            admin = self._admin_connection()
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def _admin_connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._stopped:
            raise PostgresError(f"the test cluster in {self.root} is stopped")
        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user=_SUPERUSER,
                password=self._password,
                dbname="postgres",
                autocommit=True,
            )
        return self._admin

    # -- tear-down ------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server (fast shutdown); remove its directory if `start` created it."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            if self._admin is not None:
                with contextlib.suppress(psycopg.Error):
                    self._admin.close()
        atexit.unregister(self.stop)
        result = self._run(
            str(self._pg_ctl),
            "--pgdata",
            str(self.data_dir),
            "--mode=fast",
            "--wait",
            "stop",
            check=False,
        )
        if self.owns_root:
            shutil.rmtree(self.root, ignore_errors=True)
        if result.returncode != 0:
            raise PostgresError(
                f"pg_ctl stop failed for the test cluster in {self.root}:\n"
                f"{result.stdout}{result.stderr}"
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _run_as_postgres() -> tuple[str, ...]:
    """The command prefix that runs server programs as `postgres` when we are root."""
    if os.geteuid() != 0:
        return ()
    try:
        pwd.getpwnam(_SUPERUSER)
    except KeyError:
        raise PostgresError(
            f"running as root, but there is no {_SUPERUSER!r} OS user to run PostgreSQL as; "
            "install the server package (deploy/ensure-postgres.sh) or run as a normal user"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresError("running as root needs `runuser` (util-linux) to drop privileges")
    return (runuser, "-u", _SUPERUSER, "--")


def _conf_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"

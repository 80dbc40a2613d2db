"""The servers the local stack runs for Airflow: PostgreSQL (the metadata database) and Redis (the
CeleryExecutor's broker), each a process of the stack's own, on a free loopback port, with its files
under the stack's working folder.

Both come from Debian's packages (``postgresql``, ``redis-server``; system-packages-demo.txt lists
them and ``make test`` / ``make e2e`` / ``make demo`` install them when missing). No system service is used:
the stack starts its own server and stops it with the rest, so stacks running side by side never
share a database or a broker.

PostgreSQL refuses to run as root. Run by root (CI, containers), the server runs as the ``postgres``
user Debian's package creates. Its data directory must then be reachable by that user: when the
stack's folder is not (a folder under a private home or pytest's 0700 temporary root), the data
directory goes to a private folder of its own under the system's temporary directory instead, which
the stack removes when it stops.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

DATABASE = "airflow"
DATABASE_USER = "airflow"
POSTGRES_SYSTEM_USER = "postgres"
# Settings for a throwaway database on a shared 2-core machine: durability is not wanted (the stack's
# database dies with the stack), and a few connections per Airflow process are plenty.
POSTGRES_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
    "log_min_error_statement": "error",
}
INSTALL_HINT = (
    "install Debian's postgresql and redis-server: `make system-packages-demo` (system-packages-demo.txt)"
)


class ServiceError(RuntimeError):
    """A server's binaries are missing or its data directory cannot be prepared."""


def postgres_bindir() -> Path:
    """The newest PostgreSQL server binaries installed (Debian keeps them off PATH, per major version)."""
    candidates = [Path(path).parent for path in glob.glob("/usr/lib/postgresql/*/bin/postgres")]
    candidates.sort(key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)
    if candidates:
        return candidates[-1]
    found = shutil.which("postgres")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    raise ServiceError(f"PostgreSQL's server (postgres, initdb) is not installed: {INSTALL_HINT}")


def redis_server() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise ServiceError(f"redis-server is not installed: {INSTALL_HINT}")
    return found


def _reachable_by(path: Path, uid: int, gid: int) -> bool:
    """Whether a process of uid/gid can traverse every folder down to ``path`` (which need not exist)."""
    for folder in [path, *path.parents]:
        try:
            mode = folder.stat()
        except FileNotFoundError:
            continue
        if mode.st_uid == uid:
            bit = stat.S_IXUSR
        elif mode.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not mode.st_mode & bit:
            return False
    return True


@dataclass
class Postgres:
    """A PostgreSQL server of one stack: ``initdb`` once, then ``postgres`` in the foreground."""

    folder: Path
    port: int
    bindir: Path | None = None
    user: str | None = field(default=None)
    data_dir: Path = field(init=False)
    _private_dir: Path | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        # Root must hand the server to an unprivileged user; anyone else runs it as themselves.
        if self.user is None and os.geteuid() == 0:
            self.user = POSTGRES_SYSTEM_USER
        self.data_dir = self.folder / "data"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the stack's database (trust authentication on loopback: no password)."""
        return f"postgresql+psycopg2://{DATABASE_USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def celery_result_backend(self) -> str:
        return f"db+postgresql+psycopg2://{DATABASE_USER}@127.0.0.1:{self.port}/{DATABASE}"

    def prepare(self) -> None:
        """Create the data directory (owned by the server's user) and its cluster."""
        bindir = self.bindir or postgres_bindir()
        self.bindir = bindir
        if self.user is None:
            self.folder.mkdir(parents=True, exist_ok=True)
        else:
            account = self._account()
            if not _reachable_by(self.folder, account.pw_uid, account.pw_gid):
                # The stack's folder is private to root: the cluster lives in a folder of its own.
                self._private_dir = Path(tempfile.mkdtemp(prefix="bedrock-stack-postgres-"))
                os.chown(self._private_dir, account.pw_uid, account.pw_gid)
                self.folder.parent.mkdir(parents=True, exist_ok=True)
                if self.folder.is_symlink() or self.folder.exists():
                    self.folder.unlink()
                self.folder.symlink_to(self._private_dir, target_is_directory=True)
                self.data_dir = self._private_dir / "data"
            else:
                self.folder.mkdir(parents=True, exist_ok=True)
                os.chown(self.folder, account.pw_uid, account.pw_gid)

    def initdb_command(self) -> list[str]:
        return [
            str(self._bin("initdb")),
            "--pgdata",
            str(self.data_dir),
            "--username",
            DATABASE_USER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ]

    def server_command(self) -> list[str]:
        settings = [word for name, value in POSTGRES_SETTINGS.items() for word in ("-c", f"{name}={value}")]
        return [str(self._bin("postgres")), "-D", str(self.data_dir), "-p", str(self.port), *settings]

    def create_database(self) -> bool:
        """Create the Airflow database once the server accepts connections; False while it does not yet."""
        import psycopg2

        try:
            connection = psycopg2.connect(
                host="127.0.0.1", port=self.port, user=DATABASE_USER, dbname="postgres", connect_timeout=5
            )
        except psycopg2.OperationalError:
            return False
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            connection.close()
        return True

    def cleanup(self) -> None:
        """Remove the private data folder, if the cluster needed one (the stack's folder is removed by
        whoever made it)."""
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None

    @property
    def private_dir(self) -> Path | None:
        return self._private_dir

    def _bin(self, name: str) -> Path:
        if self.bindir is None:
            self.bindir = postgres_bindir()
        return self.bindir / name

    def _account(self) -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(str(self.user))
        except KeyError:
            raise ServiceError(
                f"PostgreSQL refuses to run as root and there is no {self.user!r} user to run it as: "
                f"{INSTALL_HINT} (Debian's package creates that user)"
            ) from None


@dataclass
class Redis:
    """A Redis server of one stack: the CeleryExecutor's broker, in memory only."""

    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def server_command(self) -> list[str]:
        self.folder.mkdir(parents=True, exist_ok=True)
        return [
            redis_server(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.folder),
            # A broker for one stack's life: nothing is written to disk.
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ]

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2).ping())
        except redis.RedisError:
            return False

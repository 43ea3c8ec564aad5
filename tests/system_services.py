"""System services the tests start for themselves: a throwaway PostgreSQL cluster.

`make test` installs the PostgreSQL server and Chromium (``scripts/system-deps``). Outside CI a
test that needs one that is missing is skipped with the reason; in CI (``CI=true``) that is a
failure, so that a gap in the set-up cannot hide behind a skip (:func:`unavailable`).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

from tests.conftest import free_port

__all__ = ["postgres_cluster", "unavailable"]

# Debian keeps the server binaries off PATH, in /usr/lib/postgresql/<major>/bin.
PG_BIN_DIRS = (
    Path("/usr/local/bin"),
    *sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    ),
)


def unavailable(what: str, why: str) -> NoReturn:
    """Skip the test (``what`` cannot run: ``why``), except in CI, where it fails."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} cannot run in CI: {why}")
    pytest.skip(why)


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found is not None:
        return found
    for directory in PG_BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    return None


def _user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


@contextmanager
def postgres_cluster(*, user: str, prefix: str) -> Iterator[str]:
    """A PostgreSQL cluster in a temporary directory (``prefix``), reachable over a Unix
    socket only, with ``user`` as its superuser; yields its SQLAlchemy URL (psycopg v3) and
    removes everything when done. Run as root, the cluster runs as an unprivileged user
    (PostgreSQL refuses to run as root)."""
    what = "the PostgreSQL tests"
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None or _binary("postgres") is None:
        unavailable(
            what,
            "PostgreSQL binaries (initdb, pg_ctl, postgres) not found on PATH or in "
            "/usr/lib/postgresql/*/bin",
        )
    if importlib.util.find_spec("psycopg") is None:
        unavailable(what, "the psycopg (v3) driver is not installed: pip install 'psycopg[binary]'")
    run_as: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        users = [u for u in ("postgres", "nobody") if _user(u) is not None]
        if runuser is None or not users:
            unavailable(what, "running as root without runuser or an unprivileged user")
        owner = _user(users[0])
        run_as = [runuser, "-u", users[0], "--"]
    base = Path(tempfile.mkdtemp(prefix=prefix))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    if owner is not None:
        for path in (base, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    base.chmod(0o755)
    try:
        subprocess.run(
            [*run_as, initdb, "-D", str(data), "-U", user, "--auth=trust", "--no-sync"],
            check=True,
            capture_output=True,
        )
        port = free_port()
        options = f"-p {port} -k {sockets} -c listen_addresses='' -c fsync=off"
        log = str(base / "log")
        subprocess.run(
            [*run_as, pg_ctl, "-D", str(data), "-o", options, "-l", log, "-w", "start"],
            check=True,
            capture_output=True,
        )
        try:
            yield f"postgresql+psycopg://{user}@/postgres?host={sockets}&port={port}"
        finally:
            subprocess.run(
                [*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)

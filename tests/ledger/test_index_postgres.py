"""The index on PostgreSQL: the same schema and queries as on SQLite, against a throwaway
PostgreSQL cluster started in a temporary directory. `make test` installs the server
(scripts/system-deps); outside CI the tests are skipped when the binaries or the psycopg driver
are missing, in CI (CI=true) that is a failure."""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import Engine, create_engine, text, update
from test_index import check_seeded_world, kept_counts, post_event, register

from ledger.client import Ledger
from ledger.demo import DemoWorld
from ledger.errors import HeadMismatch
from ledger.index import Index
from ledger.index_schema import consignment_events, metadata

# Debian keeps the server binaries off PATH, in /usr/lib/postgresql/<major>/bin.
PG_BIN_DIRS = (
    Path("/usr/local/bin"),
    *sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    ),
)


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found is not None:
        return found
    for directory in PG_BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    return None


def _unavailable(why: str) -> NoReturn:
    """Skip, except in CI, where the set-up installs PostgreSQL and a skip would hide a gap."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL tests cannot run in CI: {why}")
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None or _binary("postgres") is None:
        _unavailable(
            "PostgreSQL binaries (initdb, pg_ctl, postgres) not found on PATH or in "
            "/usr/lib/postgresql/*/bin"
        )
    if importlib.util.find_spec("psycopg") is None:
        _unavailable("the psycopg (v3) driver is not installed: pip install 'psycopg[binary]'")
    # PostgreSQL refuses to run as root: as root, run the cluster as an unprivileged user.
    prefix: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        users = [u for u in ("postgres", "nobody") if _user(u) is not None]
        if runuser is None or not users:
            _unavailable("running as root without runuser or an unprivileged user for PostgreSQL")
        owner = _user(users[0])
        prefix = [runuser, "-u", users[0], "--"]
    base = Path(tempfile.mkdtemp(prefix="ledger-index-pg-"))
    data, sockets = base / "data", base / "sock"
    sockets.mkdir()
    if owner is not None:
        for path in (base, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    base.chmod(0o755)
    try:
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-U", "ledger", "--auth=trust", "--no-sync"],
            check=True,
            capture_output=True,
        )
        port = _free_port()
        options = f"-p {port} -k {sockets} -c listen_addresses='' -c fsync=off"
        subprocess.run(
            [
                *prefix,
                pg_ctl,
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        try:
            yield f"postgresql+psycopg://ledger@/postgres?host={sockets}&port={port}"
        finally:
            subprocess.run(
                [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_url)
    metadata.drop_all(engine)  # a fresh schema per test
    try:
        yield engine
    finally:
        engine.dispose()


def test_postgres_is_the_dialect(pg_engine: Engine) -> None:
    with pg_engine.connect() as conn:
        version = conn.execute(text("select version()")).scalar_one()
    assert str(version).startswith("PostgreSQL")


def test_seeded_world_every_query_on_postgres(
    pg_engine: Engine, ledger: Ledger, world: DemoWorld
) -> None:
    index = Index(pg_engine, ledger)
    result = index.sync()
    assert result.to_block == ledger.w3.eth.block_number
    assert result.consignment_events == 5
    check_seeded_world(index, ledger, world)


def test_follow_reorg_and_tamper_on_postgres(
    pg_engine: Engine, ledger: Ledger, world: DemoWorld, relayer_tx: object
) -> None:
    index = Index(pg_engine, ledger)
    index.sync()
    snapshot = ledger.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    orphan = register(ledger, world, "postgres-orphan")
    index.sync()
    assert index.consignment(orphan) is not None
    assert ledger.w3.provider.make_request("evm_revert", [snapshot])["result"] is True  # type: ignore[arg-type]
    relayer_tx.resync()  # type: ignore[attr-defined]
    post_event(ledger, world, world.consignment_id, "receiving", "CNSHA")
    result = index.sync()
    assert result.reorgs == 1
    assert index.consignment(orphan) is None
    assert [e.biz_step for e in index.consignment_timeline(world.consignment_id)][-1] == (
        "receiving"
    )
    assert index.verify_heads().ok

    # Resume on the same database with a new Index object: no duplicates.
    again = Index(pg_engine, ledger)
    assert again.sync().blocks == 0
    assert len(again.consignment_timeline(world.consignment_id)) == 6

    with pg_engine.begin() as conn:
        conn.execute(
            update(consignment_events)
            .where(consignment_events.c.seq == 1)
            .values(event_time=consignment_events.c.event_time + 1)
        )
    with pytest.raises(HeadMismatch) as raised:
        again.verify_heads()
    assert raised.value.consignment_ids == (world.consignment_id,)
    assert [f.kind for f in again.findings()] == ["chain_head_mismatch"]
    logging.getLogger("ledger.index").debug("postgres tamper test done")


def test_an_index_without_the_kept_counts_is_upgraded_on_postgres(
    pg_engine: Engine, ledger: Ledger, world: DemoWorld
) -> None:
    old = Index(pg_engine, ledger)
    old.sync()
    earlier = register(ledger, world, "postgres-before-the-count")
    old.sync()
    with pg_engine.begin() as conn:
        conn.execute(text("ALTER TABLE index_consignments DROP COLUMN consignor_earlier"))
    upgraded = Index(pg_engine, ledger)
    view = upgraded.consignment_view(earlier)
    assert view is not None
    assert view.consignor_earlier is None
    later = register(ledger, world, "postgres-after-the-count")
    upgraded.sync()
    counts = kept_counts(upgraded)
    assert counts[earlier] == (None, counts[earlier][1])
    assert counts[later] == (counts[earlier][1] + 1,) * 2
    assert Index(pg_engine, ledger).consignment_view(later) is not None  # opens as it is

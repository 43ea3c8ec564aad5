"""The index on PostgreSQL: the same schema and queries as on SQLite, against a throwaway
PostgreSQL cluster started in a temporary directory. `make test` installs the server
(scripts/system-deps); outside CI the tests are skipped when the binaries or the psycopg driver
are missing, in CI (CI=true) that is a failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text, update

from ledger.chain import Ledger
from ledger.errors import HeadMismatch
from ledger.index import Index, consignment_events, metadata
from ledger.stack import DemoWorld
from tests.ledger.index.test_index import check_seeded_world, kept_counts, post_event, register
from tests.system_services import postgres_cluster


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_cluster(user="ledger", prefix="ledger-index-pg-") as url:
        yield url


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
    logging.getLogger("ledger.index.follower").debug("postgres tamper test done")


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

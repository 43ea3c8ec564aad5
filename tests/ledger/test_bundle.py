"""Proof bundles: export from the index, verify against the node with no index or gateway, and
every kind of tampering fails with the check that catches it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from web3 import Web3

from ledger.bundle import export_bundle, load_bundle, verify_bundle, write_bundle
from ledger.client import Ledger
from ledger.demo import DemoWorld
from ledger.errors import InvalidBundle
from ledger.index import Index
from ledger.index_schema import raw_logs
from ledger.verify import VerdictStatus, render_report
from tests.ledger.scenarios import Builder


@pytest.fixture
def index(ledger: Ledger, tmp_path: Path) -> Iterator[Index]:
    idx = Index(f"sqlite:///{tmp_path / 'index.db'}", ledger)
    try:
        yield idx
    finally:
        idx.engine.dispose()


@pytest.fixture
def shipment_bundle(ledger: Ledger, world: DemoWorld, index: Index) -> dict[str, Any]:
    build = Builder(ledger, world)
    shipment = build.shipment()
    return export_bundle(index, shipment.cid)


def _log(bundle: dict[str, Any], event: str, n: int = 0) -> dict[str, Any]:
    found: list[dict[str, Any]] = [e for e in bundle["logs"] if e["event"] == event]
    return found[n]


def _flip(hex_text: str, at: int = -1) -> str:
    digits = list(hex_text)
    digits[at] = "0" if digits[at] != "0" else "1"
    return "".join(digits)


def test_genuine_bundle_verifies(
    shipment_bundle: dict[str, Any], session_w3: Web3, tmp_path: Path
) -> None:
    events = {e["event"] for e in shipment_bundle["logs"]}
    assert {
        "ConsignmentRegistered",
        "ConsignmentEventRecorded",
        "QuantityDrawn",
        "Attested",
        "CertificateIssued",
        "SigningKeyAdded",
        "OrganisationAdmitted",
    } <= events
    path = tmp_path / "bundle.json"
    write_bundle(shipment_bundle, path)
    verdict = verify_bundle(load_bundle(path), session_w3)
    assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)
    assert verdict.findings == ()
    assert shipment_bundle["consignment"]["event_count"] == 5
    fields = _log(shipment_bundle, "ConsignmentEventRecorded", 1)["record"]["fields"]
    assert fields["biz_step"] == "loading"
    assert fields["location"] == "AUADL"
    assert _log(shipment_bundle, "ConsignmentEventRecorded")["record"]["signer"].startswith("0x")


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(bundle: dict[str, Any]) -> None:
        target: Any = bundle
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value

    return apply


def _event(n: int, *path: Any) -> Callable[[dict[str, Any]], Any]:
    def get(bundle: dict[str, Any]) -> Any:
        target: Any = _log(bundle, "ConsignmentEventRecorded", n)
        for key in path:
            target = target[key]
        return target

    return get


def _mutate_event(n: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(bundle: dict[str, Any]) -> None:
        entry = _log(bundle, "ConsignmentEventRecorded", n)
        parts = key.split(".")
        target: Any = entry
        for part in parts[:-1]:
            target = target[part]
        target[parts[-1]] = value(target[parts[-1]]) if callable(value) else value

    return apply


def _drop_event(bundle: dict[str, Any]) -> None:
    entry = _log(bundle, "ConsignmentEventRecorded", 2)
    bundle["logs"].remove(entry)


def _drop_carrier_key(bundle: dict[str, Any]) -> None:
    signer = _log(bundle, "ConsignmentEventRecorded", 1)["record"]["signer"].lower()
    bundle["logs"] = [
        e
        for e in bundle["logs"]
        if not (e["event"] == "SigningKeyAdded" and e["record"]["key"].lower() == signer)
    ]


def _drop_all(bundle: dict[str, Any]) -> None:
    bundle["logs"] = [e for e in bundle["logs"] if e["event"] != "ConsignmentRegistered"]


TAMPERING: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "location in the decoded record": (
        _mutate_event(3, "record.fields.location", "SGSIN"),
        "BUNDLE_RECORD_MISMATCH",
    ),
    "signer in the decoded record": (
        _mutate_event(1, "record.signer", "0x" + "11" * 20),
        "BUNDLE_RECORD_MISMATCH",
    ),
    "log data": (_mutate_event(1, "data", _flip), "BUNDLE_LOG_MISMATCH"),
    "log topic": (
        _mutate_event(1, "topics", lambda t: [t[0], _flip(t[1]), *t[2:]]),
        "BUNDLE_LOG_MISMATCH",
    ),
    "block time": (_mutate_event(1, "block_time", lambda t: t - 3600), "BUNDLE_LOG_MISMATCH"),
    "log block hash": (_mutate_event(1, "block_hash", _flip), "BUNDLE_LOG_MISMATCH"),
    "log index": (_mutate_event(1, "log_index", lambda i: i + 7), "BUNDLE_LOG_NOT_FOUND"),
    "transaction hash": (_mutate_event(1, "tx_hash", _flip), "BUNDLE_LOG_NOT_FOUND"),
    "event dropped": (_drop_event, "BUNDLE_HEAD_MISMATCH"),
    "registration dropped": (_drop_all, "BUNDLE_HEAD_MISMATCH"),
    "signing key log dropped": (_drop_carrier_key, "BUNDLE_SIGNER_UNPROVEN"),
    "stated head": (_set(("consignment", "head"), _flip), "BUNDLE_HEAD_MISMATCH"),
    "event count": (_set(("consignment", "event_count"), lambda n: n - 1), "BUNDLE_HEAD_MISMATCH"),
    "anchor block hash": (_set(("block", "hash"), _flip), "BUNDLE_BLOCK_MISMATCH"),
    "chain id": (_set(("chain_id",), 1), "BUNDLE_CHAIN_MISMATCH"),
    "contract code hash": (
        _set(("contracts", "Certificates", "code_hash"), _flip),
        "BUNDLE_CODE_MISMATCH",
    ),
    "contract address": (
        _set(("contracts", "Attestations", "address"), "0x" + "22" * 20),
        "BUNDLE_CODE_MISMATCH",
    ),
    "extra field": (_set(("comment",), "trust me"), "BUNDLE_MALFORMED"),
    "logs reordered": (
        lambda b: b["logs"].reverse(),
        "BUNDLE_MALFORMED",
    ),
    "format": (_set(("version",), 2), "BUNDLE_MALFORMED"),
}


@pytest.mark.parametrize("what", list(TAMPERING))
def test_tampered_bundle_fails_with_reason(
    shipment_bundle: dict[str, Any], session_w3: Web3, what: str
) -> None:
    mutate, code = TAMPERING[what]
    bundle = copy.deepcopy(shipment_bundle)
    mutate(bundle)
    assert bundle != shipment_bundle
    verdict = verify_bundle(json.loads(json.dumps(bundle)), session_w3)
    assert verdict.status is VerdictStatus.FAILED, render_report(verdict)
    assert code in verdict.codes, render_report(verdict)
    assert all(f.explanation for f in verdict.findings)


def test_bundle_exported_from_a_tampered_index_fails(
    ledger: Ledger, world: DemoWorld, index: Index, session_w3: Web3
) -> None:
    shipment = Builder(ledger, world).shipment()
    index.sync()
    with index.engine.begin() as conn:  # the index serves an altered export release
        row = conn.execute(
            raw_logs.select().where(
                raw_logs.c.consignment_id == shipment.cid, raw_logs.c.event == "Attested"
            )
        ).first()
        assert row is not None
        data = bytearray(row.data)
        data[40] ^= 0xFF
        conn.execute(
            update(raw_logs)
            .where(
                raw_logs.c.block_number == row.block_number,
                raw_logs.c.log_index == row.log_index,
            )
            .values(data=bytes(data))
        )
    verdict = verify_bundle(export_bundle(index, shipment.cid), session_w3)
    assert verdict.status is VerdictStatus.FAILED
    assert "BUNDLE_LOG_MISMATCH" in verdict.codes


def test_load_bundle_rejects_non_json(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text("[1, 2]")
    with pytest.raises(InvalidBundle):
        load_bundle(path)
    path.write_text("{not json")
    with pytest.raises(InvalidBundle):
        load_bundle(path)

"""Exporting a consignment's proof bundle from the index (anchored at the index's block), and
bundle files.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from sqlalchemy import select

from ledger.errors import InvalidBundle
from ledger.index import Index, RawLog, raw_logs
from ledger.verify.bundle.scope import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    CONTRACTS,
    Fetch,
    bundle_scope,
    hexstr,
    log_entry,
)

__all__ = ["export_bundle", "load_bundle", "write_bundle"]

log = logging.getLogger("ledger.verify.engine")


def _raw_rows(index: Index, query: Any) -> list[RawLog]:
    with index.engine.connect() as conn:
        return [
            RawLog(
                address=to_checksum_address(bytes(r.address)),
                contract=r.contract,
                event=r.event,
                topics=tuple(
                    bytes(t) for t in (r.topic0, r.topic1, r.topic2, r.topic3) if t is not None
                ),
                data=bytes(r.data),
                block_number=r.block_number,
                block_hash=hexstr(bytes(r.block_hash)),
                tx_hash=hexstr(bytes(r.tx_hash)),
                tx_index=r.tx_index,
                log_index=r.log_index,
                block_time=r.block_time,
            )
            for r in conn.execute(query)
        ]


def _index_fetch(index: Index, consignment_id: bytes) -> Fetch:
    def fetch(
        contract: str, events: tuple[str, ...], position: int, values: Sequence[bytes]
    ) -> list[RawLog]:
        if not values:
            return []
        if contract == "Consignments":  # event logs are rebuilt from their rows
            return [
                r
                for r in index.raw_logs(consignment_id)
                if r.contract == contract and r.event in events and r.topics[position] in values
            ]
        topic = raw_logs.c[f"topic{position}"]
        query = select(raw_logs).where(
            raw_logs.c.contract == contract,
            raw_logs.c.event.in_(events),
            topic.in_(list(values)),
        )
        return _raw_rows(index, query)

    return fetch


def export_bundle(index: Index, consignment_id: bytes, *, sync: bool = True) -> dict[str, Any]:
    """The proof bundle of a consignment, anchored at the index's block.

    The index provides the logs; the chain is asked for the head, block hash and code at that
    block, so a bundle exported from a tampered index fails :func:`verify_bundle`.
    """
    if sync:
        index.sync()
    ledger = index.ledger
    w3 = ledger.w3
    block, _ = index.cursor()
    header = w3.eth.get_block(block)
    logs = bundle_scope(_index_fetch(index, consignment_id), consignment_id)
    if not any(r.event == "ConsignmentRegistered" for r in logs):
        raise InvalidBundle(f"consignment {hexstr(consignment_id)} is not in the index")
    head, count = ledger.consignments.head(consignment_id, block=block)
    contracts = {}
    for name in CONTRACTS:
        address = ledger.clients[name].address
        code = bytes(w3.eth.get_code(address, block))
        contracts[name] = {"address": address, "code_hash": hexstr(keccak(code))}
    bundle = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "chain_id": ledger.deployment.chain_id,
        "block": {"number": block, "hash": hexstr(bytes(header["hash"]))},
        "contracts": contracts,
        "consignment": {"id": hexstr(consignment_id), "head": hexstr(head), "event_count": count},
        "logs": [log_entry(r) for r in logs],
    }
    log.info(
        "exported proof bundle of %s: %d logs at block %d", hexstr(consignment_id), len(logs), block
    )
    return bundle


def write_bundle(bundle: Mapping[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(bundle, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_bundle(path: str | Path) -> dict[str, Any]:
    """Read a bundle file (raises :class:`~ledger.errors.InvalidBundle` if it is not a JSON
    object; everything else is :func:`verify_bundle`'s business)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidBundle(f"cannot read proof bundle {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidBundle(f"proof bundle {path} is not a JSON object")
    return data

"""How the verifier reads the chain: the hash chain head proves attribution, the consignment's
own logs (when the policy asks for them) prove it with the records' positions, the reads of a
verification go to the node in one batch, and what is kept between verifications is re-read
when the index moves.

The node is the session's anvil; where a test needs a node that answers differently, a
provider in front of it edits the answers to ``eth_getLogs`` (the chain itself is untouched).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy import select, update
from web3 import Web3
from web3.providers import HTTPProvider

from ledger.chain import ContractError, Ledger
from ledger.errors import VerificationError
from ledger.index import Index, consignment_events, consignments
from ledger.risk import score_risk
from ledger.stack import CARRIER
from ledger.verify import Verdict, VerdictStatus, VerificationPolicy, Verifier, render_report
from ledger.verify.reads import ChainReads, log_ranges
from tests.ledger.scenarios import DAY, Builder, Shipment

LogEdit = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


class EditingProvider(HTTPProvider):
    """The node as it is, except that ``edit`` rewrites every ``eth_getLogs`` answer; counts
    the HTTP round trips (single requests and batches)."""

    def __init__(self, url: str, edit: LogEdit | None = None) -> None:
        super().__init__(url, request_kwargs={"timeout": 30})
        self.edit = edit
        self.single: list[str] = []
        self.batches: list[list[str]] = []

    def _edited(self, method: str, response: Any) -> Any:
        if method == "eth_getLogs" and self.edit is not None and "result" in response:
            response = dict(response, result=self.edit(list(response["result"])))
        return response

    def make_request(self, method: Any, params: Any) -> Any:
        self.single.append(str(method))
        return self._edited(str(method), super().make_request(method, params))

    def make_batch_request(self, batch_requests: Any) -> Any:
        self.batches.append([str(m) for m, _ in batch_requests])
        responses = super().make_batch_request(batch_requests)
        assert isinstance(responses, list)
        return [
            self._edited(str(m), r) for (m, _), r in zip(batch_requests, responses, strict=True)
        ]


def node_url(ledger: Ledger) -> str:
    provider = ledger.w3.provider
    assert isinstance(provider, HTTPProvider)
    return str(provider.endpoint_uri)


def through(ledger: Ledger, provider: EditingProvider) -> Ledger:
    """The same deployment, read through ``provider``."""
    return Ledger(Web3(provider), ledger.deployment)


def codes(verdict: Verdict) -> list[str]:
    return sorted(set(verdict.codes))


def event_log_position(index: Index, shipment: Shipment, seq: int) -> tuple[int, int]:
    with index.engine.connect() as conn:
        row = conn.execute(
            select(consignment_events.c.block_number, consignment_events.c.log_index).where(
                consignment_events.c.consignment_id == shipment.cid,
                consignment_events.c.seq == seq,
            )
        ).one()
    return int(row[0]), int(row[1])


def at_position(entry: dict[str, Any], position: tuple[int, int]) -> bool:
    return (int(entry["blockNumber"], 16), int(entry["logIndex"], 16)) == position


#: The log-level attribution check (off by default: the head proves attribution).
LOGS = VerificationPolicy(check_attribution=True)


# ------------------------------------------------------------------------------------------
# Attribution by the hash chain head (the default)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["organisation", "signer"])
def test_misattribution_fails_the_head_without_reading_logs(
    ledger: Ledger, index: Index, build: Builder, what: str
) -> None:
    """The index names another organisation or key for an event: the chain step commits to
    both, so the fold differs from the contract's head; no ``eth_getLogs`` is needed."""
    shipment = build.shipment()
    index.sync()
    exporter = build.parties["exporter"]
    values = (
        {"org_id": exporter.org_id}
        if what == "organisation"
        else {"signer": bytes.fromhex(exporter.address[2:])}
    )
    with index.engine.begin() as conn:
        conn.execute(
            update(consignment_events)
            .where(
                consignment_events.c.consignment_id == shipment.cid,
                consignment_events.c.seq == 2,
            )
            .values(**values)
        )
    provider = EditingProvider(node_url(ledger))
    verdict = Verifier(through(ledger, provider), index).verify(build.claim(shipment), sync=False)
    assert verdict.status is VerdictStatus.FAILED, render_report(verdict)
    assert "HEAD_MISMATCH" in codes(verdict), render_report(verdict)
    assert ("hash chain equals on-chain head", "failed") in [
        (c.name, c.outcome) for c in verdict.checks
    ]
    assert "record attribution (chain logs)" not in [c.name for c in verdict.checks]
    assert not any("eth_getLogs" in batch for batch in [*provider.batches, provider.single])


def test_a_misattributed_registration_fails_the_head(
    ledger: Ledger, index: Index, build: Builder
) -> None:
    shipment = build.shipment()
    index.sync()
    exporter = build.parties["exporter"]
    with index.engine.begin() as conn:
        conn.execute(
            update(consignments)
            .where(consignments.c.consignment_id == shipment.cid)
            .values(signer=bytes.fromhex(exporter.address[2:]))
        )
    verdict = Verifier(ledger, index).verify(build.claim(shipment))
    assert "HEAD_MISMATCH" in codes(verdict), render_report(verdict)


# ------------------------------------------------------------------------------------------
# Attribution against the chain's logs (VerificationPolicy.check_attribution)
# ------------------------------------------------------------------------------------------


def test_genuine_consignment_is_attributed_by_its_logs(
    ledger: Ledger, index: Index, build: Builder
) -> None:
    shipment = build.shipment()
    verdict = Verifier(ledger, index, policy=LOGS).verify(build.claim(shipment))
    assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)
    assert ("record attribution (chain logs)", "passed") in [
        (c.name, c.outcome) for c in verdict.checks
    ]


def test_a_log_missing_from_the_nodes_answer_fails_the_claim(
    ledger: Ledger, index: Index, build: Builder
) -> None:
    shipment = build.shipment()
    index.sync()
    hidden = event_log_position(index, shipment, 3)
    provider = EditingProvider(
        node_url(ledger), lambda logs: [e for e in logs if not at_position(e, hidden)]
    )
    verdict = Verifier(through(ledger, provider), index, policy=LOGS).verify(build.claim(shipment))
    assert verdict.status is VerdictStatus.FAILED, render_report(verdict)
    assert codes(verdict) == ["INDEX_MISMATCH"]
    (finding,) = verdict.findings
    assert "event #3" in finding.explanation
    assert [(e.block_number, e.log_index) for e in finding.evidence] == [hidden]
    assert ("record attribution (chain logs)", "failed") in [
        (c.name, c.outcome) for c in verdict.checks
    ]


def test_a_log_whose_signer_topic_differs_from_the_index_row(
    ledger: Ledger, index: Index, build: Builder
) -> None:
    shipment = build.shipment()
    index.sync()
    registration = index.consignment(shipment.cid)
    assert registration is not None
    position = (registration.block_number, registration.log_index)
    other = "0x" + build.parties["exporter"].address[2:].lower().rjust(64, "0")

    def forge_signer(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            dict(e, topics=[*e["topics"][:3], other]) if at_position(e, position) else e
            for e in logs
        ]

    provider = EditingProvider(node_url(ledger), forge_signer)
    verdict = Verifier(through(ledger, provider), index, policy=LOGS).verify(build.claim(shipment))
    assert codes(verdict) == ["INDEX_MISMATCH"], render_report(verdict)
    (finding,) = verdict.findings
    assert "the registration" in finding.explanation
    assert finding.evidence[0].kind == "registration"


def test_index_placing_an_event_in_another_transaction(
    ledger: Ledger, index: Index, build: Builder
) -> None:
    shipment = build.shipment()
    index.sync()
    with index.engine.begin() as conn:
        registration_tx = conn.execute(
            select(consignments.c.tx_hash).where(consignments.c.consignment_id == shipment.cid)
        ).scalar_one()
        conn.execute(
            update(consignment_events)
            .where(
                consignment_events.c.consignment_id == shipment.cid,
                consignment_events.c.seq == 1,
            )
            .values(tx_hash=registration_tx)
        )
    verdict = Verifier(ledger, index, policy=LOGS).verify(build.claim(shipment))
    assert codes(verdict) == ["INDEX_MISMATCH"], render_report(verdict)
    assert "event #1" in verdict.findings[0].explanation
    # what only the log check proves: the head commits to records and their signers, not to
    # the transaction the index names as evidence
    verdict = Verifier(ledger, index).verify(build.claim(shipment))
    assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)


def test_without_the_check_the_misattribution_is_not_seen(
    ledger: Ledger, index: Index, build: Builder
) -> None:
    """The check is what catches it (the policy switch is honoured, and off is visible); off is
    the default."""
    assert VerificationPolicy().check_attribution is False
    shipment = build.shipment()
    index.sync()
    hidden = event_log_position(index, shipment, 2)
    provider = EditingProvider(
        node_url(ledger), lambda logs: [e for e in logs if not at_position(e, hidden)]
    )
    policy = VerificationPolicy(check_attribution=False)
    verdict = Verifier(through(ledger, provider), index, policy=policy).verify(
        build.claim(shipment)
    )
    assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)
    assert "record attribution (chain logs)" not in [c.name for c in verdict.checks]
    assert not any("eth_getLogs" in batch for batch in provider.batches)


# ------------------------------------------------------------------------------------------
# One batch per verification
# ------------------------------------------------------------------------------------------


def test_a_verification_reads_the_chain_in_one_batch(
    ledger: Ledger, index: Index, build: Builder
) -> None:
    shipment = build.shipment()
    index.sync()
    provider = EditingProvider(node_url(ledger))
    claim = build.claim(shipment, aeo_operators=())
    verdict = Verifier(through(ledger, provider), index, policy=LOGS).verify(claim, sync=False)
    assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)
    assert provider.single == []
    (batch,) = provider.batches
    view = index.consignment_view(shipment.cid)
    assert view is not None
    blocks = [view.consignment.block_number, *(e.block_number for e in view.timeline)]
    assert batch.count("eth_getLogs") == len(log_ranges(blocks)) >= 1
    # by default the same batch without the logs
    provider.batches.clear()
    verifier = Verifier(through(ledger, provider), index)
    verdict = verifier.verify(claim, sync=False)
    assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)
    assert provider.single == []
    (batch,) = provider.batches
    assert "eth_getLogs" not in batch
    assert batch.count("eth_getBlockByNumber") == 1  # the verification date: the block's time
    assert "eth_call" in batch  # head, attestation, drawn quantity, certificate, keys
    # an AEO claim needs the verification date first: one more round trip for recognition
    provider.batches.clear()
    verdict = verifier.verify(build.claim(shipment), sync=False)
    assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)
    assert len(provider.batches) + len(provider.single) == 2
    assert provider.single == ["eth_call"]


class NoBatches(EditingProvider):
    """A node that refuses batch requests (one error object for the whole batch)."""

    def make_batch_request(self, batch_requests: Any) -> Any:
        self.batches.append([str(m) for m, _ in batch_requests])
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "no batches"}}


def test_a_node_that_takes_no_batches_is_asked_one_by_one(
    ledger: Ledger, index: Index, build: Builder
) -> None:
    shipment = build.shipment()
    index.sync()
    provider = NoBatches(node_url(ledger))
    verdict = Verifier(through(ledger, provider), index).verify(
        build.claim(shipment, aeo_operators=()), sync=False
    )
    assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)
    (refused,) = provider.batches
    assert sorted(provider.single) == sorted(refused)  # every read, asked again on its own


def test_log_ranges_cover_only_the_blocks_that_hold_records() -> None:
    assert log_ranges([]) == []
    assert log_ranges([7, 3, 3, 5]) == [(3, 3), (5, 5), (7, 7)]
    assert log_ranges([3, 4, 5, 9]) == [(3, 5), (9, 9)]  # adjacent blocks: one range
    assert log_ranges([10, 5_000_000, 12]) == [(10, 10), (12, 12), (5_000_000, 5_000_000)]
    assert log_ranges([-1, 4]) == [(4, 4)]  # no block before the first


def test_log_ranges_close_the_narrowest_gaps_first_and_respect_the_span() -> None:
    blocks = [1, 3, 10, 11, 40, 42]
    assert log_ranges(blocks, most=3) == [(1, 3), (10, 11), (40, 42)]
    assert log_ranges(blocks, most=2) == [(1, 11), (40, 42)]
    assert log_ranges(blocks, most=1) == [(1, 42)]
    assert log_ranges(blocks, most=1, span=20) == [(1, 11), (40, 42)]
    assert log_ranges([0, 99, 100], most=1, span=100) == [(0, 99), (100, 100)]


class _Answers:
    """A provider that answers a batch with fixed responses."""

    def __init__(self, responses: list[dict[str, Any]]) -> None:
        self.responses = responses

    def make_batch_request(self, requests: Any) -> list[dict[str, Any]]:
        assert len(requests) == len(self.responses)
        return self.responses

    def make_request(self, method: Any, params: Any) -> dict[str, Any]:
        return self.responses[0]


def test_an_error_in_a_batch_is_raised_where_the_answer_is_used(ledger: Ledger) -> None:
    reads = ChainReads(ledger)
    reads._provider = _Answers(
        [
            {"id": 1, "result": "0x" + "00" * 32 + "00" * 31 + "05"},
            {"id": 2, "error": {"code": 3, "message": "execution reverted", "data": "0x"}},
            {"id": 3, "error": {"code": -32000, "message": "header not found"}},
        ]
    )
    cid = bytes(32)
    reads.want_call(ledger.consignments, "head", cid, block=1)
    reads.want_call(ledger.consignments, "head", cid, block=2)
    reads.want_block(3)
    reads.flush()  # nothing is raised for answers nobody used yet
    assert reads.call(ledger.consignments, "head", cid, block=1)["eventCount"] == 5
    with pytest.raises(ContractError):
        reads.call(ledger.consignments, "head", cid, block=2)
    with pytest.raises(VerificationError, match="header not found"):
        reads.block_time(3)


# ------------------------------------------------------------------------------------------
# What is kept between verifications
# ------------------------------------------------------------------------------------------


def test_the_organisation_directory_is_re_read_when_the_index_moves(
    ledger: Ledger, index: Index, build: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    rogue = build.admit("rogue", "Fly-by-Night Shipping", CARRIER, "SG")
    shipment = build.shipment(keys={"carrier": rogue.private_key})
    index.sync()
    verifier = Verifier(ledger, index)
    reads: list[int] = []
    directory = index.organisations

    def counted() -> Any:
        reads.append(1)
        return directory()

    monkeypatch.setattr(index, "organisations", counted)
    claim = build.claim(shipment)
    assert verifier.verify(claim, sync=False).status is VerdictStatus.VERIFIED
    assert verifier.verify(claim, sync=False).status is VerdictStatus.VERIFIED
    assert len(reads) == 1  # same cursor, same rows: read once
    build.suspend(rogue)
    # the index has not seen the suspension yet (same cursor): nothing is re-read
    assert verifier.verify(claim, sync=False).status is VerdictStatus.VERIFIED
    assert len(reads) == 1
    index.sync()  # the cursor moves: the suspension is in the directory now
    verdict = verifier.verify(claim, sync=False)
    assert len(reads) == 2
    assert verdict.status is VerdictStatus.SUSPICIOUS, render_report(verdict)
    assert codes(verdict) == ["SIGNER_MEMBER_SUSPENDED"]


# ------------------------------------------------------------------------------------------
# Key state
# ------------------------------------------------------------------------------------------


def test_key_state_is_read_afresh_and_decoded_once_per_answer(
    ledger: Ledger, index: Index, build: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every verification reads each signer's key state from the chain; an answer seen before
    is not decoded again, a changed one is (here: the key is revoked between verifications)."""
    key = build.add_key("carrier", valid_from=build.t0 - 60 * DAY)
    shipment = build.shipment(keys={"carrier": key})
    address = Account.from_key(key).address
    decoded: list[str] = []
    membership = type(ledger.membership)
    key_info = membership.key_info

    def counted(self: Any, key: str, **kwargs: Any) -> Any:
        decoded.append(key)
        return key_info(self, key, **kwargs)

    monkeypatch.setattr(membership, "key_info", counted)
    verifier = Verifier(ledger, index)
    claim = build.claim(shipment, aeo_operators=())
    assert verifier.verify(claim).status is VerdictStatus.VERIFIED
    assert decoded.count(address) == 1
    verdict = Verifier(ledger, index).verify(claim)  # another verifier: the same answer
    assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)
    assert decoded.count(address) == 1
    build.revoke_key("carrier", key)
    verdict = verifier.verify(claim)
    assert decoded.count(address) == 2
    assert verdict.status is VerdictStatus.SUSPICIOUS, render_report(verdict)
    assert codes(verdict) == ["SIGNER_KEY_REVOKED"]
    assert address in verdict.findings[0].explanation


# ------------------------------------------------------------------------------------------
# The consignor's history (risk)
# ------------------------------------------------------------------------------------------


def test_the_consignors_history_is_the_same_kept_or_counted(
    ledger: Ledger, index: Index, build: Builder
) -> None:
    """The history comes from the count the index keeps with the registration; a registration
    indexed before the index kept it is counted instead, with the same verdict."""
    for _ in range(3):
        build.register()
    shipment = build.shipment()
    index.sync()
    view = index.consignment_view(shipment.cid)
    assert view is not None
    assert view.consignor_earlier is not None
    assert view.consignor_earlier >= 3
    claim = build.claim(shipment)
    kept = Verifier(ledger, index, scorer=score_risk).verify(claim, sync=False)
    reasons = [c.reason for c in kept.risk.contributions]
    assert f"clean history ({view.consignor_earlier} earlier consignments)" in reasons, reasons
    with index.engine.begin() as conn:
        conn.execute(
            update(consignments)
            .where(consignments.c.consignment_id == shipment.cid)
            .values(consignor_earlier=None)
        )
    counted = Verifier(ledger, index, scorer=score_risk).verify(claim, sync=False)
    assert counted.as_dict() == kept.as_dict()

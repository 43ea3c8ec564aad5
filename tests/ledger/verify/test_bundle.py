"""Proof bundles: export from the index, verify against the node with no index or gateway, and
every kind of tampering fails with the check that catches it."""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from sqlalchemy import update
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.providers import HTTPProvider
from web3.types import RPCEndpoint, RPCResponse

from ledger.chain import AnvilNode, Ledger
from ledger.errors import InvalidBundle
from ledger.index import Index, raw_logs
from ledger.records.kinds import (
    Attestation,
    AttestationRevocation,
    Proposal,
    ProposalAction,
    SchemaRegistration,
    SubjectType,
)
from ledger.stack.demo import CARRIER, EXPORT_RELEASE_SCHEMA, INSPECTION_SCHEMA, DemoWorld
from ledger.verify import VerdictStatus, render_report
from ledger.verify.bundle import (
    decode_record,
    export_bundle,
    load_bundle,
    verify_bundle,
    write_bundle,
)
from tests.ledger.scenarios import DAY, DIRECT, Builder, Leg, now


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
    "log signer topic": (
        _mutate_event(1, "topics", lambda t: [*t[:3], _flip(t[3])]),
        "BUNDLE_LOG_MISMATCH",
    ),
    "log organisation topic": (
        _mutate_event(1, "topics", lambda t: [*t[:2], _flip(t[2]), t[3]]),
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


@pytest.mark.parametrize("topic", [2, 3], ids=["organisation", "signer"])
def test_a_node_agreeing_with_a_forged_attribution_is_caught_by_the_head(
    shipment_bundle: dict[str, Any], anvil: AnvilNode, topic: int
) -> None:
    """A bundle that names another organisation or key for an event, verified against a node
    whose receipts and logs say the same: every log check passes, but the hash chain commits to
    the true organisation and signer, and the head is the contract's (an ``eth_call``)."""
    bundle = copy.deepcopy(shipment_bundle)
    entry = _log(bundle, "ConsignmentEventRecorded", 1)
    forged = list(entry["topics"])
    forged[topic] = _flip(forged[topic])
    entry["topics"] = forged
    entry["record"] = decode_record(
        "Consignments", [bytes.fromhex(t[2:]) for t in forged], bytes.fromhex(entry["data"][2:])
    )
    position = (entry["tx_hash"].lower(), entry["log_index"])

    def forge(log: dict[str, Any]) -> dict[str, Any]:
        at = (str(log["transactionHash"]).lower(), int(log["logIndex"], 16))
        return {**log, "topics": forged} if at == position else log

    class Agreeing(HTTPProvider):
        def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
            response = super().make_request(method, params)
            result = response.get("result")
            if method == "eth_getLogs" and isinstance(result, list):
                response = {**response, "result": [forge(lg) for lg in result]}
            elif method == "eth_getTransactionReceipt" and isinstance(result, dict):
                logs = [forge(lg) for lg in result["logs"]]
                response = {**response, "result": {**result, "logs": logs}}
            return response

    w3 = Web3(Agreeing(anvil.rpc_url, request_kwargs={"timeout": 30}))
    verdict = verify_bundle(bundle, w3)
    assert verdict.status is VerdictStatus.FAILED, render_report(verdict)
    checks = {c.name: c.outcome for c in verdict.checks}
    assert checks["hash chain"] == "failed", render_report(verdict)
    # the node vouches for the forged log, so every log check passes; the head does not, and
    # the forged key or organisation is not bound to the other by any key log either
    assert set(verdict.codes) == {"BUNDLE_HEAD_MISMATCH", "BUNDLE_SIGNER_UNPROVEN"}, render_report(
        verdict
    )


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


# ------------------------------------------------------------------------------------------
# Completeness: a bundle cannot hide a record of its scope, nor carry one from outside it
# ------------------------------------------------------------------------------------------


def _remembered(asked: Callable[..., Any]) -> Callable[..., Any]:
    answers: dict[str, Any] = {}

    def remembered(*args: Any) -> Any:
        key = json.dumps(args, sort_keys=True, default=str)
        if key not in answers:
            answers[key] = asked(*args)
        return answers[key]

    return remembered


def remembering(w3: Web3) -> Web3:
    """``w3`` with the node's answers remembered: the chain does not move while one bundle is
    checked hundreds of times over (every request of :func:`verify_bundle` is a read)."""
    for name in ("get_transaction_receipt", "get_block", "get_code", "call", "get_logs"):
        setattr(w3.eth, name, _remembered(getattr(w3.eth, name)))
    return w3


def _attest_on(build: Builder, subject_type: int, subject_id: bytes, by: str) -> bytes:
    """An inspection attestation by ``by`` on any subject; its uid."""
    schema_id = keccak(text=INSPECTION_SCHEMA)
    if build.ledger.attestations.schema_registrant(schema_id) == bytes(32):
        build.ledger.attestations.register_schema(
            build.ledger.sign(
                SchemaRegistration(definition=INSPECTION_SCHEMA, deadline=now(build.ledger) + 600),
                build.parties["au"].private_key,
            )
        )
    attestation = Attestation(
        schema_id=schema_id,
        subject_type=subject_type,
        subject_id=subject_id,
        data_digest=keccak(text=f"inspection {subject_id.hex()}"),
        deadline=now(build.ledger) + 600,
    )
    party = build.parties[by]
    build.ledger.attestations.attest(build.ledger.sign(attestation, party.private_key))
    return attestation.uid(party.org_id)


@dataclass
class Rich:
    """A consignment with a record of every kind a bundle carries, and its bundle."""

    bundle: dict[str, Any]
    cid: bytes
    other_cid: bytes
    certificate_id: bytes
    release_uid: bytes
    rogue_org: bytes
    key: str


@pytest.fixture
def rich(ledger: Ledger, world: DemoWorld, index: Index) -> Rich:
    build = Builder(ledger, world)
    rogue = build.admit("rogue", "Fly-by-Night Shipping", CARRIER, "SG")
    key = build.add_key("carrier", valid_from=now(ledger) - 60 * DAY)
    certificate = build.certificate(quantity=9000)
    other = build.shipment(certificate=certificate, draw=3000, release=False)
    legs = list(DIRECT)
    legs[3] = Leg("arriving", "CNSGH", 3 + 12 * 24, actor="rogue", disposition="in_transit")
    shipment = build.shipment(
        certificate=certificate, draw=4500, legs=legs, keys={"carrier": key}, release=False
    )
    release = build.attest(EXPORT_RELEASE_SCHEMA, shipment.cid, "au")
    inspection = build.attest(INSPECTION_SCHEMA, shipment.cid, "cn")
    build.ledger.attestations.revoke(
        build.ledger.sign(
            AttestationRevocation(uid=inspection, deadline=now(ledger) + 600),
            build.parties["cn"].private_key,
        )
    )
    _attest_on(build, SubjectType.ATTESTATION, release, "cn")  # on the export release
    _attest_on(build, SubjectType.CERTIFICATE, shipment.certificate_id, "cn")
    build.revoke_key("carrier", key)
    build.suspend(rogue)
    build.govern(
        Proposal(
            action=ProposalAction.REINSTATE_MEMBER,
            org_id=rogue.org_id,
            expires_at=now(ledger) + 3600,
            salt=secrets.token_bytes(32),
        )
    )
    build.revoke_certificate(shipment.certificate_number)
    return Rich(
        bundle=export_bundle(index, shipment.cid),
        cid=shipment.cid,
        other_cid=other.cid,
        certificate_id=shipment.certificate_id,
        release_uid=release,
        rogue_org=rogue.org_id,
        key=Account.from_key(key).address,
    )


def _is(event: str, **record: Any) -> Callable[[Rich, dict[str, Any]], bool]:
    """Selects the logs named ``event`` whose record has these values (callables of the
    scenario, for ids known only once it is built)."""

    def match(rich: Rich, entry: dict[str, Any]) -> bool:
        if entry["event"] != event:
            return False
        for name, value in record.items():
            wanted = value(rich) if callable(value) else value
            if isinstance(wanted, bytes):
                wanted = "0x" + wanted.hex()
            if str(entry["record"][name]).lower() != str(wanted).lower():
                return False
        return True

    return match


REVOKED = "is revoked, the bundle has no revocation"

# what is removed -> (which logs, what the log finding names, what the state finding says or
# None when the state the remaining logs add up to is still the contracts')
HIDDEN: dict[str, tuple[Callable[[Rich, dict[str, Any]], bool], str, str | None]] = {
    "certificate revocation": (_is("CertificateRevoked"), "revocation of certificate", REVOKED),
    "certificate issue": (_is("CertificateIssued"), "issue of certificate", None),
    "the consignment's drawdown": (
        _is("QuantityDrawn", consignmentId=lambda r: r.cid),
        "drawdown of 4500",
        "drawdowns add up to 3000",
    ),
    "a drawdown by another consignment": (
        _is("QuantityDrawn", consignmentId=lambda r: r.other_cid),
        "drawdown of 3000",
        "drawdowns add up to 4500",
    ),
    "export release attestation": (
        _is("Attested", uid=lambda r: r.release_uid),
        "attestation",
        None,
    ),
    "attestation on an attestation": (
        _is("Attested", subjectId=lambda r: r.release_uid),
        "attestation",
        None,
    ),
    "attestation on the certificate": (
        _is("Attested", subjectId=lambda r: r.certificate_id),
        "attestation",
        None,
    ),
    "attestation revocation": (_is("AttestationRevoked"), "revocation of attestation", REVOKED),
    "key revocation": (
        _is("SigningKeyRevoked", key=lambda r: r.key),
        "revocation of signing key",
        REVOKED,
    ),
    "member suspension": (_is("OrganisationSuspended"), "OrganisationSuspended", None),
    "member reinstatement": (
        _is("OrganisationReinstated"),
        "OrganisationReinstated",
        "logs leave it suspended",
    ),
    # the state is unchanged by the pair: only the node's logs show what was hidden
    "suspension and reinstatement together": (
        lambda r, e: e["event"] in {"OrganisationSuspended", "OrganisationReinstated"},
        "organisation",
        None,
    ),
    "member admission": (
        _is("OrganisationAdmitted", orgId=lambda r: r.rogue_org),
        "Admitted",
        None,
    ),
}


def test_rich_bundle_verifies_and_holds_every_kind(rich: Rich, session_w3: Web3) -> None:
    verdict = verify_bundle(rich.bundle, session_w3)
    assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)
    assert {e["event"] for e in rich.bundle["logs"]} == {
        "ConsignmentRegistered",
        "ConsignmentEventRecorded",
        "CertificateIssued",
        "CertificateRevoked",
        "QuantityDrawn",
        "Attested",
        "AttestationRevoked",
        "OrganisationAdmitted",
        "OrganisationSuspended",
        "OrganisationReinstated",
        "SigningKeyAdded",
        "SigningKeyRevoked",
    }
    completeness = next(c for c in verdict.checks if c.name.startswith("completeness"))
    assert completeness.outcome == "passed"
    assert completeness.note == f"{len(rich.bundle['logs'])} logs in scope"


@pytest.mark.parametrize("what", list(HIDDEN))
def test_hidden_record_fails_as_incomplete(rich: Rich, session_w3: Web3, what: str) -> None:
    select, named, state = HIDDEN[what]
    bundle = copy.deepcopy(rich.bundle)
    hidden = [e for e in bundle["logs"] if select(rich, e)]
    assert hidden, what
    bundle["logs"] = [e for e in bundle["logs"] if not select(rich, e)]
    verdict = verify_bundle(bundle, session_w3)
    assert verdict.status is VerdictStatus.FAILED, render_report(verdict)
    assert set(verdict.codes) == {"BUNDLE_INCOMPLETE"}, render_report(verdict)
    by_logs = [f for f in verdict.findings if f.evidence[0].kind == "log"]
    by_state = [f for f in verdict.findings if f.evidence[0].kind != "log"]
    assert len(by_logs) == len(hidden)
    for finding, entry in zip(by_logs, hidden, strict=True):
        assert named in finding.explanation, finding.explanation
        assert finding.evidence[0].tx_hash == entry["tx_hash"]
        assert finding.evidence[0].log_index == entry["log_index"]
    if state is None:
        assert by_state == []
    else:
        assert [state in f.explanation for f in by_state] == [True], render_report(verdict)
    checks = {c.name: c.outcome for c in verdict.checks}
    assert checks["completeness (eth_getLogs)"] == "failed"
    assert checks["state at the anchor block"] == ("passed" if state is None else "failed")


def test_state_catches_what_a_faulty_log_filter_misses(
    rich: Rich, anvil: AnvilNode, session_w3: Web3
) -> None:
    """A node whose eth_getLogs loses certificate revocations (a log filter bug): the bundle
    that hides the revocation is still caught, by the certificate's state."""
    revoked = next(e for e in rich.bundle["logs"] if e["event"] == "CertificateRevoked")

    class Forgetful(HTTPProvider):
        def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
            response = super().make_request(method, params)
            if method == "eth_getLogs":
                kept = [lg for lg in response["result"] if lg["topics"][0] != revoked["topics"][0]]
                response = {**response, "result": kept}
            return response

    forgetful = Web3(Forgetful(anvil.rpc_url, request_kwargs={"timeout": 30}))
    assert verify_bundle(rich.bundle, forgetful).codes == ["BUNDLE_LOG_UNRELATED"]
    bundle = copy.deepcopy(rich.bundle)
    bundle["logs"].remove(revoked)
    verdict = verify_bundle(bundle, forgetful)
    assert verdict.codes == ["BUNDLE_INCOMPLETE"], render_report(verdict)
    assert REVOKED in verdict.findings[0].explanation
    assert verdict.findings[0].evidence[0].record_id == "0x" + rich.certificate_id.hex()


def test_hidden_key_addition_fails_as_incomplete_and_unproven(rich: Rich, session_w3: Web3) -> None:
    bundle = copy.deepcopy(rich.bundle)
    select = _is("SigningKeyAdded", key=rich.key)
    assert sum(select(rich, e) for e in bundle["logs"]) == 1
    bundle["logs"] = [e for e in bundle["logs"] if not select(rich, e)]
    verdict = verify_bundle(bundle, session_w3)
    assert set(verdict.codes) == {"BUNDLE_INCOMPLETE", "BUNDLE_SIGNER_UNPROVEN"}


def test_log_of_another_consignment_is_unrelated(
    rich: Rich, index: Index, session_w3: Web3
) -> None:
    other = export_bundle(index, rich.other_cid, sync=False)
    intruder = next(e for e in other["logs"] if e["event"] == "ConsignmentRegistered")
    bundle = copy.deepcopy(rich.bundle)
    bundle["logs"] = sorted(
        [*bundle["logs"], intruder], key=lambda e: (e["block_number"], e["log_index"])
    )
    verdict = verify_bundle(bundle, session_w3)
    assert verdict.status is VerdictStatus.FAILED
    assert set(verdict.codes) == {"BUNDLE_LOG_UNRELATED"}, render_report(verdict)


def test_completeness_survives_a_node_limiting_log_ranges(
    rich: Rich, anvil: AnvilNode, session_w3: Web3
) -> None:
    class Limited(HTTPProvider):
        widest = 0

        def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
            if method == "eth_getLogs":
                span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16)
                if span > 8:
                    raise Web3RPCError("exceeds max block range 8")
                Limited.widest = max(Limited.widest, span)
            return super().make_request(method, params)

    assert session_w3.eth.block_number > 32
    limited = Web3(Limited(anvil.rpc_url, request_kwargs={"timeout": 30}))
    verdict = verify_bundle(rich.bundle, limited)
    assert verdict.status is VerdictStatus.VERIFIED, render_report(verdict)
    assert 0 < Limited.widest <= 8
    hidden = copy.deepcopy(rich.bundle)
    hidden["logs"] = [e for e in hidden["logs"] if e["event"] != "CertificateRevoked"]
    caught = verify_bundle(hidden, limited)
    assert [f.evidence[0].kind for f in caught.findings] == ["log", "certificate"]
    assert set(caught.codes) == {"BUNDLE_INCOMPLETE"}


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _leaves(value[key], (*path, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _leaves(item, (*path, n))
    else:
        yield path, value


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str) and value.startswith("0x") and len(value) > 2:
        return _flip(value)
    if isinstance(value, str):
        return value + "X"
    assert value is None, value
    return "0x00"


# Leaves whose change does not touch what the bundle proves, each with the reason. (None so
# far: every leaf is either compared with the chain or is the decoding of one that is.)
IRRELEVANT: dict[tuple[Any, ...], str] = {}


def test_changing_any_leaf_fails(rich: Rich, anvil: AnvilNode) -> None:
    w3 = remembering(Web3(HTTPProvider(anvil.rpc_url, request_kwargs={"timeout": 30})))
    assert verify_bundle(rich.bundle, w3).status is VerdictStatus.VERIFIED
    leaves = list(_leaves(rich.bundle))
    assert len(leaves) > 300
    passed: list[tuple[Any, ...]] = []
    for path, value in leaves:
        bundle = copy.deepcopy(rich.bundle)
        _set(path, _changed(value))(bundle)
        verdict = verify_bundle(bundle, w3)
        if verdict.status is not VerdictStatus.FAILED:
            passed.append(path)
    # IRRELEVANT names a leaf of a log with "*" for the log's position
    general = {(p[0], "*", *p[2:]) if p[0] == "logs" else p for p in passed}
    assert general == set(IRRELEVANT), passed

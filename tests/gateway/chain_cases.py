"""Request bodies for every write route, valid for the seeded demo world, and the on-chain
prerequisites some of them need (consignments to draw on, a pending MRA, open proposals).

``body(kind, role, ...)`` is what party ``role`` would send to the custodial route of
``kind``; :data:`EXPECTED` is the domain's answer for each (kind, role): 202, or the status
and error code of the refusal.

The demo world has no postal operator (``ledger.stack.demo`` is shared with ``ledger up`` and the
benchmark), so :func:`with_postal_operator` admits one through governance on the test's chain
and returns the world with it as role ``"postal"``; :data:`MATRIX_ROLES` are the five kinds of
organisation (customs twice: origin and destination country) plus it.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from eth_account import Account
from eth_utils.crypto import keccak

from gateway.auth import IssuedKey
from gateway.writes.outbox import RecordKind
from ledger.chain import Ledger
from ledger.records import (
    Approval,
    ConsignmentRegistration,
    MraAcceptance,
    MraProposal,
    Proposal,
    ProposalAction,
    reference_hash,
)
from ledger.stack import POSTAL_OPERATOR, SEAL_CHECK_SCHEMA, DemoWorld, Party, admit
from tests.gateway.conftest import auth

ROLES = ("au", "cn", "carrier", "exporter", "chamber")
"""The demo world's parties: customs AU and CN, a carrier, a trader (AEO), an issuing body."""
MATRIX_ROLES = (*ROLES, "postal")
"""Every kind of organisation: the demo parties and a postal operator (see
:func:`with_postal_operator`)."""
DAY = 86_400

DOCUMENT_KINDS = frozenset({RecordKind.EPCIS_CAPTURE})
"""Kinds whose write routes take a document rather than a record body (an EPCIS capture is
its EPCISDocument): their own tests are in ``tests/gateway/api/test_epcis_api.py``."""
BODY_KINDS = [k for k in RecordKind if k not in DOCUMENT_KINDS]
"""Every kind written from a record body (the matrix of this module)."""

POSTAL = Party.demo("Australia Post (matrix tests)", POSTAL_OPERATOR, "AU")


def hx(value: bytes) -> str:
    return "0x" + value.hex()


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def status_and_code(response: httpx.Response) -> tuple[int, str]:
    """An error response's HTTP status and machine-readable ``error.code``."""
    return response.status_code, response.json()["error"]["code"]


def assert_nothing_stored(client: httpx.Client, key: IssuedKey, kind: str) -> None:
    """The caller of ``key`` has no record of ``kind`` in the outbox."""
    page = client.get("/records", params={"kind": kind}, headers=auth(key)).json()
    assert page["items"] == []


def chain_now(ledger: Ledger) -> int:
    """The time of the next block, near enough: automine stamps blocks with the wall clock,
    so the latest block may be older than now."""
    return max(int(ledger.w3.eth.get_block("latest")["timestamp"]), int(time.time()))


def with_postal_operator(ledger: Ledger, world: DemoWorld) -> DemoWorld:
    """Admit :data:`POSTAL` by governance (AU proposes, CN approves, executed) on ``ledger``'s
    chain (the ``ledger`` fixture reverts it after the test); ``world`` with it as
    ``"postal"``."""
    p = world.parties
    if not ledger.membership.organisation(POSTAL.org_id).registered:
        admit(ledger, POSTAL, governors=[p["au"], p["cn"]], now=chain_now(ledger))
    return dataclasses.replace(world, parties={**p, "postal": POSTAL})


@dataclass
class Prepared:
    """On-chain state the bodies refer to, created by :func:`prepare`."""

    now: int
    consignment_refs: dict[str, str]  # role -> a registered consignment (consignor exporter)
    pending_mra: bytes  # proposed by au to cn, not accepted
    open_proposal: Proposal  # proposed by au, approvals 1 (threshold 2)
    ready_proposal: Proposal  # proposed by au, approved by cn: executable


def prepare(ledger: Ledger, world: DemoWorld, kind: RecordKind | None = None) -> Prepared:
    """Create what ``kind``'s bodies refer to (everything when ``kind`` is None)."""
    p = world.parties
    now = chain_now(ledger)
    refs: dict[str, str] = {}
    prep = Prepared(now, refs, bytes(32), _dummy_proposal(now), _dummy_proposal(now))
    if kind not in (
        None,
        RecordKind.DRAWDOWN,
        RecordKind.MRA_ACCEPTANCE,
        RecordKind.APPROVAL,
        RecordKind.EXECUTION,
    ):
        return prep
    roles = [r for r in MATRIX_ROLES if r in p]
    for role in roles if kind in (None, RecordKind.DRAWDOWN) else ():
        ref = f"MATRIX-{role}-{secrets.token_hex(4)}"
        registration = ConsignmentRegistration(
            reference_hash=reference_hash(ref),
            origin=b"AU",
            destination=b"CN",
            consignor=p["exporter"].org_id,
            deadline=now + 3600,
        )
        ledger.consignments.register(ledger.sign(registration, p["carrier"].private_key))
        refs[role] = ref
    if kind in (None, RecordKind.MRA_ACCEPTANCE):
        prep.pending_mra = _pending_mra(ledger, world, now)
    if kind in (None, RecordKind.APPROVAL, RecordKind.EXECUTION):
        prep.open_proposal, prep.ready_proposal = _proposals(ledger, world, now)
    return prep


def _dummy_proposal(now: int) -> Proposal:
    return Proposal(action=ProposalAction.SET_THRESHOLD, threshold=1, expires_at=now + DAY)


def _pending_mra(ledger: Ledger, world: DemoWorld, now: int) -> bytes:
    p = world.parties
    mra = MraProposal(
        counterpart=p["cn"].org_id,
        scope=0x2,
        valid_from=now - 60,
        valid_until=now + 365 * DAY,
        deadline=now + DAY,
    )
    receipt = ledger.aeo.propose_mra(ledger.sign(mra, p["au"].private_key))
    mra_id: bytes = next(
        d.args["mraId"] for d in ledger.decode_logs(receipt.logs) if d.event == "MraProposed"
    )
    return mra_id


def active_mra(ledger: Ledger, world: DemoWorld, *, days: int = 365) -> bytes:
    """A new MRA between the demo's two administrations, proposed by au and accepted by cn,
    valid for ``days`` (distinct ``days`` give distinct MRA ids within one block time)."""
    p = world.parties
    now = chain_now(ledger)
    mra = MraProposal(
        counterpart=p["cn"].org_id,
        scope=0x2,
        valid_from=now - 60,
        valid_until=now + days * DAY,
        deadline=now + DAY,
    )
    mra_id = mra.mra_id(p["au"].org_id)
    ledger.aeo.propose_mra(ledger.sign(mra, p["au"].private_key))
    acceptance = MraAcceptance(mra_id=mra_id, deadline=now + DAY)
    ledger.aeo.accept_mra(ledger.sign(acceptance, p["cn"].private_key))
    return mra_id


def _proposals(ledger: Ledger, world: DemoWorld, now: int) -> tuple[Proposal, Proposal]:
    p = world.parties
    proposals = []
    for threshold in (1, 2):
        proposal = Proposal(
            action=ProposalAction.SET_THRESHOLD,
            threshold=threshold,
            expires_at=now + 7 * DAY,
            salt=secrets.token_bytes(32),
        )
        ledger.membership.propose(ledger.sign(proposal, p["au"].private_key))
        proposals.append(proposal)
    ready = proposals[1]
    ledger.membership.approve(
        ledger.sign(Approval(proposal_id=ready.proposal_id), p["cn"].private_key)
    )
    return proposals[0], ready


def body(kind: RecordKind, role: str, world: DemoWorld, prep: Prepared) -> dict[str, Any]:
    """A custodial request body of ``kind`` as party ``role`` would send it."""
    p = world.parties
    now = prep.now
    other_customs = p["au"] if role == "cn" else p["cn"]
    match kind:
        case RecordKind.CONSIGNMENT:
            return {
                "consignment_ref": f"NEW-{role}-{secrets.token_hex(4)}",
                "origin": "AU",
                "destination": "CN",
                "consignor": hx(p["exporter"].org_id),
            }
        case RecordKind.EVENT:
            return {
                "consignment_ref": world.consignment_ref,
                "biz_step": "inspecting",
                "disposition": "in_progress",
                "location": "CNSHA",
                "event_time": iso(now - 60),
                "container": "CSQU3054383",
                "seals": ["ML-AU 1234567"],
            }
        case RecordKind.CERTIFICATE_ISSUE:
            return {
                "certificate_number": f"CERT-{role}-{secrets.token_hex(4)}",
                "exporter": hx(p["exporter"].org_id),
                "origin": "AU",
                "destination": "CN",
                "document_digest": hx(keccak(text=f"doc {role}")),
                "hs_codes": ["2204.21", "2204.29"],
                "quantity": {"amount": "1000", "unit": "LTR"},
                "valid_from": iso(now - 3600),
                "valid_until": iso(now + 30 * DAY),
            }
        case RecordKind.CERTIFICATE_REVOKE:
            return {"certificate_number": world.certificate_number, "reason": "issued in error"}
        case RecordKind.DRAWDOWN:
            return {
                "certificate_id": hx(world.certificate_id),
                "consignment_ref": prep.consignment_refs[role],
                "quantity": {"amount": "100", "unit": "LTR"},
            }
        case RecordKind.SCHEMA:
            return {"definition": f"matrix-{role}-{secrets.token_hex(4)}(bytes32 x)"}
        case RecordKind.ATTESTATION:
            return {
                "schema": SEAL_CHECK_SCHEMA,
                "subject_type": "consignment",
                "subject_ref": world.consignment_ref,
                "data_digest": hx(secrets.token_bytes(32)),
            }
        case RecordKind.ATTESTATION_REVOKE:
            return {"uid": hx(world.attestation_uids[0]), "reason": "superseded"}
        case RecordKind.AEO_ACTION:
            return {
                "action": "suspend",
                "operator_id": hx(p["exporter"].org_id),
                "programme": "AEOF",
            }
        case RecordKind.MRA_PROPOSAL:
            return {
                "counterpart": hx(other_customs.org_id),
                "programmes": ["AEOS"],
                "valid_from": iso(now),
                "valid_until": iso(now + 365 * DAY),
            }
        case RecordKind.MRA_ACCEPTANCE:
            return {"mra_id": hx(prep.pending_mra)}
        case RecordKind.MRA_TERMINATION:
            return {"mra_id": hx(world.mra_id)}
        case RecordKind.PROPOSAL:
            return {"action": "suspend_member", "org_id": hx(p["carrier"].org_id)}
        case RecordKind.APPROVAL:
            return {"proposal_id": hx(prep.open_proposal.proposal_id)}
        case RecordKind.EXECUTION:
            return {"proposal": prep.ready_proposal.json_message()}
        case RecordKind.KEY_ADDITION:
            return {
                "key": Account.create().address,
                "valid_from": iso(now - 60),
                "valid_until": iso(now + 365 * DAY),
            }
        case RecordKind.KEY_REVOCATION:
            return {"key": p[role].address}
        case RecordKind.DECLARATION:
            return {
                "declaration_number": f"DECL-{role}-{secrets.token_hex(4)}",
                "date": "2026-12-06",
                "administration": hx(p["cn"].org_id),
                "office": "2200",
                "procedure": "B",
                "import_type": "11",
                "transport_mode": "10",
                "importer": "CN-IMP-1",
                "seller": "AU-SELLER-1",
                "hs6": "2204.21",
                "departure_country": "AU",
                "origin_country": "AU",
                "tax_type": "A",
                "net_mass_kg": 100,
                "item_price": 2500,
                "currency": "AUD",
                "consignment_ref": world.consignment_ref,
                "consignment_registrant": "0x" + world.parties["carrier"].org_id.hex(),
            }
    raise AssertionError(kind)


OK = (202, None)
KIND_DENIED = (403, "WrongKind")

EXPECTED: dict[RecordKind, dict[str, tuple[int, str | None]]] = {
    RecordKind.CONSIGNMENT: {
        "au": OK,
        "cn": OK,
        "carrier": OK,
        "exporter": OK,
        "chamber": KIND_DENIED,
        "postal": OK,
    },
    RecordKind.EVENT: {
        "au": OK,
        "cn": OK,
        "carrier": OK,
        "exporter": OK,  # the consignor: a party to the consignment
        "chamber": (403, "NotConsignmentParty"),
        "postal": OK,  # posts events like a carrier, on any consignment
    },
    RecordKind.CERTIFICATE_ISSUE: {
        "au": OK,
        "cn": (403, "WrongCountry"),
        "carrier": KIND_DENIED,
        "exporter": KIND_DENIED,
        "chamber": OK,
        "postal": KIND_DENIED,
    },
    RecordKind.CERTIFICATE_REVOKE: {
        "au": (404, "UnknownCertificate"),  # not its certificate: the id includes the issuer
        "cn": (404, "UnknownCertificate"),
        "carrier": KIND_DENIED,
        "exporter": KIND_DENIED,
        "chamber": OK,
        "postal": KIND_DENIED,
    },
    RecordKind.DRAWDOWN: {
        "au": OK,  # customs of the origin country
        "cn": OK,  # customs of the destination country
        "carrier": (403, "NotAuthorisedToDraw"),
        "exporter": OK,
        "chamber": (403, "NotAuthorisedToDraw"),
        "postal": (403, "NotAuthorisedToDraw"),
    },
    RecordKind.SCHEMA: dict.fromkeys(MATRIX_ROLES, OK),
    RecordKind.ATTESTATION: dict.fromkeys(MATRIX_ROLES, OK),
    RecordKind.ATTESTATION_REVOKE: {
        "au": OK,
        "cn": (403, "NotAttester"),
        "carrier": (403, "NotAttester"),
        "exporter": (403, "NotAttester"),
        "chamber": (403, "NotAttester"),
        "postal": (403, "NotAttester"),
    },
    RecordKind.AEO_ACTION: {
        "au": OK,
        "cn": (403, "WrongCountry"),
        "carrier": KIND_DENIED,
        "exporter": KIND_DENIED,
        "chamber": KIND_DENIED,
        "postal": KIND_DENIED,
    },
    RecordKind.MRA_PROPOSAL: {
        "au": OK,
        "cn": OK,
        "carrier": KIND_DENIED,
        "exporter": KIND_DENIED,
        "chamber": KIND_DENIED,
        "postal": KIND_DENIED,
    },
    RecordKind.MRA_ACCEPTANCE: {
        "au": (403, "NotMraCounterpart"),
        "cn": OK,
        "carrier": KIND_DENIED,
        "exporter": KIND_DENIED,
        "chamber": KIND_DENIED,
        "postal": KIND_DENIED,
    },
    RecordKind.MRA_TERMINATION: {
        "au": OK,
        "cn": OK,
        "carrier": KIND_DENIED,
        "exporter": KIND_DENIED,
        "chamber": KIND_DENIED,
        "postal": KIND_DENIED,
    },
    RecordKind.PROPOSAL: {
        "au": OK,
        "cn": OK,
        "carrier": KIND_DENIED,
        "exporter": KIND_DENIED,
        "chamber": KIND_DENIED,
        "postal": KIND_DENIED,
    },
    RecordKind.APPROVAL: {
        "au": (409, "AlreadyApproved"),  # the proposer's approval is counted already
        "cn": OK,
        "carrier": KIND_DENIED,
        "exporter": KIND_DENIED,
        "chamber": KIND_DENIED,
        "postal": KIND_DENIED,
    },
    RecordKind.EXECUTION: {
        "au": OK,
        "cn": OK,
        "carrier": KIND_DENIED,
        "exporter": KIND_DENIED,
        "chamber": KIND_DENIED,
        "postal": KIND_DENIED,
    },
    RecordKind.KEY_ADDITION: dict.fromkeys(MATRIX_ROLES, OK),
    RecordKind.KEY_REVOCATION: dict.fromkeys(MATRIX_ROLES, OK),
    RecordKind.DECLARATION: {
        "au": KIND_DENIED,
        "cn": KIND_DENIED,
        "carrier": OK,
        "exporter": OK,
        "chamber": KIND_DENIED,
        "postal": OK,
    },
}
"""What each party gets from each write route (status, error code) on the demo world with a
postal operator."""

assert set(EXPECTED) == set(BODY_KINDS)
assert all(list(answers) == list(MATRIX_ROLES) for answers in EXPECTED.values())


def allowed_role(kind: RecordKind) -> str:
    """A party that may write ``kind`` (for tests of other failures)."""
    return next(role for role in ROLES if EXPECTED[kind][role] == OK)

"""One verification in progress: what the checks read (:class:`Context`) and what they found
so far (:class:`Run`).

The :class:`Context` is built by :class:`ledger.verify.engine.Verifier` for each verification:
the index, this verification's chain reads (:class:`~ledger.verify.reads.ChainReads`) and the
typed clients answered from them, the policy, the optional UN/LOCODE directory and serial
registry, the organisation :class:`Directory` (index rows, kept between verifications
while the index cursor stays where it was read) and the organisation names the caller knows
(id -> name: the chain holds ids only). Every check is a function of a context and a
run (:data:`CheckFn`); it appends findings to the run and records how it went.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import select

from ledger.chain import KeyInfo, Ledger
from ledger.index import (
    AttestationRecord,
    CertificateRecord,
    ConsignmentRecord,
    DrawdownRecord,
    EventRow,
    Index,
    OrganisationRecord,
    TimelineEvent,
    org_status_changes,
    signing_keys_revoked,
)
from ledger.records import LocodeDirectory
from ledger.verify.claim import Claim, VerificationPolicy
from ledger.verify.evidence import KIND_NAMES, h
from ledger.verify.findings import Check, Finding
from ledger.verify.reads import ChainReads, checksummed
from ledger.verify.registry import SerialRegistry

__all__ = ["END", "CheckFn", "ClaimCheck", "Context", "Directory", "Run", "StatusRow"]

END = (2**62, 0)  # a chain position after every log

#: A member's status change: (block time, status, block number, tx hash, log index).
StatusRow = tuple[int, int, int, str, int]

# Decoded key states by (Membership address, key, the node's raw keyInfo answer). The answer is
# read afresh in every verification; only its decoding is shared, since the same answer always
# decodes to the same KeyInfo (frozen). Cleared when full.
_KEY_STATES: dict[tuple[str, str, str], KeyInfo] = {}
_KEY_STATES_MAX: Final = 4096


@dataclass
class Run:
    """A verification's claim, date and block, what was found so far and the checks run."""

    claim: Claim
    at: int
    block: int
    findings: list[Finding] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    consignment: ConsignmentRecord | None = None
    timeline: list[TimelineEvent] = field(default_factory=list)
    attestations: list[AttestationRecord] = field(default_factory=list)
    drawdowns: list[DrawdownRecord] = field(default_factory=list)
    found_certificate: CertificateRecord | None = None  # what the claim's certificate resolves to
    certificate: CertificateRecord | None = None
    recognised_aeos: list[bytes] = field(default_factory=list)
    consignor_earlier: int | None = None  # the index's count, kept with the registration
    captured: list[EventRow] | None = None  # the consignment's EPCIS events, once read

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def check(self, name: str, failed_before: int, note: str = "") -> None:
        self.checks.append(
            Check(name, "failed" if len(self.findings) > failed_before else "passed", note)
        )

    def skip(self, name: str, why: str) -> None:
        self.checks.append(Check(name, "skipped", why))


@dataclass(frozen=True, slots=True)
class Directory:
    """The index's organisations and members' status history, as read at one index cursor
    (block number, block hash). The index writes rows only in the transaction that moves its
    cursor to a new block (and removes them only by moving it back, on a reorg): rows read at
    one cursor are the rows at that cursor, until it moves."""

    at: tuple[int, bytes | None]
    orgs: dict[bytes, OrganisationRecord]
    org_status: dict[bytes, list[StatusRow]]

    @classmethod
    def read(cls, index: Index, cursor: tuple[int, bytes | None]) -> Directory:
        orgs = {o.org_id: o for o in index.organisations()}
        rows: dict[bytes, list[StatusRow]] = defaultdict(list)
        with index.engine.connect() as conn:
            for r in conn.execute(
                select(org_status_changes).order_by(
                    org_status_changes.c.block_number, org_status_changes.c.log_index
                )
            ):
                rows[bytes(r.org_id)].append(
                    (r.block_time, r.status, r.block_number, h(bytes(r.tx_hash)), r.log_index)
                )
        return cls(cursor, orgs, dict(rows))


class Context:
    """What the checks of one verification read: the index, the chain (afresh, batched), the
    organisation directory, the policy and the optional code lists and registries."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        index: Index,
        directory: Directory,
        policy: VerificationPolicy,
        locodes: LocodeDirectory | None,
        serials: SerialRegistry | None,
        names: Mapping[bytes, str] | None = None,
    ) -> None:
        self.ledger = ledger
        self.names: Mapping[bytes, str] = names or {}
        self.index = index
        self.policy = policy
        self.locodes = locodes
        self.serials = serials
        self.orgs = directory.orgs
        self._org_status = directory.org_status
        self.keys: dict[str, KeyInfo] = {}  # checksummed address -> state, this verification
        self.chain = chain = ChainReads(ledger)
        self.membership = chain.served(ledger.membership)
        self.consignments = chain.served(ledger.consignments)
        self.certificates = chain.served(ledger.certificates)
        self.attestations = chain.served(ledger.attestations)
        self.aeo = chain.served(ledger.aeo)

    def status_at(self, org: bytes, position: tuple[int, int]) -> tuple[int, StatusRow | None]:
        """(status, the change that set it) of ``org`` just before the log at ``position``
        (block number, log index) in chain order: 1 active, 2 suspended."""
        status, change = 1, None
        for row in self._org_status.get(org, []):
            if (row[2], row[4]) < position:
                status, change = row[1], row
        return status, change

    def key(self, signer: str) -> KeyInfo:
        """``signer``'s state on chain, read afresh in this verification's batch; decoded once
        per distinct answer (:data:`_KEY_STATES`)."""
        key = checksummed(signer)
        info = self.keys.get(key)
        if info is None:
            membership = self.ledger.membership
            answer = (membership.address, key, self.chain.raw_call(membership, "keyInfo", key))
            info = _KEY_STATES.get(answer)
            if info is None:
                info = self.membership.key_info(key)
                if len(_KEY_STATES) >= _KEY_STATES_MAX:
                    _KEY_STATES.clear()
                _KEY_STATES[answer] = info
            self.keys[key] = info
        return info

    def revoked_before(self, key: str, position: tuple[int, int]) -> bool:
        """Whether ``key``'s revocation log comes before the record's log in chain order."""
        with self.index.engine.connect() as conn:
            row = conn.execute(
                select(signing_keys_revoked.c.block_number, signing_keys_revoked.c.log_index)
                .where(signing_keys_revoked.c.key == bytes.fromhex(key[2:]))
                .limit(1)
            ).first()
        if row is None:  # the index lacks it: fall back on the contract's revocation time
            return False
        return (int(row[0]), int(row[1])) < position

    def org_name(self, org: bytes) -> str:
        """The organisation in words: its name where known (``Barossa Valley Wine Exports
        (trader, AU)``), else its kind, short id and country; ``(not a member)`` when the
        ledger does not know the id."""
        record = self.orgs.get(org)
        name = self.names.get(org)
        if record is None:
            if name is not None:
                return f"{name} (not a member)"
            return f"unknown organisation {h(org)[:12]}..."
        kind = KIND_NAMES.get(record.kind, "member")
        if name is not None:
            return f"{name} ({kind}, {record.country})"
        return f"{kind} {h(org)[:12]}... ({record.country})"


#: A check: reads the context, adds findings and its outcome to the run.
CheckFn = Callable[[Context, Run], None]


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    """A check on a claim, as the orchestrator runs it: its name, what it needs, and the
    function. The finding codes it may raise are declared by its module (``FINDINGS``)."""

    name: str
    run: CheckFn
    #: Runs only when the claim's consignment was found on the ledger.
    needs_consignment: bool = True
    #: Runs only when this :class:`VerificationPolicy` flag is set.
    needs_policy: str | None = None

    def applies(self, context: Context, run: Run) -> bool:
        if self.needs_consignment and run.consignment is None:
            return False
        return self.needs_policy is None or bool(getattr(context.policy, self.needs_policy))

"""Request models of the customs-governed records: AEO actions, MRAs, governance proposals,
approvals and executions, and organisations' signing keys (custodial ``POST`` bodies)."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from gateway.auth import OrgKind
from gateway.models.record_fields import (
    _ORG,
    _OTHER,
    _PROPOSAL_SECONDS,
    PROGRAMME_BITS,
    Address,
    BuildContext,
    Bytes32,
    Message,
    Nonce,
    Programme,
    RecordCreate,
    RuledModel,
    Timestamp,
    _b32,
    _deadline,
    _ts,
    absent,
    branch,
    given,
    one_of_fields,
)
from gateway.models.stored import RecordKind
from ledger.records import (
    AeoAction,
    AeoActionCode,
    Approval,
    CountryCode,
    KeyAddition,
    KeyRevocation,
    MraAcceptance,
    MraProposal,
    MraTermination,
    Proposal,
    ProposalAction,
    fixed_ascii,
)

__all__ = [
    "AeoActionCreate",
    "ApprovalCreate",
    "ExecutionCreate",
    "KeyAdditionCreate",
    "KeyRevocationCreate",
    "MraAcceptanceCreate",
    "MraProposalCreate",
    "MraTerminationCreate",
    "ProposalCreate",
]

_AEO_ACTIONS: dict[str, int] = {
    "certify": AeoActionCode.CERTIFY,
    "suspend": AeoActionCode.SUSPEND,
    "reinstate": AeoActionCode.REINSTATE,
    "revoke": AeoActionCode.REVOKE,
}


class AeoActionCreate(RecordCreate):
    """Certify, suspend, reinstate or revoke an AEO (customs of the operator's country)."""

    KIND = RecordKind.AEO_ACTION
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "action": "certify",
                    "operator_id": _ORG,
                    "programme": "AEOF",
                    "valid_from": "2026-11-01T00:00:00Z",
                    "valid_until": "2029-11-01T00:00:00Z",
                }
            ]
        },
    )
    action: Literal["certify", "suspend", "reinstate", "revoke"]
    operator_id: Bytes32
    programme: Programme
    valid_from: Timestamp | None = Field(default=None, description="certify only.")
    valid_until: Timestamp | None = Field(default=None, description="certify only.")
    nonce: Nonce | None = Field(default=None)
    deadline: Timestamp | None = None

    SCHEMA_RULES = (
        {
            "anyOf": [
                branch(
                    {"properties": {"action": {"const": "certify"}}},
                    given("valid_from", "valid_until"),
                ),
                branch(
                    {"properties": {"action": {"enum": ["suspend", "reinstate", "revoke"]}}},
                    absent("valid_from", "valid_until"),
                ),
            ]
        },
    )

    @model_validator(mode="after")
    def _validity(self) -> Self:
        dated = self.valid_from is not None and self.valid_until is not None
        if self.action == "certify" and not dated:
            raise ValueError("certify needs valid_from and valid_until")
        if self.action != "certify" and (self.valid_from or self.valid_until):
            raise ValueError(f"{self.action} takes no validity")
        return self

    def to_record(self, ctx: BuildContext) -> AeoAction:
        return AeoAction(
            action=_AEO_ACTIONS[self.action],
            operator_id=_b32(self.operator_id),
            programme=fixed_ascii(self.programme, 8),
            valid_from=_ts(self.valid_from) if self.valid_from else 0,
            valid_until=_ts(self.valid_until) if self.valid_until else 0,
            nonce=self.nonce if self.nonce is not None else ctx.nonce(),
            deadline=_deadline(self.deadline, ctx),
        )


class MraProposalCreate(RecordCreate):
    """Propose a mutual recognition agreement to another customs administration."""

    KIND = RecordKind.MRA_PROPOSAL
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "counterpart": _OTHER,
                    "programmes": ["AEOS", "AEOF"],
                    "valid_from": "2026-12-01T00:00:00Z",
                    "valid_until": "2031-12-01T00:00:00Z",
                }
            ]
        },
    )
    counterpart: Bytes32
    programmes: list[Programme] = Field(min_length=1, description="Programmes recognised.")
    valid_from: Timestamp
    valid_until: Timestamp
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )

    def to_record(self, ctx: BuildContext) -> MraProposal:
        scope = 0
        for programme in self.programmes:
            scope |= PROGRAMME_BITS[programme]
        return MraProposal(
            counterpart=_b32(self.counterpart),
            scope=scope,
            valid_from=_ts(self.valid_from),
            valid_until=_ts(self.valid_until),
            deadline=_deadline(self.deadline, ctx),
        )


class MraAcceptanceCreate(RecordCreate):
    """Accept an MRA proposed to this administration."""

    KIND = RecordKind.MRA_ACCEPTANCE
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"mra_id": "0x" + "4d" * 32}]}
    )
    mra_id: Bytes32
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )

    def to_record(self, ctx: BuildContext) -> MraAcceptance:
        return MraAcceptance(mra_id=_b32(self.mra_id), deadline=_deadline(self.deadline, ctx))


class MraTerminationCreate(RecordCreate):
    """Terminate (or withdraw) an MRA this administration is party to."""

    KIND = RecordKind.MRA_TERMINATION
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"mra_id": "0x" + "4d" * 32}]}
    )
    mra_id: Bytes32
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )

    def to_record(self, ctx: BuildContext) -> MraTermination:
        return MraTermination(mra_id=_b32(self.mra_id), deadline=_deadline(self.deadline, ctx))


_PROPOSAL_ACTIONS: dict[str, int] = {
    "admit_member": ProposalAction.ADMIT_MEMBER,
    "suspend_member": ProposalAction.SUSPEND_MEMBER,
    "reinstate_member": ProposalAction.REINSTATE_MEMBER,
    "add_customs": ProposalAction.ADD_CUSTOMS,
    "set_threshold": ProposalAction.SET_THRESHOLD,
    "revoke_key": ProposalAction.REVOKE_KEY,
    "add_relayer": ProposalAction.ADD_RELAYER,
    "remove_relayer": ProposalAction.REMOVE_RELAYER,
    "add_key": ProposalAction.ADD_KEY,
    "replace_key": ProposalAction.REPLACE_KEY,
    "revoke_certificate": ProposalAction.REVOKE_RECORD,
    "revoke_aeo_certification": ProposalAction.REVOKE_RECORD,
}
_KIND_CODES: dict[OrgKind, int] = {
    OrgKind.CUSTOMS: 1,
    OrgKind.CARRIER: 2,
    OrgKind.TRADER: 3,
    OrgKind.ISSUING_BODY: 4,
    OrgKind.POSTAL_OPERATOR: 5,
}


_PLAIN_ACTIONS = [
    action
    for action in _PROPOSAL_ACTIONS
    if action not in ("add_key", "replace_key", "revoke_certificate", "revoke_aeo_certification")
]


class ProposalCreate(RecordCreate):
    """A governance proposal of a customs administration (k-of-n)."""

    KIND = RecordKind.PROPOSAL
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "action": "admit_member",
                    "org_id": _OTHER,
                    "org_kind": "carrier",
                    "country": "SG",
                    "account": "0x" + "5a" * 20,
                    "valid_from": "2026-11-23T00:00:00Z",
                    "valid_until": "2031-11-23T00:00:00Z",
                }
            ]
        },
    )
    action: Literal[
        "admit_member",
        "suspend_member",
        "reinstate_member",
        "add_customs",
        "set_threshold",
        "revoke_key",
        "add_relayer",
        "remove_relayer",
        "add_key",
        "replace_key",
        "revoke_certificate",
        "revoke_aeo_certification",
    ] = Field(
        description=(
            "add_key / replace_key: governance gives any organisation (customs administrations "
            "included) a key: org_id, account (the new key), valid_from, valid_until, and for "
            "replace_key `replaces` (the organisation's key revoked when the new one is added). "
            "Proposals and approvals of these two may be signed with an expired, never revoked "
            "customs key, so expiries cannot freeze governance. revoke_certificate: revoke "
            "`certificate_id`, issued by org_id, a suspended issuer; revoke_aeo_certification: "
            "revoke `certification_id`, certified by org_id, a suspended customs administration "
            "(what a suspended member issued only governance may revoke)."
        )
    )
    org_id: Bytes32 | None = None
    org_kind: OrgKind | None = None
    country: CountryCode | None = None
    account: Address | None = None
    valid_from: Timestamp | None = None
    valid_until: Timestamp | None = None
    threshold: Annotated[int, Field(ge=1, lt=2**16)] | None = None
    expires_at: Timestamp | None = Field(default=None, description="Default: in 7 days.")
    salt: Bytes32 | None = Field(default=None, description="Default: random.")
    replaces: Address | None = Field(
        default=None, description="replace_key only: the key of org_id that the new key replaces."
    )
    certificate_id: Bytes32 | None = Field(
        default=None, description="revoke_certificate only: the certificate to revoke."
    )
    certification_id: Bytes32 | None = Field(
        default=None,
        description="revoke_aeo_certification only: the AEO certification to revoke.",
    )

    SCHEMA_RULES = (
        {
            "anyOf": [
                branch(
                    {"properties": {"action": {"const": "add_key"}}},
                    given("org_id", "account", "valid_until"),
                    absent("replaces", "certificate_id", "certification_id"),
                ),
                branch(
                    {"properties": {"action": {"const": "replace_key"}}},
                    given("org_id", "account", "valid_until", "replaces"),
                    absent("certificate_id", "certification_id"),
                ),
                branch(
                    {"properties": {"action": {"const": "revoke_certificate"}}},
                    given("org_id", "certificate_id"),
                    absent("replaces", "certification_id"),
                ),
                branch(
                    {"properties": {"action": {"const": "revoke_aeo_certification"}}},
                    given("org_id", "certification_id"),
                    absent("replaces", "certificate_id"),
                ),
                branch(
                    {"properties": {"action": {"enum": _PLAIN_ACTIONS}}},
                    absent("replaces", "certificate_id", "certification_id"),
                ),
            ]
        },
    )

    @model_validator(mode="after")
    def _key_fields(self) -> Self:
        if self.action in ("add_key", "replace_key"):
            for name in ("org_id", "account", "valid_until"):
                if getattr(self, name) is None:
                    raise ValueError(f"{self.action} needs {name}")
        if (self.action == "replace_key") != (self.replaces is not None):
            raise ValueError("replaces is given with replace_key, and only with it")
        if (self.action == "revoke_certificate") != (self.certificate_id is not None):
            raise ValueError("certificate_id is given with revoke_certificate, and only with it")
        if (self.action == "revoke_aeo_certification") != (self.certification_id is not None):
            raise ValueError(
                "certification_id is given with revoke_aeo_certification, and only with it"
            )
        if self.action in ("revoke_certificate", "revoke_aeo_certification") and not self.org_id:
            raise ValueError(f"{self.action} needs org_id (the record's issuer)")
        return self

    def to_record(self, ctx: BuildContext) -> Proposal:
        return Proposal(
            action=_PROPOSAL_ACTIONS[self.action],
            org_id=_b32(self.org_id) if self.org_id else bytes(32),
            kind=_KIND_CODES[self.org_kind] if self.org_kind else 0,
            country=self.country.to_bytes2() if self.country else b"\0\0",
            account=(
                ctx.certificates
                if self.action == "revoke_certificate"
                else ctx.aeo
                if self.action == "revoke_aeo_certification"
                else self.account or "0x" + "00" * 20
            ),
            valid_from=_ts(self.valid_from) if self.valid_from else 0,
            valid_until=_ts(self.valid_until) if self.valid_until else 0,
            threshold=self.threshold or 0,
            expires_at=_ts(self.expires_at) if self.expires_at else ctx.now + _PROPOSAL_SECONDS,
            salt=_b32(self.salt) if self.salt else secrets.token_bytes(32),
            subject=(
                Proposal.key_subject(self.replaces)
                if self.replaces
                else _b32(self.certificate_id)
                if self.certificate_id
                else _b32(self.certification_id)
                if self.certification_id
                else bytes(32)
            ),
        )


class ApprovalCreate(RecordCreate):
    """Approve a governance proposal."""

    KIND = RecordKind.APPROVAL
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"proposal_id": "0x" + "9a" * 32}]}
    )
    proposal_id: Bytes32

    def to_record(self, ctx: BuildContext) -> Approval:
        return Approval(proposal_id=_b32(self.proposal_id))


class ExecutionCreate(RuledModel):
    """Execute a proposal that has its approvals (unsigned: the proposal's message)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"proposal_id": "0x" + "9a" * 32},
                {
                    "proposal": {
                        "action": 1,
                        "orgId": _OTHER,
                        "kind": 2,
                        "country": "0x5347",
                        "account": "0x" + "5a" * 20,
                        "validFrom": 1795392000,
                        "validUntil": 1953158400,
                        "threshold": 0,
                        "expiresAt": 1796000000,
                        "salt": "0x" + "00" * 32,
                        "subject": "0x" + "00" * 32,
                    }
                },
            ]
        },
    )
    proposal: Message | None = Field(
        default=None, description="The Proposal's EIP-712 message, as proposed."
    )
    proposal_id: Bytes32 | None = Field(
        default=None,
        description="Or the proposal's id (as `POST /governance/proposals` answered it): the "
        "gateway reads the message from the chain.",
    )

    SCHEMA_RULES = (one_of_fields("proposal", "proposal_id"),)

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.proposal is None) == (self.proposal_id is None):
            raise ValueError("give either proposal (the message) or proposal_id, not both")
        return self


class KeyAdditionCreate(RecordCreate):
    """Register another signing key of the caller's organisation."""

    KIND = RecordKind.KEY_ADDITION
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "0x" + "5b" * 20,
                    "valid_from": "2026-11-23T00:00:00Z",
                    "valid_until": "2028-11-23T00:00:00Z",
                }
            ]
        },
    )
    key: Address
    valid_from: Timestamp
    valid_until: Timestamp

    def to_record(self, ctx: BuildContext) -> KeyAddition:
        return KeyAddition(
            org_id=ctx.org_id,
            key=self.key,
            valid_from=_ts(self.valid_from),
            valid_until=_ts(self.valid_until),
        )


class KeyRevocationCreate(RecordCreate):
    """Revoke a signing key of the caller's organisation (a key may revoke itself)."""

    KIND = RecordKind.KEY_REVOCATION
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"key": "0x" + "5b" * 20}]}
    )
    key: Address
    deadline: Timestamp | None = Field(
        default=None, description="Latest time the record may be recorded (default: +24 h)."
    )

    def to_record(self, ctx: BuildContext) -> KeyRevocation:
        return KeyRevocation(
            org_id=ctx.org_id,
            key=self.key,
            deadline=_deadline(self.deadline, ctx),
        )

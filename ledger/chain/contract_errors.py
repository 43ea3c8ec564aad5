"""The contracts' custom errors as Python exceptions.

Every custom error of every contract has a class here, named as in Solidity, under one of
five categories that say what a caller can do about it::

    LedgerError
    └── ContractError                 a contract refused a call or record (``.name``, ``.args``)
        ├── SignerNotAuthorised       wrong signer, key outside its window, revoked, wrong role
        ├── DuplicateRecord           the record (or its nonce / unique id) is on chain already
        ├── RecordNotFound            the record refers to something that is not on chain
        ├── RecordStateConflict       valid record, but the state does not allow it now
        ├── InvalidRecord             a field breaks a rule the contract enforces
        ├── BatchItemFailed           item ``.index`` of a batch failed with ``.cause``
        └── UnknownContractError      revert data that matches no known error

The message of each is the ``@notice`` of the error in the contract interface, followed by its
arguments. :func:`decode_revert` turns revert data into the right instance; a test checks that
every error in the build artifacts has its class.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from eth_abi.abi import decode

from ledger.chain.abi import ErrorSpec, error_specs
from ledger.errors import LedgerError

__all__ = [
    "BatchItemFailed",
    "ContractError",
    "DuplicateRecord",
    "InvalidRecord",
    "RecordNotFound",
    "RecordStateConflict",
    "SignerNotAuthorised",
    "UnknownContractError",
    "decode_revert",
    "error_class",
]

_TIME_ARGS = {
    "at",
    "blockTime",
    "deadline",
    "expiresAt",
    "recordTime",
    "revokedAt",
    "validFrom",
    "validUntil",
}


def _show(name: str, value: Any) -> str:
    if isinstance(value, bytes):
        text = value.rstrip(b"\0")
        if 0 < len(value) <= 11 and text.isascii() and text.decode("ascii").isprintable():
            return repr(text.decode("ascii"))
        return "0x" + value.hex()
    if name in _TIME_ARGS and isinstance(value, int) and 0 < value < 2**40 - 1:
        when = dt.datetime.fromtimestamp(value, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{value} ({when})"
    return str(value)


class ContractError(LedgerError):
    """A contract reverted with one of its custom errors."""

    def __init__(self, name: str, args: Mapping[str, Any], notice: str = "") -> None:
        self.name = name
        self.args_map = dict(args)
        self.notice = notice or (type(self).__doc__ or "").strip()
        shown = ", ".join(f"{k}={_show(k, v)}" for k, v in self.args_map.items())
        text = f"{name}: {self.notice}" if self.notice else name
        super().__init__(f"{text} ({shown})" if shown else text)


class SignerNotAuthorised(ContractError):
    """The signer may not write this record."""


class DuplicateRecord(ContractError):
    """The record, its nonce or its unique id is on chain already."""


class RecordNotFound(ContractError):
    """The record refers to something that is not on chain."""


class RecordStateConflict(ContractError):
    """The state on chain does not allow this record now."""


class InvalidRecord(ContractError):
    """A field of the record breaks a rule the contract enforces."""


class UnknownContractError(ContractError):
    """Revert data that matches no known custom error."""


class BatchItemFailed(ContractError):
    """Item ``index`` of a batch failed with ``cause``; nothing of the batch was recorded."""

    def __init__(self, index: int, cause: ContractError) -> None:
        self.index = index
        self.cause = cause
        LedgerError.__init__(self, f"batch item {index} failed: {cause}")
        self.name = "BatchItemFailed"
        self.args_map = {"index": index, "reason": cause}
        self.notice = cause.notice


class AlreadyAmended(RecordStateConflict):
    """The declaration was amended already: amend the latest one."""


class AlreadyApproved(DuplicateRecord):
    """This administration approved the proposal already."""


class AlreadyDrawn(DuplicateRecord):
    """The certificate was already drawn for this consignment."""


class AmendmentMismatch(SignerNotAuthorised):
    """Only the declarant of a declaration, with the same administration, may amend it."""


class AttestationAlreadyRevoked(RecordStateConflict):
    """The attestation is revoked already."""


class AttestationExists(DuplicateRecord):
    """The attestation (same attester, same content) is recorded already."""


class CaptureExists(DuplicateRecord):
    """An EPCIS capture with this id was already committed."""


class CertificateExists(DuplicateRecord):
    """A certificate with this id exists already."""


class CertificateExpired(RecordStateConflict):
    """The certificate has expired."""


class CertificateIsRevoked(RecordStateConflict):
    """The certificate is revoked."""


class CertificateNotYetValid(RecordStateConflict):
    """The certificate is not valid yet."""


class CertificationInForce(RecordStateConflict):
    """The certification is active (or suspended) and not expired; certify refused."""


class ConsignmentExists(DuplicateRecord):
    """The consignment is registered already."""


class DeadlineExpired(InvalidRecord):
    """The record's deadline has passed."""


class DeclarationExists(DuplicateRecord):
    """A declaration with this id (declarant and reference) is already recorded."""


class EmptyCapture(InvalidRecord):
    """An EPCIS capture names no events, or a zero Merkle root."""


class EmptySchema(InvalidRecord):
    """The schema definition is empty."""


class EventCountOverflow(RecordStateConflict):
    """The consignment's event count reached 2^32 - 1."""


class ExporterNotTrader(InvalidRecord):
    """The exporter is not a trader."""


class InsufficientApprovals(RecordStateConflict):
    """Not enough approvals to execute."""


class InvalidAeoAction(InvalidRecord):
    """Unknown action code, or validity given for a status action."""


class InvalidBizStep(InvalidRecord):
    """bizStep is not a CBV 2.0 bizStep code (1..41)."""


class InvalidCertificate(InvalidRecord):
    """Zero quantity, zero unit, zero number or zero countries."""


class InvalidCounterpart(InvalidRecord):
    """The counterpart is not a customs administration, or is the proposer itself."""


class InvalidCountry(InvalidRecord):
    """Country is zero."""


class InvalidDisposition(InvalidRecord):
    """disposition is not a CBV 2.0 disposition code (0..33)."""


class InvalidExpiry(InvalidRecord):
    """expiresAt is not zero and not in the future."""


class InvalidHsCodes(InvalidRecord):
    """A code is not 6 ASCII digits, or the list is not strictly ascending or is empty."""


class InvalidKind(InvalidRecord):
    """The organisation kind is not allowed for this action."""


class InvalidLocation(InvalidRecord):
    """The location is zero."""


class InvalidOperator(InvalidRecord):
    """The operator is not a trader, carrier or postal operator."""


class InvalidRegistration(InvalidRecord):
    """Zero consignment id or zero country."""


class InvalidScope(InvalidRecord):
    """The scope is zero or has bits outside 0x7."""


class InvalidShortString(InvalidRecord):
    """An EIP-712 domain string is too long (OpenZeppelin ShortStrings)."""


class InvalidSignature(SignerNotAuthorised):
    """The signature does not recover to an address (malformed or high-s)."""


class InvalidStatus(RecordStateConflict):
    """The organisation's status does not allow this action."""


class InvalidProposalSubject(InvalidRecord):
    """A governance action's `subject` is not what the action needs."""


class InvalidStatusTransition(RecordStateConflict):
    """The action does not apply to the certification's status."""


class InvalidSubject(InvalidRecord):
    """Subject type outside 1..4, or zero subject id."""


class InvalidThreshold(InvalidRecord):
    """Threshold outside 1..(active customs administrations)."""


class InvalidValidity(InvalidRecord):
    """validUntil must be after validFrom and in the future."""


class KeyAlreadyRegistered(DuplicateRecord):
    """The key address is zero or already registered (keys are never reused)."""


class KeyAlreadyRevoked(RecordStateConflict):
    """The key was already revoked."""


class KeyExpired(SignerNotAuthorised):
    """The key is no longer valid at `at` (now or the record's own time)."""


class IssueTooOld(InvalidRecord):
    """The issue record's `issuedAt` is more than MAX_ISSUE_AGE before the block time: a signed
    issue record is fresh for MAX_ISSUE_AGE only.
    """


class LodgementTooOld(InvalidRecord):
    """The declaration's `lodgedAt` is more than MAX_LODGE_AGE before the block time: a signed
    declaration is fresh for MAX_LODGE_AGE only.
    """


class IssuerSuspended(RecordStateConflict):
    """The certificate's issuer is suspended: its certificates cannot be drawn."""


class ExporterNotConsignmentParty(SignerNotAuthorised):
    """The certificate's exporter is not a party (registrant, consignor or consignee) of the
    consignment.
    """


class NotMembership(SignerNotAuthorised):
    """Only the Membership contract (executing a governance proposal) may call this."""


class KeyNotOfOrganisation(SignerNotAuthorised):
    """The key belongs to another organisation than the record says."""


class KeyNotRegistered(RecordNotFound):
    """The key is not registered."""


class KeyNotYetValid(SignerNotAuthorised):
    """The key is not yet valid at `at` (now or the record's own time)."""


class KeyRevoked(SignerNotAuthorised):
    """The key was revoked at `revokedAt`."""


class LengthMismatch(InvalidRecord):
    """Batch arrays have different lengths."""


class MalformedDeclaration(InvalidRecord):
    """The values digest or the declaration reference is zero."""


class MemberNotActive(SignerNotAuthorised):
    """The organisation is not active (suspended)."""


class MraAlreadyTerminated(RecordStateConflict):
    """The MRA was terminated already."""


class MraExists(DuplicateRecord):
    """An MRA with this id exists already."""


class MraNotPending(RecordStateConflict):
    """The MRA was accepted already, terminated, or its validity ended."""


class NonceAlreadyUsed(DuplicateRecord):
    """The signer already used this nonce."""


class NotAnAdministration(InvalidRecord):
    """The administration is not a customs administration registered in Membership."""


class NotAttester(SignerNotAuthorised):
    """Only the attesting organisation may revoke."""


class NotAuthorisedToDraw(SignerNotAuthorised):
    """The signer is neither the exporter nor a customs administration of the certificate's origin
    or destination country.
    """


class NotConsignmentParty(SignerNotAuthorised):
    """The signer's organisation is neither a carrier, postal operator or customs administration
    nor a party of the consignment.
    """


class NotMraCounterpart(SignerNotAuthorised):
    """Only the counterpart may accept."""


class NotMraParty(SignerNotAuthorised):
    """Only the proposer or the counterpart may terminate."""


class NotOrganisationKey(SignerNotAuthorised):
    """The signer's organisation is not the record's organisation."""


class OrganisationExists(DuplicateRecord):
    """The organisation id is already registered (or zero)."""


class ProposalAlreadyExecuted(RecordStateConflict):
    """The proposal was executed already."""


class ProposalExists(DuplicateRecord):
    """A proposal with this id exists already."""


class ProposalExpired(RecordStateConflict):
    """The proposal expired (or its expiry is outside (now, now + MAX_PROPOSAL_LIFETIME])."""


class QuantityExceeded(RecordStateConflict):
    """The drawdown would exceed the certificate's remaining quantity."""


class RecordTimeInFuture(InvalidRecord):
    """The record's own time lies more than MAX_FUTURE_SKEW seconds in the future."""


class RelayerAlreadyAllowed(DuplicateRecord):
    """The account is already an allow-listed relayer."""


class RelayerCannotSign(InvalidRecord):
    """Relayers are not signers: the account is an allow-listed relayer."""


class RelayerNotAllowed(SignerNotAuthorised):
    """`msg.sender` is not an allow-listed relayer."""


class RelayerNotListed(RecordNotFound):
    """The account is not an allow-listed relayer."""


class SignerCannotRelay(InvalidRecord):
    """Relayers are not signers: the account is a registered signing key."""


class SchemaExists(DuplicateRecord):
    """The schema is registered already."""


class StringTooLong(InvalidRecord):
    """A string is too long (OpenZeppelin ShortStrings)."""


class ThresholdUnreachable(RecordStateConflict):
    """The action would leave fewer active customs administrations than the threshold."""


class UnknownAction(InvalidRecord):
    """Unknown governance action code."""


class UnknownAttestation(RecordNotFound):
    """No attestation with this uid."""


class UnknownCapture(RecordNotFound):
    """No EPCIS capture with this id was committed."""


class UnknownCertificate(RecordNotFound):
    """No certificate with this id."""


class UnknownCertification(RecordNotFound):
    """No such certification (for this administration, operator and programme)."""


class UnknownConsignment(RecordNotFound):
    """The consignment is not registered."""


class UnknownDeclaration(RecordNotFound):
    """The declaration named by `amends` is not recorded."""


class UnknownKey(SignerNotAuthorised):
    """The recovered key is not registered with any organisation."""


class UnknownMra(RecordNotFound):
    """No MRA with this id."""


class UnknownOrganisation(RecordNotFound):
    """The organisation id is not registered."""


class UnknownProgramme(InvalidRecord):
    """Programme code not in the table."""


class UnknownProposal(RecordNotFound):
    """No proposal with this id."""


class UnknownSchema(RecordNotFound):
    """No schema with this id."""


class WrongCountry(SignerNotAuthorised):
    """The organisation's country does not match what the record requires."""


class WrongKind(SignerNotAuthorised):
    """The organisation's kind may not sign this record."""


class ZeroAddress(InvalidRecord):
    """A zero account."""


class ZeroQuantity(InvalidRecord):
    """Zero drawdown quantity."""


_CLASSES: dict[str, type[ContractError]] = {
    cls.__name__: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, ContractError)
}


def error_class(name: str) -> type[ContractError] | None:
    """The class of the custom error called ``name``."""
    return _CLASSES.get(name)


_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)


def decode_revert(data: bytes | str | None) -> ContractError:
    """Turn revert data into the matching :class:`ContractError` subclass instance."""
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    if not data or len(data) < 4:
        return UnknownContractError("Revert", {"data": "0x" + (data or b"").hex()})
    selector, body = data[:4], data[4:]
    if selector == _ERROR_STRING:
        return UnknownContractError("Error", {"message": decode(["string"], body)[0]})
    if selector == _PANIC:
        return UnknownContractError("Panic", {"code": decode(["uint256"], body)[0]})
    spec: ErrorSpec | None = error_specs().get(selector)
    if spec is None:
        return UnknownContractError("Revert", {"data": "0x" + data.hex()})
    args = spec.decode_args(body)
    if spec.name == "BatchItemFailed":
        return BatchItemFailed(int(args["index"]), decode_revert(args["reason"]))
    cls = _CLASSES.get(spec.name, UnknownContractError)
    return cls(spec.name, args, spec.notice)

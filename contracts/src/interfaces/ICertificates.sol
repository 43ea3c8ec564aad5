// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IRevocableByGovernance} from "./IRevocableByGovernance.sol";
import {ISignedRecords} from "./ISignedRecords.sol";

/// @title ICertificates
/// @notice Certificates of origin and their quantity ledger.
/// EIP-712 domain: name "TradeLedger Certificates", version "1".
/// @dev Certificate id = keccak256(abi.encode(issuerOrgId, certificateNumber)). The issuer is an
/// issuing body or customs administration of the origin country. A drawdown is signed by the
/// certificate's exporter or by a customs administration of the certificate's origin or
/// destination country; the drawn sum never exceeds the total; one drawdown per (certificate,
/// consignment); revoked, expired or not-yet-valid certificates cannot be drawn.
/// Governance may revoke a suspended issuer's certificate (`revokeByGovernance`, called by
/// Membership executing REVOKE_RECORD): CertificateRevoked with signer zero and reasonDigest =
/// the proposal id.
interface ICertificates is ISignedRecords, IRevocableByGovernance {
    /// @notice A certificate issue record. Replay protection: the certificate id is unique.
    struct CertificateIssue {
        bytes32 certificateNumber; // keccak256 of the issuer's certificate number (UTF-8)
        bytes32 exporter; // orgId of the exporter (a registered trader)
        bytes2 origin; // ISO 3166-1 alpha-2; must be the issuer's country
        bytes2 destination; // ISO 3166-1 alpha-2
        bytes32 documentDigest; // digest of the certificate document
        bytes32 hsCodesDigest; // HsCodes digest of the sorted 6-digit HS 2022 codes
        uint64 quantity; // total quantity, > 0, in `unit`
        bytes8 unit; // UN/ECE Rec 20 unit code, ASCII right-padded, e.g. "KGM"
        uint40 validFrom; // inclusive, unix seconds
        uint40 validUntil; // exclusive, unix seconds
        uint40 issuedAt; // the record's own time (key checked at it and now)
    }

    /// @notice A certificate revocation, signed by the issuer. The certificate is
    /// keccak256(abi.encode(signer's orgId, certificateNumber)). Replay protection: once.
    /// Freshness: refused after `deadline` (`DeadlineExpired`).
    struct CertificateRevocation {
        bytes32 certificateNumber;
        bytes32 reasonDigest; // digest of the reason text, or zero
        uint40 deadline; // last block time the revocation is accepted at (unix seconds)
    }

    /// @notice A drawdown. Replay protection: one per (certificateId, consignmentId); the
    /// deadline is not part of that pair. Freshness: refused after `deadline`
    /// (`DeadlineExpired`), alone, signed each in a batch, or as an item of a batch-signed list.
    struct Drawdown {
        bytes32 certificateId;
        bytes32 consignmentId; // must be registered in Consignments
        uint64 quantity; // > 0
        uint40 deadline; // last block time the drawdown is accepted at (unix seconds)
    }

    /// @notice A batch-signed list of drawdowns: one signature of the drawing organisation's key
    /// covers every drawdown of the list (see `drawDownSignedBatch`).
    /// EIP-712 type `DrawdownBatch(bytes32 drawdownsHash,uint40 deadline)`.
    /// @dev No nonce: a drawdown is stored once per (certificateId, consignmentId), so a replayed
    /// batch fails at its first record (`AlreadyDrawn`); the deadline bounds the signature's life.
    struct DrawdownBatch {
        bytes32 drawdownsHash; // keccak256 of the drawdowns' struct hashes, in order
        uint40 deadline; // last block time the batch is accepted at
    }

    /// @notice A certificate's stored state.
    struct Certificate {
        uint64 quantity; // total
        uint64 drawn; // sum of drawdowns
        uint40 validFrom;
        uint40 validUntil;
        uint8 status; // 0 none, 1 issued, 2 revoked
        bytes32 exporter; // orgId
        bytes2 origin;
        bytes2 destination;
        bytes24 recordHash; // top 192 bits of the issue record's EIP-712 struct hash
        bytes32 issuer; // orgId of the issuing organisation
    }

    /// @notice A certificate was issued (every field of the record, plus id, issuer and signer).
    event CertificateIssued(
        bytes32 indexed certificateId,
        bytes32 indexed issuer,
        bytes32 indexed exporter,
        address signer,
        CertificateIssue record
    );
    /// @notice A certificate was revoked by its issuer.
    event CertificateRevoked(
        bytes32 indexed certificateId, bytes32 indexed issuer, address signer, bytes32 reasonDigest
    );
    /// @notice Quantity was drawn for a consignment; `drawn` is the certificate's new total drawn.
    event QuantityDrawn(
        bytes32 indexed certificateId,
        bytes32 indexed consignmentId,
        bytes32 indexed orgId,
        address signer,
        uint64 quantity,
        uint64 drawn
    );

    /// @notice A certificate with this id exists already.
    error CertificateExists(bytes32 certificateId);
    /// @notice No certificate with this id.
    error UnknownCertificate(bytes32 certificateId);
    /// @notice The certificate is revoked.
    error CertificateIsRevoked(bytes32 certificateId);
    /// @notice The certificate is not valid yet.
    error CertificateNotYetValid(bytes32 certificateId, uint40 validFrom);
    /// @notice The certificate has expired.
    error CertificateExpired(bytes32 certificateId, uint40 validUntil);
    /// @notice validUntil must be after validFrom and in the future.
    error InvalidValidity(uint40 validFrom, uint40 validUntil);
    /// @notice Zero quantity, zero unit, zero number or zero countries.
    error InvalidCertificate(bytes32 certificateNumber);
    /// @notice Zero drawdown quantity.
    error ZeroQuantity();
    /// @notice The exporter is not a trader.
    error ExporterNotTrader(bytes32 exporter, uint8 kind);
    /// @notice The drawdown would exceed the certificate's remaining quantity.
    error QuantityExceeded(bytes32 certificateId, uint64 requested, uint64 remaining);
    /// @notice The certificate was already drawn for this consignment.
    error AlreadyDrawn(bytes32 certificateId, bytes32 consignmentId);
    /// @notice The consignment is not registered.
    error UnknownConsignment(bytes32 consignmentId);
    /// @notice The signer is neither the exporter nor a customs administration of the
    /// certificate's origin or destination country.
    error NotAuthorisedToDraw(bytes32 certificateId, bytes32 orgId);
    /// @notice The certificate's issuer is suspended: its certificates cannot be drawn.
    error IssuerSuspended(bytes32 certificateId, bytes32 issuer);
    /// @notice The certificate's exporter is not a party (registrant, consignor or consignee) of
    /// the consignment.
    error ExporterNotConsignmentParty(bytes32 certificateId, bytes32 consignmentId);
    /// @notice Only the Membership contract (executing a governance proposal) may call this.
    error NotMembership(address sender);
    /// @notice The issue record's `issuedAt` is more than MAX_ISSUE_AGE before the block time: a
    /// signed issue record is fresh for MAX_ISSUE_AGE only.
    error IssueTooOld(uint40 issuedAt, uint40 blockTime);

    /// @notice How long a signed CertificateIssue stays acceptable after its `issuedAt` (7 days).
    function MAX_ISSUE_AGE() external view returns (uint40);

    /// @notice EIP-712 type hash of `CertificateIssue(...)`.
    function ISSUE_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `CertificateRevocation(bytes32 certificateNumber,bytes32 reasonDigest,uint40 deadline)`.
    function REVOCATION_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `Drawdown(bytes32 certificateId,bytes32 consignmentId,uint64 quantity,uint40 deadline)`.
    function DRAWDOWN_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `DrawdownBatch(bytes32 drawdownsHash,uint40 deadline)`.
    function DRAWDOWN_BATCH_TYPEHASH() external view returns (bytes32);

    /// @notice Issue a certificate of origin.
    /// @param record The certificate; `origin` must be the issuer's country.
    /// @param sig Signature of an issuing body or customs administration key.
    /// @return certificateId keccak256(abi.encode(issuerOrgId, certificateNumber)).
    function issue(CertificateIssue calldata record, Sig calldata sig)
        external
        returns (bytes32 certificateId);

    /// @notice Issue many certificates; the whole batch reverts with
    /// `BatchItemFailed(index, reason)` if any item fails.
    function issueBatch(CertificateIssue[] calldata records, Sig[] calldata sigs) external;

    /// @notice Revoke a certificate (issuer only).
    /// @dev Refused after the record's `deadline` (`DeadlineExpired`).
    /// @param record The certificate number (the id is derived from the signer's organisation).
    /// @param sig Signature of a key of the issuing organisation.
    function revoke(CertificateRevocation calldata record, Sig calldata sig) external;

    /// @notice Draw quantity for a consignment.
    /// @dev Refused after the record's `deadline` (`DeadlineExpired`), checked right after the
    /// signer is authorised.
    /// @param record Certificate, registered consignment, quantity (> 0, <= remaining) and
    /// deadline.
    /// @param sig Signature of the exporter, or of customs of the origin or destination country.
    function drawDown(Drawdown calldata record, Sig calldata sig) external;

    /// @notice Many drawdowns; the whole batch reverts with `BatchItemFailed(index, reason)` if
    /// any item fails (e.g. an item past its `deadline`: `DeadlineExpired`).
    function drawDownBatch(Drawdown[] calldata records, Sig[] calldata sigs) external;

    /// @notice Many drawdowns signed together: one EIP-712 `DrawdownBatch` signature by one key
    /// covers the whole list, in order. Each drawdown is stored and logged (`QuantityDrawn`,
    /// `signer` = the batch signer) exactly as if the same key had signed it alone (`drawDown`).
    /// @dev Batch-level rules (plain custom errors): at least one record, else
    /// `LengthMismatch(0, 1)`; the signature (`InvalidSignature`); the signer authorised at the
    /// block time (`UnknownKey`, `KeyRevoked`, `KeyNotYetValid`, `KeyExpired`,
    /// `MemberNotActive`; any kind may sign, as for `drawDown`); `deadline` not passed
    /// (`DeadlineExpired`). Per-drawdown rules, wrapped in `BatchItemFailed(index, reason)`: the
    /// drawdown's own `deadline` not passed (`DeadlineExpired`), then as for
    /// `drawDown` (certificate known, not revoked, valid now; signer's organisation the exporter
    /// or customs of the origin or destination country, else `NotAuthorisedToDraw`; quantity > 0
    /// and within the remaining quantity, earlier items of the batch counted; not drawn yet for
    /// the consignment, also by an earlier item; consignment registered). Replay protection is the
    /// (certificate, consignment) pair: a batch sent again fails at its first record with
    /// `BatchItemFailed(0, AlreadyDrawn(certificateId, consignmentId))`. A failing item reverts
    /// the whole batch; nothing is recorded then.
    /// @param records The drawdowns, applied in order.
    /// @param deadline The batch's deadline (unix seconds, inclusive).
    /// @param sig Signature over the DrawdownBatch typed data.
    function drawDownSignedBatch(Drawdown[] calldata records, uint40 deadline, Sig calldata sig)
        external;

    /// @notice The Consignments contract that drawdowns check.
    function consignments() external view returns (address);

    /// @notice The certificate's stored state (zero status: none).
    function certificate(bytes32 certificateId) external view returns (Certificate memory);

    /// @notice Quantity drawn for `consignmentId` (zero: none).
    function drawnFor(bytes32 certificateId, bytes32 consignmentId) external view returns (uint64);

    /// @notice Quantity still available.
    function remaining(bytes32 certificateId) external view returns (uint64);

    /// @notice keccak256(abi.encode(issuer, certificateNumber)).
    function certificateId(bytes32 issuer, bytes32 certificateNumber)
        external
        pure
        returns (bytes32);

    /// @notice The HS-codes digest of strictly ascending 6-digit ASCII codes (reverts otherwise).
    function hsCodesDigest(bytes6[] calldata codes) external pure returns (bytes32);

    /// @notice EIP-712 struct hash of an issue record.
    function hashIssue(CertificateIssue calldata record) external pure returns (bytes32);
    /// @notice EIP-712 struct hash of a revocation record.
    function hashRevocation(CertificateRevocation calldata record) external pure returns (bytes32);
    /// @notice EIP-712 struct hash of a drawdown record.
    function hashDrawdown(Drawdown calldata record) external pure returns (bytes32);

    /// @notice The `drawdownsHash` of a batch: keccak256 of the concatenated Drawdown struct
    /// hashes of `records`, in order.
    function drawdownsHash(Drawdown[] calldata records) external pure returns (bytes32);

    /// @notice EIP-712 struct hash of a drawdown batch.
    function hashDrawdownBatch(DrawdownBatch calldata batch) external pure returns (bytes32);
}

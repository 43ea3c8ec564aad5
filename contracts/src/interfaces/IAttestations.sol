// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedRecords} from "./ISignedRecords.sol";

/// @title IAttestations
/// @notice A schema registry and signed attestations about consignments, certificates,
/// organisations or other attestations. EIP-712 domain: name "TradeLedger Attestations",
/// version "1".
/// @dev Schema id = keccak256(bytes(definition)). Attestation uid =
/// keccak256(abi.encode(attesterOrgId, schemaId, subjectType, subjectId, dataDigest, refUid,
/// expiresAt)): every field of the record but its deadline, so the same organisation cannot
/// record the same content twice, whatever deadline each signature carries.
/// Every signed record carries a `deadline` (unix seconds, inclusive): a record applied after it
/// is refused with `DeadlineExpired(deadline, blockTime)` (wrapped in `BatchItemFailed` for a
/// batch item), so a signature held back by a relayer stops being usable.
/// Subject types: 1 consignment, 2 certificate, 3 organisation, 4 attestation. Only attestation
/// subjects (and `refUid`) are checked for existence on chain; the others are digests/ids checked
/// off chain by the indexer.
interface IAttestations is ISignedRecords {
    /// @notice An attestation record, signed by any active member. Replay protection: the uid
    /// (which does not cover the deadline); freshness: the deadline.
    struct Attestation {
        bytes32 schemaId; // a registered schema
        uint8 subjectType; // 1 consignment, 2 certificate, 3 organisation, 4 attestation
        bytes32 subjectId; // consignmentId, certificateId, orgId or uid
        bytes32 dataDigest; // digest of the attestation data (off chain)
        bytes32 refUid; // a related attestation, or zero
        uint40 expiresAt; // zero: never expires
        uint40 deadline; // last block time the record is accepted at
    }

    /// @notice A revocation, signed by a key of the attesting organisation. Once per uid.
    struct Revocation {
        bytes32 uid;
        bytes32 reasonDigest;
        uint40 deadline; // last block time the revocation is accepted at
    }

    /// @notice A batch-signed list of attestations: one signature of the attesting
    /// organisation's key covers every attestation of the list (see `attestSignedBatch`).
    /// EIP-712 type `AttestationBatch(bytes32 attestationsHash,uint40 deadline)`.
    /// @dev No nonce: every attestation's uid is stored once, ever, so a replayed batch fails at
    /// its first record (`AttestationExists`); the deadline bounds the signature's life.
    struct AttestationBatch {
        bytes32 attestationsHash; // keccak256 of the attestations' struct hashes, in order
        uint40 deadline; // last block time the batch is accepted at
    }

    /// @notice An attestation's stored state.
    struct Stored {
        bytes32 attester; // orgId of the attesting organisation (zero: no such attestation)
        uint40 attestedAt; // block time
        uint40 expiresAt; // zero: never
        uint40 revokedAt; // zero: not revoked
    }

    /// @notice A schema's stored state.
    struct Schema {
        bytes32 registrant; // orgId (zero: not registered)
        uint40 registeredAt;
    }

    /// @notice A schema was registered; `definition` is the full schema string.
    event SchemaRegistered(
        bytes32 indexed schemaId, bytes32 indexed registrant, address signer, string definition
    );
    /// @notice An attestation was recorded.
    event Attested(
        bytes32 indexed uid,
        bytes32 indexed subjectId,
        bytes32 indexed attester,
        address signer,
        bytes32 schemaId,
        uint8 subjectType,
        bytes32 dataDigest,
        bytes32 refUid,
        uint40 expiresAt
    );
    /// @notice An attestation was revoked by its attester.
    event AttestationRevoked(
        bytes32 indexed uid, bytes32 indexed attester, address signer, bytes32 reasonDigest
    );

    /// @notice The schema is registered already.
    error SchemaExists(bytes32 schemaId);
    /// @notice The schema definition is empty.
    error EmptySchema();
    /// @notice No schema with this id.
    error UnknownSchema(bytes32 schemaId);
    /// @notice Subject type outside 1..4, or zero subject id.
    error InvalidSubject(uint8 subjectType, bytes32 subjectId);
    /// @notice expiresAt is not zero and not in the future.
    error InvalidExpiry(uint40 expiresAt);
    /// @notice The attestation (same attester, same content) is recorded already.
    error AttestationExists(bytes32 uid);
    /// @notice No attestation with this uid.
    error UnknownAttestation(bytes32 uid);
    /// @notice The attestation is revoked already.
    error AttestationAlreadyRevoked(bytes32 uid);
    /// @notice Only the attesting organisation may revoke.
    error NotAttester(bytes32 uid, bytes32 orgId);

    /// @notice EIP-712 type hash of `SchemaRegistration(string definition,uint40 deadline)`.
    function SCHEMA_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `Attestation(bytes32 schemaId,uint8 subjectType,bytes32 subjectId,
    /// bytes32 dataDigest,bytes32 refUid,uint40 expiresAt,uint40 deadline)`.
    function ATTESTATION_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `AttestationRevocation(bytes32 uid,bytes32 reasonDigest,
    /// uint40 deadline)`.
    function REVOCATION_TYPEHASH() external view returns (bytes32);
    /// @notice EIP-712 type hash of `AttestationBatch(bytes32 attestationsHash,uint40 deadline)`.
    function ATTESTATION_BATCH_TYPEHASH() external view returns (bytes32);

    /// @notice Register a schema (any active member).
    /// @param definition The schema definition string (UTF-8, non-empty).
    /// @param deadline Last block time the registration is accepted at (`DeadlineExpired`).
    /// @param sig Signature over `SchemaRegistration(string definition,uint40 deadline)`.
    /// @return schemaId keccak256(bytes(definition)).
    function registerSchema(string calldata definition, uint40 deadline, Sig calldata sig)
        external
        returns (bytes32 schemaId);

    /// @notice Record an attestation.
    /// @param record The attestation; the schema must be registered, the deadline not passed
    /// (`DeadlineExpired`, checked once the signer is authorised).
    /// @param sig Signature of any active member's key.
    /// @return uid The attestation uid.
    function attest(Attestation calldata record, Sig calldata sig) external returns (bytes32 uid);

    /// @notice Record many attestations; the whole batch reverts with
    /// `BatchItemFailed(index, reason)` if any item fails.
    function attestBatch(Attestation[] calldata records, Sig[] calldata sigs) external;

    /// @notice Record many attestations signed together: one EIP-712 `AttestationBatch`
    /// signature by the attesting organisation's key covers the whole list, in order. Each
    /// attestation gets the uid, the stored state and the `Attested` log it would get if the
    /// same key had signed it alone (`attest`).
    /// @dev Batch-level rules (plain custom errors): at least one record, else
    /// `LengthMismatch(0, 1)`; the signature (`InvalidSignature`); the signer authorised at the
    /// block time (`UnknownKey`, `KeyRevoked`, `KeyNotYetValid`, `KeyExpired`,
    /// `MemberNotActive`; any kind may attest); `deadline` not passed (`DeadlineExpired`).
    /// Per-attestation rules, wrapped in `BatchItemFailed(index, reason)`: as for `attest`
    /// (the attestation's own deadline not passed, schema registered, subject, referenced
    /// attestations, expiry, uid not recorded yet, also by an earlier item of the batch). Replay protection is the uid: a batch sent again fails
    /// at its first record with `BatchItemFailed(0, AttestationExists(uid))`. A failing item
    /// reverts the whole batch; nothing is recorded then.
    /// @param records The attestations, applied in order.
    /// @param deadline The batch's deadline (unix seconds, inclusive).
    /// @param sig Signature over the AttestationBatch typed data.
    function attestSignedBatch(Attestation[] calldata records, uint40 deadline, Sig calldata sig)
        external;

    /// @notice Revoke an attestation (attesting organisation only).
    /// @param record The uid, a reason digest and the deadline (`DeadlineExpired`).
    /// @param sig Signature of a key of the attesting organisation.
    function revoke(Revocation calldata record, Sig calldata sig) external;

    /// @notice Revoke many; the whole batch reverts with `BatchItemFailed(index, reason)`.
    function revokeBatch(Revocation[] calldata records, Sig[] calldata sigs) external;

    /// @notice Whether the attestation exists, is not revoked and has not expired.
    function isValid(bytes32 uid) external view returns (bool);

    /// @notice The attestation's stored state.
    function attestation(bytes32 uid) external view returns (Stored memory);

    /// @notice The schema's stored state.
    function schema(bytes32 schemaId) external view returns (Schema memory);

    /// @notice The uid the record gets when attested by `attester` (its deadline is not part of
    /// it).
    function attestationUid(bytes32 attester, Attestation calldata record)
        external
        pure
        returns (bytes32);

    /// @notice EIP-712 struct hash of a schema registration.
    function hashSchema(string calldata definition, uint40 deadline) external pure returns (bytes32);
    /// @notice EIP-712 struct hash of an attestation.
    function hashAttestation(Attestation calldata record) external pure returns (bytes32);
    /// @notice EIP-712 struct hash of a revocation.
    function hashRevocation(Revocation calldata record) external pure returns (bytes32);

    /// @notice The `attestationsHash` of a batch: keccak256 of the concatenated Attestation
    /// struct hashes of `records`, in order.
    function attestationsHash(Attestation[] calldata records) external pure returns (bytes32);

    /// @notice EIP-712 struct hash of an attestation batch.
    function hashAttestationBatch(AttestationBatch calldata batch) external pure returns (bytes32);
}

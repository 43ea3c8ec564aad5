// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MembershipClient} from "./base/MembershipClient.sol";
import {IAttestations} from "./interfaces/IAttestations.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {Kinds} from "./libraries/Kinds.sol";

/// @title Attestations
/// @notice Schema registry and signed attestations with revocation by the attester.
contract Attestations is IAttestations, MembershipClient {
    /// @inheritdoc IAttestations
    bytes32 public constant SCHEMA_TYPEHASH =
        keccak256("SchemaRegistration(string definition,uint40 deadline)");
    /// @inheritdoc IAttestations
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(bytes32 schemaId,uint8 subjectType,bytes32 subjectId,bytes32 dataDigest,bytes32 refUid,uint40 expiresAt,uint40 deadline)"
    );
    /// @inheritdoc IAttestations
    bytes32 public constant REVOCATION_TYPEHASH =
        keccak256("AttestationRevocation(bytes32 uid,bytes32 reasonDigest,uint40 deadline)");
    /// @inheritdoc IAttestations
    bytes32 public constant ATTESTATION_BATCH_TYPEHASH =
        keccak256("AttestationBatch(bytes32 attestationsHash,uint40 deadline)");

    uint8 private constant _SUBJECT_ATTESTATION = 4;
    /// @dev Words of an Attestation that its uid covers: all but the deadline.
    uint256 private constant _UID_WORDS = 6;

    /// @dev An attestation, one slot.
    struct Record {
        uint32 attester; // organisation index of the attester (zero: none)
        uint40 attestedAt; // block time
        uint40 expiresAt; // zero: never
        uint40 revokedAt; // zero: not revoked
    }

    /// @dev A schema, one slot.
    struct SchemaRecord {
        uint32 registrant; // organisation index (zero: not registered)
        uint40 registeredAt; // block time
    }

    mapping(bytes32 schemaId => SchemaRecord) private _schemas;
    mapping(bytes32 uid => Record) private _records;

    /// @param membership_ The Membership contract.
    constructor(IMembership membership_)
        MembershipClient(membership_, "TradeLedger Attestations", "1")
    {}

    // ------------------------------------------------------------------ writes

    /// @inheritdoc IAttestations
    function registerSchema(string calldata definition, uint40 deadline, Sig calldata sig)
        external
        onlyRelayer
        returns (bytes32 schemaId)
    {
        (address signer,) = _recover(hashSchema(definition, deadline), sig);
        KeyInfo memory info = _authorise(signer, uint40(block.timestamp), Kinds.MASK_ANY);
        _checkDeadline(deadline);
        if (bytes(definition).length == 0) revert EmptySchema();
        schemaId = keccak256(bytes(definition));
        if (_schemas[schemaId].registrant != 0) revert SchemaExists(schemaId);
        _schemas[schemaId] =
            SchemaRecord({registrant: info.orgIndex, registeredAt: uint40(block.timestamp)});
        emit SchemaRegistered(schemaId, info.orgId, signer, definition);
    }

    /// @inheritdoc IAttestations
    function attest(Attestation calldata record, Sig calldata sig)
        external
        onlyRelayer
        returns (bytes32)
    {
        SignerCache memory cache;
        return _attest(record, sig, cache, _NO_BATCH_ITEM);
    }

    /// @inheritdoc IAttestations
    function attestBatch(Attestation[] calldata records, Sig[] calldata sigs) external onlyRelayer {
        uint256 n = records.length;
        _checkLengths(n, sigs.length);
        SignerCache memory cache;
        for (uint256 i; i < n; ++i) {
            _attest(records[i], sigs[i], cache, i);
        }
    }

    /// @inheritdoc IAttestations
    function attestSignedBatch(Attestation[] calldata records, uint40 deadline, Sig calldata sig)
        external
        onlyRelayer
    {
        uint256 n = records.length;
        if (n == 0) revert LengthMismatch(0, 1);
        bytes32[] memory structHashes = _structHashes(records);
        (address signer,) =
            _recover(_hashAttestationBatch(_concatHash(structHashes), deadline), sig);
        KeyInfo memory info = _authorise(signer, uint40(block.timestamp), Kinds.MASK_ANY);
        _checkDeadline(deadline);
        for (uint256 i; i < n; ++i) {
            Attestation calldata r = records[i];
            _checkDeadline(r.deadline, i);
            _record(r, info, signer, i);
        }
    }

    /// @inheritdoc IAttestations
    function revoke(Revocation calldata record, Sig calldata sig) external onlyRelayer {
        SignerCache memory cache;
        _revoke(record, sig, cache, _NO_BATCH_ITEM);
    }

    /// @inheritdoc IAttestations
    function revokeBatch(Revocation[] calldata records, Sig[] calldata sigs) external onlyRelayer {
        uint256 n = records.length;
        _checkLengths(n, sigs.length);
        SignerCache memory cache;
        for (uint256 i; i < n; ++i) {
            _revoke(records[i], sigs[i], cache, i);
        }
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IAttestations
    function isValid(bytes32 uid) external view returns (bool) {
        Record memory r = _records[uid];
        return
            r.attester != 0 && r.revokedAt == 0
                && (r.expiresAt == 0 || block.timestamp < r.expiresAt);
    }

    /// @inheritdoc IAttestations
    function attestation(bytes32 uid) external view returns (Stored memory s) {
        Record memory r = _records[uid];
        if (r.attester != 0) s.attester = _membership.organisationId(r.attester);
        s.attestedAt = r.attestedAt;
        s.expiresAt = r.expiresAt;
        s.revokedAt = r.revokedAt;
    }

    /// @inheritdoc IAttestations
    function schema(bytes32 schemaId) external view returns (Schema memory s) {
        SchemaRecord memory r = _schemas[schemaId];
        if (r.registrant != 0) s.registrant = _membership.organisationId(r.registrant);
        s.registeredAt = r.registeredAt;
    }

    /// @inheritdoc IAttestations
    function attestationUid(bytes32 attester, Attestation calldata record)
        public
        pure
        returns (bytes32)
    {
        return _uid(attester, record);
    }

    /// @inheritdoc IAttestations
    function hashSchema(string calldata definition, uint40 deadline) public pure returns (bytes32) {
        return keccak256(abi.encode(SCHEMA_TYPEHASH, keccak256(bytes(definition)), deadline));
    }

    /// @inheritdoc IAttestations
    function hashAttestation(Attestation calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(ATTESTATION_TYPEHASH, offset, 7);
    }

    /// @inheritdoc IAttestations
    function hashRevocation(Revocation calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(REVOCATION_TYPEHASH, offset, 3);
    }

    /// @inheritdoc IAttestations
    function attestationsHash(Attestation[] calldata records) external pure returns (bytes32) {
        return _concatHash(_structHashes(records));
    }

    /// @inheritdoc IAttestations
    function hashAttestationBatch(AttestationBatch calldata batch) external pure returns (bytes32) {
        return _hashAttestationBatch(batch.attestationsHash, batch.deadline);
    }

    // ------------------------------------------------------------------ internals

    /// @dev EIP-712 struct hash of an AttestationBatch.
    function _hashAttestationBatch(bytes32 attestationsHash_, uint40 deadline)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(ATTESTATION_BATCH_TYPEHASH, attestationsHash_, deadline));
    }

    /// @dev The Attestation struct hash of every record of a batch.
    function _structHashes(Attestation[] calldata records)
        private
        pure
        returns (bytes32[] memory hashes)
    {
        uint256 n = records.length;
        hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            hashes[i] = hashAttestation(records[i]);
        }
    }

    /// @dev keccak256(abi.encodePacked(hashes)).
    function _concatHash(bytes32[] memory hashes) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(add(hashes, 0x20), shl(5, mload(hashes)))
        }
    }

    /// @dev keccak256(abi.encode(attester, schemaId, subjectType, subjectId, dataDigest, refUid,
    /// expiresAt)): the attester and every word of the record but its deadline, so a record
    /// signed again with another deadline has the same uid. Hashed from free memory, not
    /// advanced (as `_hashStatic`); the words are raw calldata words, as for the struct hash.
    function _uid(bytes32 attester, Attestation calldata r) private pure returns (bytes32 uid) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, attester)
            calldatacopy(add(p, 0x20), r, shl(5, _UID_WORDS))
            uid := keccak256(p, add(0x20, shl(5, _UID_WORDS)))
        }
    }

    /// @dev Record signed attestation `r`, batch item `index` (`_NO_BATCH_ITEM` alone).
    function _attest(
        Attestation calldata r,
        Sig calldata sig,
        SignerCache memory cache,
        uint256 index
    ) private returns (bytes32 uid) {
        (address signer,) = _recover(hashAttestation(r), sig, index);
        KeyInfo memory info =
            _authoriseCached(signer, uint40(block.timestamp), Kinds.MASK_ANY, cache, index);
        _checkDeadline(r.deadline, index);
        uid = _record(r, info, signer, index);
    }

    /// @dev Check attestation `r` (batch item `index`) by the authorised `signer` of
    /// organisation `info`, store it under its uid and emit `Attested`.
    function _record(Attestation calldata r, KeyInfo memory info, address signer, uint256 index)
        private
        returns (bytes32 uid)
    {
        _checkAttestation(r, index);
        uid = _uid(info.orgId, r);
        if (_records[uid].attester != 0) {
            _fail(index, abi.encodeWithSelector(AttestationExists.selector, uid));
        }

        _records[uid] = Record({
            attester: info.orgIndex,
            attestedAt: uint40(block.timestamp),
            expiresAt: r.expiresAt,
            revokedAt: 0
        });
        emit Attested(
            uid,
            r.subjectId,
            info.orgId,
            signer,
            r.schemaId,
            r.subjectType,
            r.dataDigest,
            r.refUid,
            r.expiresAt
        );
    }

    function _checkAttestation(Attestation calldata r, uint256 index) private view {
        if (_schemas[r.schemaId].registrant == 0) {
            _fail(index, abi.encodeWithSelector(UnknownSchema.selector, r.schemaId));
        }
        uint8 subjectType = r.subjectType;
        if (subjectType == 0 || subjectType > _SUBJECT_ATTESTATION || r.subjectId == bytes32(0)) {
            _fail(index, abi.encodeWithSelector(InvalidSubject.selector, subjectType, r.subjectId));
        }
        if (subjectType == _SUBJECT_ATTESTATION && _records[r.subjectId].attester == 0) {
            _fail(index, abi.encodeWithSelector(UnknownAttestation.selector, r.subjectId));
        }
        if (r.refUid != bytes32(0) && _records[r.refUid].attester == 0) {
            _fail(index, abi.encodeWithSelector(UnknownAttestation.selector, r.refUid));
        }
        if (r.expiresAt != 0 && r.expiresAt <= block.timestamp) {
            _fail(index, abi.encodeWithSelector(InvalidExpiry.selector, r.expiresAt));
        }
    }

    /// @dev Revoke attestation `r.uid` as signed, batch item `index` (`_NO_BATCH_ITEM` alone).
    function _revoke(
        Revocation calldata r,
        Sig calldata sig,
        SignerCache memory cache,
        uint256 index
    ) private {
        (address signer,) = _recover(hashRevocation(r), sig, index);
        KeyInfo memory info =
            _authoriseCached(signer, uint40(block.timestamp), Kinds.MASK_ANY, cache, index);
        _checkDeadline(r.deadline, index);
        bytes32 uid = r.uid;
        Record storage rec = _records[uid];
        uint32 attester = rec.attester;
        if (attester == 0) {
            _fail(index, abi.encodeWithSelector(UnknownAttestation.selector, uid));
        }
        if (attester != info.orgIndex) {
            _fail(index, abi.encodeWithSelector(NotAttester.selector, uid, info.orgId));
        }
        if (rec.revokedAt != 0) {
            _fail(index, abi.encodeWithSelector(AttestationAlreadyRevoked.selector, uid));
        }
        rec.revokedAt = uint40(block.timestamp);
        emit AttestationRevoked(uid, info.orgId, signer, r.reasonDigest);
    }
}

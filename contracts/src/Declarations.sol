// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MembershipClient} from "./base/MembershipClient.sol";
import {IDeclarations} from "./interfaces/IDeclarations.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {Kinds} from "./libraries/Kinds.sol";

/// @title Declarations
/// @notice Goods declarations: the digest of the declared values and the keys verification
/// needs, fixed at lodgement; amendments as new records that point to the one they amend.
contract Declarations is IDeclarations, MembershipClient {
    /// @inheritdoc IDeclarations
    bytes32 public constant DECLARATION_TYPEHASH = keccak256(
        "Declaration(bytes32 declarationRef,bytes32 administration,bytes32 consignmentId,bytes32 certificateId,bytes32 valuesDigest,bytes32 amends,uint40 lodgedAt)"
    );

    /// @inheritdoc IDeclarations
    uint40 public constant MAX_LODGE_AGE = 1 days;

    /// @dev Who may lodge: declarants are traders (importers, customs brokers), carriers
    /// (express couriers) and postal operators; never a customs administration or issuing body.
    uint256 private constant _DECLARANT_KINDS =
        Kinds.MASK_TRADER | Kinds.MASK_CARRIER | Kinds.MASK_POSTAL;

    /// @dev A declaration, two slots.
    struct Record {
        bytes32 recordHash; // struct hash of the signed Declaration
        uint32 declarant; // organisation index of the declarant (zero: none)
        uint32 administration; // organisation index of the administration
        uint40 lodgedAt; // declarant's lodgement time
        uint40 recordedAt; // block time
    }

    mapping(bytes32 declarationId => Record) private _records;
    mapping(bytes32 declarationId => bytes32 amendment) private _amendedBy;

    /// @param membership_ The Membership contract.
    constructor(IMembership membership_)
        MembershipClient(membership_, "TradeLedger Declarations", "1")
    {}

    // ------------------------------------------------------------------ writes

    /// @inheritdoc IDeclarations
    function lodge(Declaration calldata record, Sig calldata sig)
        external
        onlyRelayer
        returns (bytes32)
    {
        SignerCache memory cache;
        return _lodge(record, sig, cache, _NO_BATCH_ITEM);
    }

    /// @inheritdoc IDeclarations
    function lodgeBatch(Declaration[] calldata records, Sig[] calldata sigs) external onlyRelayer {
        uint256 n = records.length;
        _checkLengths(n, sigs.length);
        SignerCache memory cache;
        for (uint256 i; i < n; ++i) {
            _lodge(records[i], sigs[i], cache, i);
        }
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDeclarations
    function declaration(bytes32 id) external view returns (Stored memory s) {
        Record memory r = _records[id];
        if (r.declarant == 0) return s;
        s.declarant = _membership.organisationId(r.declarant);
        s.administration = _membership.organisationId(r.administration);
        s.recordHash = r.recordHash;
        s.lodgedAt = r.lodgedAt;
        s.recordedAt = r.recordedAt;
        s.amendedBy = _amendedBy[id];
    }

    /// @inheritdoc IDeclarations
    function declarationId(bytes32 declarant, bytes32 declarationRef)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(declarant, declarationRef));
    }

    /// @inheritdoc IDeclarations
    function hashDeclaration(Declaration calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(DECLARATION_TYPEHASH, offset, 7);
    }

    // ------------------------------------------------------------------ internals

    function _lodge(
        Declaration calldata record,
        Sig calldata sig,
        SignerCache memory cache,
        uint256 index
    ) private returns (bytes32 id) {
        bytes32 structHash = hashDeclaration(record);
        (address signer,) = _recover(structHash, sig, index);
        KeyInfo memory info =
            _authoriseCached(signer, record.lodgedAt, _DECLARANT_KINDS, cache, index);
        if (uint256(record.lodgedAt) + MAX_LODGE_AGE < block.timestamp) {
            _fail(
                index,
                abi.encodeWithSelector(
                    LodgementTooOld.selector, record.lodgedAt, uint40(block.timestamp)
                )
            );
        }
        if (record.valuesDigest == bytes32(0) || record.declarationRef == bytes32(0)) {
            _fail(index, abi.encodeWithSelector(MalformedDeclaration.selector));
        }
        IMembership.Organisation memory admin = _membership.organisation(record.administration);
        if (admin.index == 0 || admin.kind != Kinds.CUSTOMS) {
            _fail(
                index, abi.encodeWithSelector(NotAnAdministration.selector, record.administration)
            );
        }
        id = declarationId(info.orgId, record.declarationRef);
        if (_records[id].declarant != 0) {
            _fail(index, abi.encodeWithSelector(DeclarationExists.selector, id));
        }
        if (record.amends != bytes32(0)) {
            _amend(record.amends, id, info.orgIndex, admin.index, index);
        }
        _records[id] = Record({
            recordHash: structHash,
            declarant: info.orgIndex,
            administration: admin.index,
            lodgedAt: record.lodgedAt,
            recordedAt: uint40(block.timestamp)
        });
        emit DeclarationLodged(id, info.orgId, record.administration, signer, record);
    }

    /// @dev Link amendment `id` to the declaration it amends: it must exist, be the same
    /// declarant's with the same administration, and not be amended already.
    function _amend(
        bytes32 amends,
        bytes32 id,
        uint32 declarant,
        uint32 administration,
        uint256 index
    ) private {
        Record storage previous = _records[amends];
        if (previous.declarant == 0) {
            _fail(index, abi.encodeWithSelector(UnknownDeclaration.selector, amends));
        }
        if (previous.declarant != declarant || previous.administration != administration) {
            _fail(index, abi.encodeWithSelector(AmendmentMismatch.selector, amends));
        }
        bytes32 later = _amendedBy[amends];
        if (later != bytes32(0)) {
            _fail(index, abi.encodeWithSelector(AlreadyAmended.selector, amends, later));
        }
        _amendedBy[amends] = id;
    }
}

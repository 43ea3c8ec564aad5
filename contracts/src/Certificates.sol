// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MembershipClient} from "./base/MembershipClient.sol";
import {ICertificates} from "./interfaces/ICertificates.sol";
import {IRevocableByGovernance} from "./interfaces/IRevocableByGovernance.sol";
import {IConsignments} from "./interfaces/IConsignments.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {HsCodes} from "./libraries/HsCodes.sol";
import {Kinds} from "./libraries/Kinds.sol";

/// @title Certificates
/// @notice Certificates of origin and their quantity ledger.
contract Certificates is ICertificates, MembershipClient {
    /// @inheritdoc ICertificates
    bytes32 public constant ISSUE_TYPEHASH = keccak256(
        "CertificateIssue(bytes32 certificateNumber,bytes32 exporter,bytes2 origin,bytes2 destination,bytes32 documentDigest,bytes32 hsCodesDigest,uint64 quantity,bytes8 unit,uint40 validFrom,uint40 validUntil,uint40 issuedAt)"
    );
    /// @inheritdoc ICertificates
    bytes32 public constant REVOCATION_TYPEHASH = keccak256(
        "CertificateRevocation(bytes32 certificateNumber,bytes32 reasonDigest,uint40 deadline)"
    );
    /// @inheritdoc ICertificates
    bytes32 public constant DRAWDOWN_TYPEHASH = keccak256(
        "Drawdown(bytes32 certificateId,bytes32 consignmentId,uint64 quantity,uint40 deadline)"
    );
    /// @inheritdoc ICertificates
    bytes32 public constant DRAWDOWN_BATCH_TYPEHASH =
        keccak256("DrawdownBatch(bytes32 drawdownsHash,uint40 deadline)");

    /// @inheritdoc ICertificates
    uint40 public constant MAX_ISSUE_AGE = 7 days;

    uint8 private constant _ISSUED = 1;
    uint8 private constant _REVOKED = 2;

    /// @dev Bit offsets of the fields in a certificate's first slot (see `_firstSlot`).
    uint256 private constant _DRAWN_SHIFT = 64;
    uint256 private constant _VALID_FROM_SHIFT = 128;
    uint256 private constant _VALID_UNTIL_SHIFT = 168;
    uint256 private constant _STATUS_SHIFT = 208;
    uint256 private constant _EXPORTER_SHIFT = 216;

    /// @dev A certificate, two slots: the first holds everything a drawdown by the exporter needs.
    struct Stored {
        uint64 quantity; // total quantity
        uint64 drawn; // sum of drawdowns, <= quantity
        uint40 validFrom; // inclusive
        uint40 validUntil; // exclusive
        uint8 status; // 0 none, 1 issued, 2 revoked
        uint32 exporter; // organisation index of the exporter
        // --- slot 2
        bytes2 origin; // ISO 3166-1 alpha-2
        bytes2 destination; // ISO 3166-1 alpha-2
        uint32 issuer; // organisation index of the issuer
        bytes24 recordHash; // top 192 bits of the issue record's struct hash
    }

    /// @dev A batch's memo of the last issuer found active (member status cannot change during
    /// a transaction), so that a run of certificates of one issuer costs one Membership lookup.
    struct IssuerCache {
        uint32 active; // organisation index of the last issuer found active, or zero
    }

    IConsignments private immutable _consignments;

    mapping(bytes32 certificateId => Stored) private _certificates;
    mapping(bytes32 certificateId => mapping(bytes32 consignmentId => uint64 quantity)) private
        _drawdowns;

    /// @param membership_ The Membership contract.
    /// @param consignments_ The Consignments contract (drawdowns need a registered consignment).
    constructor(IMembership membership_, IConsignments consignments_)
        MembershipClient(membership_, "TradeLedger Certificates", "1")
    {
        _consignments = consignments_;
    }

    // ------------------------------------------------------------------ writes

    /// @inheritdoc ICertificates
    function issue(CertificateIssue calldata record, Sig calldata sig)
        external
        onlyRelayer
        returns (bytes32)
    {
        return _issue(record, sig, _NO_BATCH_ITEM);
    }

    /// @inheritdoc ICertificates
    function issueBatch(CertificateIssue[] calldata records, Sig[] calldata sigs)
        external
        onlyRelayer
    {
        uint256 n = records.length;
        _checkLengths(n, sigs.length);
        for (uint256 i; i < n; ++i) {
            _issue(records[i], sigs[i], i);
        }
    }

    /// @inheritdoc ICertificates
    function revoke(CertificateRevocation calldata record, Sig calldata sig) external onlyRelayer {
        (address signer,) = _recover(hashRevocation(record), sig);
        KeyInfo memory info = _authorise(
            signer, uint40(block.timestamp), Kinds.MASK_ISSUING_BODY | Kinds.MASK_CUSTOMS
        );
        _checkDeadline(record.deadline);
        bytes32 id = certificateId(info.orgId, record.certificateNumber);
        Stored storage c = _certificates[id];
        uint8 status = c.status;
        if (status == 0) revert UnknownCertificate(id);
        if (status == _REVOKED) revert CertificateIsRevoked(id);
        c.status = _REVOKED;
        emit CertificateRevoked(id, info.orgId, signer, record.reasonDigest);
    }

    /// @inheritdoc IRevocableByGovernance
    function revokeByGovernance(bytes32 issuer, bytes32 certificateId_, bytes32 proposalId)
        external
    {
        if (msg.sender != address(_membership)) revert NotMembership(msg.sender);
        Stored storage c = _certificates[certificateId_];
        uint8 status = c.status;
        if (status == 0 || _membership.organisationId(c.issuer) != issuer) {
            revert UnknownCertificate(certificateId_);
        }
        if (status == _REVOKED) revert CertificateIsRevoked(certificateId_);
        c.status = _REVOKED;
        emit CertificateRevoked(certificateId_, issuer, address(0), proposalId);
    }

    /// @inheritdoc ICertificates
    function drawDown(Drawdown calldata record, Sig calldata sig) external onlyRelayer {
        SignerCache memory cache;
        IssuerCache memory issuers;
        _drawDown(record, sig, cache, issuers, _NO_BATCH_ITEM);
    }

    /// @inheritdoc ICertificates
    function drawDownBatch(Drawdown[] calldata records, Sig[] calldata sigs) external onlyRelayer {
        uint256 n = records.length;
        _checkLengths(n, sigs.length);
        SignerCache memory cache;
        IssuerCache memory issuers;
        for (uint256 i; i < n; ++i) {
            _drawDown(records[i], sigs[i], cache, issuers, i);
        }
    }

    /// @inheritdoc ICertificates
    function drawDownSignedBatch(Drawdown[] calldata records, uint40 deadline, Sig calldata sig)
        external
        onlyRelayer
    {
        uint256 n = records.length;
        if (n == 0) revert LengthMismatch(0, 1);
        (address signer,) = _recover(_hashDrawdownBatch(_drawdownsHash(records), deadline), sig);
        KeyInfo memory info = _authorise(signer, uint40(block.timestamp), Kinds.MASK_ANY);
        _checkDeadline(deadline);
        IssuerCache memory issuers;
        for (uint256 i; i < n; ++i) {
            _applyDrawdown(records[i], info, signer, issuers, i);
        }
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICertificates
    function consignments() external view returns (address) {
        return address(_consignments);
    }

    /// @inheritdoc ICertificates
    function certificate(bytes32 id) external view returns (Certificate memory c) {
        Stored memory s = _certificates[id];
        c.quantity = s.quantity;
        c.drawn = s.drawn;
        c.validFrom = s.validFrom;
        c.validUntil = s.validUntil;
        c.status = s.status;
        if (s.exporter != 0) c.exporter = _membership.organisationId(s.exporter);
        c.origin = s.origin;
        c.destination = s.destination;
        c.recordHash = s.recordHash;
        if (s.issuer != 0) c.issuer = _membership.organisationId(s.issuer);
    }

    /// @inheritdoc ICertificates
    function drawnFor(bytes32 id, bytes32 consignmentId) external view returns (uint64) {
        return _drawdowns[id][consignmentId];
    }

    /// @inheritdoc ICertificates
    function remaining(bytes32 id) external view returns (uint64) {
        Stored storage s = _certificates[id];
        return s.quantity - s.drawn;
    }

    /// @inheritdoc ICertificates
    function certificateId(bytes32 issuer, bytes32 certificateNumber)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(issuer, certificateNumber));
    }

    /// @inheritdoc ICertificates
    function hsCodesDigest(bytes6[] calldata codes) external pure returns (bytes32) {
        return HsCodes.digest(codes);
    }

    /// @inheritdoc ICertificates
    function hashIssue(CertificateIssue calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(ISSUE_TYPEHASH, offset, 11);
    }

    /// @inheritdoc ICertificates
    function hashRevocation(CertificateRevocation calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(REVOCATION_TYPEHASH, offset, 3);
    }

    /// @inheritdoc ICertificates
    function hashDrawdown(Drawdown calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(DRAWDOWN_TYPEHASH, offset, 4);
    }

    /// @inheritdoc ICertificates
    function drawdownsHash(Drawdown[] calldata records) external pure returns (bytes32) {
        return _drawdownsHash(records);
    }

    /// @inheritdoc ICertificates
    function hashDrawdownBatch(DrawdownBatch calldata batch) external pure returns (bytes32) {
        return _hashDrawdownBatch(batch.drawdownsHash, batch.deadline);
    }

    // ------------------------------------------------------------------ internals

    /// @dev EIP-712 struct hash of a DrawdownBatch.
    function _hashDrawdownBatch(bytes32 drawdownsHash_, uint40 deadline)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(DRAWDOWN_BATCH_TYPEHASH, drawdownsHash_, deadline));
    }

    /// @dev keccak256 of the concatenated Drawdown struct hashes of `records`, in order. Each
    /// struct hash is `hashDrawdown`'s (keccak256 of the type hash and the record's 4 calldata
    /// words, see `_hashStatic`), computed in one loop in scratch memory past the free memory
    /// pointer: the struct hashes first, the word being hashed after them.
    function _drawdownsHash(Drawdown[] calldata records) private pure returns (bytes32 h) {
        bytes32 typehash = DRAWDOWN_TYPEHASH;
        assembly ("memory-safe") {
            let n := records.length
            let hashes := mload(0x40)
            let buf := add(hashes, shl(5, n))
            mstore(buf, typehash)
            let src := records.offset
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                calldatacopy(add(buf, 0x20), src, 0x80)
                mstore(add(hashes, shl(5, i)), keccak256(buf, 0xa0))
                src := add(src, 0x80)
            }
            h := keccak256(hashes, shl(5, n))
        }
    }

    /// @dev Issue certificate `r`, batch item `index` (`_NO_BATCH_ITEM` alone).
    function _issue(CertificateIssue calldata r, Sig calldata sig, uint256 index)
        private
        returns (bytes32 id)
    {
        bytes32 structHash = hashIssue(r);
        (address signer,) = _recover(structHash, sig, index);
        KeyInfo memory info =
            _authorise(signer, r.issuedAt, Kinds.MASK_ISSUING_BODY | Kinds.MASK_CUSTOMS, index);
        if (uint256(r.issuedAt) + MAX_ISSUE_AGE < block.timestamp) {
            _fail(
                index,
                abi.encodeWithSelector(IssueTooOld.selector, r.issuedAt, uint40(block.timestamp))
            );
        }
        if (info.country != r.origin) {
            _fail(
                index,
                abi.encodeWithSelector(WrongCountry.selector, info.orgId, info.country, r.origin)
            );
        }
        _checkIssue(r, index);
        id = certificateId(info.orgId, r.certificateNumber);
        if (_certificates[id].status != 0) {
            _fail(index, abi.encodeWithSelector(CertificateExists.selector, id));
        }
        IMembership.Organisation memory exporter = _organisation(r.exporter, index);
        if (exporter.kind != Kinds.TRADER) {
            _fail(
                index, abi.encodeWithSelector(ExporterNotTrader.selector, r.exporter, exporter.kind)
            );
        }

        _certificates[id] = Stored({
            quantity: r.quantity,
            drawn: 0,
            validFrom: r.validFrom,
            validUntil: r.validUntil,
            status: _ISSUED,
            exporter: exporter.index,
            origin: r.origin,
            destination: r.destination,
            issuer: info.orgIndex,
            // forge-lint: disable-next-line(unsafe-typecast) -- keeps the top 192 bits by design
            recordHash: bytes24(structHash)
        });
        emit CertificateIssued(id, info.orgId, r.exporter, signer, r);
    }

    function _checkIssue(CertificateIssue calldata r, uint256 index) private view {
        if (
            r.certificateNumber == bytes32(0) || r.quantity == 0 || r.unit == bytes8(0)
                || r.destination == bytes2(0)
        ) _fail(index, abi.encodeWithSelector(InvalidCertificate.selector, r.certificateNumber));
        if (r.validUntil <= r.validFrom || r.validUntil <= block.timestamp) {
            _fail(
                index, abi.encodeWithSelector(InvalidValidity.selector, r.validFrom, r.validUntil)
            );
        }
    }

    /// @dev Draw down signed drawdown `r`, batch item `index` (`_NO_BATCH_ITEM` alone).
    function _drawDown(
        Drawdown calldata r,
        Sig calldata sig,
        SignerCache memory cache,
        IssuerCache memory issuers,
        uint256 index
    ) private {
        (address signer,) = _recover(hashDrawdown(r), sig, index);
        KeyInfo memory info =
            _authoriseCached(signer, uint40(block.timestamp), Kinds.MASK_ANY, cache, index);
        _applyDrawdown(r, info, signer, issuers, index);
    }

    /// @dev Check drawdown `r` (batch item `index`) by the authorised `signer` of organisation
    /// `info` (its deadline, who may draw, the certificate drawable, quantity, once per
    /// (certificate, consignment), the consignment registered), record it and emit
    /// `QuantityDrawn`. Every path calls it right after the signer is authorised, so the
    /// drawdown's own deadline is checked there, for items of a batch-signed list too.
    function _applyDrawdown(
        Drawdown calldata r,
        KeyInfo memory info,
        address signer,
        IssuerCache memory issuers,
        uint256 index
    ) private {
        _checkDeadline(r.deadline, index);
        bytes32 id = r.certificateId;
        Stored storage c = _certificates[id];
        uint256 head = _firstSlot(c);
        _checkDrawable(id, c, head, issuers, index);
        uint32 exporter = _exporterOf(head);
        if (info.orgIndex != exporter) _checkCustomsOfCertificate(id, c, info, index);

        uint64 q = r.quantity;
        if (q == 0) _fail(index, abi.encodeWithSelector(ZeroQuantity.selector));
        uint64 left = _quantityOf(head) - _drawnOf(head);
        if (q > left) {
            _fail(index, abi.encodeWithSelector(QuantityExceeded.selector, id, q, left));
        }
        bytes32 consignmentId = r.consignmentId;
        // Recorded here, before the consignment checks: a failed check reverts it with the rest.
        _recordOnce(id, consignmentId, q, index);
        _checkConsignment(id, consignmentId, exporter, index);

        // drawn + q <= quantity < 2^64: adding q to the `drawn` bits cannot carry out of them.
        head += uint256(q) << _DRAWN_SHIFT;
        assembly ("memory-safe") {
            sstore(c.slot, head)
        }
        emit QuantityDrawn(id, consignmentId, info.orgId, signer, q, _drawnOf(head));
    }

    /// @dev Refuse drawing certificate `id` (batch item `index`) onto a consignment that is not
    /// registered, or of which its exporter (organisation index `exporter`) is no party.
    function _checkConsignment(bytes32 id, bytes32 consignmentId, uint32 exporter, uint256 index)
        private
        view
    {
        (bool registered, bool party) = _consignments.isParty(consignmentId, exporter);
        if (!registered) {
            _fail(index, abi.encodeWithSelector(UnknownConsignment.selector, consignmentId));
        }
        if (!party) {
            _fail(
                index,
                abi.encodeWithSelector(ExporterNotConsignmentParty.selector, id, consignmentId)
            );
        }
    }

    /// @dev `_drawdowns[id][consignmentId] = q`, refused (`AlreadyDrawn`) if already set; the
    /// slot (Solidity's mapping layout) is hashed once for the read and the write.
    function _recordOnce(bytes32 id, bytes32 consignmentId, uint64 q, uint256 index) private {
        uint256 slot;
        uint256 already;
        assembly ("memory-safe") {
            mstore(0x00, id)
            mstore(0x20, _drawdowns.slot)
            mstore(0x20, keccak256(0x00, 0x40))
            mstore(0x00, consignmentId)
            slot := keccak256(0x00, 0x40)
            already := sload(slot)
        }
        if (already != 0) {
            _fail(index, abi.encodeWithSelector(AlreadyDrawn.selector, id, consignmentId));
        }
        assembly ("memory-safe") {
            sstore(slot, q) // the slot holds only this uint64
        }
    }

    /// @dev Refuse drawing certificate `id` (first slot `head`, batch item `index`) when it is
    /// unknown, revoked, not valid at the block time, or its issuer is suspended.
    function _checkDrawable(
        bytes32 id,
        Stored storage c,
        uint256 head,
        IssuerCache memory issuers,
        uint256 index
    ) private view {
        // forge-lint: disable-start(unsafe-typecast) -- fields of the first slot, see _firstSlot
        uint8 status = uint8(head >> _STATUS_SHIFT);
        if (status == 0) _fail(index, abi.encodeWithSelector(UnknownCertificate.selector, id));
        if (status == _REVOKED) {
            _fail(index, abi.encodeWithSelector(CertificateIsRevoked.selector, id));
        }
        uint40 validFrom = uint40(head >> _VALID_FROM_SHIFT);
        if (block.timestamp < validFrom) {
            _fail(index, abi.encodeWithSelector(CertificateNotYetValid.selector, id, validFrom));
        }
        uint40 validUntil = uint40(head >> _VALID_UNTIL_SHIFT);
        if (block.timestamp >= validUntil) {
            _fail(index, abi.encodeWithSelector(CertificateExpired.selector, id, validUntil));
        }
        // forge-lint: disable-end(unsafe-typecast)
        // A suspended issuer's certificates prove what was issued but allow no more drawdowns.
        uint32 issuer = c.issuer;
        if (issuer == issuers.active) return;
        if (_membership.statusAt(issuer) != Kinds.STATUS_ACTIVE) {
            _fail(
                index,
                abi.encodeWithSelector(
                    IssuerSuspended.selector, id, _membership.organisationId(issuer)
                )
            );
        }
        issuers.active = issuer;
    }

    /// @dev The first slot of certificate `c` as one word, read once by a drawdown instead of
    /// once per field. Solidity packs `Stored`'s first six fields into it from the lowest bits
    /// up: quantity (bits 0..63), drawn (64..127), validFrom (128..167), validUntil (168..207),
    /// status (208..215), exporter (216..247); the `_*_SHIFT` constants and the accessors below
    /// follow that layout (the drawdown tests read every field back through `certificate`).
    function _firstSlot(Stored storage c) private view returns (uint256 word) {
        assembly ("memory-safe") {
            word := sload(c.slot)
        }
    }

    // forge-lint: disable-start(unsafe-typecast) -- fields of the first slot, see _firstSlot
    function _quantityOf(uint256 head) private pure returns (uint64) {
        return uint64(head);
    }

    function _drawnOf(uint256 head) private pure returns (uint64) {
        return uint64(head >> _DRAWN_SHIFT);
    }

    function _exporterOf(uint256 head) private pure returns (uint32) {
        return uint32(head >> _EXPORTER_SHIFT);
    }
    // forge-lint: disable-end(unsafe-typecast)

    function _checkCustomsOfCertificate(
        bytes32 id,
        Stored storage c,
        KeyInfo memory info,
        uint256 index
    ) private view {
        if (
            info.kind != Kinds.CUSTOMS
                || (info.country != c.origin && info.country != c.destination)
        ) {
            _fail(index, abi.encodeWithSelector(NotAuthorisedToDraw.selector, id, info.orgId));
        }
    }
}

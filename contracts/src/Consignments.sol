// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MembershipClient} from "./base/MembershipClient.sol";
import {IConsignments} from "./interfaces/IConsignments.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {Cbv} from "./libraries/Cbv.sol";
import {EventMeta} from "./libraries/EventMeta.sol";
import {HashChain} from "./libraries/HashChain.sol";
import {Kinds} from "./libraries/Kinds.sol";

/// @title Consignments
/// @notice Consignment registrations and signed events, kept as a per-consignment hash chain.
contract Consignments is IConsignments, MembershipClient {
    /// @inheritdoc IConsignments
    bytes32 public constant REGISTRATION_TYPEHASH = keccak256(
        "ConsignmentRegistration(bytes32 referenceHash,bytes2 origin,bytes2 destination,bytes32 consignor,bytes32 consignee,uint40 deadline)"
    );
    /// @inheritdoc IConsignments
    bytes32 public constant EVENT_TYPEHASH = keccak256(
        "ConsignmentEvent(bytes32 consignmentId,uint8 bizStep,uint8 disposition,bytes5 location,uint40 eventTime,bytes11 container,bytes32 sealDigest,bytes32 documentsDigest,bytes32 epcisEventHash,uint32 nonce,uint40 deadline)"
    );

    /// @inheritdoc IConsignments
    bytes32 public constant EVENT_BATCH_TYPEHASH =
        keccak256("EventBatch(bytes32 eventsHash,uint32 nonce,uint40 deadline)");

    /// @dev The bits of `meta` that hold deadline and nonce (bytes 23..31), set by a batch.
    uint256 private constant _BATCH_TERMS = (1 << 72) - 1;

    /// @dev Kinds that may post events on any consignment.
    uint256 private constant _POSTERS = Kinds.MASK_CUSTOMS | Kinds.MASK_CARRIER | Kinds.MASK_POSTAL;
    /// @dev Kinds that may register a consignment.
    uint256 private constant _REGISTRARS =
        Kinds.MASK_CUSTOMS | Kinds.MASK_CARRIER | Kinds.MASK_TRADER | Kinds.MASK_POSTAL;

    /// @dev The hash chain, one slot.
    struct Chain {
        bytes28 head; // top 224 bits of the chain head; zero: not registered
        uint32 eventCount; // events appended after the registration
    }

    /// @dev Consignment metadata, one slot. Parties are organisation indexes (see Membership).
    struct Parties {
        bytes2 origin; // ISO 3166-1 alpha-2
        bytes2 destination; // ISO 3166-1 alpha-2
        uint32 registrant; // organisation index of the registrant
        uint32 consignor; // organisation index, or zero
        uint32 consignee; // organisation index, or zero
        uint40 registeredAt; // block time
    }

    mapping(bytes32 consignmentId => Chain) private _chains;
    mapping(bytes32 consignmentId => Parties) private _parties;

    /// @param membership_ The Membership contract (deploy it first).
    constructor(IMembership membership_)
        MembershipClient(membership_, "TradeLedger Consignments", "1")
    {}

    // ------------------------------------------------------------------ writes

    /// @inheritdoc IConsignments
    function register(Registration calldata record, Sig calldata sig) external onlyRelayer {
        _register(record, sig, _NO_BATCH_ITEM);
    }

    /// @inheritdoc IConsignments
    function registerBatch(Registration[] calldata records, Sig[] calldata sigs)
        external
        onlyRelayer
    {
        uint256 n = records.length;
        _checkLengths(n, sigs.length);
        for (uint256 i; i < n; ++i) {
            _register(records[i], sigs[i], i);
        }
    }

    /// @inheritdoc IConsignments
    function postEvent(EventRecord calldata record, Sig calldata sig) external onlyRelayer {
        SignerCache memory cache;
        _postEvent(record, sig, cache, _NO_BATCH_ITEM);
    }

    /// @inheritdoc IConsignments
    function postEvents(EventRecord[] calldata records, Sig[] calldata sigs) external onlyRelayer {
        uint256 n = records.length;
        _checkLengths(n, sigs.length);
        SignerCache memory cache;
        for (uint256 i; i < n; ++i) {
            _postEvent(records[i], sigs[i], cache, i);
        }
    }

    /// @inheritdoc IConsignments
    function postEventBatch(
        EventRecord[] calldata records,
        uint32 nonce,
        uint40 deadline,
        Sig calldata sig
    ) external onlyRelayer {
        uint256 n = records.length;
        if (n == 0) revert LengthMismatch(0, 1);
        uint256 terms = _batchTerms(nonce, deadline);
        bytes32[] memory structHashes = _eventStructHashes(records, terms);
        (address signer,) =
            _recover(_hashEventBatch(_concatHash(structHashes), nonce, deadline), sig);
        KeyInfo memory info = _authorise(signer, uint40(block.timestamp), Kinds.MASK_ANY);
        _checkDeadline(deadline);
        _useNonce(signer, nonce);

        uint40 checkedTime = uint40(block.timestamp); // the key was checked at the block time
        for (uint256 i; i < n; ++i) {
            EventRecord calldata r = records[i];
            bytes32 meta = _withTerms(r.meta, terms);
            uint40 eventTime = EventMeta.eventTime(meta);
            if (eventTime != checkedTime) {
                _checkTime(info, signer, eventTime, i);
                checkedTime = eventTime;
            }
            _checkCodes(meta, i);
            _record(r, meta, _hashTypedDataV4(structHashes[i]), info, signer, i);
        }
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IConsignments
    function exists(bytes32 consignmentId) external view returns (bool) {
        return _chains[consignmentId].head != bytes28(0);
    }

    /// @inheritdoc IConsignments
    function isParty(bytes32 consignmentId, uint32 orgIndex)
        external
        view
        returns (bool registered, bool party)
    {
        Parties memory p = _parties[consignmentId];
        registered = p.registrant != 0;
        party = registered
            && (orgIndex == p.registrant || orgIndex == p.consignor || orgIndex == p.consignee);
    }

    /// @inheritdoc IConsignments
    function head(bytes32 consignmentId) external view returns (bytes28 head_, uint32 eventCount) {
        Chain memory c = _chains[consignmentId];
        return (c.head, c.eventCount);
    }

    /// @inheritdoc IConsignments
    function consignment(bytes32 consignmentId) external view returns (Consignment memory c) {
        Chain memory chain = _chains[consignmentId];
        Parties memory p = _parties[consignmentId];
        c.head = chain.head;
        c.eventCount = chain.eventCount;
        c.origin = p.origin;
        c.destination = p.destination;
        c.registeredAt = p.registeredAt;
        if (p.registrant != 0) c.registrant = _membership.organisationId(p.registrant);
        if (p.consignor != 0) c.consignor = _membership.organisationId(p.consignor);
        if (p.consignee != 0) c.consignee = _membership.organisationId(p.consignee);
    }

    /// @inheritdoc IConsignments
    function consignmentIdOf(bytes32 registrant, bytes32 referenceHash)
        public
        pure
        returns (bytes32 id)
    {
        assembly ("memory-safe") {
            mstore(0x00, registrant)
            mstore(0x20, referenceHash)
            id := keccak256(0x00, 0x40)
        }
    }

    /// @inheritdoc IConsignments
    function hashRegistration(Registration calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(REGISTRATION_TYPEHASH, offset, 6);
    }

    /// @inheritdoc IConsignments
    function hashEvent(EventRecord calldata r) public pure returns (bytes32) {
        return _hashEvent(r, r.meta);
    }

    /// @inheritdoc IConsignments
    function eventsHash(EventRecord[] calldata records, uint32 nonce, uint40 deadline)
        external
        pure
        returns (bytes32)
    {
        return _concatHash(_eventStructHashes(records, _batchTerms(nonce, deadline)));
    }

    /// @inheritdoc IConsignments
    function hashEventBatch(EventBatch calldata batch) external pure returns (bytes32) {
        return _hashEventBatch(batch.eventsHash, batch.nonce, batch.deadline);
    }

    /// @inheritdoc IConsignments
    function packEventMeta(EventFields calldata f) external pure returns (bytes32) {
        return EventMeta.pack(
            f.bizStep, f.disposition, f.location, f.eventTime, f.container, f.deadline, f.nonce
        );
    }

    /// @inheritdoc IConsignments
    function unpackEventMeta(bytes32 meta) external pure returns (EventFields memory f) {
        f.bizStep = EventMeta.bizStep(meta);
        f.disposition = EventMeta.disposition(meta);
        f.location = EventMeta.location(meta);
        f.eventTime = EventMeta.eventTime(meta);
        f.container = EventMeta.container(meta);
        f.deadline = EventMeta.deadline(meta);
        f.nonce = EventMeta.nonce(meta);
    }

    /// @inheritdoc IConsignments
    function nextHead(bytes28 previous, bytes32 digest, bytes32 orgId, address signer)
        external
        pure
        returns (bytes28)
    {
        return HashChain.next(previous, digest, orgId, signer);
    }

    // ------------------------------------------------------------------ internals

    /// @dev EIP-712 struct hash of event `r` with packed fields `m` (its own `meta`, or the
    /// `meta` a batch gives it).
    function _hashEvent(EventRecord calldata r, bytes32 m) private pure returns (bytes32 h) {
        bytes32 typehash = EVENT_TYPEHASH;
        // abi.encode(EVENT_TYPEHASH, consignmentId, bizStep, disposition, location, eventTime,
        // container, sealDigest, documentsDigest, epcisEventHash, nonce, deadline), unpacking meta.
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, typehash)
            mstore(add(p, 0x20), calldataload(r))
            mstore(add(p, 0x40), shr(248, m))
            mstore(add(p, 0x60), and(shr(240, m), 0xff))
            mstore(add(p, 0x80), and(shl(16, m), shl(216, 0xffffffffff)))
            mstore(add(p, 0xa0), and(shr(160, m), 0xffffffffff))
            mstore(add(p, 0xc0), and(shl(96, m), shl(168, 0xffffffffffffffffffffff)))
            mstore(add(p, 0xe0), calldataload(add(r, 0x40)))
            mstore(add(p, 0x100), calldataload(add(r, 0x60)))
            mstore(add(p, 0x120), calldataload(add(r, 0x80)))
            mstore(add(p, 0x140), and(m, 0xffffffff))
            mstore(add(p, 0x160), and(shr(32, m), 0xffffffffff))
            h := keccak256(p, 0x180)
        }
    }

    /// @dev EIP-712 struct hash of an EventBatch.
    function _hashEventBatch(bytes32 eventsHash_, uint32 nonce, uint40 deadline)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(EVENT_BATCH_TYPEHASH, eventsHash_, nonce, deadline));
    }

    /// @dev A batch's deadline and nonce as the low 72 bits of `meta`.
    function _batchTerms(uint32 nonce, uint40 deadline) private pure returns (uint256) {
        return (uint256(deadline) << 32) | nonce;
    }

    /// @dev `meta` with its deadline and nonce replaced by a batch's `terms`.
    function _withTerms(bytes32 meta, uint256 terms) private pure returns (bytes32) {
        return bytes32((uint256(meta) & ~_BATCH_TERMS) | terms);
    }

    /// @dev The ConsignmentEvent struct hash of every record of a batch with `terms`.
    function _eventStructHashes(EventRecord[] calldata records, uint256 terms)
        private
        pure
        returns (bytes32[] memory hashes)
    {
        uint256 n = records.length;
        hashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            EventRecord calldata r = records[i];
            hashes[i] = _hashEvent(r, _withTerms(r.meta, terms));
        }
    }

    /// @dev keccak256(abi.encodePacked(hashes)).
    function _concatHash(bytes32[] memory hashes) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(add(hashes, 0x20), shl(5, mload(hashes)))
        }
    }

    /// @dev Register consignment `r`, batch item `index` (`_NO_BATCH_ITEM` alone).
    function _register(Registration calldata r, Sig calldata sig, uint256 index) private {
        (address signer, bytes32 digest) = _recover(hashRegistration(r), sig, index);
        KeyInfo memory info = _authorise(signer, uint40(block.timestamp), _REGISTRARS, index);
        _checkDeadline(r.deadline, index);
        bytes32 id = consignmentIdOf(info.orgId, r.referenceHash);
        if (r.referenceHash == bytes32(0) || r.origin == bytes2(0) || r.destination == bytes2(0)) {
            _fail(index, abi.encodeWithSelector(InvalidRegistration.selector, r.referenceHash));
        }
        if (_chains[id].head != bytes28(0)) {
            _fail(index, abi.encodeWithSelector(ConsignmentExists.selector, id));
        }
        Parties memory parties = _newParties(r, info.orgIndex, index);

        bytes28 first = HashChain.next(bytes28(0), digest, info.orgId, signer);
        _chains[id] = Chain({head: first, eventCount: 0});
        _parties[id] = parties;
        _emitRegistered(id, r, info.orgId, signer, first);
    }

    function _emitRegistered(
        bytes32 id,
        Registration calldata r,
        bytes32 orgId,
        address signer,
        bytes28 first
    ) private {
        emit ConsignmentRegistered(
            id,
            orgId,
            signer,
            r.referenceHash,
            r.origin,
            r.destination,
            r.consignor,
            r.consignee,
            r.deadline,
            first
        );
    }

    /// @dev The parties of registration `r` (batch item `index`) by organisation `registrant`,
    /// registered now; the consignor and consignee, when given, must be registered organisations.
    function _newParties(Registration calldata r, uint32 registrant, uint256 index)
        private
        view
        returns (Parties memory)
    {
        return Parties({
            origin: r.origin,
            destination: r.destination,
            registrant: registrant,
            consignor: r.consignor == bytes32(0) ? 0 : _organisation(r.consignor, index).index,
            consignee: r.consignee == bytes32(0) ? 0 : _organisation(r.consignee, index).index,
            registeredAt: uint40(block.timestamp)
        });
    }

    /// @dev Post signed event `r`, batch item `index` (`_NO_BATCH_ITEM` alone).
    function _postEvent(
        EventRecord calldata r,
        Sig calldata sig,
        SignerCache memory cache,
        uint256 index
    ) private {
        bytes32 meta = r.meta;
        (address signer, bytes32 digest) = _recover(_hashEvent(r, meta), sig, index);
        KeyInfo memory info =
            _authoriseCached(signer, EventMeta.eventTime(meta), Kinds.MASK_ANY, cache, index);
        _checkDeadline(EventMeta.deadline(meta), index);
        _useNonce(signer, EventMeta.nonce(meta), index);
        _checkCodes(meta, index);
        _record(r, meta, digest, info, signer, index);
    }

    /// @dev Check that the signer's organisation may post to the consignment, then append the
    /// event with packed fields `meta` and EIP-712 digest `digest` (batch item `index`).
    function _record(
        EventRecord calldata r,
        bytes32 meta,
        bytes32 digest,
        KeyInfo memory info,
        address signer,
        uint256 index
    ) private {
        bytes32 id = r.consignmentId;
        Chain memory chain = _chains[id];
        if (chain.head == bytes28(0)) {
            _fail(index, abi.encodeWithSelector(UnknownConsignment.selector, id));
        }
        if ((1 << info.kind) & _POSTERS == 0) _checkParty(id, info, index);
        if (chain.eventCount == type(uint32).max) {
            _fail(index, abi.encodeWithSelector(EventCountOverflow.selector, id));
        }
        _append(r, meta, chain, digest, info.orgId, signer);
    }

    function _append(
        EventRecord calldata r,
        bytes32 meta,
        Chain memory chain,
        bytes32 digest,
        bytes32 orgId,
        address signer
    ) private {
        bytes28 next = HashChain.next(chain.head, digest, orgId, signer);
        uint32 count = chain.eventCount + 1;
        _chains[r.consignmentId] = Chain({head: next, eventCount: count});
        emit ConsignmentEventRecorded(
            r.consignmentId,
            orgId,
            signer,
            meta,
            r.sealDigest,
            r.documentsDigest,
            r.epcisEventHash,
            next,
            count
        );
    }

    function _checkCodes(bytes32 meta, uint256 index) private pure {
        uint8 bizStep = EventMeta.bizStep(meta);
        if (bizStep == 0 || bizStep > Cbv.MAX_BIZ_STEP) {
            _fail(index, abi.encodeWithSelector(InvalidBizStep.selector, bizStep));
        }
        uint8 disposition = EventMeta.disposition(meta);
        if (disposition > Cbv.MAX_DISPOSITION) {
            _fail(index, abi.encodeWithSelector(InvalidDisposition.selector, disposition));
        }
        bytes5 location = EventMeta.location(meta);
        if (location == bytes5(0)) {
            _fail(index, abi.encodeWithSelector(InvalidLocation.selector, location));
        }
    }

    function _checkParty(bytes32 id, KeyInfo memory info, uint256 index) private view {
        Parties memory p = _parties[id];
        uint32 org = info.orgIndex;
        if (org != p.registrant && org != p.consignor && org != p.consignee) {
            _fail(index, abi.encodeWithSelector(NotConsignmentParty.selector, id, info.orgId));
        }
    }
}

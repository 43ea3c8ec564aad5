// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedRecords} from "./ISignedRecords.sol";

/// @title IConsignments
/// @notice Consignments and their EPCIS 2.0 / CBV 2.0 aligned events, kept as a per-consignment
/// hash chain. EIP-712 domain: name "TradeLedger Consignments", version "1".
/// @dev Events are logs; storage keeps only the hash-chain head (bytes28) and the event count
/// (uint32) in one slot, plus one slot of consignment metadata. Who may post an event: an active
/// customs administration, carrier or postal operator (any country), or an active organisation
/// that is a party of the consignment (its registrant, consignor or consignee).
interface IConsignments is ISignedRecords {
    /// @notice A consignment registration. Signed by a customs administration, carrier, trader
    /// or postal operator. The consignment id is not chosen by the signer: it is
    /// `consignmentIdOf(registrant orgId, referenceHash)`, so the same business key registered by
    /// two organisations gives two consignments and no one can pre-empt another's reference.
    /// Replay protection: that id is registered once. Freshness: refused after `deadline`
    /// (`DeadlineExpired`), so a signature held back cannot be used later.
    struct Registration {
        bytes32 referenceHash; // keccak256 of the business key (e.g. the WCO UCR)
        bytes2 origin; // ISO 3166-1 alpha-2 country of origin (dispatch)
        bytes2 destination; // ISO 3166-1 alpha-2 country of destination
        bytes32 consignor; // orgId of the consignor, or zero
        bytes32 consignee; // orgId of the consignee, or zero
        uint40 deadline; // last block time the registration is accepted at (unix seconds)
    }

    /// @notice A consignment event as sent on chain. The small fields are packed in `meta`
    /// (layout in EventMeta / RECORDS.md); the signed EIP-712 type carries them unpacked:
    /// `ConsignmentEvent(bytes32 consignmentId,uint8 bizStep,uint8 disposition,bytes5 location,
    /// uint40 eventTime,bytes11 container,bytes32 sealDigest,bytes32 documentsDigest,
    /// bytes32 epcisEventHash,uint32 nonce,uint40 deadline)`.
    struct EventRecord {
        bytes32 consignmentId; // the consignment
        bytes32 meta; // bizStep | disposition | location | eventTime | container | deadline | nonce
        bytes32 sealDigest; // keccak256 of the seal number(s), or zero
        bytes32 documentsDigest; // digest of the event's documents, or zero
        bytes32 epcisEventHash; // GS1 EPCIS event hash id (sha-256), or zero
    }

    /// @notice The consignment's stored state.
    struct Consignment {
        bytes28 head; // hash-chain head (zero: not registered)
        uint32 eventCount; // events appended after the registration
        bytes2 origin;
        bytes2 destination;
        bytes32 registrant; // orgId of the registering organisation
        bytes32 consignor; // orgId or zero
        bytes32 consignee; // orgId or zero
        uint40 registeredAt; // block time
    }

    /// @notice A batch-signed list of events: one signature of the acting organisation's key
    /// covers every event of the list (see `postEventBatch`). EIP-712 type
    /// `EventBatch(bytes32 eventsHash,uint32 nonce,uint40 deadline)`.
    struct EventBatch {
        bytes32 eventsHash; // keccak256 of the events' ConsignmentEvent struct hashes, in order
        uint32 nonce; // the signer's unordered nonce; every event of the batch carries it
        uint40 deadline; // last block time the batch is accepted at; every event carries it
    }

    /// @notice The event fields unpacked from `meta`.
    struct EventFields {
        uint8 bizStep;
        uint8 disposition;
        bytes5 location;
        uint40 eventTime;
        bytes11 container;
        uint40 deadline;
        uint32 nonce;
    }

    /// @notice A consignment was registered; `consignmentId` is
    /// `consignmentIdOf(registrant, referenceHash)`; `head` is the chain's first link, which commits to
    /// the registration digest, `registrant` and `signer` (see `nextHead`). The log carries every
    /// field of the signed registration (its `deadline` too), so the digest and the head can be
    /// recomputed from the log alone.
    event ConsignmentRegistered(
        bytes32 indexed consignmentId,
        bytes32 indexed registrant,
        address indexed signer,
        bytes32 referenceHash,
        bytes2 origin,
        bytes2 destination,
        bytes32 consignor,
        bytes32 consignee,
        uint40 deadline,
        bytes28 head
    );

    /// @notice An event was appended. `meta` packs bizStep, disposition, location, eventTime,
    /// container, deadline and nonce (see EventMeta); `head` and `eventCount` are the new state;
    /// the step to `head` commits to the event's digest, `orgId` and `signer` (see `nextHead`).
    event ConsignmentEventRecorded(
        bytes32 indexed consignmentId,
        bytes32 indexed orgId,
        address indexed signer,
        bytes32 meta,
        bytes32 sealDigest,
        bytes32 documentsDigest,
        bytes32 epcisEventHash,
        bytes28 head,
        uint32 eventCount
    );

    /// @notice Zero reference hash or zero country.
    error InvalidRegistration(bytes32 referenceHash);
    /// @notice The consignment is registered already.
    error ConsignmentExists(bytes32 consignmentId);
    /// @notice The consignment is not registered.
    error UnknownConsignment(bytes32 consignmentId);
    /// @notice bizStep is not a CBV 2.0 bizStep code (1..41).
    error InvalidBizStep(uint8 bizStep);
    /// @notice disposition is not a CBV 2.0 disposition code (0..33).
    error InvalidDisposition(uint8 disposition);
    /// @notice The location is zero.
    error InvalidLocation(bytes5 location);
    /// @notice The signer's organisation is neither a carrier, postal operator or customs
    /// administration nor a party of the consignment.
    error NotConsignmentParty(bytes32 consignmentId, bytes32 orgId);
    /// @notice The consignment's event count reached 2^32 - 1.
    error EventCountOverflow(bytes32 consignmentId);

    /// @notice EIP-712 type hash of `ConsignmentRegistration(bytes32 referenceHash,bytes2 origin,
    /// bytes2 destination,bytes32 consignor,bytes32 consignee,uint40 deadline)`.
    function REGISTRATION_TYPEHASH() external view returns (bytes32);

    /// @notice EIP-712 type hash of `ConsignmentEvent(...)` (see EventRecord).
    function EVENT_TYPEHASH() external view returns (bytes32);

    /// @notice EIP-712 type hash of `EventBatch(bytes32 eventsHash,uint32 nonce,uint40 deadline)`.
    function EVENT_BATCH_TYPEHASH() external view returns (bytes32);

    /// @notice Register a consignment; its first hash-chain link is the registration digest.
    /// @dev Refused after the record's `deadline` (`DeadlineExpired`), checked right after the
    /// signer is authorised.
    /// @param record The registration.
    /// @param sig Signature of a customs administration, carrier, trader or postal operator key.
    function register(Registration calldata record, Sig calldata sig) external;

    /// @notice Register many consignments. The whole batch reverts with
    /// `BatchItemFailed(index, reason)` if any item fails (e.g. an item past its `deadline`:
    /// `BatchItemFailed(index, DeadlineExpired(deadline, blockTime))`).
    function registerBatch(Registration[] calldata records, Sig[] calldata sigs) external;

    /// @notice Append a signed event to a consignment's chain.
    /// @param record The event, small fields packed in `meta`.
    /// @param sig Signature over the ConsignmentEvent typed data (fields unpacked).
    function postEvent(EventRecord calldata record, Sig calldata sig) external;

    /// @notice Append many signed events (any consignments, in order). The whole batch reverts
    /// with `BatchItemFailed(index, reason)` if any item fails; nothing is recorded then.
    function postEvents(EventRecord[] calldata records, Sig[] calldata sigs) external;

    /// @notice Append many events signed together: one EIP-712 `EventBatch` signature by the
    /// acting organisation's key covers the whole list. Event `i` is the ConsignmentEvent
    /// `records[i]` with the batch's `deadline` and `nonce` in its `meta` (bytes 23..31 of each
    /// `meta` are set from the arguments, whatever the calldata holds there), so its EIP-712
    /// digest, its hash-chain step and its `ConsignmentEventRecorded` log are exactly those of a
    /// singly signed event with these fields, with `signer` the batch signer.
    /// @dev Batch-level rules (plain custom errors): at least one record, else
    /// `LengthMismatch(0, 1)`; the signer authorised at the block time (`UnknownKey`,
    /// `KeyRevoked`, `KeyNotYetValid`, `KeyExpired`, `MemberNotActive`), `deadline` not passed
    /// (`DeadlineExpired`), `nonce` unused in the signer's bitmap (`NonceAlreadyUsed`; consumed
    /// once for the whole batch). Per-event rules, wrapped in `BatchItemFailed(index, reason)`:
    /// the key valid at the event's `eventTime` and `eventTime <= now + MAX_FUTURE_SKEW`, valid
    /// codes and location, consignment registered, signer's organisation allowed to post to it.
    /// A failing event reverts the whole batch; nothing is recorded then.
    /// @param records The events, small fields packed in `meta`, applied in order.
    /// @param nonce The batch's nonce (the signer's unordered nonce bitmap).
    /// @param deadline The batch's deadline (unix seconds, inclusive).
    /// @param sig Signature over the EventBatch typed data.
    function postEventBatch(
        EventRecord[] calldata records,
        uint32 nonce,
        uint40 deadline,
        Sig calldata sig
    ) external;

    /// @notice Whether the consignment is registered.
    function exists(bytes32 consignmentId) external view returns (bool);

    /// @notice Whether the consignment is registered, and whether the organisation with index
    /// `orgIndex` (Membership) is one of its parties: registrant, consignor or consignee.
    function isParty(bytes32 consignmentId, uint32 orgIndex)
        external
        view
        returns (bool registered, bool party);

    /// @notice The hash-chain head and event count.
    function head(bytes32 consignmentId) external view returns (bytes28 head_, uint32 eventCount);

    /// @notice The consignment's stored state.
    function consignment(bytes32 consignmentId) external view returns (Consignment memory);

    /// @notice The consignment id that organisation `registrant` gets for the business key whose
    /// keccak256 is `referenceHash`: keccak256(abi.encode(registrant, referenceHash)).
    function consignmentIdOf(bytes32 registrant, bytes32 referenceHash)
        external
        pure
        returns (bytes32);

    /// @notice EIP-712 struct hash of a registration.
    function hashRegistration(Registration calldata record) external pure returns (bytes32);

    /// @notice EIP-712 struct hash of an event (unpacking `meta`).
    function hashEvent(EventRecord calldata record) external pure returns (bytes32);

    /// @notice The `eventsHash` of a batch: keccak256 of the concatenated ConsignmentEvent struct
    /// hashes of `records`, each with the batch's `nonce` and `deadline` set in its `meta`.
    function eventsHash(EventRecord[] calldata records, uint32 nonce, uint40 deadline)
        external
        pure
        returns (bytes32);

    /// @notice EIP-712 struct hash of an event batch.
    function hashEventBatch(EventBatch calldata batch) external pure returns (bytes32);

    /// @notice Pack the small event fields into `meta`.
    function packEventMeta(EventFields calldata fields) external pure returns (bytes32);

    /// @notice Unpack `meta` into the small event fields.
    function unpackEventMeta(bytes32 meta) external pure returns (EventFields memory);

    /// @notice The chain step: `bytes28(keccak256(abi.encode(previous, digest, orgId, signer)))`,
    /// where `digest` is the record's EIP-712 digest, `orgId` the acting organisation and `signer`
    /// the key that signed it (for a batch-signed event, the batch signer).
    /// @param previous The head before the record (`bytes28(0)` before the registration).
    function nextHead(bytes28 previous, bytes32 digest, bytes32 orgId, address signer)
        external
        pure
        returns (bytes28);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISignedRecords} from "./ISignedRecords.sol";

/// @title IEpcisCaptures
/// @notice GS1 EPCIS 2.0 captures committed as one Merkle root over their events' CBV 2.0 event
/// hash digests, signed by the capturing organisation. Any event of a capture can later be
/// proven captured by that organisation, at that time, with an inclusion proof.
/// @dev A leaf is `keccak256(bytes.concat(keccak256(abi.encode(digest))))` for the SHA-256
/// digest inside the event's `ni:///sha-256;<hex>?ver=CBV2.0` id; pairs are hashed sorted
/// (OpenZeppelin `MerkleProof`). The events and the tree stay off chain. See contracts/RECORDS.md.
interface IEpcisCaptures is ISignedRecords {
    /// @notice A capture as its organisation signs it (EIP-712 type `Capture`).
    /// @param captureId Unique id of the capture (a capture is committed once).
    /// @param root Merkle root over the events' hash digests, in document order.
    /// @param eventCount Number of events (leaves) in the capture.
    /// @param capturedAt When the organisation captured the document (unix seconds).
    /// @param deadline The signature is void after this time (unix seconds).
    struct Capture {
        bytes32 captureId;
        bytes32 root;
        uint32 eventCount;
        uint40 capturedAt;
        uint40 deadline;
    }

    /// @notice A committed capture as stored.
    struct Commitment {
        bytes32 root; // Merkle root over the events' hash digests
        bytes32 orgId; // capturing organisation
        address signer; // key that signed the capture
        uint40 capturedAt; // the organisation's capture time
        uint32 eventCount; // number of events
    }

    /// @notice A capture with this id was already committed.
    error CaptureExists(bytes32 captureId);
    /// @notice A capture names no events, or a zero root.
    error EmptyCapture(bytes32 captureId);
    /// @notice No capture with this id was committed.
    error UnknownCapture(bytes32 captureId);

    /// @notice A capture was committed.
    /// @param captureId The capture's id.
    /// @param orgId The capturing organisation.
    /// @param signer The key that signed it.
    /// @param root Merkle root over its events' hash digests.
    /// @param eventCount Number of events.
    /// @param capturedAt The organisation's capture time.
    event CaptureCommitted(
        bytes32 indexed captureId,
        bytes32 indexed orgId,
        address indexed signer,
        bytes32 root,
        uint32 eventCount,
        uint40 capturedAt
    );

    /// @notice EIP-712 type hash of `Capture`.
    function CAPTURE_TYPEHASH() external view returns (bytes32);

    /// @notice Commit one signed capture (relayers only).
    /// @param capture The capture.
    /// @param sig The capturing organisation's signature over it.
    function commitCapture(Capture calldata capture, Sig calldata sig) external;

    /// @notice Commit signed captures in one transaction; any failing item reverts all of them
    /// with `BatchItemFailed(index, reason)`.
    /// @param captures The captures.
    /// @param sigs Their signatures, in the same order.
    function commitCaptures(Capture[] calldata captures, Sig[] calldata sigs) external;

    /// @notice The commitment of `captureId` (reverts with `UnknownCapture` if none).
    /// @param captureId The capture's id.
    /// @return The stored commitment.
    function capture(bytes32 captureId) external view returns (Commitment memory);

    /// @notice Whether the event with SHA-256 hash `digest` is in capture `captureId`.
    /// @param captureId The capture's id (reverts with `UnknownCapture` if not committed).
    /// @param digest The event's CBV 2.0 hash digest.
    /// @param proof The Merkle siblings from the event's leaf to the root.
    /// @return Whether the proof holds.
    function proveEvent(bytes32 captureId, bytes32 digest, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice The EIP-712 struct hash of a capture.
    /// @param c The capture.
    /// @return The struct hash.
    function hashCapture(Capture calldata c) external pure returns (bytes32);
}

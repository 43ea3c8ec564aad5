// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title The batched baseline: many consignment events in one transaction
/// @notice No checks at all (like NaiveEvents): the floor that a batching relayer could
/// reach, for comparison only.
contract BatchEvents {
    /// @notice One event to record.
    struct Record {
        bytes32 consignmentId; // the consignment the event belongs to
        uint8 step; // the business step (an index into the CBV business steps)
        bytes32 digest; // the digest of the event's documents
    }

    /// @notice A consignment event was recorded (the same event as NaiveEvents emits).
    event Recorded(bytes32 indexed consignmentId, uint8 step, bytes32 digest);

    /// @notice Record every event of `records`, in order.
    function recordBatch(Record[] calldata records) external {
        for (uint256 i; i < records.length; ++i) {
            Record calldata r = records[i];
            emit Recorded(r.consignmentId, r.step, r.digest);
        }
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title The naive baseline: one transaction per consignment event
/// @notice No signature, no membership, no replay or order checks: the cheapest possible
/// record of an event on chain, for comparison only.
contract NaiveEvents {
    /// @notice A consignment event was recorded.
    /// @param consignmentId The consignment the event belongs to.
    /// @param step The business step (an index into the CBV business steps).
    /// @param digest The digest of the event's documents.
    event Recorded(bytes32 indexed consignmentId, uint8 step, bytes32 digest);

    /// @notice Record one event.
    function record(bytes32 consignmentId, uint8 step, bytes32 digest) external {
        emit Recorded(consignmentId, step, digest);
    }
}

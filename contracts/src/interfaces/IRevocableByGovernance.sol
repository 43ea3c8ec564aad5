// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title IRevocableByGovernance
/// @notice A record contract whose records of a suspended organisation governance may revoke:
/// Membership calls it when it executes a REVOKE_RECORD proposal (k of n customs
/// administrations).
interface IRevocableByGovernance {
    /// @notice Revoke record `recordId` issued by `issuer`, as decided by proposal `proposalId`.
    /// Only the Membership contract may call it.
    function revokeByGovernance(bytes32 issuer, bytes32 recordId, bytes32 proposalId) external;
}

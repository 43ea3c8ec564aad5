// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SignedRecords} from "./SignedRecords.sol";
import {IMembership} from "../interfaces/IMembership.sol";

/// @title MembershipClient
/// @notice SignedRecords whose relayer list and signer keys live in the Membership contract.
abstract contract MembershipClient is SignedRecords {
    IMembership internal immutable _membership;

    constructor(IMembership membership_, string memory name, string memory version)
        SignedRecords(name, version)
    {
        _membership = membership_;
    }

    /// @notice The Membership contract that resolves relayers and signing keys.
    function membership() external view returns (address) {
        return address(_membership);
    }

    function _isRelayer(address account) internal view override returns (bool) {
        return _membership.isRelayer(account);
    }

    function _keyInfo(address key) internal view override returns (KeyInfo memory) {
        return _membership.keyInfo(key);
    }

    /// @dev `_organisation` outside a batch item.
    function _organisation(bytes32 orgId)
        internal
        view
        returns (IMembership.Organisation memory org)
    {
        return _organisation(orgId, _NO_BATCH_ITEM);
    }

    /// @dev The organisation's index, kind, status and country; reverts (wrapped for batch item
    /// `index`) with UnknownOrganisation when `orgId` is not registered.
    function _organisation(bytes32 orgId, uint256 index)
        internal
        view
        returns (IMembership.Organisation memory org)
    {
        org = _membership.organisation(orgId);
        if (org.index == 0) {
            _fail(index, abi.encodeWithSelector(UnknownOrganisation.selector, orgId));
        }
    }
}

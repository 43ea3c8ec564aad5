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

    /// @dev The organisation's index, kind, status and country; reverts (or wraps in a batch)
    /// with UnknownOrganisation when `orgId` is not registered.
    function _organisation(bytes32 orgId)
        internal
        view
        returns (IMembership.Organisation memory org)
    {
        org = _membership.organisation(orgId);
        if (org.index == 0) _fail(abi.encodeWithSelector(UnknownOrganisation.selector, orgId));
    }
}

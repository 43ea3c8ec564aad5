// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Kinds
/// @notice Organisation kinds and statuses, and kind bit masks used in authorisation.
/// @dev A kind mask has bit `1 << kind` set for every kind allowed to sign a record.
library Kinds {
    uint8 internal constant CUSTOMS = 1; // customs administration
    uint8 internal constant CARRIER = 2; // shipping line, airline, forwarder
    uint8 internal constant TRADER = 3; // trader / AEO applicant / exporter
    uint8 internal constant ISSUING_BODY = 4; // chamber of commerce, origin authority
    uint8 internal constant POSTAL_OPERATOR = 5; // designated postal operator

    uint8 internal constant STATUS_ACTIVE = 1;
    uint8 internal constant STATUS_SUSPENDED = 2;

    uint256 internal constant MASK_CUSTOMS = 1 << CUSTOMS;
    uint256 internal constant MASK_CARRIER = 1 << CARRIER;
    uint256 internal constant MASK_TRADER = 1 << TRADER;
    uint256 internal constant MASK_ISSUING_BODY = 1 << ISSUING_BODY;
    uint256 internal constant MASK_POSTAL = 1 << POSTAL_OPERATOR;
    uint256 internal constant MASK_ANY =
        MASK_CUSTOMS | MASK_CARRIER | MASK_TRADER | MASK_ISSUING_BODY | MASK_POSTAL;

    /// @notice Whether `kind` is one of the five defined kinds.
    function isValid(uint8 kind) internal pure returns (bool) {
        return kind >= CUSTOMS && kind <= POSTAL_OPERATOR;
    }
}

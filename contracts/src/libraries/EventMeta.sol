// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title EventMeta
/// @notice Packing of a consignment event's small fields into one 32-byte word.
/// @dev Byte layout of `meta` (big-endian, byte 0 is the most significant):
///   [0]      bizStep      uint8   CBV 2.0 bizStep code (1..41, see RECORDS.md)
///   [1]      disposition  uint8   CBV 2.0 disposition code (0 none, 1..33)
///   [2..6]   location     bytes5  UN/LOCODE, ASCII, e.g. "NLRTM"
///   [7..11]  eventTime    uint40  unix seconds
///   [12..22] container    bytes11 ISO 6346 container number, ASCII, or zero
///   [23..27] deadline     uint40  unix seconds; the record is refused after it
///   [28..31] nonce        uint32  the signer's unordered nonce
/// Every bit is used, so a word maps to exactly one set of fields (no malleability).
library EventMeta {
    /// @notice Pack the small fields into `meta`.
    function pack(
        uint8 bizStep_,
        uint8 disposition_,
        bytes5 location_,
        uint40 eventTime_,
        bytes11 container_,
        uint40 deadline_,
        uint32 nonce_
    ) internal pure returns (bytes32) {
        return bytes32(
            (uint256(bizStep_) << 248) | (uint256(disposition_) << 240)
                | (uint256(uint40(location_)) << 200) | (uint256(eventTime_) << 160)
                | (uint256(uint88(container_)) << 72) | (uint256(deadline_) << 32) | uint256(nonce_)
        );
    }

    function bizStep(bytes32 meta) internal pure returns (uint8) {
        return uint8(uint256(meta) >> 248);
    }

    function disposition(bytes32 meta) internal pure returns (uint8) {
        return uint8(uint256(meta) >> 240);
    }

    function location(bytes32 meta) internal pure returns (bytes5) {
        // forge-lint: disable-next-line(unsafe-typecast) -- slices bytes 2..6
        return bytes5(meta << 16);
    }

    function eventTime(bytes32 meta) internal pure returns (uint40) {
        return uint40(uint256(meta) >> 160);
    }

    function container(bytes32 meta) internal pure returns (bytes11) {
        // forge-lint: disable-next-line(unsafe-typecast) -- slices bytes 12..22
        return bytes11(meta << 96);
    }

    function deadline(bytes32 meta) internal pure returns (uint40) {
        return uint40(uint256(meta) >> 32);
    }

    function nonce(bytes32 meta) internal pure returns (uint32) {
        return uint32(uint256(meta));
    }
}

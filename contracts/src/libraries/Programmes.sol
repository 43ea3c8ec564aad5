// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Programmes
/// @notice AEO programme codes and the MRA scope bit mask.
/// @dev Programme codes are ASCII, right-padded with zeros to bytes8. Scope bit of a programme:
///   "AEOC" (customs simplifications)  bit 0 (0x1)
///   "AEOS" (security and safety)      bit 1 (0x2)
///   "AEOF" (full: AEOC + AEOS)        bit 2 (0x4)
/// An MRA with scope S recognises a certification of programme P iff `S & bit(P) != 0`.
library Programmes {
    uint32 internal constant ALL = 0x7;

    /// @notice Scope bit of `programme`, or zero when the programme is unknown.
    function bit(bytes8 programme) internal pure returns (uint32) {
        if (programme == "AEOC") return 0x1;
        if (programme == "AEOS") return 0x2;
        if (programme == "AEOF") return 0x4;
        return 0;
    }
}

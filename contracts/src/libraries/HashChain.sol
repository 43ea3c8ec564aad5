// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title HashChain
/// @notice The per-consignment hash chain.
/// @dev `next = bytes28(keccak256(abi.encode(previous, digest)))`: `previous` is the stored
/// bytes28 head, ABI-encoded (left-aligned, 4 zero bytes of padding), `digest` the EIP-712
/// digest of the record that was signed. The head keeps the top 224 bits so that it shares one
/// storage slot with the uint32 event count. The chain starts at `bytes28(0)` and the
/// registration digest is its first link, so a registered consignment never has a zero head.
library HashChain {
    function next(bytes28 previous, bytes32 digest) internal pure returns (bytes28 head) {
        assembly ("memory-safe") {
            mstore(0x00, and(previous, not(0xffffffff)))
            mstore(0x20, digest)
            head := and(keccak256(0x00, 0x40), not(0xffffffff))
        }
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title HashChain
/// @notice The per-consignment hash chain: each link commits to the record, the acting
/// organisation and the key that signed it.
/// @dev `next = bytes28(keccak256(abi.encode(previous, digest, orgId, signer)))`, 128 bytes:
/// `previous` is the stored bytes28 head, ABI-encoded (left-aligned, 4 zero bytes of padding),
/// `digest` the EIP-712 digest of the record that was signed, `orgId` the acting organisation's
/// id and `signer` the recovered signing key (right-aligned, 12 zero bytes before it); for a
/// batch-signed event (`postEventBatch`) `digest` is the event's own ConsignmentEvent digest and
/// `signer` the batch signer. So the head proves who signed each record without reading its log.
/// The head keeps the top 224 bits so that it shares one storage slot with the uint32 event
/// count. The chain starts at `bytes28(0)` and the registration (digest, registrant, signer) is
/// its first link, so a registered consignment never has a zero head.
library HashChain {
    function next(bytes28 previous, bytes32 digest, bytes32 orgId, address signer)
        internal
        pure
        returns (bytes28 head)
    {
        assembly ("memory-safe") {
            // Past the free memory pointer, not allocated: scratch space holds only 64 bytes.
            let p := mload(0x40)
            mstore(p, and(previous, not(0xffffffff)))
            mstore(add(p, 0x20), digest)
            mstore(add(p, 0x40), orgId)
            mstore(add(p, 0x60), and(signer, 0xffffffffffffffffffffffffffffffffffffffff))
            head := and(keccak256(p, 0x80), not(0xffffffff))
        }
    }
}

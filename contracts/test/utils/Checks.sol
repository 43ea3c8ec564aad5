// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixture} from "./Fixture.sol";
import {ISignedRecords} from "../../src/interfaces/ISignedRecords.sol";

/// @notice The one cheatcode Checks needs beyond utils/Vm.sol (kept apart so that the fixture's
/// sources, and so every existing test's bytecode metadata and fuzz dictionary, stay unchanged).
interface VmStrings {
    function toString(bytes calldata value) external pure returns (string memory);
}

/// @notice The fixture plus what tests need to expect exact errors: the signature recovery as
/// SignedRecords performs it, the signer-time rule, and a revert-data assertion.
abstract contract Checks is Fixture {
    VmStrings private constant _strings = VmStrings(address(vm));

    // ------------------------------------------------------------------ expected errors

    /// @dev secp256k1 group order and half of it: OpenZeppelin ECDSA refuses s > HALF_N.
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 internal constant HALF_N =
        0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @dev The address a compact signature recovers to as SignedRecords decodes it (OpenZeppelin
    /// `ECDSA.tryRecover(digest, r, vs)`), or zero where it is refused (high s, no point).
    function _recoverCompact(bytes32 digest, ISignedRecords.Sig memory sig)
        internal
        pure
        returns (address)
    {
        uint256 s = uint256(sig.vs) & (type(uint256).max >> 1);
        if (s > HALF_N) return address(0);
        return ecrecover(digest, uint8((uint256(sig.vs) >> 255) + 27), sig.r, bytes32(s));
    }

    /// @dev The revert a record contract gives for `sig` over `digest` when its signer is not a
    /// registered key: `InvalidSignature()` if it recovers to nothing, else `UnknownKey(signer)`.
    function _signatureError(bytes32 digest, ISignedRecords.Sig memory sig)
        internal
        pure
        returns (bytes memory)
    {
        address signer = _recoverCompact(digest, sig);
        if (signer == address(0)) {
            return abi.encodeWithSelector(ISignedRecords.InvalidSignature.selector);
        }
        return abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, signer);
    }

    /// @dev The time error (RECORDS.md signer check steps 3 and 4) for `key` with window
    /// [from, until) and a record time `t` at the current block time; empty when both are valid.
    function _timeError(address key, uint40 from, uint40 until, uint40 t)
        internal
        view
        returns (bytes memory)
    {
        uint40 nowTs = uint40(block.timestamp);
        if (uint256(t) > uint256(nowTs) + 300) {
            return abi.encodeWithSelector(ISignedRecords.RecordTimeInFuture.selector, t, nowTs);
        }
        uint40 earliest = t < nowTs ? t : nowTs;
        uint40 latest = t > nowTs ? t : nowTs;
        if (earliest < from) {
            return
                abi.encodeWithSelector(ISignedRecords.KeyNotYetValid.selector, key, from, earliest);
        }
        if (latest >= until) {
            return abi.encodeWithSelector(ISignedRecords.KeyExpired.selector, key, until, latest);
        }
        return "";
    }

    /// @dev Call `target` with `data` from `sender` and require the revert data to be `expected`.
    function _assertRevert(address sender, address target, bytes memory data, bytes memory expected)
        internal
    {
        vm.prank(sender);
        (bool ok, bytes memory reason) = target.call(data);
        assertFalse(ok, "call succeeded");
        if (keccak256(reason) != keccak256(expected)) {
            revert(string.concat("revert data: ", _str(reason), " != expected ", _str(expected)));
        }
    }

    /// @dev `data` as 0x-prefixed hex, for failure messages.
    function _str(bytes memory data) internal pure returns (string memory) {
        return _strings.toString(data);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Checks} from "./utils/Checks.sol";
import {Vm} from "./utils/Vm.sol";
import {Console} from "./utils/Console.sol";
import {EpcisCaptures} from "../src/EpcisCaptures.sol";
import {IEpcisCaptures} from "../src/interfaces/IEpcisCaptures.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";

/// @notice EPCIS captures: commitment, inclusion proofs, the signer rules, and gas per event.
contract EpcisCapturesTest is Checks {
    EpcisCaptures internal captures;

    function setUp() public override {
        super.setUp();
        captures = new EpcisCaptures(membership);
    }

    // ------------------------------------------------------------------ helpers

    function _digests(uint256 n, bytes32 salt) internal pure returns (bytes32[] memory ds) {
        ds = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            ds[i] = sha256(abi.encode(salt, i));
        }
    }

    function _leaf(bytes32 digest) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(digest))));
    }

    function _pair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    /// @dev Root and the proof of leaf `index`, built as ledger/epcis/merkle.py builds them
    /// (document order, odd node carried up).
    function _tree(bytes32[] memory ds, uint256 index)
        internal
        pure
        returns (bytes32 root, bytes32[] memory proof)
    {
        bytes32[] memory level = new bytes32[](ds.length);
        for (uint256 i; i < ds.length; ++i) {
            level[i] = _leaf(ds[i]);
        }
        bytes32[] memory siblings = new bytes32[](64);
        uint256 depth;
        while (level.length > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < level.length) siblings[depth++] = level[sibling];
            bytes32[] memory next = new bytes32[]((level.length + 1) / 2);
            for (uint256 i; i + 1 < level.length; i += 2) {
                next[i / 2] = _pair(level[i], level[i + 1]);
            }
            if (level.length % 2 == 1) next[next.length - 1] = level[level.length - 1];
            level = next;
            index /= 2;
        }
        root = level[0];
        proof = new bytes32[](depth);
        for (uint256 i; i < depth; ++i) {
            proof[i] = siblings[i];
        }
    }

    function _capture(bytes32 id, bytes32 root, uint32 n)
        internal
        view
        returns (IEpcisCaptures.Capture memory)
    {
        return IEpcisCaptures.Capture({
            captureId: id,
            root: root,
            eventCount: n,
            capturedAt: uint40(block.timestamp),
            deadline: uint40(block.timestamp + 1 hours)
        });
    }

    function _sign(IEpcisCaptures.Capture memory c, uint256 pk)
        internal
        view
        returns (ISignedRecords.Sig memory)
    {
        bytes32 structHash = keccak256(abi.encode(captures.CAPTURE_TYPEHASH(), c));
        return _sig(pk, _digest(address(captures), "TradeLedger EpcisCaptures", structHash));
    }

    function _commitData(IEpcisCaptures.Capture memory c, uint256 pk)
        internal
        view
        returns (bytes memory)
    {
        return abi.encodeCall(captures.commitCapture, (c, _sign(c, pk)));
    }

    // ------------------------------------------------------------------ commitment and proofs

    function test_commitCapture_storesAndEmits() public {
        bytes32[] memory ds = _digests(7, "a");
        (bytes32 root,) = _tree(ds, 0);
        IEpcisCaptures.Capture memory c = _capture("cap-1", root, 7);
        vm.expectEmit(true, true, true, true, address(captures));
        emit IEpcisCaptures.CaptureCommitted(
            "cap-1", CARRIER, vm.addr(PK_CARRIER), root, 7, c.capturedAt
        );
        captures.commitCapture(c, _sign(c, PK_CARRIER));
        IEpcisCaptures.Commitment memory s = captures.capture("cap-1");
        assertEq(s.root, root, "root");
        assertEq(s.orgId, CARRIER, "org");
        assertEq(s.signer, vm.addr(PK_CARRIER), "signer");
        assertEq(s.eventCount, 7, "count");
        assertEq(s.capturedAt, c.capturedAt, "time");
    }

    function test_proveEvent_everyEventOfOddCapture() public {
        bytes32[] memory ds = _digests(7, "b");
        (bytes32 root,) = _tree(ds, 0);
        IEpcisCaptures.Capture memory c = _capture("cap-2", root, 7);
        captures.commitCapture(c, _sign(c, PK_EXPORTER));
        for (uint256 i; i < ds.length; ++i) {
            (, bytes32[] memory proof) = _tree(ds, i);
            assertTrue(captures.proveEvent("cap-2", ds[i], proof), "member");
            assertFalse(captures.proveEvent("cap-2", sha256("other"), proof), "non-member");
        }
    }

    function test_proveEvent_singleEventCapture() public {
        bytes32[] memory ds = _digests(1, "c");
        (bytes32 root, bytes32[] memory proof) = _tree(ds, 0);
        assertEq(proof.length, 0, "no siblings");
        IEpcisCaptures.Capture memory c = _capture("cap-3", root, 1);
        captures.commitCapture(c, _sign(c, PK_POSTAL));
        assertTrue(captures.proveEvent("cap-3", ds[0], proof), "single");
    }

    function test_proveEvent_refusesInnerNodeAsLeaf() public {
        bytes32[] memory ds = _digests(4, "d");
        (bytes32 root, bytes32[] memory proof) = _tree(ds, 0);
        IEpcisCaptures.Capture memory c = _capture("cap-4", root, 4);
        captures.commitCapture(c, _sign(c, PK_CARRIER));
        // The inner node over leaves 0 and 1, presented as an event digest, proves nothing.
        bytes32 inner = _pair(_leaf(ds[0]), _leaf(ds[1]));
        bytes32[] memory upper = new bytes32[](1);
        upper[0] = proof[1];
        assertFalse(captures.proveEvent("cap-4", inner, upper), "inner node");
    }

    function test_proveEvent_revertsForUnknownCapture() public {
        _assertRevert(
            address(this),
            address(captures),
            abi.encodeCall(captures.proveEvent, ("none", bytes32(0), new bytes32[](0))),
            abi.encodeWithSelector(IEpcisCaptures.UnknownCapture.selector, bytes32("none"))
        );
    }

    function test_hashCapture_equalsAbiEncode() public view {
        IEpcisCaptures.Capture memory c = _capture("cap-h", keccak256("r"), 12);
        assertEq(
            captures.hashCapture(c),
            keccak256(abi.encode(captures.CAPTURE_TYPEHASH(), c)),
            "struct hash"
        );
    }

    // ------------------------------------------------------------------ refusals

    function test_commitCapture_revertsWhenReplayed() public {
        IEpcisCaptures.Capture memory c = _capture("cap-r", keccak256("root"), 3);
        ISignedRecords.Sig memory sig = _sign(c, PK_CARRIER);
        captures.commitCapture(c, sig);
        _assertRevert(
            address(this),
            address(captures),
            abi.encodeCall(captures.commitCapture, (c, sig)),
            abi.encodeWithSelector(IEpcisCaptures.CaptureExists.selector, bytes32("cap-r"))
        );
    }

    function test_commitCapture_revertsForOutsiderKey() public {
        IEpcisCaptures.Capture memory c = _capture("cap-o", keccak256("root"), 3);
        _assertRevert(
            address(this),
            address(captures),
            _commitData(c, PK_OUTSIDER),
            abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(PK_OUTSIDER))
        );
    }

    function test_commitCapture_revertsForAlteredRoot() public {
        IEpcisCaptures.Capture memory c = _capture("cap-a", keccak256("root"), 3);
        ISignedRecords.Sig memory sig = _sign(c, PK_CARRIER);
        c.root = keccak256("another root");
        bytes32 digest = _digest(
            address(captures),
            "TradeLedger EpcisCaptures",
            keccak256(abi.encode(captures.CAPTURE_TYPEHASH(), c))
        );
        _assertRevert(
            address(this),
            address(captures),
            abi.encodeCall(captures.commitCapture, (c, sig)),
            _signatureError(digest, sig)
        );
    }

    function test_commitCapture_revertsForRevokedKey() public {
        _revokeKey(CARRIER, PK_CARRIER, vm.addr(PK_CARRIER));
        IEpcisCaptures.Capture memory c = _capture("cap-k", keccak256("root"), 3);
        _assertRevert(
            address(this),
            address(captures),
            _commitData(c, PK_CARRIER),
            abi.encodeWithSelector(
                ISignedRecords.KeyRevoked.selector, vm.addr(PK_CARRIER), uint40(block.timestamp)
            )
        );
    }

    function test_commitCapture_revertsForIssuingBody() public {
        IEpcisCaptures.Capture memory c = _capture("cap-w", keccak256("root"), 3);
        _assertRevert(
            address(this),
            address(captures),
            _commitData(c, PK_ISSUER),
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, ISSUER, uint8(4))
        );
    }

    function test_commitCapture_revertsAfterDeadline() public {
        IEpcisCaptures.Capture memory c = _capture("cap-d", keccak256("root"), 3);
        bytes memory data = _commitData(c, PK_CARRIER);
        vm.warp(c.deadline + 1);
        _assertRevert(
            address(this),
            address(captures),
            data,
            abi.encodeWithSelector(
                ISignedRecords.DeadlineExpired.selector, c.deadline, uint40(c.deadline + 1)
            )
        );
    }

    function test_commitCapture_revertsForEmptyCapture() public {
        IEpcisCaptures.Capture memory c = _capture("cap-e", keccak256("root"), 0);
        _assertRevert(
            address(this),
            address(captures),
            _commitData(c, PK_CARRIER),
            abi.encodeWithSelector(IEpcisCaptures.EmptyCapture.selector, bytes32("cap-e"))
        );
    }

    function test_commitCapture_revertsForNonRelayer() public {
        IEpcisCaptures.Capture memory c = _capture("cap-n", keccak256("root"), 3);
        _assertRevert(
            OUTSIDER_RELAYER,
            address(captures),
            _commitData(c, PK_CARRIER),
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
    }

    function test_commitCaptures_wrapsFailingItem() public {
        IEpcisCaptures.Capture[] memory cs = new IEpcisCaptures.Capture[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        cs[0] = _capture("cap-b0", keccak256("root0"), 3);
        cs[1] = _capture("cap-b1", keccak256("root1"), 3);
        sigs[0] = _sign(cs[0], PK_CARRIER);
        sigs[1] = _sign(cs[1], PK_ISSUER);
        _assertRevert(
            address(this),
            address(captures),
            abi.encodeCall(captures.commitCaptures, (cs, sigs)),
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(ISignedRecords.WrongKind.selector, ISSUER, uint8(4))
            )
        );
        sigs[1] = _sign(cs[1], PK_CARRIER);
        captures.commitCaptures(cs, sigs);
        assertEq(captures.capture("cap-b1").orgId, CARRIER, "committed");
    }

    // ------------------------------------------------------------------ gas per event

    /// @dev Whole-transaction gas of `data` (as GasTest measures: 21,000 + calldata +
    /// execution, or the EIP-7623 floor when higher).
    function _txGas(bytes memory data) internal returns (uint256) {
        (bool ok,) = address(captures).call(data);
        assertTrue(ok, "commit");
        Vm.Gas memory g = vm.lastCallGas();
        uint256 zeros;
        uint256 nonZeros;
        for (uint256 i; i < data.length; ++i) {
            if (data[i] == 0) ++zeros;
            else ++nonZeros;
        }
        uint256 standard = 21_000 + 4 * zeros + 16 * nonZeros + g.gasTotalUsed;
        uint256 floor = 21_000 + 10 * (zeros + 4 * nonZeros);
        return standard > floor ? standard : floor;
    }

    /// @dev Gas of committing a capture of `n` events, per event, and of proving its last event.
    function _measureCapture(uint256 n) internal returns (uint256 perEvent) {
        bytes32[] memory ds = _digests(n, "gas");
        (bytes32 root, bytes32[] memory proof) = _tree(ds, n - 1);
        IEpcisCaptures.Capture memory c = _capture(keccak256(abi.encode("gas", n)), root, uint32(n));
        uint256 total = _txGas(_commitData(c, PK_CARRIER));
        perEvent = total / n;
        string memory name = string.concat("commitCapture", vm.toString(n));
        Console.log(string.concat(name, " tx total"), total);
        Console.log(string.concat(name, " per event"), perEvent);
        vm.snapshotValue(string.concat(name, ".tx"), total);
        vm.snapshotValue(string.concat(name, ".perEvent"), perEvent);
        uint256 before = gasleft();
        assertTrue(captures.proveEvent(c.captureId, ds[n - 1], proof), "proof");
        uint256 proveGas = before - gasleft();
        Console.log(string.concat(name, " proveEvent"), proveGas);
        vm.snapshotValue(string.concat(name, ".proveEvent"), proveGas);
    }

    function test_gas_commitCapture_1() public {
        _measureCapture(1);
    }

    function test_gas_commitCapture_100() public {
        assertLe(_measureCapture(100), 1_500, "per event, 100-event capture");
    }

    function test_gas_commitCapture_10000() public {
        assertLe(_measureCapture(10_000), 100, "well under 100 gas per event in large captures");
    }
}

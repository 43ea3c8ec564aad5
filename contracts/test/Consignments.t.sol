// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Checks} from "./utils/Checks.sol";
import {Vm} from "./utils/Vm.sol";
import {IConsignments} from "../src/interfaces/IConsignments.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";
import {EventMeta} from "../src/libraries/EventMeta.sol";
import {Kinds} from "../src/libraries/Kinds.sol";

contract ConsignmentsTest is Checks {
    bytes32 internal constant UCR_REF = keccak256("UCR:6CN1234567890-2026-0001");
    bytes32 internal constant UCR = keccak256(abi.encode(CARRIER, UCR_REF));
    uint256 internal constant TYPEHASH_EVENT_BATCH_DOCUMENTED =
        0x85928ce74740dea390accb306073f50f1a1cf0b8ff92e8f4862cc23ae3c9ccd2;

    function setUp() public override {
        super.setUp();
        _register(UCR_REF);
    }

    /// @dev The chain step computed independently of HashChain: the 128 bytes are the head, 4
    /// zero bytes, the digest, the orgId, 12 zero bytes and the signer.
    function _step(bytes28 previous, bytes32 digest, bytes32 orgId, address signer)
        internal
        pure
        returns (bytes28)
    {
        return bytes28(
            keccak256(abi.encodePacked(previous, bytes4(0), digest, orgId, bytes12(0), signer))
        );
    }

    /// @dev The chain step of a record signed by the carrier's key.
    function _step(bytes28 previous, bytes32 digest) internal view returns (bytes28) {
        return _step(previous, digest, CARRIER, vm.addr(PK_CARRIER));
    }

    function _post(IConsignments.EventRecord memory r, uint256 pk) internal {
        consignments.postEvent(r, _signEvent(r, pk));
    }

    // ------------------------------------------------------------------ register

    function test_register_startsChainWithRegistrationDigest() public {
        bytes32 ref = keccak256("UCR:2");
        bytes32 id = _cid(CARRIER, ref);
        IConsignments.Registration memory r = _registration(ref);
        bytes32 digest = _digest(
            address(consignments), "TradeLedger Consignments", consignments.hashRegistration(r)
        );
        ISignedRecords.Sig memory sig = _signRegistration(r, PK_CARRIER);
        vm.expectEmit(true, true, true, true, address(consignments));
        emit IConsignments.ConsignmentRegistered(
            id,
            CARRIER,
            vm.addr(PK_CARRIER),
            ref,
            "CN",
            "DE",
            EXPORTER,
            CONSIGNEE,
            r.deadline,
            _step(0, digest)
        );
        consignments.register(r, sig);
        (bytes28 head, uint32 count) = consignments.head(id);
        assertEq(bytes32(head), bytes32(_step(0, digest)), "head");
        assertEq(count, 0, "count");
        assertTrue(consignments.exists(id), "exists");
        IConsignments.Consignment memory c = consignments.consignment(id);
        assertEq(c.registrant, CARRIER, "registrant");
        assertEq(c.consignor, EXPORTER, "consignor");
        assertEq(c.consignee, CONSIGNEE, "consignee");
        assertEq(bytes32(c.origin), bytes32(bytes2("CN")), "origin");
        assertEq(c.registeredAt, block.timestamp, "registeredAt");
    }

    function test_consignmentIdOf_bindsTheRegistrant() public view {
        assertEq(consignments.consignmentIdOf(CARRIER, UCR_REF), UCR, "carrier's id");
        assertEq(
            consignments.consignmentIdOf(CONSIGNEE, UCR_REF),
            keccak256(abi.encode(CONSIGNEE, UCR_REF)),
            "keccak256(abi.encode(registrant, referenceHash))"
        );
        assertTrue(
            consignments.consignmentIdOf(CONSIGNEE, UCR_REF) != UCR, "other registrant, other id"
        );
    }

    function test_register_competitorCannotPreemptAReference() public {
        bytes32 ref = keccak256("UCR:6CN1234567890-2026-0042"); // a public reference
        // A competitor (a trader with no part in the shipment) registers it first...
        IConsignments.Registration memory squat = _registration(ref);
        squat.consignor = bytes32(0);
        squat.consignee = bytes32(0);
        consignments.register(squat, _signRegistration(squat, PK_CONSIGNEE));
        // ...and the carrier still registers its own consignment under the same reference.
        IConsignments.Registration memory r = _registration(ref);
        r.consignee = bytes32(0);
        consignments.register(r, _signRegistration(r, PK_CARRIER));

        bytes32 squatId = _cid(CONSIGNEE, ref);
        bytes32 id = _cid(CARRIER, ref);
        assertTrue(squatId != id, "two consignments");
        assertTrue(consignments.exists(squatId) && consignments.exists(id), "both registered");
        assertEq(consignments.consignment(id).registrant, CARRIER, "carrier's registrant");
        assertEq(consignments.consignment(squatId).registrant, CONSIGNEE, "squatter's registrant");

        // Events land on the consignment they name; the squatter cannot post to the carrier's.
        _post(_event(id, 900), PK_CARRIER);
        (, uint32 count) = consignments.head(id);
        (, uint32 squatCount) = consignments.head(squatId);
        assertEq(count, 1, "carrier's event on its consignment");
        assertEq(squatCount, 0, "nothing on the squatter's");
        IConsignments.EventRecord memory e = _event(id, 901);
        ISignedRecords.Sig memory sig = _signEvent(e, PK_CONSIGNEE);
        vm.expectRevert(
            abi.encodeWithSelector(IConsignments.NotConsignmentParty.selector, id, CONSIGNEE)
        );
        consignments.postEvent(e, sig);
    }

    function test_register_revertsWhenReplayed() public {
        IConsignments.Registration memory r = _registration(UCR_REF);
        ISignedRecords.Sig memory sig = _signRegistration(r, PK_CARRIER);
        vm.expectRevert(abi.encodeWithSelector(IConsignments.ConsignmentExists.selector, UCR));
        consignments.register(r, sig);
    }

    function test_register_revertsForWrongKind() public {
        IConsignments.Registration memory r = _registration(keccak256("UCR:2"));
        ISignedRecords.Sig memory sig = _signRegistration(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, ISSUER, Kinds.ISSUING_BODY)
        );
        consignments.register(r, sig);
    }

    function test_register_revertsForZeroCountry() public {
        IConsignments.Registration memory r = _registration(keccak256("UCR:2"));
        r.destination = bytes2(0);
        ISignedRecords.Sig memory sig = _signRegistration(r, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(IConsignments.InvalidRegistration.selector, r.referenceHash)
        );
        consignments.register(r, sig);
    }

    function test_register_revertsForUnknownParty() public {
        IConsignments.Registration memory r = _registration(keccak256("UCR:2"));
        r.consignee = keccak256("org:none");
        ISignedRecords.Sig memory sig = _signRegistration(r, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.UnknownOrganisation.selector, r.consignee)
        );
        consignments.register(r, sig);
    }

    function test_register_revertsWhenRelayerNotAllowed() public {
        IConsignments.Registration memory r = _registration(keccak256("UCR:2"));
        ISignedRecords.Sig memory sig = _signRegistration(r, PK_CARRIER);
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        consignments.register(r, sig);
    }

    function test_registerBatch_registersAll() public {
        IConsignments.Registration[] memory rs = new IConsignments.Registration[](3);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](3);
        for (uint256 i; i < 3; ++i) {
            rs[i] = _registration(keccak256(abi.encode("batch", i)));
            sigs[i] = _signRegistration(rs[i], PK_POSTAL);
        }
        consignments.registerBatch(rs, sigs);
        for (uint256 i; i < 3; ++i) {
            assertTrue(consignments.exists(_cid(POSTAL, rs[i].referenceHash)), "exists");
        }
    }

    function test_registerBatch_revertsNamingFailingItem() public {
        IConsignments.Registration[] memory rs = new IConsignments.Registration[](3);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](3);
        for (uint256 i; i < 3; ++i) {
            rs[i] = _registration(keccak256(abi.encode("batch", i)));
        }
        rs[2] = _registration(UCR_REF); // exists already
        for (uint256 i; i < 3; ++i) {
            sigs[i] = _signRegistration(rs[i], PK_CARRIER);
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                2,
                abi.encodeWithSelector(IConsignments.ConsignmentExists.selector, UCR)
            )
        );
        consignments.registerBatch(rs, sigs);
        assertFalse(consignments.exists(_cid(rs[0].referenceHash)), "nothing recorded");
    }

    function test_registerBatch_revertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.LengthMismatch.selector, 1, 0));
        consignments.registerBatch(new IConsignments.Registration[](1), new ISignedRecords.Sig[](0));
    }

    function test_register_revertsAfterDeadline() public {
        IConsignments.Registration memory r = _registration(keccak256("UCR:late"));
        r.deadline = T0 - 1;
        ISignedRecords.Sig memory sig = _signRegistration(r, PK_CARRIER);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.DeadlineExpired.selector, T0 - 1, T0));
        consignments.register(r, sig);
        assertFalse(consignments.exists(_cid(r.referenceHash)), "not registered");
    }

    function test_register_signerCheckedBeforeDeadline() public {
        IConsignments.Registration memory r = _registration(keccak256("UCR:late"));
        r.deadline = T0 - 1;
        ISignedRecords.Sig memory sig = _signRegistration(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, ISSUER, Kinds.ISSUING_BODY)
        );
        consignments.register(r, sig);
    }

    function test_register_acceptedAtDeadline_idIgnoresDeadline() public {
        bytes32 ref = keccak256("UCR:fresh");
        IConsignments.Registration memory r = _registration(ref);
        r.deadline = T0;
        consignments.register(r, _signRegistration(r, PK_CARRIER));
        assertTrue(consignments.exists(_cid(ref)), "registered at its deadline");
        // The same registration signed again with another deadline names the same consignment.
        r.deadline = T0 + 1 days;
        ISignedRecords.Sig memory sig = _signRegistration(r, PK_CARRIER);
        vm.expectRevert(abi.encodeWithSelector(IConsignments.ConsignmentExists.selector, _cid(ref)));
        consignments.register(r, sig);
    }

    function test_registerBatch_revertsForItemAfterDeadline() public {
        IConsignments.Registration[] memory rs = new IConsignments.Registration[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        rs[0] = _registration(keccak256("UCR:batch-fresh"));
        rs[1] = _registration(keccak256("UCR:batch-late"));
        rs[1].deadline = T0 - 1;
        sigs[0] = _signRegistration(rs[0], PK_CARRIER);
        sigs[1] = _signRegistration(rs[1], PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(ISignedRecords.DeadlineExpired.selector, T0 - 1, T0)
            )
        );
        consignments.registerBatch(rs, sigs);
        assertFalse(consignments.exists(_cid(rs[0].referenceHash)), "nothing recorded");
    }

    // ------------------------------------------------------------------ postEvent

    function test_postEvent_extendsChainAndEmitsAllFields() public {
        (bytes28 before,) = consignments.head(UCR);
        IConsignments.EventRecord memory r = _event(UCR, 1);
        bytes32 digest =
            _digest(address(consignments), "TradeLedger Consignments", consignments.hashEvent(r));
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        bytes28 expected = _step(before, digest);
        vm.expectEmit(true, true, true, true, address(consignments));
        emit IConsignments.ConsignmentEventRecorded(
            UCR,
            CARRIER,
            vm.addr(PK_CARRIER),
            r.meta,
            r.sealDigest,
            r.documentsDigest,
            r.epcisEventHash,
            expected,
            1
        );
        consignments.postEvent(r, sig);
        (bytes28 head, uint32 count) = consignments.head(UCR);
        assertEq(bytes32(head), bytes32(expected), "head");
        assertEq(count, 1, "count");
        assertTrue(consignments.isNonceUsed(vm.addr(PK_CARRIER), 1), "nonce used");
    }

    function test_postEvent_hashMatchesTypedFields() public view {
        IConsignments.EventRecord memory r = _event(UCR, 77);
        bytes32 expected = keccak256(
            abi.encode(
                keccak256(
                    "ConsignmentEvent(bytes32 consignmentId,uint8 bizStep,uint8 disposition,bytes5 location,uint40 eventTime,bytes11 container,bytes32 sealDigest,bytes32 documentsDigest,bytes32 epcisEventHash,uint32 nonce,uint40 deadline)"
                ),
                UCR,
                uint8(20),
                uint8(15),
                bytes5("CNSHA"),
                uint40(block.timestamp),
                bytes11("MSCU1234565"),
                r.sealDigest,
                r.documentsDigest,
                r.epcisEventHash,
                uint32(77),
                uint40(block.timestamp + 1 hours)
            )
        );
        assertEq(consignments.hashEvent(r), expected, "struct hash");
        assertEq(
            consignments.EVENT_TYPEHASH(),
            bytes32(uint256(0x3aeff2b2369ad2940f4cf53c4afce40074410aca6481fded2f19f7d775caf431)),
            "typehash as documented"
        );
    }

    function test_postEvent_allowsConsignmentParty() public {
        _post(_event(UCR, 1), PK_CONSIGNEE);
        (, uint32 count) = consignments.head(UCR);
        assertEq(count, 1, "count");
    }

    function test_postEvent_allowsPostalOperatorAndCustoms() public {
        _post(_event(UCR, 1), PK_POSTAL);
        _post(_event(UCR, 1), PK_CUSTOMS_DE); // nonces are per signing key
        (, uint32 count) = consignments.head(UCR);
        assertEq(count, 2, "count");
    }

    function test_postEvent_revertsForNonParty() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(IConsignments.NotConsignmentParty.selector, UCR, ISSUER)
        );
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsForUnknownConsignment() public {
        IConsignments.EventRecord memory r = _event(keccak256("nope"), 1);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(IConsignments.UnknownConsignment.selector, keccak256("nope"))
        );
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsWhenReplayed() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        consignments.postEvent(r, sig);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.NonceAlreadyUsed.selector, vm.addr(PK_CARRIER), 1)
        );
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsForReusedNonceInOtherRecord() public {
        _post(_event(UCR, 5), PK_CARRIER);
        IConsignments.EventRecord memory r = _event(UCR, 5);
        r.documentsDigest = keccak256("other");
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.NonceAlreadyUsed.selector, vm.addr(PK_CARRIER), 5)
        );
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsAfterDeadline() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        vm.warp(block.timestamp + 1 hours + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.DeadlineExpired.selector, T0 + 1 hours, T0 + 1 hours + 1
            )
        );
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsWhenEventTimeBeforeKeyWindow() public {
        uint256 pk = 0xCA0077;
        _addKey(CARRIER, PK_CARRIER, vm.addr(pk), T0, T0 + 10 days);
        IConsignments.EventRecord memory r = _eventAt(UCR, 1, T0 - 1);
        ISignedRecords.Sig memory sig = _signEvent(r, pk);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyNotYetValid.selector, vm.addr(pk), T0, T0 - 1)
        );
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsWhenKeyExpired() public {
        uint256 pk = 0xCA0077;
        _addKey(CARRIER, PK_CARRIER, vm.addr(pk), T0, T0 + 10 days);
        vm.warp(T0 + 10 days);
        IConsignments.EventRecord memory r = _eventAt(UCR, 1, T0 + 1 days);
        ISignedRecords.Sig memory sig = _signEvent(r, pk);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.KeyExpired.selector, vm.addr(pk), T0 + 10 days, T0 + 10 days
            )
        );
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsForRevokedKey() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        _revokeKey(CARRIER, PK_CARRIER, vm.addr(PK_CARRIER));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyRevoked.selector, vm.addr(PK_CARRIER), T0)
        );
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsForSuspendedMember() public {
        _suspend(CARRIER);
        IConsignments.EventRecord memory r = _event(UCR, 1);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, CARRIER, Kinds.STATUS_SUSPENDED
            )
        );
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsForEventTimeInFuture() public {
        IConsignments.EventRecord memory r = _eventAt(UCR, 1, T0 + 301);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RecordTimeInFuture.selector, T0 + 301, T0)
        );
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsForInvalidBizStep() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        r.meta = _withByte(r.meta, 0, 42);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        vm.expectRevert(abi.encodeWithSelector(IConsignments.InvalidBizStep.selector, 42));
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsForZeroBizStep() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        r.meta = _withByte(r.meta, 0, 0);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        vm.expectRevert(abi.encodeWithSelector(IConsignments.InvalidBizStep.selector, 0));
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsForInvalidDisposition() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        r.meta = _withByte(r.meta, 1, 34);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        vm.expectRevert(abi.encodeWithSelector(IConsignments.InvalidDisposition.selector, 34));
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsForZeroLocation() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        r.meta = EventMeta.pack(20, 15, bytes5(0), T0, bytes11(0), T0 + 10, 1);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        vm.expectRevert(abi.encodeWithSelector(IConsignments.InvalidLocation.selector, bytes5(0)));
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsWhenRecordAltered() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        r.sealDigest = keccak256("forged seal");
        bytes32 digest = consignments.hashTypedData(consignments.hashEvent(r));
        assertTrue(_recoverCompact(digest, sig) != vm.addr(PK_CARRIER), "recovers another key");
        vm.expectRevert(_signatureError(digest, sig)); // UnknownKey(the address it recovers to)
        consignments.postEvent(r, sig);
        (, uint32 count) = consignments.head(UCR);
        assertEq(count, 0, "nothing recorded");
    }

    function test_postEvent_revertsWhenRelayerNotAllowed() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        consignments.postEvent(r, sig);
    }

    function test_postEvent_revertsForSignatureFromOtherContractDomain() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        // signed for Certificates' domain: recovers a different address
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, certificates.hashTypedData(consignments.hashEvent(r)));
        bytes32 digest = consignments.hashTypedData(consignments.hashEvent(r));
        assertTrue(_recoverCompact(digest, sig) != vm.addr(PK_CARRIER), "recovers another key");
        vm.expectRevert(_signatureError(digest, sig));
        consignments.postEvent(r, sig);
    }

    // ------------------------------------------------------------------ postEvents

    function test_postEvents_appliesInOrder() public {
        bytes32 second = _register(keccak256("UCR:2"));
        IConsignments.EventRecord[] memory rs = new IConsignments.EventRecord[](4);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](4);
        for (uint256 i; i < 4; ++i) {
            rs[i] = _event(i % 2 == 0 ? UCR : second, uint32(i));
            sigs[i] = _signEvent(rs[i], PK_CARRIER);
        }
        (bytes28 h,) = consignments.head(UCR);
        h = _step(h, consignments.hashTypedData(consignments.hashEvent(rs[0])));
        h = _step(h, consignments.hashTypedData(consignments.hashEvent(rs[2])));
        consignments.postEvents(rs, sigs);
        (bytes28 head, uint32 count) = consignments.head(UCR);
        assertEq(bytes32(head), bytes32(h), "folded head");
        assertEq(count, 2, "count");
        assertEq(consignments.nonceBitmap(vm.addr(PK_CARRIER), 0), 0xf, "nonces 0..3 share a word");
    }

    function test_postEvents_revertsNamingFailingItem() public {
        IConsignments.EventRecord[] memory rs = new IConsignments.EventRecord[](3);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](3);
        rs[0] = _event(UCR, 1);
        rs[1] = _event(UCR, 2);
        rs[2] = _event(UCR, 1); // replays nonce 1
        for (uint256 i; i < 3; ++i) {
            sigs[i] = _signEvent(rs[i], PK_CARRIER);
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                2,
                abi.encodeWithSelector(
                    ISignedRecords.NonceAlreadyUsed.selector, vm.addr(PK_CARRIER), 1
                )
            )
        );
        consignments.postEvents(rs, sigs);
    }

    function test_postEvents_wrapsAuthorisationErrors() public {
        IConsignments.EventRecord[] memory rs = new IConsignments.EventRecord[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        rs[0] = _event(UCR, 1);
        rs[1] = _event(UCR, 2);
        sigs[0] = _signEvent(rs[0], PK_CARRIER);
        sigs[1] = _signEvent(rs[1], PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(IConsignments.NotConsignmentParty.selector, UCR, ISSUER)
            )
        );
        consignments.postEvents(rs, sigs);
    }

    function test_postEvents_wrapsInvalidSignature() public {
        IConsignments.EventRecord[] memory rs = new IConsignments.EventRecord[](1);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](1);
        rs[0] = _event(UCR, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                0,
                abi.encodeWithSelector(ISignedRecords.InvalidSignature.selector)
            )
        );
        consignments.postEvents(rs, sigs);
    }

    function test_postEvents_revertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.LengthMismatch.selector, 2, 1));
        consignments.postEvents(new IConsignments.EventRecord[](2), new ISignedRecords.Sig[](1));
    }

    function test_postEvent_afterBatchDoesNotWrapErrors() public {
        IConsignments.EventRecord[] memory rs = new IConsignments.EventRecord[](1);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](1);
        rs[0] = _event(UCR, 1);
        sigs[0] = _signEvent(rs[0], PK_CARRIER);
        consignments.postEvents(rs, sigs);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.NonceAlreadyUsed.selector, vm.addr(PK_CARRIER), 1)
        );
        consignments.postEvent(rs[0], sigs[0]);
    }

    // ------------------------------------------------------------------ postEventBatch

    uint40 internal constant BATCH_DEADLINE = T0 + 1 hours;

    /// @dev `n` events on UCR (even items) and `other` (odd items), one batch nonce.
    function _mixedBatch(bytes32 other, uint256 n, uint32 nonce)
        internal
        view
        returns (IConsignments.EventRecord[] memory)
    {
        bytes32[] memory ids = new bytes32[](2);
        ids[0] = UCR;
        ids[1] = other;
        return _batchEvents(ids, n, nonce);
    }

    function _postBatch(IConsignments.EventRecord[] memory rs, uint32 nonce, uint256 pk) internal {
        consignments.postEventBatch(
            rs, nonce, BATCH_DEADLINE, _signEventBatch(rs, nonce, BATCH_DEADLINE, pk)
        );
    }

    /// @dev The address a signature recovers to for a batch (the "other key" of a forgery).
    function _recovered(
        IConsignments.EventRecord[] memory rs,
        uint32 nonce,
        uint40 deadline,
        ISignedRecords.Sig memory sig
    ) internal view returns (address) {
        bytes32 digest = consignments.hashTypedData(
            consignments.hashEventBatch(
                IConsignments.EventBatch(
                    consignments.eventsHash(rs, nonce, deadline), nonce, deadline
                )
            )
        );
        bytes32 s = sig.vs & bytes32(type(uint256).max >> 1);
        uint8 v = uint8(uint256(sig.vs) >> 255) + 27;
        return ecrecover(digest, v, sig.r, s);
    }

    function test_postEventBatch_recordsEachEventAsASignedEvent() public {
        bytes32 second = _register(keccak256("UCR:2"));
        IConsignments.EventRecord[] memory rs = _mixedBatch(second, 4, 7);
        (bytes28 h1,) = consignments.head(UCR);
        (bytes28 h2,) = consignments.head(second);
        vm.recordLogs();
        _postBatch(rs, 7, PK_CARRIER);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 4, "one log per event");
        for (uint256 i; i < 4; ++i) {
            // the digest of the same event signed alone
            bytes32 digest = _digest(
                address(consignments), "TradeLedger Consignments", consignments.hashEvent(rs[i])
            );
            bytes28 expected;
            if (i % 2 == 0) expected = h1 = _step(h1, digest);
            else expected = h2 = _step(h2, digest);
            assertEq(logs[i].topics[0], IConsignments.ConsignmentEventRecorded.selector, "event");
            assertEq(logs[i].topics[1], rs[i].consignmentId, "consignment");
            assertEq(logs[i].topics[2], CARRIER, "orgId");
            assertEq(logs[i].topics[3], bytes32(uint256(uint160(vm.addr(PK_CARRIER)))), "signer");
            assertEq(
                logs[i].data,
                abi.encode(
                    rs[i].meta,
                    rs[i].sealDigest,
                    rs[i].documentsDigest,
                    rs[i].epcisEventHash,
                    expected,
                    uint32(i / 2 + 1)
                ),
                "fields, head, count"
            );
        }
        (bytes28 head, uint32 count) = consignments.head(UCR);
        assertEq(bytes32(head), bytes32(h1), "head of UCR");
        assertEq(count, 2, "count of UCR");
        (head, count) = consignments.head(second);
        assertEq(bytes32(head), bytes32(h2), "head of the second consignment");
        assertEq(count, 2, "count of the second consignment");
        assertEq(
            consignments.nonceBitmap(vm.addr(PK_CARRIER), 0), 1 << 7, "one nonce for the batch"
        );
    }

    function test_postEventBatch_setsBatchTermsInEveryMeta() public {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 2, 7);
        bytes32 signedMeta = rs[1].meta;
        rs[1].meta = EventMeta.pack(20, 15, "CNSHA", T0, "MSCU1234565", 0, 0); // no terms sent
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 7, BATCH_DEADLINE, PK_CARRIER);
        vm.recordLogs();
        consignments.postEventBatch(rs, 7, BATCH_DEADLINE, sig);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        (bytes32 meta) = abi.decode(logs[1].data, (bytes32));
        assertEq(meta, signedMeta, "meta carries the batch's deadline and nonce");
        assertEq(EventMeta.nonce(meta), 7, "nonce");
        assertEq(EventMeta.deadline(meta), BATCH_DEADLINE, "deadline");
    }

    function test_postEventBatch_revertsForWrongSigner() public {
        uint256 pk = 0xBAD002;
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 3, 1);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, pk);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(pk)));
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsForRevokedKey() public {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 3, 1);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, PK_CARRIER);
        _revokeKey(CARRIER, PK_CARRIER, vm.addr(PK_CARRIER));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyRevoked.selector, vm.addr(PK_CARRIER), T0)
        );
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsNamingEventBeforeKeyWindow() public {
        uint256 pk = 0xCA0077;
        _addKey(CARRIER, PK_CARRIER, vm.addr(pk), T0, T0 + 10 days);
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 3, 1);
        rs[1].meta = _eventAt(UCR, 1, T0 - 1).meta; // one event before the key's window
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, pk);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(
                    ISignedRecords.KeyNotYetValid.selector, vm.addr(pk), T0, T0 - 1
                )
            )
        );
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsNamingEventAfterKeyWindow() public {
        uint256 pk = 0xCA0077;
        _addKey(CARRIER, PK_CARRIER, vm.addr(pk), T0 - 1 days, T0 + 100);
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 3, 1);
        rs[2].meta = _eventAt(UCR, 1, T0 + 200).meta; // within the skew, after the window
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, pk);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                2,
                abi.encodeWithSelector(
                    ISignedRecords.KeyExpired.selector, vm.addr(pk), T0 + 100, T0 + 200
                )
            )
        );
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsNamingEventInFuture() public {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 2, 1);
        rs[1].meta = _eventAt(UCR, 1, T0 + 301).meta;
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(ISignedRecords.RecordTimeInFuture.selector, T0 + 301, T0)
            )
        );
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsForSuspendedMember() public {
        _suspend(CARRIER);
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 2, 1);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, CARRIER, Kinds.STATUS_SUSPENDED
            )
        );
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsNamingConsignmentOfWhichSignerIsNoParty() public {
        IConsignments.Registration memory reg = _registration(keccak256("UCR:2"));
        bytes32 other = _cid(reg.referenceHash);
        reg.consignee = bytes32(0); // CONSIGNEE is no party of `other`
        consignments.register(reg, _signRegistration(reg, PK_CARRIER));
        IConsignments.EventRecord[] memory rs = _mixedBatch(other, 2, 1);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, PK_CONSIGNEE);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(IConsignments.NotConsignmentParty.selector, other, CONSIGNEE)
            )
        );
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
        (, uint32 count) = consignments.head(UCR);
        assertEq(count, 0, "nothing of the batch recorded");
    }

    function test_postEventBatch_revertsForKindThatMayNotPost() public {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 2, 1);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                0,
                abi.encodeWithSelector(IConsignments.NotConsignmentParty.selector, UCR, ISSUER)
            )
        );
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsNamingInvalidItem() public {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 4, 1);
        rs[2].consignmentId = keccak256("missing");
        rs[3].meta = _withByte(rs[3].meta, 0, 42);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                2,
                abi.encodeWithSelector(
                    IConsignments.UnknownConsignment.selector, keccak256("missing")
                )
            )
        );
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsWhenReplayed() public {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 3, 9);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 9, BATCH_DEADLINE, PK_CARRIER);
        consignments.postEventBatch(rs, 9, BATCH_DEADLINE, sig);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.NonceAlreadyUsed.selector, vm.addr(PK_CARRIER), 9)
        );
        consignments.postEventBatch(rs, 9, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_sharesNonceBitmapWithSingleEvents() public {
        _post(_event(UCR, 9), PK_CARRIER);
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 2, 9);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 9, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.NonceAlreadyUsed.selector, vm.addr(PK_CARRIER), 9)
        );
        consignments.postEventBatch(rs, 9, BATCH_DEADLINE, sig);
        // and a batch's nonce cannot be used by a single event afterwards
        _postBatch(_batchEvents(_ids(UCR), 2, 10), 10, PK_CARRIER);
        IConsignments.EventRecord memory single = _event(UCR, 10);
        ISignedRecords.Sig memory singleSig = _signEvent(single, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.NonceAlreadyUsed.selector, vm.addr(PK_CARRIER), 10
            )
        );
        consignments.postEvent(single, singleSig);
    }

    function test_postEventBatch_revertsAfterDeadline() public {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 2, 1);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, PK_CARRIER);
        vm.warp(BATCH_DEADLINE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.DeadlineExpired.selector, BATCH_DEADLINE, BATCH_DEADLINE + 1
            )
        );
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsWhenEventAlteredAfterSigning() public {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 3, 1);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, PK_CARRIER);
        rs[1].sealDigest = keccak256("forged seal");
        address other = _recovered(rs, 1, BATCH_DEADLINE, sig);
        assertTrue(other != vm.addr(PK_CARRIER), "recovers another key");
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, other));
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsWhenEventsReorderedDroppedOrTermsChanged() public {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 3, 1);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, PK_CARRIER);
        IConsignments.EventRecord[] memory swapped = _batchEvents(_ids(UCR), 3, 1);
        (swapped[0], swapped[1]) = (rs[1], rs[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _recovered(swapped, 1, BATCH_DEADLINE, sig)
            )
        );
        consignments.postEventBatch(swapped, 1, BATCH_DEADLINE, sig);
        IConsignments.EventRecord[] memory dropped = new IConsignments.EventRecord[](2);
        (dropped[0], dropped[1]) = (rs[0], rs[1]);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _recovered(dropped, 1, BATCH_DEADLINE, sig)
            )
        );
        consignments.postEventBatch(dropped, 1, BATCH_DEADLINE, sig);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _recovered(rs, 2, BATCH_DEADLINE + 1, sig)
            )
        );
        consignments.postEventBatch(rs, 2, BATCH_DEADLINE + 1, sig);
    }

    function test_postEventBatch_refusesSingleEventSignatureAsBatchOfOne() public {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 1, 1);
        ISignedRecords.Sig memory sig = _signEvent(rs[0], PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _recovered(rs, 1, BATCH_DEADLINE, sig)
            )
        );
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsForEmptyBatch() public {
        IConsignments.EventRecord[] memory rs = new IConsignments.EventRecord[](0);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.LengthMismatch.selector, 0, 1));
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEventBatch_revertsWhenRelayerNotAllowed() public {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 2, 1);
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 1, BATCH_DEADLINE, PK_CARRIER);
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        consignments.postEventBatch(rs, 1, BATCH_DEADLINE, sig);
    }

    function test_postEvent_afterEventBatchDoesNotWrapErrors() public {
        _postBatch(_batchEvents(_ids(UCR), 2, 1), 1, PK_CARRIER);
        IConsignments.EventRecord memory r = _event(keccak256("missing"), 2);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(IConsignments.UnknownConsignment.selector, keccak256("missing"))
        );
        consignments.postEvent(r, sig);
    }

    function test_eventsHash_andHashEventBatch_matchDocumentedRule() public view {
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), 3, 5);
        rs[2].meta = EventMeta.pack(20, 15, "CNSHA", T0, "MSCU1234565", 0, 0); // terms unset
        bytes memory packed;
        for (uint256 i; i < 3; ++i) {
            IConsignments.EventRecord memory e = rs[i];
            e.meta = EventMeta.pack(20, 15, "CNSHA", T0, "MSCU1234565", BATCH_DEADLINE, 5);
            packed = abi.encodePacked(packed, consignments.hashEvent(e));
        }
        bytes32 expected = keccak256(packed);
        assertEq(consignments.eventsHash(rs, 5, BATCH_DEADLINE), expected, "eventsHash");
        bytes32 typehash = keccak256("EventBatch(bytes32 eventsHash,uint32 nonce,uint40 deadline)");
        assertEq(consignments.EVENT_BATCH_TYPEHASH(), typehash, "typehash");
        assertEq(
            typehash, bytes32(uint256(TYPEHASH_EVENT_BATCH_DOCUMENTED)), "typehash as documented"
        );
        assertEq(
            consignments.hashEventBatch(IConsignments.EventBatch(expected, 5, BATCH_DEADLINE)),
            keccak256(abi.encode(typehash, expected, uint32(5), BATCH_DEADLINE)),
            "struct hash"
        );
    }

    function testFuzz_postEventBatch_namesFailingIndex(uint8 size, uint8 bad, uint8 kind) public {
        uint256 n = bound(size, 1, 12);
        uint256 failing = bound(bad, 0, n - 1);
        uint256 pk = 0xCA0077;
        _addKey(CARRIER, PK_CARRIER, vm.addr(pk), T0 - 1 hours, T0 + 10 days);
        IConsignments.EventRecord[] memory rs = _batchEvents(_ids(UCR), n, 3);
        bytes memory reason;
        if (kind % 3 == 0) {
            rs[failing].consignmentId = keccak256("missing");
            reason = abi.encodeWithSelector(
                IConsignments.UnknownConsignment.selector, keccak256("missing")
            );
        } else if (kind % 3 == 1) {
            rs[failing].meta = _eventAt(UCR, 3, T0 - 2 hours).meta;
            reason = abi.encodeWithSelector(
                ISignedRecords.KeyNotYetValid.selector, vm.addr(pk), T0 - 1 hours, T0 - 2 hours
            );
        } else {
            rs[failing].meta = _withByte(rs[failing].meta, 1, 34);
            reason = abi.encodeWithSelector(IConsignments.InvalidDisposition.selector, 34);
        }
        ISignedRecords.Sig memory sig = _signEventBatch(rs, 3, BATCH_DEADLINE, pk);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.BatchItemFailed.selector, failing, reason)
        );
        consignments.postEventBatch(rs, 3, BATCH_DEADLINE, sig);
    }

    function testFuzz_postEventBatch_headEqualsSingleEvents(uint8 size, uint32 nonce) public {
        uint256 n = bound(size, 1, 16);
        bytes32 second = _register(keccak256("UCR:2"));
        IConsignments.EventRecord[] memory rs = _mixedBatch(second, n, nonce);
        // the fold of the digests the same events have when signed alone
        (bytes28 h1,) = consignments.head(UCR);
        (bytes28 h2,) = consignments.head(second);
        for (uint256 i; i < n; ++i) {
            bytes32 d = consignments.hashTypedData(consignments.hashEvent(rs[i]));
            if (i % 2 == 0) h1 = _step(h1, d);
            else h2 = _step(h2, d);
        }
        _postBatch(rs, nonce, PK_CARRIER);
        (bytes28 head1, uint32 c1) = consignments.head(UCR);
        (bytes28 head2, uint32 c2) = consignments.head(second);
        assertEq(bytes32(head1), bytes32(h1), "head of UCR = fold of single-event digests");
        assertEq(bytes32(head2), bytes32(h2), "head of second = fold of single-event digests");
        assertEq(c1, (n + 1) / 2, "count of UCR");
        assertEq(c2, n / 2, "count of second");
        assertTrue(consignments.isNonceUsed(vm.addr(PK_CARRIER), nonce), "batch nonce used");
    }

    function _ids(bytes32 id) internal pure returns (bytes32[] memory ids) {
        ids = new bytes32[](1);
        ids[0] = id;
    }

    // ------------------------------------------------------------------ meta packing

    function test_unpackEventMeta_returnsFields() public view {
        IConsignments.EventFields memory f = consignments.unpackEventMeta(_event(UCR, 9).meta);
        assertEq(f.bizStep, 20, "bizStep");
        assertEq(f.disposition, 15, "disposition");
        assertEq(bytes32(f.location), bytes32(bytes5("CNSHA")), "location");
        assertEq(f.eventTime, T0, "time");
        assertEq(bytes32(f.container), bytes32(bytes11("MSCU1234565")), "container");
        assertEq(f.deadline, T0 + 1 hours, "deadline");
        assertEq(f.nonce, 9, "nonce");
    }

    function test_packEventMeta_matchesDocumentedByteLayout() public view {
        IConsignments.EventFields memory f = IConsignments.EventFields({
            bizStep: 20,
            disposition: 15,
            location: "NLRTM",
            eventTime: 0x0102030405,
            container: "MSCU1234565",
            deadline: 0x0a0b0c0d0e,
            nonce: 0x11223344
        });
        bytes memory expected = abi.encodePacked(
            uint8(20),
            uint8(15),
            bytes5("NLRTM"),
            uint40(0x0102030405),
            bytes11("MSCU1234565"),
            uint40(0x0a0b0c0d0e),
            uint32(0x11223344)
        );
        assertEq(expected.length, 32, "32 bytes");
        assertEq(consignments.packEventMeta(f), bytes32(expected), "layout");
    }

    function testFuzz_packEventMeta_roundTrip(
        uint8 bizStep,
        uint8 disposition,
        bytes5 location,
        uint40 eventTime,
        bytes11 container,
        uint40 deadline,
        uint32 nonce
    ) public view {
        IConsignments.EventFields memory f = IConsignments.EventFields(
            bizStep, disposition, location, eventTime, container, deadline, nonce
        );
        IConsignments.EventFields memory g =
            consignments.unpackEventMeta(consignments.packEventMeta(f));
        assertEq(keccak256(abi.encode(f)), keccak256(abi.encode(g)), "round trip");
    }

    function testFuzz_nextHead_matchesDocumentedRule(
        bytes28 previous,
        bytes32 digest,
        bytes32 orgId,
        address signer
    ) public view {
        assertEq(
            bytes32(consignments.nextHead(previous, digest, orgId, signer)),
            bytes32(bytes28(keccak256(abi.encode(previous, digest, orgId, signer)))),
            "rule"
        );
        assertEq(
            bytes32(consignments.nextHead(previous, digest, orgId, signer)),
            bytes32(_step(previous, digest, orgId, signer)),
            "packed form"
        );
    }

    function testFuzz_nextHead_commitsToOrgAndSigner(
        bytes28 previous,
        bytes32 digest,
        bytes32 orgId,
        address signer,
        bytes32 otherOrg,
        address otherSigner
    ) public view {
        vm.assume(otherOrg != orgId && otherSigner != signer);
        bytes28 h = consignments.nextHead(previous, digest, orgId, signer);
        assertTrue(h != consignments.nextHead(previous, digest, otherOrg, signer), "orgId only");
        assertTrue(h != consignments.nextHead(previous, digest, orgId, otherSigner), "signer only");
    }

    function test_postEvent_headCommitsToOrgAndSigner() public {
        // the same record, digest and previous head; only the acting organisation and key differ
        (bytes28 before,) = consignments.head(UCR);
        IConsignments.EventRecord memory r = _event(UCR, 1);
        bytes32 digest = consignments.hashTypedData(consignments.hashEvent(r));
        uint256 snap = vm.snapshotState();
        consignments.postEvent(r, _signEvent(r, PK_CARRIER));
        (bytes28 byCarrier,) = consignments.head(UCR);
        vm.revertToState(snap);
        consignments.postEvent(r, _signEvent(r, PK_CUSTOMS_DE));
        (bytes28 byCustoms,) = consignments.head(UCR);
        assertEq(bytes32(byCarrier), bytes32(_step(before, digest)), "carrier's head");
        assertEq(
            bytes32(byCustoms),
            bytes32(_step(before, digest, CUSTOMS_DE, vm.addr(PK_CUSTOMS_DE))),
            "customs' head"
        );
        assertTrue(byCarrier != byCustoms, "a head names who signed");
        assertTrue(
            _step(before, digest, CARRIER, vm.addr(PK_CUSTOMS_DE)) != byCarrier
                && _step(before, digest, CUSTOMS_DE, vm.addr(PK_CARRIER)) != byCarrier,
            "only the signer or only the orgId differs: another head"
        );
    }

    // ------------------------------------------------------------------ fuzz: signatures, time

    function testFuzz_postEvent_rejectsUnregisteredSigner(uint256 pk) public {
        pk = bound(pk, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        vm.assume(membership.keyInfo(vm.addr(pk)).orgId == bytes32(0));
        IConsignments.EventRecord memory r = _event(UCR, 1);
        ISignedRecords.Sig memory sig = _signEvent(r, pk);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(pk)));
        consignments.postEvent(r, sig);
    }

    function testFuzz_postEvent_rejectsTamperedSignature(bytes32 flip) public {
        vm.assume(flip != bytes32(0));
        IConsignments.EventRecord memory r = _event(UCR, 1);
        ISignedRecords.Sig memory sig = _signEvent(r, PK_CARRIER);
        sig.r ^= flip;
        bytes32 digest = consignments.hashTypedData(consignments.hashEvent(r));
        // a flipped r recovers another address, or none (r not on the curve, r >= n)
        assertTrue(_recoverCompact(digest, sig) != vm.addr(PK_CARRIER), "recovers another key");
        vm.expectRevert(_signatureError(digest, sig));
        consignments.postEvent(r, sig);
    }

    function testFuzz_postEvent_keyWindow(
        uint40 from,
        uint40 length,
        uint40 eventTime,
        uint40 nowTs
    ) public {
        uint256 pk = 0xCA0077;
        from = uint40(bound(from, T0, T0 + 100 days));
        length = uint40(bound(length, 1, 100 days));
        _addKey(CARRIER, PK_CARRIER, vm.addr(pk), from, from + length);
        nowTs = uint40(bound(nowTs, T0, T0 + 300 days));
        eventTime = uint40(bound(eventTime, T0 - 1 days, uint256(nowTs) + 1000));
        vm.warp(nowTs);
        IConsignments.EventRecord memory r = _eventAt(UCR, 1, eventTime);
        ISignedRecords.Sig memory sig = _signEvent(r, pk);
        bool ok = eventTime <= nowTs + 300 && from <= nowTs && nowTs < from + length
            && from <= eventTime && eventTime < from + length;
        bytes memory expected = _timeError(vm.addr(pk), from, from + length, eventTime);
        assertEq(expected.length == 0, ok, "the rule and the expected error agree");
        if (!ok) vm.expectRevert(expected);
        consignments.postEvent(r, sig);
        (, uint32 count) = consignments.head(UCR);
        assertEq(count, ok ? 1 : 0, "recorded iff key valid at both times");
    }

    function testFuzz_postEvent_nonceBitmap(uint32 nonce) public {
        _post(_event(UCR, nonce), PK_CARRIER);
        assertTrue(consignments.isNonceUsed(vm.addr(PK_CARRIER), nonce), "used");
        assertEq(
            consignments.nonceBitmap(vm.addr(PK_CARRIER), uint256(nonce) >> 8),
            uint256(1) << (nonce & 0xff),
            "bit"
        );
    }

    function _withByte(bytes32 word, uint256 index, uint8 value) internal pure returns (bytes32) {
        bytes32 mask = bytes32(uint256(0xff) << (8 * (31 - index)));
        return (word & ~mask) | bytes32(uint256(value) << (8 * (31 - index)));
    }

    function test_postEvent_revertsForSignatureFromOtherChain() public {
        IConsignments.EventRecord memory r = _event(UCR, 1);
        bytes32 structHash = consignments.hashEvent(r);
        bytes32 otherChain = keccak256(
            abi.encodePacked(
                "\x19\x01",
                keccak256(
                    abi.encode(
                        keccak256(
                            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                        ),
                        keccak256("TradeLedger Consignments"),
                        keccak256("1"),
                        block.chainid + 1,
                        address(consignments)
                    )
                ),
                structHash
            )
        );
        ISignedRecords.Sig memory sig = _sig(PK_CARRIER, otherChain);
        bytes32 digest = consignments.hashTypedData(structHash);
        assertTrue(_recoverCompact(digest, sig) != vm.addr(PK_CARRIER), "recovers another key");
        vm.expectRevert(_signatureError(digest, sig)); // recovers an unregistered address
        consignments.postEvent(r, sig);
        (, uint32 count) = consignments.head(UCR);
        assertEq(count, 0, "nothing recorded");
    }

    function testFuzz_postEvents_namesFailingIndex(uint8 size, uint8 bad) public {
        uint256 n = bound(size, 1, 12);
        uint256 failing = bound(bad, 0, n - 1);
        IConsignments.EventRecord[] memory rs = new IConsignments.EventRecord[](n);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](n);
        for (uint256 i; i < n; ++i) {
            rs[i] = _event(UCR, uint32(100 + i));
            if (i == failing) rs[i].consignmentId = keccak256("missing");
            sigs[i] = _signEvent(rs[i], PK_CARRIER);
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                failing,
                abi.encodeWithSelector(
                    IConsignments.UnknownConsignment.selector, keccak256("missing")
                )
            )
        );
        consignments.postEvents(rs, sigs);
    }
}

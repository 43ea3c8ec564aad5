// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixture} from "./utils/Fixture.sol";
import {Vm} from "./utils/Vm.sol";
import {IAttestations} from "../src/interfaces/IAttestations.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";
import {Kinds} from "../src/libraries/Kinds.sol";

contract AttestationsTest is Fixture {
    bytes32 internal schemaId;
    bytes32 internal constant UCR = keccak256("UCR:1");
    uint256 internal constant TYPEHASH_ATTESTATION_BATCH_DOCUMENTED =
        0xcb1f5e795d0b89e20195c11aa7a9db2f42fca51443d67c382ed45ce81bf0547e;
    uint40 internal constant BATCH_DEADLINE = T0 + 1 hours;
    /// @dev The deadline of the schema registrations and revocations signed here.
    uint40 internal constant DEADLINE = T0 + 1 hours;

    function setUp() public override {
        super.setUp();
        schemaId = _registerSchema(SCHEMA, PK_CUSTOMS_DE);
    }

    function _attest(IAttestations.Attestation memory r, uint256 pk) internal returns (bytes32) {
        return attestations.attest(r, _signAttestation(r, pk));
    }

    function _revocation(bytes32 uid, uint256 pk)
        internal
        view
        returns (IAttestations.Revocation memory r, ISignedRecords.Sig memory sig)
    {
        r = IAttestations.Revocation({
            uid: uid, reasonDigest: keccak256("withdrawn"), deadline: DEADLINE
        });
        sig = _sig(pk, attestations.hashTypedData(attestations.hashRevocation(r)));
    }

    /// @dev The uid as RECORDS.md defines it: the attester and every field but the deadline.
    function _uidOf(bytes32 attester, IAttestations.Attestation memory r)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                attester,
                r.schemaId,
                r.subjectType,
                r.subjectId,
                r.dataDigest,
                r.refUid,
                r.expiresAt
            )
        );
    }

    // ------------------------------------------------------------------ schemas

    function test_registerSchema_storesRegistrant() public view {
        assertEq(schemaId, keccak256(bytes(SCHEMA)), "id");
        IAttestations.Schema memory s = attestations.schema(schemaId);
        assertEq(s.registrant, CUSTOMS_DE, "registrant");
        assertEq(s.registeredAt, T0, "time");
    }

    function test_registerSchema_byAnyActiveMember() public {
        bytes32 id = _registerSchema("seal(bytes32 seal,bool intact)", PK_CARRIER);
        assertEq(attestations.schema(id).registrant, CARRIER, "registrant");
    }

    function test_registerSchema_revertsWhenReplayed() public {
        ISignedRecords.Sig memory sig = _sig(
            PK_CUSTOMS_DE, attestations.hashTypedData(attestations.hashSchema(SCHEMA, DEADLINE))
        );
        vm.expectRevert(abi.encodeWithSelector(IAttestations.SchemaExists.selector, schemaId));
        attestations.registerSchema(SCHEMA, DEADLINE, sig);
    }

    function test_registerSchema_revertsForEmptyDefinition() public {
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, attestations.hashTypedData(attestations.hashSchema("", DEADLINE)));
        vm.expectRevert(IAttestations.EmptySchema.selector);
        attestations.registerSchema("", DEADLINE, sig);
    }

    function test_registerSchema_revertsForSuspendedMember() public {
        _suspend(CARRIER);
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, attestations.hashTypedData(attestations.hashSchema("x", DEADLINE)));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, CARRIER, Kinds.STATUS_SUSPENDED
            )
        );
        attestations.registerSchema("x", DEADLINE, sig);
    }

    function test_hashSchema_matchesTypeString() public view {
        assertEq(
            attestations.hashSchema(SCHEMA, DEADLINE),
            keccak256(
                abi.encode(
                    keccak256("SchemaRegistration(string definition,uint40 deadline)"),
                    keccak256(bytes(SCHEMA)),
                    DEADLINE
                )
            ),
            "struct hash"
        );
    }

    // ------------------------------------------------------------------ attest

    function test_attest_recordsAndIsValid() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        bytes32 expectedUid = _uidOf(CUSTOMS_DE, r);
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        vm.expectEmit(true, true, true, true, address(attestations));
        emit IAttestations.Attested(
            expectedUid, UCR, CUSTOMS_DE, vm.addr(PK_CUSTOMS_DE), schemaId, 1, keccak256("ok"), 0, 0
        );
        bytes32 uid = attestations.attest(r, sig);
        assertEq(uid, expectedUid, "uid");
        assertEq(attestations.attestationUid(CUSTOMS_DE, r), uid, "uid view");
        assertTrue(attestations.isValid(uid), "valid");
        IAttestations.Stored memory s = attestations.attestation(uid);
        assertEq(s.attester, CUSTOMS_DE, "attester");
        assertEq(s.attestedAt, T0, "time");
    }

    function test_attest_sameContentByOtherOrganisationGetsOtherUid() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        bytes32 a = _attest(r, PK_CUSTOMS_DE);
        bytes32 b = _attest(r, PK_CUSTOMS_NL);
        assertTrue(a != b, "distinct uids");
    }

    function test_attest_revertsWhenReplayed() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        bytes32 uid = attestations.attest(r, sig);
        vm.expectRevert(abi.encodeWithSelector(IAttestations.AttestationExists.selector, uid));
        attestations.attest(r, sig);
    }

    function test_attest_revertsForSameContentFromSecondKey() public {
        uint256 second = 0xC0DE77;
        _addKey(CUSTOMS_DE, PK_CUSTOMS_DE, vm.addr(second), T0, T0 + 10 days);
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        bytes32 uid = _attest(r, PK_CUSTOMS_DE);
        ISignedRecords.Sig memory sig = _signAttestation(r, second);
        vm.expectRevert(abi.encodeWithSelector(IAttestations.AttestationExists.selector, uid));
        attestations.attest(r, sig);
    }

    function test_attest_revertsForUnknownSchema() public {
        IAttestations.Attestation memory r = _attestation(keccak256("nope"), UCR, keccak256("ok"));
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestations.UnknownSchema.selector, keccak256("nope"))
        );
        attestations.attest(r, sig);
    }

    function test_attest_revertsForInvalidSubjectType() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        r.subjectType = 5;
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        vm.expectRevert(abi.encodeWithSelector(IAttestations.InvalidSubject.selector, 5, UCR));
        attestations.attest(r, sig);
    }

    function test_attest_revertsForUnknownAttestationSubject() public {
        IAttestations.Attestation memory r =
            _attestation(schemaId, keccak256("uid?"), keccak256("ok"));
        r.subjectType = 4;
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestations.UnknownAttestation.selector, keccak256("uid?"))
        );
        attestations.attest(r, sig);
    }

    function test_attest_aboutAnotherAttestationWithReference() public {
        bytes32 first = _attest(_attestation(schemaId, UCR, keccak256("ok")), PK_CUSTOMS_DE);
        IAttestations.Attestation memory r = _attestation(schemaId, first, keccak256("confirm"));
        r.subjectType = 4;
        r.refUid = first;
        bytes32 second = _attest(r, PK_CUSTOMS_NL);
        assertTrue(attestations.isValid(second), "valid");
    }

    function test_attest_revertsForUnknownReference() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        r.refUid = keccak256("missing");
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestations.UnknownAttestation.selector, keccak256("missing"))
        );
        attestations.attest(r, sig);
    }

    function test_attest_revertsForPastExpiry() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        r.expiresAt = T0;
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        vm.expectRevert(abi.encodeWithSelector(IAttestations.InvalidExpiry.selector, T0));
        attestations.attest(r, sig);
    }

    function test_attest_revertsWhenRelayerNotAllowed() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        attestations.attest(r, sig);
    }

    function test_attest_revertsForExpiredKey() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        vm.warp(T0 + KEY_LIFETIME);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.KeyExpired.selector,
                vm.addr(PK_CUSTOMS_DE),
                T0 + KEY_LIFETIME,
                T0 + KEY_LIFETIME
            )
        );
        attestations.attest(r, sig);
    }

    function test_isValid_falseAfterExpiry() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        r.expiresAt = T0 + 100;
        bytes32 uid = _attest(r, PK_CUSTOMS_DE);
        assertTrue(attestations.isValid(uid), "valid before");
        vm.warp(T0 + 100);
        assertFalse(attestations.isValid(uid), "invalid at expiry");
    }

    function test_isValid_falseForUnknown() public view {
        assertFalse(attestations.isValid(keccak256("none")), "unknown");
    }

    function test_attestBatch_revertsNamingFailingItem() public {
        IAttestations.Attestation[] memory rs = new IAttestations.Attestation[](3);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](3);
        for (uint256 i; i < 3; ++i) {
            rs[i] = _attestation(schemaId, UCR, keccak256(abi.encode(i)));
        }
        rs[1].schemaId = keccak256("nope");
        for (uint256 i; i < 3; ++i) {
            sigs[i] = _signAttestation(rs[i], PK_CUSTOMS_DE);
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(IAttestations.UnknownSchema.selector, keccak256("nope"))
            )
        );
        attestations.attestBatch(rs, sigs);
    }

    function test_attestBatch_recordsAll() public {
        IAttestations.Attestation[] memory rs = new IAttestations.Attestation[](3);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](3);
        for (uint256 i; i < 3; ++i) {
            rs[i] = _attestation(schemaId, UCR, keccak256(abi.encode(i)));
            sigs[i] = _signAttestation(rs[i], i == 1 ? PK_CARRIER : PK_CUSTOMS_DE);
        }
        attestations.attestBatch(rs, sigs);
        assertTrue(attestations.isValid(attestations.attestationUid(CARRIER, rs[1])), "second");
    }

    function test_attestBatch_revertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.LengthMismatch.selector, 1, 2));
        attestations.attestBatch(new IAttestations.Attestation[](1), new ISignedRecords.Sig[](2));
    }

    // ------------------------------------------------------------------ attestSignedBatch

    /// @dev `n` distinct attestations about UCR.
    function _batch(uint256 n) internal view returns (IAttestations.Attestation[] memory rs) {
        rs = new IAttestations.Attestation[](n);
        for (uint256 i; i < n; ++i) {
            rs[i] = _attestation(schemaId, UCR, keccak256(abi.encode("batch", i)));
        }
    }

    function _attestSigned(IAttestations.Attestation[] memory rs, uint256 pk) internal {
        attestations.attestSignedBatch(
            rs, BATCH_DEADLINE, _signAttestationBatch(rs, BATCH_DEADLINE, pk)
        );
    }

    /// @dev The address a signature recovers to for a batch (the "other key" of a forgery).
    function _recovered(
        IAttestations.Attestation[] memory rs,
        uint40 deadline,
        ISignedRecords.Sig memory sig
    ) internal view returns (address) {
        bytes32 digest = attestations.hashTypedData(
            attestations.hashAttestationBatch(
                IAttestations.AttestationBatch(attestations.attestationsHash(rs), deadline)
            )
        );
        bytes32 s = sig.vs & bytes32(type(uint256).max >> 1);
        uint8 v = uint8(uint256(sig.vs) >> 255) + 27;
        return ecrecover(digest, v, sig.r, s);
    }

    function _failed(uint256 index, bytes memory reason) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISignedRecords.BatchItemFailed.selector, index, reason);
    }

    function test_attestSignedBatch_recordsEachAsASignedAttestation() public {
        IAttestations.Attestation[] memory rs = _batch(3);
        rs[2].expiresAt = T0 + 1 days;
        address signer = vm.addr(PK_CARRIER);
        vm.warp(T0 + 10);
        vm.recordLogs();
        _attestSigned(rs, PK_CARRIER);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3, "one log per attestation");
        for (uint256 i; i < 3; ++i) {
            // the uid and the log of the same attestation signed alone
            bytes32 uid = _uidOf(CARRIER, rs[i]);
            assertEq(logs[i].topics[0], IAttestations.Attested.selector, "event");
            assertEq(logs[i].topics[1], uid, "uid");
            assertEq(logs[i].topics[2], UCR, "subject");
            assertEq(logs[i].topics[3], CARRIER, "attester");
            assertEq(
                logs[i].data,
                abi.encode(
                    signer, schemaId, uint8(1), rs[i].dataDigest, bytes32(0), rs[i].expiresAt
                ),
                "signer and fields"
            );
            assertEq(attestations.attestationUid(CARRIER, rs[i]), uid, "uid view");
            assertTrue(attestations.isValid(uid), "valid");
            IAttestations.Stored memory st = attestations.attestation(uid);
            assertEq(st.attester, CARRIER, "attester");
            assertEq(st.attestedAt, T0 + 10, "time");
            assertEq(st.expiresAt, rs[i].expiresAt, "expiry");
        }
    }

    function test_attestSignedBatch_byEveryKind() public {
        uint256[5] memory pks = [PK_CUSTOMS_DE, PK_CARRIER, PK_EXPORTER, PK_ISSUER, PK_POSTAL];
        bytes32[5] memory orgs = [CUSTOMS_DE, CARRIER, EXPORTER, ISSUER, POSTAL];
        IAttestations.Attestation[] memory rs = _batch(2);
        for (uint256 k; k < 5; ++k) {
            _attestSigned(rs, pks[k]);
            assertTrue(
                attestations.isValid(attestations.attestationUid(orgs[k], rs[1])), "any kind"
            );
        }
    }

    function test_attestSignedBatch_laterItemMayReferToEarlier() public {
        IAttestations.Attestation[] memory rs = _batch(2);
        bytes32 first = attestations.attestationUid(CUSTOMS_DE, rs[0]);
        rs[1].subjectType = 4;
        rs[1].subjectId = first;
        rs[1].refUid = first;
        _attestSigned(rs, PK_CUSTOMS_DE);
        assertTrue(attestations.isValid(attestations.attestationUid(CUSTOMS_DE, rs[1])), "second");
    }

    function test_attestSignedBatch_revertsForWrongSigner() public {
        uint256 pk = 0xBAD002;
        IAttestations.Attestation[] memory rs = _batch(3);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, pk);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(pk)));
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsForKeyNotYetValid() public {
        uint256 pk = 0xCA0077;
        _addKey(CARRIER, PK_CARRIER, vm.addr(pk), T0 + 1 hours, T0 + 10 days);
        IAttestations.Attestation[] memory rs = _batch(2);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, pk);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.KeyNotYetValid.selector, vm.addr(pk), T0 + 1 hours, T0
            )
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsForExpiredKey() public {
        uint256 pk = 0xCA0077;
        _addKey(CARRIER, PK_CARRIER, vm.addr(pk), T0, T0 + 100);
        IAttestations.Attestation[] memory rs = _batch(2);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, pk);
        vm.warp(T0 + 100);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.KeyExpired.selector, vm.addr(pk), T0 + 100, T0 + 100
            )
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsForRevokedKey() public {
        IAttestations.Attestation[] memory rs = _batch(2);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        _revokeKey(CARRIER, PK_CARRIER, vm.addr(PK_CARRIER));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyRevoked.selector, vm.addr(PK_CARRIER), T0)
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsForSuspendedMember() public {
        _suspend(CARRIER);
        IAttestations.Attestation[] memory rs = _batch(2);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, CARRIER, Kinds.STATUS_SUSPENDED
            )
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsWhenReplayed() public {
        IAttestations.Attestation[] memory rs = _batch(3);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
        vm.expectRevert(
            _failed(
                0,
                abi.encodeWithSelector(
                    IAttestations.AttestationExists.selector,
                    attestations.attestationUid(CARRIER, rs[0])
                )
            )
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsWhenReplayedAfterRevocation() public {
        IAttestations.Attestation[] memory rs = _batch(1);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
        bytes32 uid = attestations.attestationUid(CARRIER, rs[0]);
        (IAttestations.Revocation memory v, ISignedRecords.Sig memory vsig) =
            _revocation(uid, PK_CARRIER);
        attestations.revoke(v, vsig);
        vm.expectRevert(
            _failed(0, abi.encodeWithSelector(IAttestations.AttestationExists.selector, uid))
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
        assertFalse(attestations.isValid(uid), "stays revoked");
    }

    function test_attestSignedBatch_revertsForDuplicateInBatch() public {
        IAttestations.Attestation[] memory rs = _batch(3);
        rs[2] = rs[0];
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(
            _failed(
                2,
                abi.encodeWithSelector(
                    IAttestations.AttestationExists.selector,
                    attestations.attestationUid(CARRIER, rs[0])
                )
            )
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsForUidAttestedAlone() public {
        IAttestations.Attestation[] memory rs = _batch(3);
        bytes32 uid = _attest(rs[1], PK_CARRIER);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(
            _failed(1, abi.encodeWithSelector(IAttestations.AttestationExists.selector, uid))
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
        assertFalse(
            attestations.isValid(attestations.attestationUid(CARRIER, rs[0])),
            "nothing of the batch recorded"
        );
    }

    function test_attestSignedBatch_uidsShareStorageWithSingleAttestations() public {
        IAttestations.Attestation[] memory rs = _batch(2);
        _attestSigned(rs, PK_CARRIER);
        ISignedRecords.Sig memory sig = _signAttestation(rs[1], PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestations.AttestationExists.selector,
                attestations.attestationUid(CARRIER, rs[1])
            )
        );
        attestations.attest(rs[1], sig);
    }

    function test_attestSignedBatch_revertsAfterDeadline() public {
        IAttestations.Attestation[] memory rs = _batch(2);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        vm.warp(BATCH_DEADLINE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.DeadlineExpired.selector, BATCH_DEADLINE, BATCH_DEADLINE + 1
            )
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_acceptsAtDeadline() public {
        IAttestations.Attestation[] memory rs = _batch(1);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        vm.warp(BATCH_DEADLINE);
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
        assertTrue(attestations.isValid(attestations.attestationUid(CARRIER, rs[0])), "recorded");
    }

    function test_attestSignedBatch_revertsWhenRelayerNotAllowed() public {
        IAttestations.Attestation[] memory rs = _batch(2);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsForEmptyBatch() public {
        IAttestations.Attestation[] memory rs = new IAttestations.Attestation[](0);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.LengthMismatch.selector, 0, 1));
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsForInvalidSignature() public {
        IAttestations.Attestation[] memory rs = _batch(2);
        ISignedRecords.Sig memory sig = ISignedRecords.Sig({r: bytes32(0), vs: bytes32(0)});
        vm.expectRevert(ISignedRecords.InvalidSignature.selector);
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsNamingInvalidItem() public {
        IAttestations.Attestation[] memory rs = _batch(5);
        rs[1].schemaId = keccak256("nope");
        rs[3].subjectType = 5; // later failures are not reached
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(
            _failed(
                1, abi.encodeWithSelector(IAttestations.UnknownSchema.selector, keccak256("nope"))
            )
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsNamingSubjectReferenceAndExpiryErrors() public {
        IAttestations.Attestation[] memory rs = _batch(4);
        rs[0].subjectId = bytes32(0);
        bytes[] memory reasons = new bytes[](4);
        reasons[0] = abi.encodeWithSelector(IAttestations.InvalidSubject.selector, 1, bytes32(0));
        rs[1].subjectType = 4;
        rs[1].subjectId = keccak256("uid?");
        reasons[1] =
            abi.encodeWithSelector(IAttestations.UnknownAttestation.selector, keccak256("uid?"));
        rs[2].refUid = keccak256("missing");
        reasons[2] =
            abi.encodeWithSelector(IAttestations.UnknownAttestation.selector, keccak256("missing"));
        rs[3].expiresAt = T0;
        reasons[3] = abi.encodeWithSelector(IAttestations.InvalidExpiry.selector, T0);
        for (uint256 i; i < 4; ++i) {
            IAttestations.Attestation[] memory one = _batch(i + 1);
            one[i] = rs[i];
            ISignedRecords.Sig memory sig = _signAttestationBatch(one, BATCH_DEADLINE, PK_CARRIER);
            vm.expectRevert(_failed(i, reasons[i]));
            attestations.attestSignedBatch(one, BATCH_DEADLINE, sig);
        }
    }

    function test_attestSignedBatch_revertsWhenAlteredAfterSigning() public {
        IAttestations.Attestation[] memory rs = _batch(3);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        rs[1].dataDigest = keccak256("forged report");
        address other = _recovered(rs, BATCH_DEADLINE, sig);
        assertTrue(other != vm.addr(PK_CARRIER), "recovers another key");
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, other));
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_revertsWhenReorderedDroppedOrDeadlineChanged() public {
        IAttestations.Attestation[] memory rs = _batch(3);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        IAttestations.Attestation[] memory swapped = _batch(3);
        (swapped[0], swapped[1]) = (rs[1], rs[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _recovered(swapped, BATCH_DEADLINE, sig)
            )
        );
        attestations.attestSignedBatch(swapped, BATCH_DEADLINE, sig);
        IAttestations.Attestation[] memory dropped = _batch(2);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _recovered(dropped, BATCH_DEADLINE, sig)
            )
        );
        attestations.attestSignedBatch(dropped, BATCH_DEADLINE, sig);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _recovered(rs, BATCH_DEADLINE + 1, sig)
            )
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE + 1, sig);
    }

    function test_attestSignedBatch_refusesSingleSignatureAsBatchOfOne() public {
        IAttestations.Attestation[] memory rs = _batch(1);
        ISignedRecords.Sig memory sig = _signAttestation(rs[0], PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _recovered(rs, BATCH_DEADLINE, sig)
            )
        );
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attest_refusesBatchSignatureOfOne() public {
        IAttestations.Attestation[] memory rs = _batch(1);
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        bytes32 digest = attestations.hashTypedData(attestations.hashAttestation(rs[0]));
        bytes32 s = sig.vs & bytes32(type(uint256).max >> 1);
        address other = ecrecover(digest, uint8(uint256(sig.vs) >> 255) + 27, sig.r, s);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, other));
        attestations.attest(rs[0], sig);
    }

    function test_attest_afterSignedBatchDoesNotWrapErrors() public {
        _attestSigned(_batch(2), PK_CARRIER);
        IAttestations.Attestation memory r = _attestation(keccak256("nope"), UCR, keccak256("x"));
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestations.UnknownSchema.selector, keccak256("nope"))
        );
        attestations.attest(r, sig);
    }

    function test_revoke_ofBatchSignedAttestationByAnotherKeyOfTheAttester() public {
        IAttestations.Attestation[] memory rs = _batch(2);
        _attestSigned(rs, PK_CARRIER);
        uint256 second = 0xCA0077;
        _addKey(CARRIER, PK_CARRIER, vm.addr(second), T0, T0 + 10 days);
        bytes32 uid = attestations.attestationUid(CARRIER, rs[1]);
        (IAttestations.Revocation memory v, ISignedRecords.Sig memory sig) =
            _revocation(uid, second);
        attestations.revoke(v, sig);
        assertFalse(attestations.isValid(uid), "revoked");
    }

    function test_attestationsHash_andHashAttestationBatch_matchDocumentedRule() public view {
        IAttestations.Attestation[] memory rs = _batch(3);
        bytes memory packed;
        for (uint256 i; i < 3; ++i) {
            packed = abi.encodePacked(packed, attestations.hashAttestation(rs[i]));
        }
        bytes32 expected = keccak256(packed);
        assertEq(attestations.attestationsHash(rs), expected, "attestationsHash");
        bytes32 typehash = keccak256("AttestationBatch(bytes32 attestationsHash,uint40 deadline)");
        assertEq(attestations.ATTESTATION_BATCH_TYPEHASH(), typehash, "typehash");
        assertEq(
            typehash,
            bytes32(uint256(TYPEHASH_ATTESTATION_BATCH_DOCUMENTED)),
            "typehash as documented"
        );
        assertEq(
            attestations.hashAttestationBatch(
                IAttestations.AttestationBatch(expected, BATCH_DEADLINE)
            ),
            keccak256(abi.encode(typehash, expected, BATCH_DEADLINE)),
            "struct hash"
        );
    }

    function testFuzz_attestSignedBatch_namesFailingIndex(uint8 size, uint8 bad, uint8 kind)
        public
    {
        uint256 n = bound(size, 1, 12);
        uint256 failing = bound(bad, 0, n - 1);
        IAttestations.Attestation[] memory rs = _batch(n);
        bytes memory reason;
        if (kind % 3 == 0) {
            rs[failing].schemaId = keccak256("nope");
            reason = abi.encodeWithSelector(IAttestations.UnknownSchema.selector, keccak256("nope"));
        } else if (kind % 3 == 1) {
            rs[failing].expiresAt = T0;
            reason = abi.encodeWithSelector(IAttestations.InvalidExpiry.selector, T0);
        } else if (failing == 0) {
            bytes32 uid = _attest(rs[0], PK_CARRIER); // recorded already
            reason = abi.encodeWithSelector(IAttestations.AttestationExists.selector, uid);
        } else {
            rs[failing] = rs[failing - 1]; // the same content twice in the batch
            reason = abi.encodeWithSelector(
                IAttestations.AttestationExists.selector,
                attestations.attestationUid(CARRIER, rs[failing])
            );
        }
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(_failed(failing, reason));
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function testFuzz_attestSignedBatch_uidsEqualSingleAttestations(uint8 size, bytes32 seed)
        public
    {
        uint256 n = bound(size, 1, 12);
        IAttestations.Attestation[] memory rs = new IAttestations.Attestation[](n);
        for (uint256 i; i < n; ++i) {
            rs[i] = _attestation(schemaId, keccak256(abi.encode(seed, i)), seed);
            rs[i].subjectType = uint8(1 + (i % 3));
        }
        _attestSigned(rs, PK_EXPORTER);
        for (uint256 i; i < n; ++i) {
            bytes32 uid = _uidOf(EXPORTER, rs[i]);
            assertTrue(attestations.isValid(uid), "recorded under the single-attestation uid");
            assertEq(attestations.attestation(uid).attester, EXPORTER, "attester");
        }
        // signed alone by the same organisation, an attestation of the batch is the same one
        uint256 last = n - 1;
        ISignedRecords.Sig memory sig = _signAttestation(rs[last], PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAttestations.AttestationExists.selector,
                attestations.attestationUid(EXPORTER, rs[last])
            )
        );
        attestations.attest(rs[last], sig);
    }

    // ------------------------------------------------------------------ revoke

    function test_revoke_byAttestingOrganisation() public {
        bytes32 uid = _attest(_attestation(schemaId, UCR, keccak256("ok")), PK_CUSTOMS_DE);
        (IAttestations.Revocation memory r, ISignedRecords.Sig memory sig) =
            _revocation(uid, PK_CUSTOMS_DE);
        vm.expectEmit(true, true, true, true, address(attestations));
        emit IAttestations.AttestationRevoked(
            uid, CUSTOMS_DE, vm.addr(PK_CUSTOMS_DE), keccak256("withdrawn")
        );
        attestations.revoke(r, sig);
        assertFalse(attestations.isValid(uid), "revoked");
        assertEq(attestations.attestation(uid).revokedAt, T0, "revokedAt");
    }

    function test_revoke_revertsForOtherOrganisation() public {
        bytes32 uid = _attest(_attestation(schemaId, UCR, keccak256("ok")), PK_CUSTOMS_DE);
        (IAttestations.Revocation memory r, ISignedRecords.Sig memory sig) =
            _revocation(uid, PK_CUSTOMS_NL);
        vm.expectRevert(abi.encodeWithSelector(IAttestations.NotAttester.selector, uid, CUSTOMS_NL));
        attestations.revoke(r, sig);
    }

    function test_revoke_revertsWhenReplayed() public {
        bytes32 uid = _attest(_attestation(schemaId, UCR, keccak256("ok")), PK_CUSTOMS_DE);
        (IAttestations.Revocation memory r, ISignedRecords.Sig memory sig) =
            _revocation(uid, PK_CUSTOMS_DE);
        attestations.revoke(r, sig);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestations.AttestationAlreadyRevoked.selector, uid)
        );
        attestations.revoke(r, sig);
    }

    function test_revoke_revertsForUnknown() public {
        (IAttestations.Revocation memory r, ISignedRecords.Sig memory sig) =
            _revocation(keccak256("none"), PK_CUSTOMS_DE);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestations.UnknownAttestation.selector, keccak256("none"))
        );
        attestations.revoke(r, sig);
    }

    function test_revokeBatch_revertsNamingFailingItem() public {
        bytes32 uid = _attest(_attestation(schemaId, UCR, keccak256("ok")), PK_CUSTOMS_DE);
        IAttestations.Revocation[] memory rs = new IAttestations.Revocation[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        (rs[0], sigs[0]) = _revocation(uid, PK_CUSTOMS_DE);
        (rs[1], sigs[1]) = _revocation(uid, PK_CUSTOMS_DE);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(IAttestations.AttestationAlreadyRevoked.selector, uid)
            )
        );
        attestations.revokeBatch(rs, sigs);
    }

    // ------------------------------------------------------------------ fuzz

    function testFuzz_attest_uidIsDeterministic(bytes32 subject, bytes32 data, uint40 expiresAt)
        public
    {
        vm.assume(subject != bytes32(0));
        expiresAt = expiresAt == 0 ? 0 : uint40(bound(expiresAt, T0 + 1, type(uint40).max));
        IAttestations.Attestation memory r = _attestation(schemaId, subject, data);
        r.expiresAt = expiresAt;
        bytes32 uid = _attest(r, PK_CARRIER);
        assertEq(uid, _uidOf(CARRIER, r), "uid");
        assertTrue(attestations.isValid(uid), "valid");
    }

    function testFuzz_attest_rejectsUnregisteredSigner(uint256 pk) public {
        pk = bound(pk, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        vm.assume(membership.keyInfo(vm.addr(pk)).orgId == bytes32(0));
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        ISignedRecords.Sig memory sig = _signAttestation(r, pk);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(pk)));
        attestations.attest(r, sig);
    }

    // ------------------------------------------------------------------ more paths

    function test_revokeBatch_revokesAll() public {
        bytes32 a = _attest(_attestation(schemaId, UCR, keccak256("a")), PK_CUSTOMS_DE);
        bytes32 b = _attest(_attestation(schemaId, UCR, keccak256("b")), PK_CUSTOMS_DE);
        IAttestations.Revocation[] memory rs = new IAttestations.Revocation[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        (rs[0], sigs[0]) = _revocation(a, PK_CUSTOMS_DE);
        (rs[1], sigs[1]) = _revocation(b, PK_CUSTOMS_DE);
        attestations.revokeBatch(rs, sigs);
        assertFalse(attestations.isValid(a), "a revoked");
        assertFalse(attestations.isValid(b), "b revoked");
    }

    function test_revokeBatch_revertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.LengthMismatch.selector, 1, 0));
        attestations.revokeBatch(new IAttestations.Revocation[](1), new ISignedRecords.Sig[](0));
    }

    function test_schema_zeroForUnknown() public view {
        assertEq(attestations.schema(keccak256("none")).registrant, bytes32(0), "none");
    }

    function test_registerSchema_revertsWhenRelayerNotAllowed() public {
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, attestations.hashTypedData(attestations.hashSchema("y", DEADLINE)));
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        attestations.registerSchema("y", DEADLINE, sig);
    }

    function test_attest_revertsForZeroSubject() public {
        IAttestations.Attestation memory r = _attestation(schemaId, bytes32(0), keccak256("ok"));
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        vm.expectRevert(
            abi.encodeWithSelector(IAttestations.InvalidSubject.selector, 1, bytes32(0))
        );
        attestations.attest(r, sig);
    }

    function test_attest_remainsRecordedAfterAttesterSuspended() public {
        bytes32 uid = _attest(_attestation(schemaId, UCR, keccak256("ok")), PK_CARRIER);
        _suspend(CARRIER);
        assertTrue(attestations.isValid(uid), "validity is about the attestation, not the member");
    }

    // ------------------------------------------------------------------ freshness (deadline)

    /// @dev DeadlineExpired(deadline, now), wrapped for batch item `index` unless it is
    /// `type(uint256).max`.
    function _expired(uint40 deadline, uint256 index) internal view returns (bytes memory e) {
        e = abi.encodeWithSelector(
            ISignedRecords.DeadlineExpired.selector, deadline, uint40(block.timestamp)
        );
        if (index != type(uint256).max) {
            e = abi.encodeWithSelector(ISignedRecords.BatchItemFailed.selector, index, e);
        }
    }

    function test_registerSchema_revertsAfterDeadline() public {
        uint40 past = T0 - 1;
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, attestations.hashTypedData(attestations.hashSchema("late", past)));
        vm.expectRevert(_expired(past, type(uint256).max));
        attestations.registerSchema("late", past, sig);
    }

    function test_registerSchema_acceptsAtDeadline() public {
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, attestations.hashTypedData(attestations.hashSchema("on time", T0)));
        bytes32 id = attestations.registerSchema("on time", T0, sig);
        assertEq(attestations.schema(id).registrant, CARRIER, "registered");
    }

    function test_registerSchema_revertsWhenDeadlineAltered() public {
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, attestations.hashTypedData(attestations.hashSchema("later", T0)));
        // The deadline is signed: a relayer that extends it gets another signer.
        vm.expectRevert();
        attestations.registerSchema("later", T0 + 1 days, sig);
        assertEq(attestations.schema(keccak256("later")).registrant, bytes32(0), "not recorded");
    }

    function test_attest_revertsAfterDeadline() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("late"));
        r.deadline = T0 - 1;
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        vm.expectRevert(_expired(T0 - 1, type(uint256).max));
        attestations.attest(r, sig);
    }

    function test_attest_acceptsAtDeadline() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("on time"));
        r.deadline = T0;
        assertTrue(attestations.isValid(_attest(r, PK_CUSTOMS_DE)), "recorded");
    }

    function test_attest_signatureExpiresWhenHeldBack() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("held"));
        ISignedRecords.Sig memory sig = _signAttestation(r, PK_CUSTOMS_DE);
        vm.warp(r.deadline + 1);
        vm.expectRevert(_expired(r.deadline, type(uint256).max));
        attestations.attest(r, sig);
    }

    function test_attestBatch_revertsNamingItemAfterDeadline() public {
        IAttestations.Attestation[] memory rs = _batch(3);
        rs[2].deadline = T0 - 1;
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](3);
        for (uint256 i; i < 3; ++i) {
            sigs[i] = _signAttestation(rs[i], PK_CUSTOMS_DE);
        }
        vm.expectRevert(_expired(T0 - 1, 2));
        attestations.attestBatch(rs, sigs);
    }

    function test_attestBatch_acceptsItemsAtTheirDeadline() public {
        IAttestations.Attestation[] memory rs = _batch(2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        for (uint256 i; i < 2; ++i) {
            rs[i].deadline = T0;
            sigs[i] = _signAttestation(rs[i], PK_CUSTOMS_DE);
        }
        attestations.attestBatch(rs, sigs);
        for (uint256 i; i < 2; ++i) {
            assertTrue(attestations.isValid(_uidOf(CUSTOMS_DE, rs[i])), "recorded");
        }
    }

    function test_attestSignedBatch_revertsNamingItemAfterItsOwnDeadline() public {
        // The batch's deadline is in the future; item 1's own deadline has passed.
        IAttestations.Attestation[] memory rs = _batch(3);
        rs[1].deadline = T0 - 1;
        ISignedRecords.Sig memory sig = _signAttestationBatch(rs, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(_expired(T0 - 1, 1));
        attestations.attestSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_attestSignedBatch_acceptsItemAtItsOwnDeadline() public {
        IAttestations.Attestation[] memory rs = _batch(2);
        rs[0].deadline = T0;
        _attestSigned(rs, PK_CARRIER);
        assertTrue(attestations.isValid(attestations.attestationUid(CARRIER, rs[0])), "recorded");
    }

    function test_attest_uidDoesNotDependOnDeadline() public {
        IAttestations.Attestation memory first = _attestation(schemaId, UCR, keccak256("once"));
        IAttestations.Attestation memory again = IAttestations.Attestation({
            schemaId: first.schemaId,
            subjectType: first.subjectType,
            subjectId: first.subjectId,
            dataDigest: first.dataDigest,
            refUid: first.refUid,
            expiresAt: first.expiresAt,
            deadline: first.deadline + 1 days
        });
        assertTrue(
            attestations.hashAttestation(first) != attestations.hashAttestation(again),
            "the deadline is signed"
        );
        bytes32 uid = attestations.attestationUid(CUSTOMS_DE, first);
        assertEq(attestations.attestationUid(CUSTOMS_DE, again), uid, "one uid");
        assertEq(uid, _uidOf(CUSTOMS_DE, first), "documented rule");
        assertEq(_attest(first, PK_CUSTOMS_DE), uid, "recorded under it");
        ISignedRecords.Sig memory sig = _signAttestation(again, PK_CUSTOMS_DE);
        vm.expectRevert(abi.encodeWithSelector(IAttestations.AttestationExists.selector, uid));
        attestations.attest(again, sig);
    }

    function test_attestSignedBatch_refusesAttestationSignedAgainWithOtherDeadline() public {
        IAttestations.Attestation[] memory rs = _batch(2);
        _attestSigned(rs, PK_CARRIER);
        IAttestations.Attestation[] memory again = _batch(2);
        again[1].deadline = rs[1].deadline + 1 days;
        ISignedRecords.Sig memory sig = _signAttestationBatch(again, BATCH_DEADLINE, PK_CARRIER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                0,
                abi.encodeWithSelector(
                    IAttestations.AttestationExists.selector, _uidOf(CARRIER, rs[0])
                )
            )
        );
        attestations.attestSignedBatch(again, BATCH_DEADLINE, sig);
    }

    function test_revoke_revertsAfterDeadline() public {
        bytes32 uid = _attest(_attestation(schemaId, UCR, keccak256("ok")), PK_CUSTOMS_DE);
        IAttestations.Revocation memory r =
            IAttestations.Revocation({uid: uid, reasonDigest: bytes32(0), deadline: T0 - 1});
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, attestations.hashTypedData(attestations.hashRevocation(r)));
        vm.expectRevert(_expired(T0 - 1, type(uint256).max));
        attestations.revoke(r, sig);
        assertTrue(attestations.isValid(uid), "not revoked");
    }

    function test_revoke_acceptsAtDeadline() public {
        bytes32 uid = _attest(_attestation(schemaId, UCR, keccak256("ok")), PK_CUSTOMS_DE);
        IAttestations.Revocation memory r =
            IAttestations.Revocation({uid: uid, reasonDigest: bytes32(0), deadline: T0});
        attestations.revoke(
            r, _sig(PK_CUSTOMS_DE, attestations.hashTypedData(attestations.hashRevocation(r)))
        );
        assertFalse(attestations.isValid(uid), "revoked");
    }

    function test_revokeBatch_acceptsItemsAtTheirDeadline() public {
        IAttestations.Revocation[] memory rs = new IAttestations.Revocation[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        for (uint256 i; i < 2; ++i) {
            bytes32 uid =
                _attest(_attestation(schemaId, UCR, keccak256(abi.encode(i))), PK_CUSTOMS_DE);
            rs[i] = IAttestations.Revocation({uid: uid, reasonDigest: bytes32(0), deadline: T0});
            sigs[i] =
                _sig(PK_CUSTOMS_DE, attestations.hashTypedData(attestations.hashRevocation(rs[i])));
        }
        attestations.revokeBatch(rs, sigs);
        assertFalse(attestations.isValid(rs[1].uid), "revoked");
    }

    function test_revokeBatch_revertsNamingItemAfterDeadline() public {
        IAttestations.Revocation[] memory rs = new IAttestations.Revocation[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        for (uint256 i; i < 2; ++i) {
            bytes32 uid =
                _attest(_attestation(schemaId, UCR, keccak256(abi.encode(i))), PK_CUSTOMS_DE);
            (rs[i], sigs[i]) = _revocation(uid, PK_CUSTOMS_DE);
        }
        rs[1].deadline = T0 - 1;
        sigs[1] =
            _sig(PK_CUSTOMS_DE, attestations.hashTypedData(attestations.hashRevocation(rs[1])));
        vm.expectRevert(_expired(T0 - 1, 1));
        attestations.revokeBatch(rs, sigs);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixture} from "./utils/Fixture.sol";
import {IAttestations} from "../src/interfaces/IAttestations.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";
import {Kinds} from "../src/libraries/Kinds.sol";

contract AttestationsTest is Fixture {
    bytes32 internal schemaId;
    bytes32 internal constant UCR = keccak256("UCR:1");

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
        r = IAttestations.Revocation({uid: uid, reasonDigest: keccak256("withdrawn")});
        sig = _sig(pk, attestations.hashTypedData(attestations.hashRevocation(r)));
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
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, attestations.hashTypedData(attestations.hashSchema(SCHEMA)));
        vm.expectRevert(abi.encodeWithSelector(IAttestations.SchemaExists.selector, schemaId));
        attestations.registerSchema(SCHEMA, sig);
    }

    function test_registerSchema_revertsForEmptyDefinition() public {
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, attestations.hashTypedData(attestations.hashSchema("")));
        vm.expectRevert(IAttestations.EmptySchema.selector);
        attestations.registerSchema("", sig);
    }

    function test_registerSchema_revertsForSuspendedMember() public {
        _suspend(CARRIER);
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, attestations.hashTypedData(attestations.hashSchema("x")));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, CARRIER, Kinds.STATUS_SUSPENDED
            )
        );
        attestations.registerSchema("x", sig);
    }

    function test_hashSchema_matchesTypeString() public view {
        assertEq(
            attestations.hashSchema(SCHEMA),
            keccak256(
                abi.encode(
                    keccak256("SchemaRegistration(string definition)"), keccak256(bytes(SCHEMA))
                )
            ),
            "struct hash"
        );
    }

    // ------------------------------------------------------------------ attest

    function test_attest_recordsAndIsValid() public {
        IAttestations.Attestation memory r = _attestation(schemaId, UCR, keccak256("ok"));
        bytes32 expectedUid = keccak256(abi.encode(CUSTOMS_DE, attestations.hashAttestation(r)));
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
        assertEq(uid, keccak256(abi.encode(CARRIER, attestations.hashAttestation(r))), "uid");
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
            _sig(PK_CUSTOMS_DE, attestations.hashTypedData(attestations.hashSchema("y")));
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        attestations.registerSchema("y", sig);
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
}

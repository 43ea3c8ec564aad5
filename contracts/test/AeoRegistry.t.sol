// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixture} from "./utils/Fixture.sol";
import {IAeoRegistry} from "../src/interfaces/IAeoRegistry.sol";
import {IMembership} from "../src/interfaces/IMembership.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";
import {Kinds} from "../src/libraries/Kinds.sol";

contract AeoRegistryTest is Fixture {
    bytes32 internal certId;

    function setUp() public override {
        super.setUp();
        // CN customs certifies the CN exporter as AEOF
        certId = _applyAeo(_aeoAction(1, EXPORTER, "AEOF"), PK_CUSTOMS_CN);
    }

    function _mraProposal(bytes32 counterpart, uint32 scope)
        internal
        view
        returns (IAeoRegistry.MraProposal memory)
    {
        return IAeoRegistry.MraProposal({
            counterpart: counterpart,
            scope: scope,
            validFrom: uint40(block.timestamp),
            validUntil: uint40(block.timestamp + 5 * 365 days),
            deadline: MRA_DEADLINE
        });
    }

    function _proposeMra(IAeoRegistry.MraProposal memory r, uint256 pk) internal returns (bytes32) {
        return aeo.proposeMra(r, _sig(pk, aeo.hashTypedData(aeo.hashMraProposal(r))));
    }

    function _acceptMra(bytes32 id, uint256 pk) internal {
        aeo.acceptMra(
            id, MRA_DEADLINE, _sig(pk, aeo.hashTypedData(aeo.hashMraAcceptance(id, MRA_DEADLINE)))
        );
    }

    function _terminateMra(bytes32 id, uint256 pk) internal {
        aeo.terminateMra(
            id, MRA_DEADLINE, _sig(pk, aeo.hashTypedData(aeo.hashMraTermination(id, MRA_DEADLINE)))
        );
    }

    // ------------------------------------------------------------------ certify

    function test_applyAction_certifiesOperator() public view {
        assertEq(certId, keccak256(abi.encode(CUSTOMS_CN, EXPORTER, bytes8("AEOF"))), "id");
        IAeoRegistry.Certification memory c = aeo.certification(certId);
        assertEq(c.administration, CUSTOMS_CN, "administration");
        assertEq(c.operatorId, EXPORTER, "operator");
        assertEq(c.status, 1, "active");
        assertEq(c.validUntil, T0 + 3 * 365 days, "until");
        assertEq(aeo.statusHistory(certId).length, 1, "history");
        assertEq(aeo.certificationsOf(EXPORTER).length, 1, "operator list");
    }

    function test_applyAction_revertsForCustomsOfOtherCountry() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(1, EXPORTER, "AEOS");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_DE, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.WrongCountry.selector, CUSTOMS_DE, bytes2("DE"), bytes2("CN")
            )
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsForNonCustoms() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(1, EXPORTER, "AEOS");
        ISignedRecords.Sig memory sig = _sig(PK_ISSUER, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, ISSUER, Kinds.ISSUING_BODY)
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsForUnknownProgramme() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(1, EXPORTER, "CTPAT");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectRevert(
            abi.encodeWithSelector(IAeoRegistry.UnknownProgramme.selector, bytes8("CTPAT"))
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsForIssuingBodyOperator() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(1, ISSUER, "AEOS");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAeoRegistry.InvalidOperator.selector, ISSUER, Kinds.ISSUING_BODY
            )
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsForCertificationInForce() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(1, EXPORTER, "AEOF");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.CertificationInForce.selector, certId));
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsWhenReplayed() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(2, EXPORTER, "AEOF");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        aeo.applyAction(a, sig);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.NonceAlreadyUsed.selector, vm.addr(PK_CUSTOMS_CN), a.nonce
            )
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsAfterDeadline() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(2, EXPORTER, "AEOF");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.warp(a.deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.DeadlineExpired.selector, a.deadline, a.deadline + 1
            )
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsForInvalidValidity() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(1, CARRIER, "AEOS");
        a.validUntil = a.validFrom;
        // the carrier is in NL: NL customs certifies
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_NL, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectRevert(
            abi.encodeWithSelector(IAeoRegistry.InvalidValidity.selector, a.validFrom, a.validUntil)
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_suspendReinstateRevokeHistory() public {
        vm.warp(T0 + 10);
        _applyAeo(_aeoAction(2, EXPORTER, "AEOF"), PK_CUSTOMS_CN);
        assertEq(aeo.certification(certId).status, 2, "suspended");
        vm.warp(T0 + 20);
        _applyAeo(_aeoAction(3, EXPORTER, "AEOF"), PK_CUSTOMS_CN);
        assertEq(aeo.certification(certId).status, 1, "reinstated");
        vm.warp(T0 + 30);
        _applyAeo(_aeoAction(4, EXPORTER, "AEOF"), PK_CUSTOMS_CN);
        assertEq(aeo.certification(certId).status, 3, "revoked");
        IAeoRegistry.StatusChange[] memory h = aeo.statusHistory(certId);
        assertEq(h.length, 4, "history length");
        assertEq(h[1].status, 2, "h1");
        assertEq(h[1].at, T0 + 10, "h1 time");
        assertEq(h[3].status, 3, "h3");
    }

    function test_applyAction_emitsSuspended() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(2, EXPORTER, "AEOF");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectEmit(true, true, true, true, address(aeo));
        emit IAeoRegistry.AeoSuspended(
            certId, EXPORTER, CUSTOMS_CN, vm.addr(PK_CUSTOMS_CN), a.nonce
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsReinstateOfActive() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(3, EXPORTER, "AEOF");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectRevert(
            abi.encodeWithSelector(IAeoRegistry.InvalidStatusTransition.selector, certId, 1, 3)
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsStatusChangeOfUnknownCertification() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(2, EXPORTER, "AEOC");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        bytes32 id = keccak256(abi.encode(CUSTOMS_CN, EXPORTER, bytes8("AEOC")));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.UnknownCertification.selector, id));
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsForUnknownAction() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(5, EXPORTER, "AEOF");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.InvalidAeoAction.selector, 5));
        aeo.applyAction(a, sig);
    }

    function test_applyAction_recertifiesAfterRevocation() public {
        _applyAeo(_aeoAction(4, EXPORTER, "AEOF"), PK_CUSTOMS_CN);
        vm.warp(T0 + 100);
        _applyAeo(_aeoAction(1, EXPORTER, "AEOF"), PK_CUSTOMS_CN);
        assertEq(aeo.certification(certId).status, 1, "active again");
        assertEq(aeo.certificationsOf(EXPORTER).length, 1, "same certification id");
    }

    // ------------------------------------------------------------------ MRA

    function test_proposeMra_andAccept() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        IAeoRegistry.Mra memory m = aeo.mra(id);
        assertEq(m.proposer, CUSTOMS_CN, "proposer");
        assertEq(m.acceptedAt, 0, "pending");
        vm.warp(T0 + 5);
        _acceptMra(id, PK_CUSTOMS_DE);
        assertEq(aeo.mra(id).acceptedAt, T0 + 5, "accepted");
        assertEq(aeo.mrasBetween(CUSTOMS_DE, CUSTOMS_CN).length, 1, "pair list");
    }

    function test_proposeMra_revertsForNonCustomsCounterpart() public {
        IAeoRegistry.MraProposal memory r = _mraProposal(CARRIER, 0x6);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraProposal(r)));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.InvalidCounterpart.selector, CARRIER));
        aeo.proposeMra(r, sig);
    }

    function test_proposeMra_revertsForSelf() public {
        IAeoRegistry.MraProposal memory r = _mraProposal(CUSTOMS_CN, 0x6);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraProposal(r)));
        vm.expectRevert(
            abi.encodeWithSelector(IAeoRegistry.InvalidCounterpart.selector, CUSTOMS_CN)
        );
        aeo.proposeMra(r, sig);
    }

    function test_proposeMra_revertsForInvalidScope() public {
        IAeoRegistry.MraProposal memory r = _mraProposal(CUSTOMS_DE, 0x8);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraProposal(r)));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.InvalidScope.selector, 0x8));
        aeo.proposeMra(r, sig);
    }

    function test_proposeMra_revertsWhenReplayed() public {
        IAeoRegistry.MraProposal memory r = _mraProposal(CUSTOMS_DE, 0x6);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraProposal(r)));
        bytes32 id = aeo.proposeMra(r, sig);
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.MraExists.selector, id));
        aeo.proposeMra(r, sig);
    }

    function test_acceptMra_revertsForProposer() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraAcceptance(id, MRA_DEADLINE)));
        vm.expectRevert(
            abi.encodeWithSelector(IAeoRegistry.NotMraCounterpart.selector, id, CUSTOMS_CN)
        );
        aeo.acceptMra(id, MRA_DEADLINE, sig);
    }

    function test_acceptMra_revertsWhenReplayed() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, aeo.hashTypedData(aeo.hashMraAcceptance(id, MRA_DEADLINE)));
        aeo.acceptMra(id, MRA_DEADLINE, sig);
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.MraNotPending.selector, id));
        aeo.acceptMra(id, MRA_DEADLINE, sig);
    }

    function test_acceptMra_revertsForUnknown() public {
        bytes32 id = keccak256("none");
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, aeo.hashTypedData(aeo.hashMraAcceptance(id, MRA_DEADLINE)));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.UnknownMra.selector, id));
        aeo.acceptMra(id, MRA_DEADLINE, sig);
    }

    function test_terminateMra_byEitherParty() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        _acceptMra(id, PK_CUSTOMS_DE);
        vm.warp(T0 + 50);
        _terminateMra(id, PK_CUSTOMS_DE);
        assertEq(aeo.mra(id).terminatedAt, T0 + 50, "terminated");
    }

    function test_terminateMra_revertsForThirdAdministration() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_NL, aeo.hashTypedData(aeo.hashMraTermination(id, MRA_DEADLINE)));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.NotMraParty.selector, id, CUSTOMS_NL));
        aeo.terminateMra(id, MRA_DEADLINE, sig);
    }

    function test_terminateMra_revertsWhenReplayed() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraTermination(id, MRA_DEADLINE)));
        aeo.terminateMra(id, MRA_DEADLINE, sig);
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.MraAlreadyTerminated.selector, id));
        aeo.terminateMra(id, MRA_DEADLINE, sig);
    }

    // ------------------------------------------------------------------ recognition

    function test_recognition_ownCertification() public view {
        IAeoRegistry.Recognition memory r = aeo.recognition(EXPORTER, CUSTOMS_CN, T0 + 1);
        assertTrue(r.recognised, "recognised");
        assertEq(r.certificationId, certId, "certification");
        assertEq(r.mraId, bytes32(0), "no MRA");
    }

    function test_recognition_throughMra() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x4), PK_CUSTOMS_CN);
        assertFalse(aeo.recognition(EXPORTER, CUSTOMS_DE, T0).recognised, "pending MRA");
        vm.warp(T0 + 10);
        _acceptMra(id, PK_CUSTOMS_DE);
        IAeoRegistry.Recognition memory r = aeo.recognition(EXPORTER, CUSTOMS_DE, T0 + 10);
        assertTrue(r.recognised, "recognised");
        assertEq(r.certificationId, certId, "certification");
        assertEq(r.mraId, id, "mra");
        assertFalse(aeo.recognition(EXPORTER, CUSTOMS_DE, T0 + 9).recognised, "before acceptance");
        assertFalse(aeo.recognition(EXPORTER, CUSTOMS_NL, T0 + 10).recognised, "no MRA with NL");
    }

    function test_recognition_cutWhileCertifyingAdministrationSuspended() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x4), PK_CUSTOMS_CN);
        _acceptMra(id, PK_CUSTOMS_DE);
        assertTrue(aeo.recognition(EXPORTER, CUSTOMS_DE, T0).recognised, "through the MRA");
        _suspend(CUSTOMS_CN);
        assertFalse(aeo.recognition(EXPORTER, CUSTOMS_DE, T0).recognised, "MRA partner: cut");
        assertFalse(aeo.recognition(EXPORTER, CUSTOMS_CN, T0).recognised, "own: cut");
        // The certification itself is unchanged: it still proves what was certified.
        assertEq(aeo.certification(certId).status, 1, "still recorded active");
        IMembership.Proposal memory p = _proposal(3);
        p.orgId = CUSTOMS_CN;
        _govern(p);
        assertTrue(aeo.recognition(EXPORTER, CUSTOMS_DE, T0).recognised, "back on reinstatement");
    }

    function _revokeRecord(bytes32 administration)
        internal
        returns (IMembership.Proposal memory p)
    {
        p = _proposal(11);
        p.orgId = administration;
        p.account = address(aeo);
        p.subject = certId;
    }

    function test_revokeByGovernance_revokesSuspendedAdministrationsCertification() public {
        _suspend(CUSTOMS_CN);
        IMembership.Proposal memory p = _revokeRecord(CUSTOMS_CN);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectEmit(true, true, true, true, address(aeo));
        emit IAeoRegistry.AeoRevoked(certId, EXPORTER, CUSTOMS_CN, address(0), 0);
        membership.execute(p);
        assertEq(aeo.certification(certId).status, 3, "revoked");
        assertEq(aeo.statusHistory(certId).length, 2, "history");
        // Reinstating the administration does not bring the certification back.
        IMembership.Proposal memory back = _proposal(3);
        back.orgId = CUSTOMS_CN;
        _govern(back);
        assertFalse(
            aeo.recognition(EXPORTER, CUSTOMS_CN, uint40(block.timestamp)).recognised,
            "still revoked"
        );
    }

    function test_revokeByGovernance_revertsForCertificationOfAnotherAdministration() public {
        _suspend(CUSTOMS_NL);
        IMembership.Proposal memory p = _revokeRecord(CUSTOMS_NL);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_CN);
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.UnknownCertification.selector, certId));
        membership.execute(p);
    }

    function test_revokeByGovernance_revertsWhenReplayed() public {
        _suspend(CUSTOMS_CN);
        _govern(_revokeRecord(CUSTOMS_CN));
        IMembership.Proposal memory again = _revokeRecord(CUSTOMS_CN);
        bytes32 id = _propose(again, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(IAeoRegistry.InvalidStatusTransition.selector, certId, 3, 4)
        );
        membership.execute(again);
    }

    function test_revokeByGovernance_revertsUnlessCalledByMembership() public {
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.NotMembership.selector, address(this)));
        aeo.revokeByGovernance(CUSTOMS_CN, certId, bytes32(0));
    }

    function test_recognition_requiresProgrammeInScope() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x2), PK_CUSTOMS_CN); // AEOS only
        _acceptMra(id, PK_CUSTOMS_DE);
        assertFalse(aeo.recognition(EXPORTER, CUSTOMS_DE, T0).recognised, "AEOF not in scope");
    }

    function test_recognition_endsWithTermination() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x7), PK_CUSTOMS_CN);
        _acceptMra(id, PK_CUSTOMS_DE);
        vm.warp(T0 + 100);
        _terminateMra(id, PK_CUSTOMS_CN);
        assertTrue(aeo.recognition(EXPORTER, CUSTOMS_DE, T0 + 99).recognised, "before");
        assertFalse(aeo.recognition(EXPORTER, CUSTOMS_DE, T0 + 100).recognised, "after");
    }

    function test_recognition_followsStatusHistory() public {
        vm.warp(T0 + 10);
        _applyAeo(_aeoAction(2, EXPORTER, "AEOF"), PK_CUSTOMS_CN);
        vm.warp(T0 + 20);
        _applyAeo(_aeoAction(3, EXPORTER, "AEOF"), PK_CUSTOMS_CN);
        assertTrue(aeo.recognition(EXPORTER, CUSTOMS_CN, T0 + 9).recognised, "before suspension");
        assertFalse(aeo.recognition(EXPORTER, CUSTOMS_CN, T0 + 15).recognised, "suspended");
        assertTrue(aeo.recognition(EXPORTER, CUSTOMS_CN, T0 + 25).recognised, "reinstated");
        assertFalse(aeo.recognition(EXPORTER, CUSTOMS_CN, T0 + 3 * 365 days).recognised, "expired");
        assertFalse(
            aeo.recognition(EXPORTER, CUSTOMS_CN, T0 - 1).recognised, "before certification"
        );
    }

    function testFuzz_recognition_matchesMraWindow(
        uint40 at,
        uint40 acceptDelay,
        uint40 terminateDelay
    ) public {
        acceptDelay = uint40(bound(acceptDelay, 0, 100 days));
        terminateDelay = uint40(bound(terminateDelay, 1, 100 days));
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x4), PK_CUSTOMS_CN);
        vm.warp(T0 + acceptDelay);
        _acceptMra(id, PK_CUSTOMS_DE);
        vm.warp(T0 + acceptDelay + terminateDelay);
        _terminateMra(id, PK_CUSTOMS_DE);
        at = uint40(bound(at, T0 - 10, T0 + 300 days));
        bool expected = at >= T0 + acceptDelay && at < T0 + acceptDelay + terminateDelay;
        assertEq(aeo.recognition(EXPORTER, CUSTOMS_DE, at).recognised, expected, "window");
    }

    // ------------------------------------------------------------------ more revert paths

    function test_applyAction_revertsForUnknownOperator() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(1, keccak256("org:none"), "AEOS");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownOrganisation.selector, keccak256("org:none")
            )
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsForValidityOnStatusAction() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(2, EXPORTER, "AEOF");
        a.validUntil = 1;
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.InvalidAeoAction.selector, 2));
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsWhenRelayerNotAllowed() public {
        IAeoRegistry.AeoAction memory a = _aeoAction(2, EXPORTER, "AEOF");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_revertsForSuspendedAdministration() public {
        _suspend(CUSTOMS_CN);
        IAeoRegistry.AeoAction memory a = _aeoAction(2, EXPORTER, "AEOF");
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashAeoAction(a)));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, CUSTOMS_CN, Kinds.STATUS_SUSPENDED
            )
        );
        aeo.applyAction(a, sig);
    }

    function test_applyAction_recertifiesAfterExpiry() public {
        // the CN customs key expires with the fixture's one-year lifetime: add a fresh one first
        vm.warp(T0 + 300 days);
        uint256 fresh = 0xC0DE33;
        _addKey(CUSTOMS_CN, PK_CUSTOMS_CN, vm.addr(fresh), T0 + 300 days, T0 + 5 * 365 days);
        vm.warp(T0 + 3 * 365 days);
        IAeoRegistry.AeoAction memory a = _aeoAction(1, EXPORTER, "AEOF");
        aeo.applyAction(a, _sig(fresh, aeo.hashTypedData(aeo.hashAeoAction(a))));
        assertEq(aeo.certification(certId).validUntil, a.validUntil, "renewed");
        assertEq(aeo.statusHistory(certId).length, 2, "history");
    }

    function test_proposeMra_revertsForInvalidValidity() public {
        IAeoRegistry.MraProposal memory r = _mraProposal(CUSTOMS_DE, 0x6);
        r.validUntil = r.validFrom;
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraProposal(r)));
        vm.expectRevert(
            abi.encodeWithSelector(IAeoRegistry.InvalidValidity.selector, r.validFrom, r.validUntil)
        );
        aeo.proposeMra(r, sig);
    }

    function test_proposeMra_revertsForNonCustomsSigner() public {
        IAeoRegistry.MraProposal memory r = _mraProposal(CUSTOMS_DE, 0x6);
        ISignedRecords.Sig memory sig = _sig(PK_CARRIER, aeo.hashTypedData(aeo.hashMraProposal(r)));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, CARRIER, Kinds.CARRIER)
        );
        aeo.proposeMra(r, sig);
    }

    function test_proposeMra_emitsProposed() public {
        IAeoRegistry.MraProposal memory r = _mraProposal(CUSTOMS_DE, 0x6);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraProposal(r)));
        bytes32 id =
            keccak256(abi.encode(CUSTOMS_CN, r.counterpart, r.scope, r.validFrom, r.validUntil));
        vm.expectEmit(true, true, true, true, address(aeo));
        emit IAeoRegistry.MraProposed(
            id, CUSTOMS_CN, CUSTOMS_DE, vm.addr(PK_CUSTOMS_CN), 0x6, r.validFrom, r.validUntil
        );
        assertEq(aeo.proposeMra(r, sig), id, "id");
    }

    function test_acceptMra_revertsAfterValidity() public {
        IAeoRegistry.MraProposal memory r = _mraProposal(CUSTOMS_DE, 0x6);
        r.validUntil = T0 + 10 days;
        bytes32 id = _proposeMra(r, PK_CUSTOMS_CN);
        vm.warp(T0 + 10 days);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, aeo.hashTypedData(aeo.hashMraAcceptance(id, MRA_DEADLINE)));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.MraNotPending.selector, id));
        aeo.acceptMra(id, MRA_DEADLINE, sig);
    }

    function test_acceptMra_revertsAfterWithdrawal() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        _terminateMra(id, PK_CUSTOMS_CN);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, aeo.hashTypedData(aeo.hashMraAcceptance(id, MRA_DEADLINE)));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.MraNotPending.selector, id));
        aeo.acceptMra(id, MRA_DEADLINE, sig);
    }

    function test_terminateMra_revertsForUnknown() public {
        bytes32 id = keccak256("none");
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraTermination(id, MRA_DEADLINE)));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.UnknownMra.selector, id));
        aeo.terminateMra(id, MRA_DEADLINE, sig);
    }

    function test_recognition_falseForUnknownOperator() public view {
        IAeoRegistry.Recognition memory r = aeo.recognition(keccak256("none"), CUSTOMS_CN, T0);
        assertFalse(r.recognised, "not recognised");
        assertEq(r.certificationId, bytes32(0), "no certification");
    }

    function test_recognition_prefersOwnCertification() public {
        // NL customs certifies the NL carrier; an MRA CN<->NL exists too
        bytes32 own = _applyAeo(_aeoAction(1, CARRIER, "AEOS"), PK_CUSTOMS_NL);
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_NL, 0x7), PK_CUSTOMS_CN);
        _acceptMra(id, PK_CUSTOMS_NL);
        IAeoRegistry.Recognition memory r = aeo.recognition(CARRIER, CUSTOMS_NL, T0);
        assertEq(r.certificationId, own, "own certification");
        assertEq(r.mraId, bytes32(0), "no MRA needed");
        r = aeo.recognition(CARRIER, CUSTOMS_CN, T0);
        assertEq(r.mraId, id, "CN recognises through the MRA");
    }

    // ------------------------------------------------------------------ freshness (deadline)

    function _expired(uint40 deadline) internal view returns (bytes memory) {
        return abi.encodeWithSelector(
            ISignedRecords.DeadlineExpired.selector, deadline, uint40(block.timestamp)
        );
    }

    function test_proposeMra_revertsAfterDeadline() public {
        IAeoRegistry.MraProposal memory r = _mraProposal(CUSTOMS_DE, 0x6);
        r.deadline = T0 - 1;
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraProposal(r)));
        vm.expectRevert(_expired(T0 - 1));
        aeo.proposeMra(r, sig);
    }

    function test_proposeMra_acceptsAtDeadline() public {
        IAeoRegistry.MraProposal memory r = _mraProposal(CUSTOMS_DE, 0x6);
        r.deadline = T0;
        bytes32 id = _proposeMra(r, PK_CUSTOMS_CN);
        assertEq(aeo.mra(id).proposer, CUSTOMS_CN, "proposed");
    }

    function test_proposeMra_idDoesNotDependOnDeadline() public {
        IAeoRegistry.MraProposal memory first = _mraProposal(CUSTOMS_DE, 0x6);
        IAeoRegistry.MraProposal memory again = _mraProposal(CUSTOMS_DE, 0x6);
        again.deadline = first.deadline - 1 days;
        assertTrue(aeo.hashMraProposal(first) != aeo.hashMraProposal(again), "deadline signed");
        bytes32 id = aeo.mraIdOf(CUSTOMS_CN, first);
        assertEq(aeo.mraIdOf(CUSTOMS_CN, again), id, "one id");
        assertEq(
            id,
            keccak256(
                abi.encode(
                    CUSTOMS_CN, first.counterpart, first.scope, first.validFrom, first.validUntil
                )
            ),
            "documented rule"
        );
        assertEq(_proposeMra(first, PK_CUSTOMS_CN), id, "proposed under it");
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraProposal(again)));
        vm.expectRevert(abi.encodeWithSelector(IAeoRegistry.MraExists.selector, id));
        aeo.proposeMra(again, sig);
    }

    function test_acceptMra_revertsAfterDeadline() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, aeo.hashTypedData(aeo.hashMraAcceptance(id, T0 + 1 hours)));
        vm.warp(T0 + 1 hours + 1);
        vm.expectRevert(_expired(T0 + 1 hours));
        aeo.acceptMra(id, T0 + 1 hours, sig);
        assertEq(aeo.mra(id).acceptedAt, 0, "not accepted");
    }

    function test_acceptMra_acceptsAtDeadline() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        aeo.acceptMra(id, T0, _sig(PK_CUSTOMS_DE, aeo.hashTypedData(aeo.hashMraAcceptance(id, T0))));
        assertEq(aeo.mra(id).acceptedAt, T0, "accepted");
    }

    function test_acceptMra_revertsWhenDeadlineAltered() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, aeo.hashTypedData(aeo.hashMraAcceptance(id, T0)));
        vm.expectRevert(); // another deadline recovers another (unknown) signer
        aeo.acceptMra(id, T0 + 1 days, sig);
    }

    function test_terminateMra_revertsAfterDeadline() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraTermination(id, T0 - 1)));
        vm.expectRevert(_expired(T0 - 1));
        aeo.terminateMra(id, T0 - 1, sig);
        assertEq(aeo.mra(id).terminatedAt, 0, "not terminated");
    }

    function test_terminateMra_acceptsAtDeadline() public {
        bytes32 id = _proposeMra(_mraProposal(CUSTOMS_DE, 0x6), PK_CUSTOMS_CN);
        aeo.terminateMra(
            id, T0, _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraTermination(id, T0)))
        );
        assertEq(aeo.mra(id).terminatedAt, T0, "terminated");
    }
}

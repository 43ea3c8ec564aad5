// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Checks} from "./utils/Checks.sol";
import {Vm} from "./utils/Vm.sol";
import {ICertificates} from "../src/interfaces/ICertificates.sol";
import {IConsignments} from "../src/interfaces/IConsignments.sol";
import {IMembership} from "../src/interfaces/IMembership.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";
import {HsCodes} from "../src/libraries/HsCodes.sol";
import {Kinds} from "../src/libraries/Kinds.sol";

contract CertificatesTest is Checks {
    bytes32 internal constant NUMBER = keccak256("CCPIT-2026-000123");
    bytes32 internal constant UCR1_REF = keccak256("UCR:1");
    bytes32 internal constant UCR2_REF = keccak256("UCR:2");
    bytes32 internal constant UCR1 = keccak256(abi.encode(CARRIER, UCR1_REF));
    bytes32 internal constant UCR2 = keccak256(abi.encode(CARRIER, UCR2_REF));

    uint256 internal constant TYPEHASH_DRAWDOWN_BATCH_DOCUMENTED =
        0x80aac9522173f88e75ac5b1ecd1af2bbb0b0a311e7361555f1a5d1aa1215723a;
    uint40 internal constant BATCH_DEADLINE = T0 + 1 hours;

    bytes32 internal certId;

    function setUp() public override {
        super.setUp();
        _register(UCR1_REF);
        _register(UCR2_REF);
        certId = _issue(NUMBER, 1000);
    }

    // ------------------------------------------------------------------ issue

    function test_issue_storesCertificate() public view {
        assertEq(certId, keccak256(abi.encode(ISSUER, NUMBER)), "id");
        assertEq(certificates.certificateId(ISSUER, NUMBER), certId, "id view");
        ICertificates.Certificate memory c = certificates.certificate(certId);
        assertEq(c.quantity, 1000, "quantity");
        assertEq(c.drawn, 0, "drawn");
        assertEq(c.status, 1, "status");
        assertEq(c.exporter, EXPORTER, "exporter");
        assertEq(bytes32(c.origin), bytes32(bytes2("CN")), "origin");
        assertEq(bytes32(c.destination), bytes32(bytes2("DE")), "destination");
        bytes32 structHash = certificates.hashIssue(_issueRecord(NUMBER, 1000));
        assertEq(bytes32(c.recordHash), bytes32(bytes24(structHash)), "record hash");
        assertEq(certificates.remaining(certId), 1000, "remaining");
    }

    function test_issue_emitsRecord() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 5);
        ISignedRecords.Sig memory sig = _signIssue(r, PK_CUSTOMS_CN);
        bytes32 id = keccak256(abi.encode(CUSTOMS_CN, r.certificateNumber));
        vm.expectEmit(true, true, true, true, address(certificates));
        emit ICertificates.CertificateIssued(id, CUSTOMS_CN, EXPORTER, vm.addr(PK_CUSTOMS_CN), r);
        certificates.issue(r, sig);
    }

    function test_issue_hashMatchesTypeString() public view {
        ICertificates.CertificateIssue memory r = _issueRecord(NUMBER, 1000);
        bytes32 expected = keccak256(
            abi.encode(
                keccak256(
                    "CertificateIssue(bytes32 certificateNumber,bytes32 exporter,bytes2 origin,bytes2 destination,bytes32 documentDigest,bytes32 hsCodesDigest,uint64 quantity,bytes8 unit,uint40 validFrom,uint40 validUntil,uint40 issuedAt)"
                ),
                r.certificateNumber,
                r.exporter,
                r.origin,
                r.destination,
                r.documentDigest,
                r.hsCodesDigest,
                r.quantity,
                r.unit,
                r.validFrom,
                r.validUntil,
                r.issuedAt
            )
        );
        assertEq(certificates.hashIssue(r), expected, "struct hash");
        assertEq(
            certificates.hashTypedData(expected),
            _digest(address(certificates), "TradeLedger Certificates", expected),
            "digest"
        );
    }

    function test_issue_revertsWhenReplayed() public {
        ICertificates.CertificateIssue memory r = _issueRecord(NUMBER, 1000);
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        vm.expectRevert(abi.encodeWithSelector(ICertificates.CertificateExists.selector, certId));
        certificates.issue(r, sig);
    }

    function test_issue_revertsForWrongCountry() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 5);
        ISignedRecords.Sig memory sig = _signIssue(r, PK_CUSTOMS_DE);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.WrongCountry.selector, CUSTOMS_DE, bytes2("DE"), bytes2("CN")
            )
        );
        certificates.issue(r, sig);
    }

    function test_issue_revertsForWrongKind() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 5);
        ISignedRecords.Sig memory sig = _signIssue(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, EXPORTER, Kinds.TRADER)
        );
        certificates.issue(r, sig);
    }

    function test_issue_revertsForExporterNotTrader() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 5);
        r.exporter = CARRIER;
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.ExporterNotTrader.selector, CARRIER, Kinds.CARRIER)
        );
        certificates.issue(r, sig);
    }

    function test_issue_revertsForUnknownExporter() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 5);
        r.exporter = keccak256("org:none");
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.UnknownOrganisation.selector, r.exporter)
        );
        certificates.issue(r, sig);
    }

    function test_issue_revertsForZeroQuantity() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 0);
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.InvalidCertificate.selector, r.certificateNumber)
        );
        certificates.issue(r, sig);
    }

    function test_issue_revertsForInvalidValidity() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 5);
        r.validUntil = r.validFrom;
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificates.InvalidValidity.selector, r.validFrom, r.validUntil
            )
        );
        certificates.issue(r, sig);
    }

    function test_issue_revertsWhenIssuedAtBeforeKeyWindow() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 5);
        r.issuedAt = T0 - 2 days; // the issuer's key is valid from T0 - 1 day
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.KeyNotYetValid.selector, vm.addr(PK_ISSUER), T0 - 1 days, T0 - 2 days
            )
        );
        certificates.issue(r, sig);
    }

    function test_issue_revertsWhenSignedIssueIsStale() public {
        vm.warp(T0 + 8 days); // the issuer's key is still valid; the signature is not fresh
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n3"), 5);
        r.issuedAt = uint40(block.timestamp - 7 days - 1);
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificates.IssueTooOld.selector, r.issuedAt, uint40(block.timestamp)
            )
        );
        certificates.issue(r, sig);
        r.issuedAt = uint40(block.timestamp - 7 days); // at the bound: accepted
        certificates.issue(r, _signIssue(r, PK_ISSUER));
    }

    function test_issue_revertsWhenRelayerNotAllowed() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 5);
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        certificates.issue(r, sig);
    }

    function test_issueBatch_revertsNamingFailingItem() public {
        ICertificates.CertificateIssue[] memory rs = new ICertificates.CertificateIssue[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        rs[0] = _issueRecord(keccak256("n2"), 5);
        rs[1] = _issueRecord(keccak256("n2"), 5);
        sigs[0] = _signIssue(rs[0], PK_ISSUER);
        sigs[1] = sigs[0];
        bytes32 id = keccak256(abi.encode(ISSUER, keccak256("n2")));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(ICertificates.CertificateExists.selector, id)
            )
        );
        certificates.issueBatch(rs, sigs);
    }

    function test_issueBatch_issuesAll() public {
        ICertificates.CertificateIssue[] memory rs = new ICertificates.CertificateIssue[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        rs[0] = _issueRecord(keccak256("n2"), 5);
        rs[1] = _issueRecord(keccak256("n3"), 6);
        sigs[0] = _signIssue(rs[0], PK_ISSUER);
        sigs[1] = _signIssue(rs[1], PK_CUSTOMS_CN);
        certificates.issueBatch(rs, sigs);
        assertEq(
            certificates.certificate(keccak256(abi.encode(CUSTOMS_CN, keccak256("n3")))).quantity,
            6,
            "second"
        );
    }

    // ------------------------------------------------------------------ revoke

    function _revocation(uint256 pk)
        internal
        view
        returns (ICertificates.CertificateRevocation memory r, ISignedRecords.Sig memory sig)
    {
        r = ICertificates.CertificateRevocation({
            certificateNumber: NUMBER, reasonDigest: keccak256("fraud"), deadline: _deadline()
        });
        sig = _sig(pk, certificates.hashTypedData(certificates.hashRevocation(r)));
    }

    function test_revoke_byIssuer() public {
        (ICertificates.CertificateRevocation memory r, ISignedRecords.Sig memory sig) =
            _revocation(PK_ISSUER);
        vm.expectEmit(true, true, true, true, address(certificates));
        emit ICertificates.CertificateRevoked(
            certId, ISSUER, vm.addr(PK_ISSUER), keccak256("fraud")
        );
        certificates.revoke(r, sig);
        assertEq(certificates.certificate(certId).status, 2, "revoked");
    }

    function test_revoke_revertsForOtherOrganisation() public {
        (ICertificates.CertificateRevocation memory r, ISignedRecords.Sig memory sig) =
            _revocation(PK_CUSTOMS_CN);
        bytes32 other = keccak256(abi.encode(CUSTOMS_CN, NUMBER));
        vm.expectRevert(abi.encodeWithSelector(ICertificates.UnknownCertificate.selector, other));
        certificates.revoke(r, sig);
    }

    function test_revoke_revertsWhenReplayed() public {
        (ICertificates.CertificateRevocation memory r, ISignedRecords.Sig memory sig) =
            _revocation(PK_ISSUER);
        certificates.revoke(r, sig);
        vm.expectRevert(abi.encodeWithSelector(ICertificates.CertificateIsRevoked.selector, certId));
        certificates.revoke(r, sig);
    }

    function test_revoke_revertsForTrader() public {
        (ICertificates.CertificateRevocation memory r, ISignedRecords.Sig memory sig) =
            _revocation(PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, EXPORTER, Kinds.TRADER)
        );
        certificates.revoke(r, sig);
    }

    // ------------------------------------------------------------------ drawDown

    function test_drawDown_byExporter() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 400, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectEmit(true, true, true, true, address(certificates));
        emit ICertificates.QuantityDrawn(certId, UCR1, EXPORTER, vm.addr(PK_EXPORTER), 400, 400);
        certificates.drawDown(r, sig);
        assertEq(certificates.drawnFor(certId, UCR1), 400, "drawn for");
        assertEq(certificates.remaining(certId), 600, "remaining");
    }

    function test_drawDown_byCustomsOfOriginOrDestination() public {
        _draw(certId, UCR1, 100, PK_CUSTOMS_CN);
        _draw(certId, UCR2, 200, PK_CUSTOMS_DE);
        assertEq(certificates.certificate(certId).drawn, 300, "drawn");
    }

    function test_drawDown_revertsForCustomsOfThirdCountry() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 1, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.NotAuthorisedToDraw.selector, certId, CUSTOMS_NL)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForOtherTrader() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 1, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_CONSIGNEE);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.NotAuthorisedToDraw.selector, certId, CONSIGNEE)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsWhenExceedingTotal() public {
        _draw(certId, UCR1, 900, PK_EXPORTER);
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR2, quantity: 101, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.QuantityExceeded.selector, certId, 101, 100)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForSecondDrawOnSameConsignment() public {
        _draw(certId, UCR1, 10, PK_EXPORTER);
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 11, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_CUSTOMS_DE);
        vm.expectRevert(abi.encodeWithSelector(ICertificates.AlreadyDrawn.selector, certId, UCR1));
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsWhenReplayed() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 10, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        certificates.drawDown(r, sig);
        vm.expectRevert(abi.encodeWithSelector(ICertificates.AlreadyDrawn.selector, certId, UCR1));
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForRevokedCertificate() public {
        (ICertificates.CertificateRevocation memory rv, ISignedRecords.Sig memory rs) =
            _revocation(PK_ISSUER);
        certificates.revoke(rv, rs);
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 10, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(abi.encodeWithSelector(ICertificates.CertificateIsRevoked.selector, certId));
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForExpiredCertificate() public {
        vm.warp(T0 + 180 days);
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 10, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.CertificateExpired.selector, certId, T0 + 180 days)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForNotYetValidCertificate() public {
        ICertificates.CertificateIssue memory ir = _issueRecord(keccak256("future"), 10);
        ir.validFrom = T0 + 1 days;
        bytes32 id = certificates.issue(ir, _signIssue(ir, PK_ISSUER));
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: id, consignmentId: UCR1, quantity: 1, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.CertificateNotYetValid.selector, id, T0 + 1 days)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForUnknownCertificate() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: keccak256("forged"),
            consignmentId: UCR1,
            quantity: 1,
            deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.UnknownCertificate.selector, keccak256("forged"))
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForUnknownConsignment() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId,
            consignmentId: keccak256("nope"),
            quantity: 1,
            deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.UnknownConsignment.selector, keccak256("nope"))
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForZeroQuantity() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 0, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(ICertificates.ZeroQuantity.selector);
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForSuspendedExporter() public {
        _suspend(EXPORTER);
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 1, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, EXPORTER, Kinds.STATUS_SUSPENDED
            )
        );
        certificates.drawDown(r, sig);
    }

    // ------------------------------------------------------------------ suspension, binding

    function test_issue_storesIssuer() public view {
        assertEq(certificates.certificate(certId).issuer, ISSUER, "issuer");
    }

    function test_drawDown_revertsWhenIssuerSuspended() public {
        _suspend(ISSUER);
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 1, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.IssuerSuspended.selector, certId, ISSUER)
        );
        certificates.drawDown(r, sig);
        // The certificate still proves what was issued.
        assertEq(certificates.certificate(certId).status, 1, "still issued");
    }

    function test_drawDownSignedBatch_revertsWhenIssuerSuspended() public {
        _suspend(ISSUER);
        ICertificates.Drawdown[] memory rs = new ICertificates.Drawdown[](1);
        rs[0] = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 1, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                0,
                abi.encodeWithSelector(ICertificates.IssuerSuspended.selector, certId, ISSUER)
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDown_resumesWhenIssuerReinstated() public {
        _suspend(ISSUER);
        IMembership.Proposal memory p = _proposal(3);
        p.orgId = ISSUER;
        _govern(p);
        _draw(certId, UCR1, 5, PK_EXPORTER);
        assertEq(certificates.drawnFor(certId, UCR1), 5, "drawn");
    }

    function test_drawDown_revertsOntoConsignmentOfOtherParties() public {
        IConsignments.Registration memory reg = _registration(keccak256("UCR:unrelated"));
        bytes32 unrelated = _cid(reg.referenceHash);
        reg.consignor = bytes32(0);
        reg.consignee = bytes32(0); // registered by the carrier, the exporter no party
        consignments.register(reg, _signRegistration(reg, PK_CARRIER));
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: unrelated, quantity: 1, deadline: _deadline()
        });
        for (uint256 i; i < 2; ++i) {
            uint256 pk = i == 0 ? PK_EXPORTER : PK_CUSTOMS_CN; // exporter or customs: same rule
            ISignedRecords.Sig memory sig = _signDrawdown(r, pk);
            vm.expectRevert(
                abi.encodeWithSelector(
                    ICertificates.ExporterNotConsignmentParty.selector, certId, unrelated
                )
            );
            certificates.drawDown(r, sig);
        }
    }

    function test_drawDown_landsOnTheRegistrantsConsignmentNotACompetitorsOfTheSameReference()
        public
    {
        // A competitor registers the carrier's public reference too: its own consignment, of
        // which the exporter is no party; the carrier's still takes the drawdown.
        IConsignments.Registration memory squat = _registration(UCR1_REF);
        squat.consignor = bytes32(0);
        squat.consignee = bytes32(0);
        consignments.register(squat, _signRegistration(squat, PK_CONSIGNEE));
        bytes32 squatId = _cid(CONSIGNEE, UCR1_REF);
        assertTrue(squatId != UCR1, "two consignments");

        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: squatId, quantity: 1, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificates.ExporterNotConsignmentParty.selector, certId, squatId
            )
        );
        certificates.drawDown(r, sig);

        _draw(certId, UCR1, 7, PK_EXPORTER);
        assertEq(certificates.drawnFor(certId, UCR1), 7, "drawn on the carrier's");
        assertEq(certificates.drawnFor(certId, squatId), 0, "nothing on the competitor's");
    }

    function _revokeRecordProposal(bytes32 issuer, bytes32 id)
        internal
        returns (IMembership.Proposal memory p)
    {
        p = _proposal(11);
        p.orgId = issuer;
        p.account = address(certificates);
        p.subject = id;
    }

    function test_revokeByGovernance_revokesSuspendedIssuersCertificate() public {
        _suspend(ISSUER);
        IMembership.Proposal memory p = _revokeRecordProposal(ISSUER, certId);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectEmit(true, true, true, true, address(certificates));
        emit ICertificates.CertificateRevoked(certId, ISSUER, address(0), id);
        membership.execute(p);
        assertEq(certificates.certificate(certId).status, 2, "revoked");
    }

    function test_revokeByGovernance_revertsWhileIssuerActive() public {
        IMembership.Proposal memory p = _revokeRecordProposal(ISSUER, certId);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.InvalidStatus.selector, ISSUER, Kinds.STATUS_ACTIVE)
        );
        membership.execute(p);
    }

    function test_revokeByGovernance_revertsForCertificateOfAnotherIssuer() public {
        _suspend(EXPORTER);
        IMembership.Proposal memory p = _revokeRecordProposal(EXPORTER, certId);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(abi.encodeWithSelector(ICertificates.UnknownCertificate.selector, certId));
        membership.execute(p);
    }

    function test_revokeByGovernance_revertsWhenReplayed() public {
        _suspend(ISSUER);
        _govern(_revokeRecordProposal(ISSUER, certId));
        IMembership.Proposal memory again = _revokeRecordProposal(ISSUER, certId);
        bytes32 id = _propose(again, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(abi.encodeWithSelector(ICertificates.CertificateIsRevoked.selector, certId));
        membership.execute(again);
    }

    function test_revokeByGovernance_revertsUnlessCalledByMembership() public {
        vm.expectRevert(abi.encodeWithSelector(ICertificates.NotMembership.selector, address(this)));
        certificates.revokeByGovernance(ISSUER, certId, bytes32(0));
    }

    function test_drawDown_revertsWhenRelayerNotAllowed() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 1, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDownBatch_revertsNamingFailingItem() public {
        ICertificates.Drawdown[] memory rs = new ICertificates.Drawdown[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        rs[0] = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 600, deadline: _deadline()
        });
        rs[1] = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR2, quantity: 401, deadline: _deadline()
        });
        sigs[0] = _signDrawdown(rs[0], PK_EXPORTER);
        sigs[1] = _signDrawdown(rs[1], PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(ICertificates.QuantityExceeded.selector, certId, 401, 400)
            )
        );
        certificates.drawDownBatch(rs, sigs);
        assertEq(certificates.certificate(certId).drawn, 0, "nothing drawn");
    }

    function test_drawDownBatch_drawsAll() public {
        ICertificates.Drawdown[] memory rs = new ICertificates.Drawdown[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        rs[0] = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 600, deadline: _deadline()
        });
        rs[1] = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR2, quantity: 400, deadline: _deadline()
        });
        sigs[0] = _signDrawdown(rs[0], PK_EXPORTER);
        sigs[1] = _signDrawdown(rs[1], PK_CUSTOMS_DE);
        certificates.drawDownBatch(rs, sigs);
        assertEq(certificates.remaining(certId), 0, "fully drawn");
    }

    function test_drawDownBatch_revertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.LengthMismatch.selector, 0, 1));
        certificates.drawDownBatch(new ICertificates.Drawdown[](0), new ISignedRecords.Sig[](1));
    }

    // ------------------------------------------------------------------ drawDownSignedBatch

    /// @dev `n` drawdowns of 10 from the setUp certificate, on consignments UCR:dd:i (registered).
    function _ddBatch(uint256 n) internal returns (ICertificates.Drawdown[] memory rs) {
        rs = new ICertificates.Drawdown[](n);
        for (uint256 i; i < n; ++i) {
            bytes32 ref = keccak256(abi.encode("UCR:dd", i));
            bytes32 ucr = _cid(ref);
            if (!consignments.exists(ucr)) _register(ref);
            rs[i] = ICertificates.Drawdown({
                certificateId: certId, consignmentId: ucr, quantity: 10, deadline: _deadline()
            });
        }
    }

    function _drawSigned(ICertificates.Drawdown[] memory rs, uint256 pk) internal {
        certificates.drawDownSignedBatch(
            rs, BATCH_DEADLINE, _signDrawdownBatch(rs, BATCH_DEADLINE, pk)
        );
    }

    /// @dev The address a signature recovers to for a batch (the "other key" of a forgery).
    function _ddRecovered(
        ICertificates.Drawdown[] memory rs,
        uint40 deadline,
        ISignedRecords.Sig memory sig
    ) internal view returns (address) {
        return _recoverCompact(
            certificates.hashTypedData(
                certificates.hashDrawdownBatch(
                    ICertificates.DrawdownBatch(certificates.drawdownsHash(rs), deadline)
                )
            ),
            sig
        );
    }

    function _failed(uint256 index, bytes memory reason) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISignedRecords.BatchItemFailed.selector, index, reason);
    }

    function test_drawDownSignedBatch_recordsEachAsASignedDrawdown() public {
        bytes32 other = _issue(keccak256("second certificate"), 50);
        ICertificates.Drawdown[] memory rs = _ddBatch(3);
        rs[1].certificateId = other;
        rs[1].quantity = 7;
        rs[2].quantity = 20;
        address signer = vm.addr(PK_EXPORTER);
        vm.recordLogs();
        _drawSigned(rs, PK_EXPORTER);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3, "one log per drawdown");
        uint64[3] memory drawnAfter = [uint64(10), 7, 30];
        for (uint256 i; i < 3; ++i) {
            // the log of the same drawdown signed alone
            assertEq(logs[i].topics[0], ICertificates.QuantityDrawn.selector, "event");
            assertEq(logs[i].topics[1], rs[i].certificateId, "certificate");
            assertEq(logs[i].topics[2], rs[i].consignmentId, "consignment");
            assertEq(logs[i].topics[3], EXPORTER, "organisation");
            assertEq(logs[i].data, abi.encode(signer, rs[i].quantity, drawnAfter[i]), "data");
            assertEq(
                certificates.drawnFor(rs[i].certificateId, rs[i].consignmentId),
                rs[i].quantity,
                "drawn for"
            );
        }
        assertEq(certificates.certificate(certId).drawn, 30, "drawn on the first certificate");
        assertEq(certificates.remaining(other), 43, "remaining on the second");
    }

    function test_drawDownSignedBatch_byCustomsOfOriginOrDestination() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(4);
        ICertificates.Drawdown[] memory first = new ICertificates.Drawdown[](2);
        ICertificates.Drawdown[] memory second = new ICertificates.Drawdown[](2);
        (first[0], first[1], second[0], second[1]) = (rs[0], rs[1], rs[2], rs[3]);
        _drawSigned(first, PK_CUSTOMS_CN);
        _drawSigned(second, PK_CUSTOMS_DE);
        assertEq(certificates.certificate(certId).drawn, 40, "drawn by both administrations");
    }

    function test_drawDownSignedBatch_revertsForCustomsOfThirdCountry() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_CUSTOMS_NL);
        vm.expectRevert(
            _failed(
                0,
                abi.encodeWithSelector(
                    ICertificates.NotAuthorisedToDraw.selector, certId, CUSTOMS_NL
                )
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_revertsForOtherTrader() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_CONSIGNEE);
        vm.expectRevert(
            _failed(
                0,
                abi.encodeWithSelector(
                    ICertificates.NotAuthorisedToDraw.selector, certId, CONSIGNEE
                )
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_revertsForWrongKind() public {
        // carriers, postal operators and issuing bodies never draw: the who-may-draw rule of
        // `drawDown`, per drawdown, names the first item
        uint256[3] memory pks = [PK_CARRIER, PK_POSTAL, PK_ISSUER];
        bytes32[3] memory orgs = [CARRIER, POSTAL, ISSUER];
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        for (uint256 k; k < 3; ++k) {
            ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, pks[k]);
            vm.expectRevert(
                _failed(
                    0,
                    abi.encodeWithSelector(
                        ICertificates.NotAuthorisedToDraw.selector, certId, orgs[k]
                    )
                )
            );
            certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
        }
    }

    function test_drawDownSignedBatch_revertsForWrongSigner() public {
        uint256 pk = 0xBAD002;
        ICertificates.Drawdown[] memory rs = _ddBatch(3);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, pk);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(pk)));
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_revertsForKeyNotYetValid() public {
        uint256 pk = 0x7AD077;
        _addKey(EXPORTER, PK_EXPORTER, vm.addr(pk), T0 + 1 hours, T0 + 10 days);
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, pk);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.KeyNotYetValid.selector, vm.addr(pk), T0 + 1 hours, T0
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_revertsForExpiredKey() public {
        uint256 pk = 0x7AD077;
        _addKey(EXPORTER, PK_EXPORTER, vm.addr(pk), T0, T0 + 100);
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, pk);
        vm.warp(T0 + 100);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.KeyExpired.selector, vm.addr(pk), T0 + 100, T0 + 100
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_revertsForRevokedKey() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        _revokeKey(EXPORTER, PK_EXPORTER, vm.addr(PK_EXPORTER));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyRevoked.selector, vm.addr(PK_EXPORTER), T0)
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_revertsForSuspendedMember() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        _suspend(EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, EXPORTER, Kinds.STATUS_SUSPENDED
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_revertsWhenReplayed() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(3);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
        vm.expectRevert(
            _failed(
                0,
                abi.encodeWithSelector(
                    ICertificates.AlreadyDrawn.selector, certId, rs[0].consignmentId
                )
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
        assertEq(certificates.certificate(certId).drawn, 30, "drawn once");
    }

    function test_drawDownSignedBatch_revertsForDuplicateInBatch() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(3);
        rs[2].consignmentId = rs[0].consignmentId;
        rs[2].quantity = 1; // another quantity, the same (certificate, consignment)
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        vm.expectRevert(
            _failed(
                2,
                abi.encodeWithSelector(
                    ICertificates.AlreadyDrawn.selector, certId, rs[0].consignmentId
                )
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
        assertEq(certificates.certificate(certId).drawn, 0, "nothing drawn");
    }

    function test_drawDownSignedBatch_revertsForPairDrawnAlone() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(3);
        _draw(certId, rs[1].consignmentId, 5, PK_CUSTOMS_DE);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        vm.expectRevert(
            _failed(
                1,
                abi.encodeWithSelector(
                    ICertificates.AlreadyDrawn.selector, certId, rs[1].consignmentId
                )
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
        assertEq(certificates.certificate(certId).drawn, 5, "only the single drawdown");
    }

    function test_drawDown_refusesPairDrawnInSignedBatch() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        _drawSigned(rs, PK_EXPORTER);
        ISignedRecords.Sig memory sig = _signDrawdown(rs[1], PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.AlreadyDrawn.selector, certId, rs[1].consignmentId)
        );
        certificates.drawDown(rs[1], sig);
    }

    function test_drawDownSignedBatch_revertsWhenOverDrawn() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(3);
        rs[0].quantity = 600;
        rs[1].quantity = 300;
        rs[2].quantity = 101; // earlier items of the batch count: 100 remain
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        vm.expectRevert(
            _failed(
                2, abi.encodeWithSelector(ICertificates.QuantityExceeded.selector, certId, 101, 100)
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
        rs[2].quantity = 100;
        _drawSigned(rs, PK_EXPORTER);
        assertEq(certificates.remaining(certId), 0, "fully drawn, not more");
    }

    function test_drawDownSignedBatch_revertsNamingCertificateAndConsignmentErrors() public {
        (ICertificates.CertificateRevocation memory rv, ISignedRecords.Sig memory rvs) =
            _revocation(PK_ISSUER);
        ICertificates.CertificateIssue memory ir = _issueRecord(keccak256("future"), 10);
        ir.validFrom = T0 + 1 days;
        bytes32 future = certificates.issue(ir, _signIssue(ir, PK_ISSUER));
        ICertificates.Drawdown[] memory rs = _ddBatch(4);
        bytes[] memory reasons = new bytes[](4);
        rs[0].certificateId = keccak256("forged");
        reasons[0] =
            abi.encodeWithSelector(ICertificates.UnknownCertificate.selector, keccak256("forged"));
        rs[1].certificateId = future;
        reasons[1] = abi.encodeWithSelector(
            ICertificates.CertificateNotYetValid.selector, future, T0 + 1 days
        );
        rs[2].consignmentId = keccak256("nope");
        reasons[2] =
            abi.encodeWithSelector(ICertificates.UnknownConsignment.selector, keccak256("nope"));
        rs[3].quantity = 0;
        reasons[3] = abi.encodeWithSelector(ICertificates.ZeroQuantity.selector);
        for (uint256 i; i < 4; ++i) {
            ICertificates.Drawdown[] memory one = _ddBatch(i + 1);
            one[i] = rs[i];
            ISignedRecords.Sig memory sig = _signDrawdownBatch(one, BATCH_DEADLINE, PK_EXPORTER);
            vm.expectRevert(_failed(i, reasons[i]));
            certificates.drawDownSignedBatch(one, BATCH_DEADLINE, sig);
        }
        certificates.revoke(rv, rvs);
        ICertificates.Drawdown[] memory revoked = _ddBatch(1);
        ISignedRecords.Sig memory rsig = _signDrawdownBatch(revoked, BATCH_DEADLINE, PK_EXPORTER);
        vm.expectRevert(
            _failed(0, abi.encodeWithSelector(ICertificates.CertificateIsRevoked.selector, certId))
        );
        certificates.drawDownSignedBatch(revoked, BATCH_DEADLINE, rsig);
    }

    function test_drawDownSignedBatch_revertsForExpiredCertificate() public {
        vm.warp(T0 + 180 days);
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        uint40 deadline = T0 + 181 days;
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, deadline, PK_EXPORTER);
        vm.expectRevert(
            _failed(
                0,
                abi.encodeWithSelector(
                    ICertificates.CertificateExpired.selector, certId, T0 + 180 days
                )
            )
        );
        certificates.drawDownSignedBatch(rs, deadline, sig);
    }

    function test_drawDownSignedBatch_revertsAfterDeadline() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        vm.warp(BATCH_DEADLINE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.DeadlineExpired.selector, BATCH_DEADLINE, BATCH_DEADLINE + 1
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_acceptsAtDeadline() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(1);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        vm.warp(BATCH_DEADLINE);
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
        assertEq(certificates.drawnFor(certId, rs[0].consignmentId), 10, "drawn");
    }

    function test_drawDownSignedBatch_revertsWhenRelayerNotAllowed() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_revertsForEmptyBatch() public {
        ICertificates.Drawdown[] memory rs = new ICertificates.Drawdown[](0);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.LengthMismatch.selector, 0, 1));
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_revertsForInvalidSignature() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        ISignedRecords.Sig memory sig = ISignedRecords.Sig({r: bytes32(0), vs: bytes32(0)});
        vm.expectRevert(ISignedRecords.InvalidSignature.selector);
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_revertsWhenAlteredAfterSigning() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(3);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        rs[1].quantity = 500; // the relayer inflates a quantity
        address other = _ddRecovered(rs, BATCH_DEADLINE, sig);
        assertTrue(other != vm.addr(PK_EXPORTER), "recovers another key");
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, other));
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_revertsWhenReorderedDroppedOrDeadlineChanged() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(3);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        ICertificates.Drawdown[] memory swapped = _ddBatch(3);
        (swapped[0], swapped[1]) = (rs[1], rs[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _ddRecovered(swapped, BATCH_DEADLINE, sig)
            )
        );
        certificates.drawDownSignedBatch(swapped, BATCH_DEADLINE, sig);
        ICertificates.Drawdown[] memory dropped = _ddBatch(2);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _ddRecovered(dropped, BATCH_DEADLINE, sig)
            )
        );
        certificates.drawDownSignedBatch(dropped, BATCH_DEADLINE, sig);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _ddRecovered(rs, BATCH_DEADLINE + 1, sig)
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE + 1, sig);
        assertEq(certificates.certificate(certId).drawn, 0, "nothing drawn");
    }

    function test_drawDownSignedBatch_refusesSingleSignatureAsBatchOfOne() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(1);
        ISignedRecords.Sig memory sig = _signDrawdown(rs[0], PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.UnknownKey.selector, _ddRecovered(rs, BATCH_DEADLINE, sig)
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDown_refusesBatchSignatureOfOne() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(1);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        bytes32 digest = certificates.hashTypedData(certificates.hashDrawdown(rs[0]));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, _recoverCompact(digest, sig))
        );
        certificates.drawDown(rs[0], sig);
    }

    function test_drawDown_afterSignedBatchDoesNotWrapErrors() public {
        _drawSigned(_ddBatch(2), PK_EXPORTER);
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 0, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(ICertificates.ZeroQuantity.selector);
        certificates.drawDown(r, sig);
    }

    function test_drawdownsHash_andHashDrawdownBatch_matchDocumentedRule() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(3);
        bytes memory packed;
        for (uint256 i; i < 3; ++i) {
            packed = abi.encodePacked(packed, certificates.hashDrawdown(rs[i]));
        }
        bytes32 expected = keccak256(packed);
        assertEq(certificates.drawdownsHash(rs), expected, "drawdownsHash");
        bytes32 typehash = keccak256("DrawdownBatch(bytes32 drawdownsHash,uint40 deadline)");
        assertEq(certificates.DRAWDOWN_BATCH_TYPEHASH(), typehash, "typehash");
        assertEq(typehash, bytes32(TYPEHASH_DRAWDOWN_BATCH_DOCUMENTED), "typehash as documented");
        assertEq(
            certificates.hashDrawdownBatch(ICertificates.DrawdownBatch(expected, BATCH_DEADLINE)),
            keccak256(abi.encode(typehash, expected, BATCH_DEADLINE)),
            "struct hash"
        );
    }

    function testFuzz_drawDownSignedBatch_namesFailingIndex(uint8 size, uint8 bad, uint8 kind)
        public
    {
        uint256 n = bound(size, 1, 12);
        uint256 failing = bound(bad, 0, n - 1);
        ICertificates.Drawdown[] memory rs = _ddBatch(n);
        bytes memory reason;
        if (kind % 4 == 0) {
            rs[failing].quantity = 0;
            reason = abi.encodeWithSelector(ICertificates.ZeroQuantity.selector);
        } else if (kind % 4 == 1) {
            // the earlier items drew 10 each
            uint64 left = uint64(1000 - 10 * failing);
            rs[failing].quantity = left + 1;
            reason = abi.encodeWithSelector(
                ICertificates.QuantityExceeded.selector, certId, left + 1, left
            );
        } else if (kind % 4 == 2 || failing == 0) {
            _draw(certId, rs[failing].consignmentId, 1, PK_CUSTOMS_CN); // drawn already
            reason = abi.encodeWithSelector(
                ICertificates.AlreadyDrawn.selector, certId, rs[failing].consignmentId
            );
        } else {
            rs[failing].consignmentId = rs[failing - 1].consignmentId; // twice in the batch
            reason = abi.encodeWithSelector(
                ICertificates.AlreadyDrawn.selector, certId, rs[failing].consignmentId
            );
        }
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        uint64 before = certificates.certificate(certId).drawn;
        vm.expectRevert(_failed(failing, reason));
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
        assertEq(certificates.certificate(certId).drawn, before, "nothing of the batch drawn");
    }

    function testFuzz_drawDownSignedBatch_neverExceedsTotal(uint64 total, uint64[4] memory qs)
        public
    {
        total = uint64(bound(total, 1, type(uint64).max));
        bytes32 id = _issue(keccak256("fuzz batch"), total);
        ICertificates.Drawdown[] memory rs = _ddBatch(4);
        uint256 sum;
        uint256 failing = type(uint256).max;
        for (uint256 i; i < 4; ++i) {
            qs[i] = uint64(bound(qs[i], 1, type(uint64).max));
            rs[i].certificateId = id;
            rs[i].quantity = qs[i];
            if (failing == type(uint256).max) {
                if (sum + qs[i] > total) failing = i;
                else sum += qs[i];
            }
        }
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        if (failing != type(uint256).max) {
            vm.expectRevert(
                _failed(
                    failing,
                    abi.encodeWithSelector(
                        ICertificates.QuantityExceeded.selector,
                        id,
                        qs[failing],
                        uint64(total - sum)
                    )
                )
            );
        }
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
        ICertificates.Certificate memory c = certificates.certificate(id);
        assertEq(c.drawn, failing == type(uint256).max ? sum : 0, "all or nothing");
        assertLe(c.drawn, c.quantity, "drawn <= total");
    }

    function testFuzz_drawDownSignedBatch_equalsSingleDrawdowns(uint8 size, bytes32 seed) public {
        uint256 n = bound(size, 1, 12);
        ICertificates.Drawdown[] memory rs = new ICertificates.Drawdown[](n);
        uint64 sum;
        for (uint256 i; i < n; ++i) {
            bytes32 ucr = _register(keccak256(abi.encode(seed, i)));
            uint64 q = uint64(1 + uint256(keccak256(abi.encode(seed, "q", i))) % 80);
            rs[i] = ICertificates.Drawdown({
                certificateId: certId, consignmentId: ucr, quantity: q, deadline: _deadline()
            });
            sum += q;
        }
        _drawSigned(rs, PK_CUSTOMS_DE);
        assertEq(certificates.certificate(certId).drawn, sum, "drawn == sum");
        ISignedRecords.Sig memory sig = _signDrawdown(rs[n - 1], PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICertificates.AlreadyDrawn.selector, certId, rs[n - 1].consignmentId
            )
        );
        certificates.drawDown(rs[n - 1], sig);
        for (uint256 i; i < n; ++i) {
            assertEq(
                certificates.drawnFor(certId, rs[i].consignmentId),
                rs[i].quantity,
                "stored as alone"
            );
        }
    }

    // ------------------------------------------------------------------ freshness (deadline)

    function _drawdown(bytes32 consignmentId, uint64 q, uint40 deadline)
        internal
        view
        returns (ICertificates.Drawdown memory)
    {
        return ICertificates.Drawdown({
            certificateId: certId, consignmentId: consignmentId, quantity: q, deadline: deadline
        });
    }

    function _expired(uint40 deadline) internal view returns (bytes memory) {
        return abi.encodeWithSelector(
            ISignedRecords.DeadlineExpired.selector, deadline, uint40(block.timestamp)
        );
    }

    function test_revoke_revertsAfterDeadline() public {
        ICertificates.CertificateRevocation memory r = ICertificates.CertificateRevocation({
            certificateNumber: NUMBER, reasonDigest: keccak256("fraud"), deadline: T0 - 1
        });
        ISignedRecords.Sig memory sig =
            _sig(PK_ISSUER, certificates.hashTypedData(certificates.hashRevocation(r)));
        vm.expectRevert(_expired(T0 - 1));
        certificates.revoke(r, sig);
        assertEq(certificates.certificate(certId).status, 1, "still issued");
    }

    function test_revoke_acceptedAtDeadline_replayWithOtherDeadlineRefused() public {
        ICertificates.CertificateRevocation memory r = ICertificates.CertificateRevocation({
            certificateNumber: NUMBER, reasonDigest: keccak256("fraud"), deadline: T0
        });
        certificates.revoke(
            r, _sig(PK_ISSUER, certificates.hashTypedData(certificates.hashRevocation(r)))
        );
        assertEq(certificates.certificate(certId).status, 2, "revoked at its deadline");
        r.deadline = T0 + 1 days; // a new signature, same certificate: still once
        ISignedRecords.Sig memory sig =
            _sig(PK_ISSUER, certificates.hashTypedData(certificates.hashRevocation(r)));
        vm.expectRevert(abi.encodeWithSelector(ICertificates.CertificateIsRevoked.selector, certId));
        certificates.revoke(r, sig);
    }

    function test_drawDown_revertsAfterDeadline() public {
        ICertificates.Drawdown memory r = _drawdown(UCR1, 10, T0 - 1);
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(_expired(T0 - 1));
        certificates.drawDown(r, sig);
        assertEq(certificates.drawnFor(certId, UCR1), 0, "nothing drawn");
    }

    function test_drawDown_signerCheckedBeforeDeadline() public {
        ICertificates.Drawdown memory r = _drawdown(UCR1, 10, T0 - 1);
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_OUTSIDER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(PK_OUTSIDER))
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_acceptedAtDeadline_sameDrawdownWithOtherDeadlineRefused() public {
        ICertificates.Drawdown memory r = _drawdown(UCR1, 10, T0);
        certificates.drawDown(r, _signDrawdown(r, PK_EXPORTER));
        assertEq(certificates.drawnFor(certId, UCR1), 10, "drawn at its deadline");
        ICertificates.Drawdown memory again = _drawdown(UCR1, 10, T0 + 1 days);
        ISignedRecords.Sig memory sig = _signDrawdown(again, PK_EXPORTER);
        vm.expectRevert(abi.encodeWithSelector(ICertificates.AlreadyDrawn.selector, certId, UCR1));
        certificates.drawDown(again, sig);
    }

    function test_drawDownBatch_revertsForItemAfterDeadline() public {
        ICertificates.Drawdown[] memory rs = new ICertificates.Drawdown[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        rs[0] = _drawdown(UCR1, 10, T0);
        rs[1] = _drawdown(UCR2, 10, T0 - 1);
        sigs[0] = _signDrawdown(rs[0], PK_EXPORTER);
        sigs[1] = _signDrawdown(rs[1], PK_EXPORTER);
        vm.expectRevert(_failed(1, _expired(T0 - 1)));
        certificates.drawDownBatch(rs, sigs);
        assertEq(certificates.certificate(certId).drawn, 0, "nothing drawn");
    }

    function test_drawDownSignedBatch_revertsForItemAfterItsDeadline() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(3);
        rs[1].deadline = T0 - 1; // the batch's own deadline is still ahead
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        vm.expectRevert(_failed(1, _expired(T0 - 1)));
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
        assertEq(certificates.certificate(certId).drawn, 0, "nothing drawn");
    }

    function test_drawDownSignedBatch_acceptsItemsAtTheirDeadline() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        rs[0].deadline = T0;
        _drawSigned(rs, PK_EXPORTER);
        assertEq(certificates.certificate(certId).drawn, 20, "both drawn");
        // The same pairs under other deadlines are the same drawdowns: refused as replays.
        rs[0].deadline = T0 + 2 hours;
        rs[1].deadline = T0 + 2 hours;
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        vm.expectRevert(
            _failed(
                0,
                abi.encodeWithSelector(
                    ICertificates.AlreadyDrawn.selector, certId, rs[0].consignmentId
                )
            )
        );
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    function test_drawDownSignedBatch_itemDeadlineIsSigned() public {
        ICertificates.Drawdown[] memory rs = _ddBatch(2);
        ISignedRecords.Sig memory sig = _signDrawdownBatch(rs, BATCH_DEADLINE, PK_EXPORTER);
        rs[1].deadline += 1 days; // a relayer extending an item's life breaks the signature
        address recovered = ecrecover(
            certificates.hashTypedData(
                certificates.hashDrawdownBatch(
                    ICertificates.DrawdownBatch({
                        drawdownsHash: certificates.drawdownsHash(rs), deadline: BATCH_DEADLINE
                    })
                )
            ),
            uint8(uint256(sig.vs) >> 255) + 27,
            sig.r,
            sig.vs & bytes32(uint256(type(uint256).max >> 1))
        );
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, recovered));
        certificates.drawDownSignedBatch(rs, BATCH_DEADLINE, sig);
    }

    // ------------------------------------------------------------------ HS codes

    function test_hsCodesDigest_hashesSortedAsciiCodes() public view {
        bytes6[] memory codes = new bytes6[](2);
        codes[0] = "010121";
        codes[1] = "847130";
        assertEq(certificates.hsCodesDigest(codes), keccak256("010121847130"), "digest");
    }

    function test_hsCodesDigest_revertsForUnsorted() public {
        bytes6[] memory codes = new bytes6[](2);
        codes[0] = "847130";
        codes[1] = "010121";
        vm.expectRevert(abi.encodeWithSelector(HsCodes.InvalidHsCodes.selector, 1));
        certificates.hsCodesDigest(codes);
    }

    function test_hsCodesDigest_revertsForNonDigit() public {
        bytes6[] memory codes = new bytes6[](1);
        codes[0] = "8471A0";
        vm.expectRevert(abi.encodeWithSelector(HsCodes.InvalidHsCodes.selector, 0));
        certificates.hsCodesDigest(codes);
    }

    function test_hsCodesDigest_revertsForEmpty() public {
        vm.expectRevert(abi.encodeWithSelector(HsCodes.InvalidHsCodes.selector, 0));
        certificates.hsCodesDigest(new bytes6[](0));
    }

    // ------------------------------------------------------------------ fuzz

    function testFuzz_drawDown_neverExceedsTotal(uint64 total, uint64 first, uint64 second) public {
        total = uint64(bound(total, 1, type(uint64).max));
        bytes32 id = _issue(keccak256("fuzz"), total);
        first = uint64(bound(first, 1, type(uint64).max));
        second = uint64(bound(second, 1, type(uint64).max));
        bool firstOk = first <= total;
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: id, consignmentId: UCR1, quantity: first, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        if (!firstOk) {
            vm.expectRevert(
                abi.encodeWithSelector(ICertificates.QuantityExceeded.selector, id, first, total)
            );
        }
        certificates.drawDown(r, sig);
        uint64 drawn = firstOk ? first : 0;
        r = ICertificates.Drawdown({
            certificateId: id, consignmentId: UCR2, quantity: second, deadline: _deadline()
        });
        sig = _signDrawdown(r, PK_EXPORTER);
        bool secondOk = uint256(drawn) + second <= total;
        if (!secondOk) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    ICertificates.QuantityExceeded.selector, id, second, total - drawn
                )
            );
        }
        certificates.drawDown(r, sig);
        if (secondOk) drawn += second;
        ICertificates.Certificate memory c = certificates.certificate(id);
        assertEq(c.drawn, drawn, "drawn");
        assertLe(c.drawn, c.quantity, "drawn <= total");
    }

    function testFuzz_drawDown_validityWindow(uint40 from, uint40 length, uint40 nowTs) public {
        from = uint40(bound(from, T0, T0 + 100 days));
        length = uint40(bound(length, 1, 100 days));
        ICertificates.CertificateIssue memory ir = _issueRecord(keccak256("window"), 10);
        ir.validFrom = from;
        ir.validUntil = from + length;
        bytes32 id = certificates.issue(ir, _signIssue(ir, PK_ISSUER));
        nowTs = uint40(bound(nowTs, T0, T0 + 250 days));
        vm.warp(nowTs);
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: id, consignmentId: UCR1, quantity: 1, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        bool ok = from <= nowTs && nowTs < from + length && nowTs < T0 + KEY_LIFETIME;
        // the signer check comes first, then the certificate's own window
        bytes memory expected =
            _timeError(vm.addr(PK_EXPORTER), T0 - 1 days, T0 + KEY_LIFETIME, nowTs);
        if (expected.length == 0 && nowTs < from) {
            expected =
                abi.encodeWithSelector(ICertificates.CertificateNotYetValid.selector, id, from);
        } else if (expected.length == 0 && nowTs >= from + length) {
            expected = abi.encodeWithSelector(
                ICertificates.CertificateExpired.selector, id, from + length
            );
        }
        assertEq(expected.length == 0, ok, "the rule and the expected error agree");
        if (!ok) vm.expectRevert(expected);
        certificates.drawDown(r, sig);
        assertEq(certificates.drawnFor(id, UCR1), ok ? 1 : 0, "drawn iff valid");
    }

    function testFuzz_issue_rejectsUnregisteredSigner(uint256 pk) public {
        pk = bound(pk, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        vm.assume(membership.keyInfo(vm.addr(pk)).orgId == bytes32(0));
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("x"), 1);
        ISignedRecords.Sig memory sig = _signIssue(r, pk);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(pk)));
        certificates.issue(r, sig);
    }

    // ------------------------------------------------------------------ more revert paths

    function test_issue_revertsForZeroUnit() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 5);
        r.unit = bytes8(0);
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.InvalidCertificate.selector, r.certificateNumber)
        );
        certificates.issue(r, sig);
    }

    function test_issue_revertsForSuspendedIssuer() public {
        _suspend(ISSUER);
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 5);
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, ISSUER, Kinds.STATUS_SUSPENDED
            )
        );
        certificates.issue(r, sig);
    }

    function test_issue_revertsWhenRecordAltered() public {
        ICertificates.CertificateIssue memory r = _issueRecord(keccak256("n2"), 5);
        ISignedRecords.Sig memory sig = _signIssue(r, PK_ISSUER);
        r.quantity = 5000; // the relayer inflates the quantity
        bytes32 digest = certificates.hashTypedData(certificates.hashIssue(r));
        assertTrue(_recoverCompact(digest, sig) != vm.addr(PK_ISSUER), "recovers another key");
        vm.expectRevert(_signatureError(digest, sig));
        certificates.issue(r, sig);
    }

    function test_issueBatch_revertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.LengthMismatch.selector, 2, 0));
        certificates.issueBatch(
            new ICertificates.CertificateIssue[](2), new ISignedRecords.Sig[](0)
        );
    }

    function test_revoke_revertsWhenRelayerNotAllowed() public {
        (ICertificates.CertificateRevocation memory r, ISignedRecords.Sig memory sig) =
            _revocation(PK_ISSUER);
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        certificates.revoke(r, sig);
    }

    function test_certificate_zeroForUnknown() public view {
        ICertificates.Certificate memory c = certificates.certificate(keccak256("none"));
        assertEq(c.status, 0, "none");
        assertEq(c.exporter, bytes32(0), "no exporter");
    }

    function test_drawDown_revertsWhenKeyRevokedAfterSigning() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 1, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        _revokeKey(EXPORTER, PK_EXPORTER, vm.addr(PK_EXPORTER));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyRevoked.selector, vm.addr(PK_EXPORTER), T0)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForDirtyCalldataWord() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR1, quantity: 10, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        bytes memory data = abi.encodeCall(certificates.drawDown, (r, sig));
        // set a high bit in the uint64 quantity word (selector + 2 words)
        data[4 + 64] = 0x01;
        (bool ok,) = address(certificates).call(data);
        assertFalse(ok, "dirty word refused");
        assertEq(certificates.drawnFor(certId, UCR1), 0, "nothing drawn");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Checks} from "./utils/Checks.sol";
import {ICertificates} from "../src/interfaces/ICertificates.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";
import {HsCodes} from "../src/libraries/HsCodes.sol";
import {Kinds} from "../src/libraries/Kinds.sol";

contract CertificatesTest is Checks {
    bytes32 internal constant NUMBER = keccak256("CCPIT-2026-000123");
    bytes32 internal constant UCR1 = keccak256("UCR:1");
    bytes32 internal constant UCR2 = keccak256("UCR:2");

    bytes32 internal certId;

    function setUp() public override {
        super.setUp();
        _register(UCR1);
        _register(UCR2);
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
        assertEq(bytes32(c.recordHash), bytes32(bytes28(structHash)), "record hash");
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
            certificateNumber: NUMBER, reasonDigest: keccak256("fraud")
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
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 400});
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
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 1});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.NotAuthorisedToDraw.selector, certId, CUSTOMS_NL)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForOtherTrader() public {
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 1});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_CONSIGNEE);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.NotAuthorisedToDraw.selector, certId, CONSIGNEE)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsWhenExceedingTotal() public {
        _draw(certId, UCR1, 900, PK_EXPORTER);
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR2, quantity: 101});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.QuantityExceeded.selector, certId, 101, 100)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForSecondDrawOnSameConsignment() public {
        _draw(certId, UCR1, 10, PK_EXPORTER);
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 11});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_CUSTOMS_DE);
        vm.expectRevert(abi.encodeWithSelector(ICertificates.AlreadyDrawn.selector, certId, UCR1));
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsWhenReplayed() public {
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 10});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        certificates.drawDown(r, sig);
        vm.expectRevert(abi.encodeWithSelector(ICertificates.AlreadyDrawn.selector, certId, UCR1));
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForRevokedCertificate() public {
        (ICertificates.CertificateRevocation memory rv, ISignedRecords.Sig memory rs) =
            _revocation(PK_ISSUER);
        certificates.revoke(rv, rs);
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 10});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(abi.encodeWithSelector(ICertificates.CertificateIsRevoked.selector, certId));
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForExpiredCertificate() public {
        vm.warp(T0 + 180 days);
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 10});
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
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: id, consignmentId: UCR1, quantity: 1});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.CertificateNotYetValid.selector, id, T0 + 1 days)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForUnknownCertificate() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: keccak256("forged"), consignmentId: UCR1, quantity: 1
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.UnknownCertificate.selector, keccak256("forged"))
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForUnknownConsignment() public {
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: keccak256("nope"), quantity: 1
        });
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(ICertificates.UnknownConsignment.selector, keccak256("nope"))
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForZeroQuantity() public {
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 0});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(ICertificates.ZeroQuantity.selector);
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForSuspendedExporter() public {
        _suspend(EXPORTER);
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 1});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, EXPORTER, Kinds.STATUS_SUSPENDED
            )
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsWhenRelayerNotAllowed() public {
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 1});
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
        rs[0] = ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 600});
        rs[1] = ICertificates.Drawdown({certificateId: certId, consignmentId: UCR2, quantity: 401});
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
        rs[0] = ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 600});
        rs[1] = ICertificates.Drawdown({certificateId: certId, consignmentId: UCR2, quantity: 400});
        sigs[0] = _signDrawdown(rs[0], PK_EXPORTER);
        sigs[1] = _signDrawdown(rs[1], PK_CUSTOMS_DE);
        certificates.drawDownBatch(rs, sigs);
        assertEq(certificates.remaining(certId), 0, "fully drawn");
    }

    function test_drawDownBatch_revertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.LengthMismatch.selector, 0, 1));
        certificates.drawDownBatch(new ICertificates.Drawdown[](0), new ISignedRecords.Sig[](1));
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
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: id, consignmentId: UCR1, quantity: first});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        if (!firstOk) {
            vm.expectRevert(
                abi.encodeWithSelector(ICertificates.QuantityExceeded.selector, id, first, total)
            );
        }
        certificates.drawDown(r, sig);
        uint64 drawn = firstOk ? first : 0;
        r = ICertificates.Drawdown({certificateId: id, consignmentId: UCR2, quantity: second});
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
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: id, consignmentId: UCR1, quantity: 1});
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
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 1});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        _revokeKey(EXPORTER, PK_EXPORTER, vm.addr(PK_EXPORTER));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyRevoked.selector, vm.addr(PK_EXPORTER), T0)
        );
        certificates.drawDown(r, sig);
    }

    function test_drawDown_revertsForDirtyCalldataWord() public {
        ICertificates.Drawdown memory r =
            ICertificates.Drawdown({certificateId: certId, consignmentId: UCR1, quantity: 10});
        ISignedRecords.Sig memory sig = _signDrawdown(r, PK_EXPORTER);
        bytes memory data = abi.encodeCall(certificates.drawDown, (r, sig));
        // set a high bit in the uint64 quantity word (selector + 2 words)
        data[4 + 64] = 0x01;
        (bool ok,) = address(certificates).call(data);
        assertFalse(ok, "dirty word refused");
        assertEq(certificates.drawnFor(certId, UCR1), 0, "nothing drawn");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixture} from "./utils/Fixture.sol";
import {Declarations} from "../src/Declarations.sol";
import {IDeclarations} from "../src/interfaces/IDeclarations.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";
import {Kinds} from "../src/libraries/Kinds.sol";

contract DeclarationsTest is Fixture {
    Declarations internal declarations;
    bytes32 internal constant UCR = keccak256("UCR:DECL-1");
    bytes32 internal constant CERT = keccak256("certificate");

    function setUp() public override {
        super.setUp();
        declarations = new Declarations(membership);
    }

    function _decl(bytes32 ref) internal view returns (IDeclarations.Declaration memory) {
        return IDeclarations.Declaration({
            declarationRef: ref,
            administration: CUSTOMS_DE,
            consignmentId: UCR,
            certificateId: CERT,
            valuesDigest: keccak256(abi.encode("values", ref)),
            amends: bytes32(0),
            lodgedAt: uint40(block.timestamp)
        });
    }

    function _sign(IDeclarations.Declaration memory r, uint256 pk)
        internal
        view
        returns (ISignedRecords.Sig memory)
    {
        return _sig(pk, declarations.hashTypedData(declarations.hashDeclaration(r)));
    }

    function _lodge(IDeclarations.Declaration memory r, uint256 pk) internal returns (bytes32) {
        return declarations.lodge(r, _sign(r, pk));
    }

    // ------------------------------------------------------------------ hashing

    function test_hashDeclaration_matchesTypeString() public view {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        bytes32 typehash = keccak256(
            "Declaration(bytes32 declarationRef,bytes32 administration,bytes32 consignmentId,bytes32 certificateId,bytes32 valuesDigest,bytes32 amends,uint40 lodgedAt)"
        );
        assertEq(declarations.DECLARATION_TYPEHASH(), typehash, "typehash");
        assertEq(declarations.hashDeclaration(r), keccak256(abi.encode(typehash, r)), "struct");
        assertEq(
            declarations.hashTypedData(declarations.hashDeclaration(r)),
            _digest(
                address(declarations),
                "TradeLedger Declarations",
                keccak256(abi.encode(typehash, r))
            ),
            "digest"
        );
    }

    // ------------------------------------------------------------------ lodge

    function test_lodge_storesKeysAndDigest() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        bytes32 expectedId = keccak256(abi.encode(CONSIGNEE, r.declarationRef));
        vm.expectEmit(true, true, true, true, address(declarations));
        emit IDeclarations.DeclarationLodged(
            expectedId, CONSIGNEE, CUSTOMS_DE, vm.addr(PK_CONSIGNEE), r
        );
        bytes32 id = _lodge(r, PK_CONSIGNEE);
        assertEq(id, expectedId, "id");
        assertEq(declarations.declarationId(CONSIGNEE, r.declarationRef), id, "id view");
        IDeclarations.Stored memory s = declarations.declaration(id);
        assertEq(s.declarant, CONSIGNEE, "declarant");
        assertEq(s.administration, CUSTOMS_DE, "administration");
        assertEq(s.recordHash, declarations.hashDeclaration(r), "record hash");
        assertEq(s.lodgedAt, T0, "lodged");
        assertEq(s.recordedAt, T0, "recorded");
        assertEq(s.amendedBy, bytes32(0), "not amended");
    }

    function test_lodge_byCarrierAndPostalOperator() public {
        bytes32 a = _lodge(_decl(keccak256("C-1")), PK_CARRIER);
        bytes32 b = _lodge(_decl(keccak256("P-1")), PK_POSTAL);
        assertEq(declarations.declaration(a).declarant, CARRIER, "carrier");
        assertEq(declarations.declaration(b).declarant, POSTAL, "postal");
    }

    function test_declaration_unknownIsZero() public view {
        IDeclarations.Stored memory s = declarations.declaration(keccak256("nothing"));
        assertEq(s.declarant, bytes32(0), "declarant");
        assertEq(s.recordHash, bytes32(0), "hash");
    }

    function test_lodge_revertsWhenReplayed() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        ISignedRecords.Sig memory sig = _sign(r, PK_CONSIGNEE);
        bytes32 id = declarations.lodge(r, sig);
        vm.expectRevert(abi.encodeWithSelector(IDeclarations.DeclarationExists.selector, id));
        declarations.lodge(r, sig);
    }

    function test_lodge_revertsForSameReferenceWithOtherValues() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        bytes32 id = _lodge(r, PK_CONSIGNEE);
        r.valuesDigest = keccak256("changed values");
        ISignedRecords.Sig memory sig_ = _sign(r, PK_CONSIGNEE);
        vm.expectRevert(abi.encodeWithSelector(IDeclarations.DeclarationExists.selector, id));
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsForWrongSigner() public {
        // Signed by an unregistered key: the recovered signer is unknown.
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        ISignedRecords.Sig memory sig_ = _sign(r, PK_OUTSIDER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(PK_OUTSIDER))
        );
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsWhenAlteredAfterSigning() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        ISignedRecords.Sig memory sig = _sign(r, PK_CONSIGNEE);
        r.valuesDigest = keccak256("lower value");
        bytes32 digest = declarations.hashTypedData(declarations.hashDeclaration(r));
        (address other,,) = _recoverAddress(digest, sig);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, other));
        declarations.lodge(r, sig);
    }

    function _recoverAddress(bytes32 digest, ISignedRecords.Sig memory sig)
        internal
        pure
        returns (address, bytes32, bytes32)
    {
        bytes32 s = bytes32(uint256(sig.vs) & ((1 << 255) - 1));
        uint8 v = uint8((uint256(sig.vs) >> 255) + 27);
        return (ecrecover(digest, v, sig.r, s), sig.r, s);
    }

    function test_lodge_revertsForRevokedKey() public {
        _revokeKey(CONSIGNEE, PK_CONSIGNEE, vm.addr(PK_CONSIGNEE));
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        ISignedRecords.Sig memory sig_ = _sign(r, PK_CONSIGNEE);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyRevoked.selector, vm.addr(PK_CONSIGNEE), T0)
        );
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsForExpiredKey() public {
        uint256 pk = 0x7AD0FF;
        _addKey(CONSIGNEE, PK_CONSIGNEE, vm.addr(pk), T0 - 1, T0 + 100);
        vm.warp(T0 + 100);
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        ISignedRecords.Sig memory sig_ = _sign(r, pk);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.KeyExpired.selector, vm.addr(pk), T0 + 100, T0 + 100
            )
        );
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsForLodgementTimeBeforeKey() public {
        uint256 pk = 0x7AD0FE;
        _addKey(CONSIGNEE, PK_CONSIGNEE, vm.addr(pk), T0, T0 + 1 days);
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        r.lodgedAt = T0 - 10;
        ISignedRecords.Sig memory sig_ = _sign(r, pk);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyNotYetValid.selector, vm.addr(pk), T0, T0 - 10)
        );
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsForLodgementTimeInFuture() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        r.lodgedAt = T0 + 301;
        ISignedRecords.Sig memory sig_ = _sign(r, PK_CONSIGNEE);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RecordTimeInFuture.selector, T0 + 301, T0)
        );
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsWhenHeldBackPastMaxLodgeAge() public {
        vm.warp(T0 + 2 days);
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        r.lodgedAt = uint40(block.timestamp - 1 days - 1);
        ISignedRecords.Sig memory sig_ = _sign(r, PK_CONSIGNEE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDeclarations.LodgementTooOld.selector, r.lodgedAt, uint40(block.timestamp)
            )
        );
        declarations.lodge(r, sig_);
        r.lodgedAt = uint40(block.timestamp - 1 days); // at the bound: accepted
        _lodge(r, PK_CONSIGNEE);
    }

    function test_lodgeBatch_wrapsLodgementTooOld() public {
        vm.warp(T0 + 2 days);
        IDeclarations.Declaration[] memory rs = new IDeclarations.Declaration[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        rs[0] = _decl(keccak256("B-0"));
        sigs[0] = _sign(rs[0], PK_CONSIGNEE);
        rs[1] = _decl(keccak256("B-1"));
        rs[1].lodgedAt = uint40(block.timestamp - 2 days);
        sigs[1] = _sign(rs[1], PK_CONSIGNEE);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(
                    IDeclarations.LodgementTooOld.selector, rs[1].lodgedAt, uint40(block.timestamp)
                )
            )
        );
        declarations.lodgeBatch(rs, sigs);
    }

    function test_lodge_revertsForCustomsAsDeclarant() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        ISignedRecords.Sig memory sig_ = _sign(r, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, CUSTOMS_NL, Kinds.CUSTOMS)
        );
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsForIssuingBodyAsDeclarant() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        ISignedRecords.Sig memory sig_ = _sign(r, PK_ISSUER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, ISSUER, Kinds.ISSUING_BODY)
        );
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsForSuspendedDeclarant() public {
        _suspend(CONSIGNEE);
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        ISignedRecords.Sig memory sig_ = _sign(r, PK_CONSIGNEE);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, CONSIGNEE, Kinds.STATUS_SUSPENDED
            )
        );
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsWhenAdministrationIsNotCustoms() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        r.administration = CARRIER;
        ISignedRecords.Sig memory sig_ = _sign(r, PK_CONSIGNEE);
        vm.expectRevert(abi.encodeWithSelector(IDeclarations.NotAnAdministration.selector, CARRIER));
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsWhenAdministrationUnknown() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        r.administration = keccak256("org:nobody");
        ISignedRecords.Sig memory sig_ = _sign(r, PK_CONSIGNEE);
        vm.expectRevert(
            abi.encodeWithSelector(IDeclarations.NotAnAdministration.selector, r.administration)
        );
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsForZeroDigest() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        r.valuesDigest = bytes32(0);
        ISignedRecords.Sig memory sig_ = _sign(r, PK_CONSIGNEE);
        vm.expectRevert(IDeclarations.MalformedDeclaration.selector);
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsForZeroReference() public {
        IDeclarations.Declaration memory r = _decl(bytes32(0));
        ISignedRecords.Sig memory sig_ = _sign(r, PK_CONSIGNEE);
        vm.expectRevert(IDeclarations.MalformedDeclaration.selector);
        declarations.lodge(r, sig_);
    }

    function test_lodge_revertsForMalformedSignature() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        ISignedRecords.Sig memory sig = ISignedRecords.Sig({r: bytes32(0), vs: bytes32(0)});
        vm.expectRevert(ISignedRecords.InvalidSignature.selector);
        declarations.lodge(r, sig);
    }

    function test_lodge_revertsWhenRelayerNotAllowed() public {
        IDeclarations.Declaration memory r = _decl(keccak256("D-1"));
        ISignedRecords.Sig memory sig = _sign(r, PK_CONSIGNEE);
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        declarations.lodge(r, sig);
    }

    function test_lodge_sameReferenceByTwoDeclarantsAreDistinct() public {
        bytes32 a = _lodge(_decl(keccak256("D-1")), PK_CONSIGNEE);
        bytes32 b = _lodge(_decl(keccak256("D-1")), PK_EXPORTER);
        assertTrue(a != b, "distinct ids");
    }

    // ------------------------------------------------------------------ amendments

    function test_amend_chainsToTheAmendedDeclaration() public {
        bytes32 first = _lodge(_decl(keccak256("D-1")), PK_CONSIGNEE);
        IDeclarations.Declaration memory a = _decl(keccak256("D-1/1"));
        a.amends = first;
        bytes32 second = _lodge(a, PK_CONSIGNEE);
        IDeclarations.Declaration memory b = _decl(keccak256("D-1/2"));
        b.amends = second;
        bytes32 third = _lodge(b, PK_CONSIGNEE);
        assertEq(declarations.declaration(first).amendedBy, second, "first amended by second");
        assertEq(declarations.declaration(second).amendedBy, third, "second amended by third");
        assertEq(declarations.declaration(third).amendedBy, bytes32(0), "third is latest");
        // The first value declared is kept as it was.
        assertEq(
            declarations.declaration(first).recordHash,
            declarations.hashDeclaration(_decl(keccak256("D-1"))),
            "original kept"
        );
    }

    function test_amend_revertsWhenAmendedTwice() public {
        bytes32 first = _lodge(_decl(keccak256("D-1")), PK_CONSIGNEE);
        IDeclarations.Declaration memory a = _decl(keccak256("D-1/1"));
        a.amends = first;
        bytes32 second = _lodge(a, PK_CONSIGNEE);
        IDeclarations.Declaration memory b = _decl(keccak256("D-1/1b"));
        b.amends = first;
        ISignedRecords.Sig memory sig_ = _sign(b, PK_CONSIGNEE);
        vm.expectRevert(
            abi.encodeWithSelector(IDeclarations.AlreadyAmended.selector, first, second)
        );
        declarations.lodge(b, sig_);
    }

    function test_amend_revertsForUnknownDeclaration() public {
        IDeclarations.Declaration memory a = _decl(keccak256("D-1/1"));
        a.amends = keccak256("nothing");
        ISignedRecords.Sig memory sig_ = _sign(a, PK_CONSIGNEE);
        vm.expectRevert(abi.encodeWithSelector(IDeclarations.UnknownDeclaration.selector, a.amends));
        declarations.lodge(a, sig_);
    }

    function test_amend_revertsForAnotherDeclarant() public {
        bytes32 first = _lodge(_decl(keccak256("D-1")), PK_CONSIGNEE);
        IDeclarations.Declaration memory a = _decl(keccak256("D-1/1"));
        a.amends = first;
        ISignedRecords.Sig memory sig_ = _sign(a, PK_EXPORTER);
        vm.expectRevert(abi.encodeWithSelector(IDeclarations.AmendmentMismatch.selector, first));
        declarations.lodge(a, sig_);
    }

    function test_amend_revertsForAnotherAdministration() public {
        bytes32 first = _lodge(_decl(keccak256("D-1")), PK_CONSIGNEE);
        IDeclarations.Declaration memory a = _decl(keccak256("D-1/1"));
        a.amends = first;
        a.administration = CUSTOMS_NL;
        ISignedRecords.Sig memory sig_ = _sign(a, PK_CONSIGNEE);
        vm.expectRevert(abi.encodeWithSelector(IDeclarations.AmendmentMismatch.selector, first));
        declarations.lodge(a, sig_);
    }

    // ------------------------------------------------------------------ batches

    function test_lodgeBatch_recordsAll() public {
        IDeclarations.Declaration[] memory rs = new IDeclarations.Declaration[](3);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](3);
        for (uint256 i; i < 3; ++i) {
            rs[i] = _decl(keccak256(abi.encode("B", i)));
            sigs[i] = _sign(rs[i], PK_CONSIGNEE);
        }
        declarations.lodgeBatch(rs, sigs);
        for (uint256 i; i < 3; ++i) {
            bytes32 id = declarations.declarationId(CONSIGNEE, rs[i].declarationRef);
            assertEq(declarations.declaration(id).declarant, CONSIGNEE, "recorded");
        }
    }

    function test_lodgeBatch_revertsWholeBatchForOneBadItem() public {
        IDeclarations.Declaration[] memory rs = new IDeclarations.Declaration[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        rs[0] = _decl(keccak256("B-0"));
        sigs[0] = _sign(rs[0], PK_CONSIGNEE);
        rs[1] = _decl(keccak256("B-1"));
        sigs[1] = _sign(rs[1], PK_CUSTOMS_DE);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(ISignedRecords.WrongKind.selector, CUSTOMS_DE, Kinds.CUSTOMS)
            )
        );
        declarations.lodgeBatch(rs, sigs);
        bytes32 id0 = declarations.declarationId(CONSIGNEE, rs[0].declarationRef);
        assertEq(declarations.declaration(id0).declarant, bytes32(0), "nothing recorded");
    }

    function test_lodgeBatch_revertsForLengthMismatch() public {
        IDeclarations.Declaration[] memory rs = new IDeclarations.Declaration[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](1);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.LengthMismatch.selector, 2, 1));
        declarations.lodgeBatch(rs, sigs);
    }

    function testFuzz_lodge_anyAlteredFieldChangesSigner(bytes32 digest) public {
        vm.assume(digest != bytes32(0));
        IDeclarations.Declaration memory r = _decl(keccak256("D-F"));
        ISignedRecords.Sig memory sig = _sign(r, PK_CONSIGNEE);
        r.valuesDigest = digest;
        if (digest == keccak256(abi.encode("values", keccak256("D-F")))) return;
        vm.expectRevert();
        declarations.lodge(r, sig);
    }
}

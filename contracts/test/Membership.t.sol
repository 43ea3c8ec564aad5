// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Checks} from "./utils/Checks.sol";
import {Membership} from "../src/Membership.sol";
import {IMembership} from "../src/interfaces/IMembership.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";
import {Kinds} from "../src/libraries/Kinds.sol";

contract MembershipTest is Checks {
    // ------------------------------------------------------------------ constructor

    function test_constructor_bootstrapsAdministrationsRelayersAndThreshold() public view {
        assertEq(membership.threshold(), 2, "threshold");
        assertEq(membership.activeCustomsCount(), 3, "active customs");
        assertEq(membership.organisationCount(), 8, "organisations");
        IMembership.Organisation memory o = membership.organisation(CUSTOMS_NL);
        assertEq(o.kind, Kinds.CUSTOMS, "kind");
        assertEq(o.status, Kinds.STATUS_ACTIVE, "status");
        assertEq(bytes32(o.country), bytes32(bytes2("NL")), "country");
        assertEq(o.index, 2, "index");
        assertEq(membership.organisationId(2), CUSTOMS_NL, "id by index");
        assertTrue(membership.isRelayer(address(this)), "relayer");
        IMembership.Key memory k = membership.key(vm.addr(PK_CUSTOMS_CN));
        assertEq(k.orgId, CUSTOMS_CN, "key org");
        assertEq(k.validUntil, T0 + KEY_LIFETIME, "key until");
    }

    function test_constructor_emitsBootstrapEvents() public {
        IMembership.BootstrapAdministration[] memory admins =
            new IMembership.BootstrapAdministration[](1);
        admins[0] = _bootstrap(CUSTOMS_DE, "DE", PK_CUSTOMS_DE);
        address[] memory relayers = new address[](1);
        relayers[0] = address(0x1234);
        vm.recordLogs();
        new Membership(admins, relayers, 1);
        assertEq(vm.getRecordedLogs().length, 4, "admitted, key, relayer, threshold");
    }

    function test_constructor_revertsOnZeroThreshold() public {
        IMembership.BootstrapAdministration[] memory admins =
            new IMembership.BootstrapAdministration[](1);
        admins[0] = _bootstrap(CUSTOMS_DE, "DE", PK_CUSTOMS_DE);
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, 0, 1));
        new Membership(admins, new address[](0), 0);
    }

    function test_constructor_revertsOnThresholdAboveAdministrations() public {
        IMembership.BootstrapAdministration[] memory admins =
            new IMembership.BootstrapAdministration[](1);
        admins[0] = _bootstrap(CUSTOMS_DE, "DE", PK_CUSTOMS_DE);
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, 2, 1));
        new Membership(admins, new address[](0), 2);
    }

    function test_constructor_revertsOnDuplicateOrganisation() public {
        IMembership.BootstrapAdministration[] memory admins =
            new IMembership.BootstrapAdministration[](2);
        admins[0] = _bootstrap(CUSTOMS_DE, "DE", PK_CUSTOMS_DE);
        admins[1] = _bootstrap(CUSTOMS_DE, "DE", PK_CUSTOMS_NL);
        vm.expectRevert(abi.encodeWithSelector(IMembership.OrganisationExists.selector, CUSTOMS_DE));
        new Membership(admins, new address[](0), 1);
    }

    function test_constructor_revertsOnDuplicateKey() public {
        IMembership.BootstrapAdministration[] memory admins =
            new IMembership.BootstrapAdministration[](2);
        admins[0] = _bootstrap(CUSTOMS_DE, "DE", PK_CUSTOMS_DE);
        admins[1] = _bootstrap(CUSTOMS_NL, "NL", PK_CUSTOMS_DE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMembership.KeyAlreadyRegistered.selector, vm.addr(PK_CUSTOMS_DE)
            )
        );
        new Membership(admins, new address[](0), 1);
    }

    function test_constructor_revertsOnZeroCountry() public {
        IMembership.BootstrapAdministration[] memory admins =
            new IMembership.BootstrapAdministration[](1);
        admins[0] = _bootstrap(CUSTOMS_DE, bytes2(0), PK_CUSTOMS_DE);
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidCountry.selector, bytes2(0)));
        new Membership(admins, new address[](0), 1);
    }

    // ------------------------------------------------------------------ EIP-712

    function test_hashTypedData_matchesIndependentDigest() public view {
        bytes32 structHash = membership.hashApproval(bytes32(uint256(7)));
        assertEq(
            membership.hashTypedData(structHash),
            _digest(address(membership), "TradeLedger Membership", structHash),
            "digest"
        );
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            membership.eip712Domain();
        assertEq(keccak256(bytes(name)), keccak256("TradeLedger Membership"), "name");
        assertEq(keccak256(bytes(version)), keccak256("1"), "version");
        assertEq(chainId, block.chainid, "chain");
        assertEq(verifying, address(membership), "contract");
    }

    function test_typehashes_matchTypeStrings() public view {
        assertEq(
            membership.PROPOSAL_TYPEHASH(),
            keccak256(
                "Proposal(uint8 action,bytes32 orgId,uint8 kind,bytes2 country,address account,uint40 validFrom,uint40 validUntil,uint16 threshold,uint40 expiresAt,bytes32 salt,bytes32 subject)"
            ),
            "proposal"
        );
        assertEq(
            membership.APPROVAL_TYPEHASH(), keccak256("Approval(bytes32 proposalId)"), "approval"
        );
        assertEq(
            membership.KEY_ADDITION_TYPEHASH(),
            keccak256("KeyAddition(bytes32 orgId,address key,uint40 validFrom,uint40 validUntil)"),
            "key addition"
        );
        assertEq(
            membership.KEY_REVOCATION_TYPEHASH(),
            keccak256("KeyRevocation(bytes32 orgId,address key,uint40 deadline)"),
            "key revocation"
        );
    }

    // ------------------------------------------------------------------ propose

    function test_propose_recordsProposalAndProposerApproval() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xAAAA);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        assertEq(id, membership.hashProposal(p), "id is struct hash");
        IMembership.ProposalState memory s = membership.proposalState(id);
        assertEq(s.action, 7, "action");
        assertEq(s.approvals, 1, "approvals");
        assertEq(s.expiresAt, p.expiresAt, "expiry");
        assertFalse(s.executed, "executed");
        assertTrue(membership.hasApproved(id, CUSTOMS_DE), "proposer approved");
    }

    function test_propose_revertsWhenRelayerNotAllowed() public {
        IMembership.Proposal memory p = _proposal(7);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, membership.hashTypedData(membership.hashProposal(p)));
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        membership.propose(p, sig);
    }

    function test_propose_revertsForWrongKind() public {
        IMembership.Proposal memory p = _proposal(7);
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashProposal(p)));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, CARRIER, Kinds.CARRIER)
        );
        membership.propose(p, sig);
    }

    function test_propose_revertsForUnknownKey() public {
        IMembership.Proposal memory p = _proposal(7);
        ISignedRecords.Sig memory sig =
            _sig(PK_OUTSIDER, membership.hashTypedData(membership.hashProposal(p)));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(PK_OUTSIDER))
        );
        membership.propose(p, sig);
    }

    function test_propose_revertsForMalformedSignature() public {
        IMembership.Proposal memory p = _proposal(7);
        ISignedRecords.Sig memory sig = ISignedRecords.Sig({r: bytes32(0), vs: bytes32(0)});
        vm.expectRevert(ISignedRecords.InvalidSignature.selector);
        membership.propose(p, sig);
    }

    function test_propose_revertsWhenFieldAltered() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xAAAA);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, membership.hashTypedData(membership.hashProposal(p)));
        p.account = address(0xBBBB); // the relayer alters the record: another signer recovers
        bytes32 digest = membership.hashTypedData(membership.hashProposal(p));
        assertTrue(_recoverCompact(digest, sig) != vm.addr(PK_CUSTOMS_DE), "another key");
        vm.expectRevert(_signatureError(digest, sig)); // UnknownKey(<the recovered address>)
        membership.propose(p, sig);
    }

    function test_propose_revertsForUnknownAction() public {
        IMembership.Proposal memory p = _proposal(12);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, membership.hashTypedData(membership.hashProposal(p)));
        vm.expectRevert(abi.encodeWithSelector(IMembership.UnknownAction.selector, 12));
        membership.propose(p, sig);
    }

    function test_propose_revertsForExpiryOutOfRange() public {
        IMembership.Proposal memory p = _proposal(7);
        p.expiresAt = uint40(block.timestamp + 31 days);
        bytes32 id = membership.hashProposal(p);
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_DE, membership.hashTypedData(id));
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.ProposalExpired.selector, id, p.expiresAt)
        );
        membership.propose(p, sig);
    }

    function test_propose_revertsWhenReplayed() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xAAAA);
        bytes32 id = membership.hashProposal(p);
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_DE, membership.hashTypedData(id));
        membership.propose(p, sig);
        vm.expectRevert(abi.encodeWithSelector(IMembership.ProposalExists.selector, id));
        membership.propose(p, sig);
    }

    function test_propose_revertsForSuspendedAdministration() public {
        _suspend(CUSTOMS_CN);
        IMembership.Proposal memory p = _proposal(7);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, membership.hashTypedData(membership.hashProposal(p)));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, CUSTOMS_CN, Kinds.STATUS_SUSPENDED
            )
        );
        membership.propose(p, sig);
    }

    // ------------------------------------------------------------------ approve

    function test_approve_countsDistinctAdministrations() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xAAAA);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        _approve(id, PK_CUSTOMS_CN);
        assertEq(membership.proposalState(id).approvals, 3, "approvals");
        assertTrue(membership.hasApproved(id, CUSTOMS_CN), "cn approved");
    }

    function test_approve_revertsWhenAlreadyApproved() public {
        IMembership.Proposal memory p = _proposal(7);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, membership.hashTypedData(membership.hashApproval(id)));
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.AlreadyApproved.selector, id, CUSTOMS_DE)
        );
        membership.approve(id, sig);
    }

    function test_approve_revertsWhenReplayedWithSecondKeyOfSameAdministration() public {
        uint256 second = 0xC0DE99;
        _addKey(CUSTOMS_NL, PK_CUSTOMS_NL, vm.addr(second), T0, T0 + 30 days);
        IMembership.Proposal memory p = _proposal(7);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        ISignedRecords.Sig memory sig =
            _sig(second, membership.hashTypedData(membership.hashApproval(id)));
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.AlreadyApproved.selector, id, CUSTOMS_NL)
        );
        membership.approve(id, sig);
    }

    function test_approve_revertsForUnknownProposal() public {
        bytes32 id = keccak256("nothing");
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_NL, membership.hashTypedData(membership.hashApproval(id)));
        vm.expectRevert(abi.encodeWithSelector(IMembership.UnknownProposal.selector, id));
        membership.approve(id, sig);
    }

    function test_approve_revertsWhenExpired() public {
        IMembership.Proposal memory p = _proposal(7);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        vm.warp(p.expiresAt);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_NL, membership.hashTypedData(membership.hashApproval(id)));
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.ProposalExpired.selector, id, p.expiresAt)
        );
        membership.approve(id, sig);
    }

    function test_approve_revertsForNonCustoms() public {
        IMembership.Proposal memory p = _proposal(7);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        ISignedRecords.Sig memory sig =
            _sig(PK_ISSUER, membership.hashTypedData(membership.hashApproval(id)));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, ISSUER, Kinds.ISSUING_BODY)
        );
        membership.approve(id, sig);
    }

    // ------------------------------------------------------------------ execute

    function test_execute_revertsWithInsufficientApprovals() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xAAAA);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.InsufficientApprovals.selector, id, 1, 2)
        );
        membership.execute(p);
    }

    function test_execute_revertsWhenExecutedTwice() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xAAAA);
        bytes32 id = _govern(p);
        vm.expectRevert(abi.encodeWithSelector(IMembership.ProposalAlreadyExecuted.selector, id));
        membership.execute(p);
    }

    function test_execute_revertsWhenExpired() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xAAAA);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.warp(p.expiresAt + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.ProposalExpired.selector, id, p.expiresAt)
        );
        membership.execute(p);
    }

    function test_execute_revertsWhenRelayerNotAllowed() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xAAAA);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        membership.execute(p);
    }

    function test_execute_admitsMemberWithFirstKey() public {
        bytes32 orgId = keccak256("org:new-carrier");
        uint256 pk = 0xCA0002;
        _admitChecked(orgId, pk);
        IMembership.Organisation memory o = membership.organisation(orgId);
        assertEq(o.kind, Kinds.CARRIER, "kind");
        assertEq(o.index, 9, "index");
        assertEq(membership.keyInfo(vm.addr(pk)).orgId, orgId, "first key");
    }

    function _admitChecked(bytes32 orgId, uint256 pk) private {
        IMembership.Proposal memory p = _proposal(1);
        p.orgId = orgId;
        p.kind = Kinds.CARRIER;
        p.country = "SG";
        p.account = vm.addr(pk);
        p.validFrom = uint40(block.timestamp);
        p.validUntil = uint40(block.timestamp + 1 days);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectEmit(true, true, true, true, address(membership));
        emit IMembership.OrganisationAdmitted(orgId, Kinds.CARRIER, "SG", 9, id);
        membership.execute(p);
    }

    function test_execute_revertsAdmitWithCustomsKind() public {
        IMembership.Proposal memory p = _proposal(1);
        p.orgId = keccak256("org:x");
        p.kind = Kinds.CUSTOMS;
        p.country = "FR";
        p.account = address(0x1111);
        p.validUntil = uint40(block.timestamp + 1 days);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidKind.selector, Kinds.CUSTOMS));
        membership.execute(p);
    }

    function test_execute_revertsAdmitOfExistingOrganisation() public {
        IMembership.Proposal memory p = _proposal(1);
        p.orgId = CARRIER;
        p.kind = Kinds.CARRIER;
        p.country = "NL";
        p.account = address(0x1111);
        p.validUntil = uint40(block.timestamp + 1 days);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(abi.encodeWithSelector(IMembership.OrganisationExists.selector, CARRIER));
        membership.execute(p);
    }

    function test_execute_addsCustomsAdministration() public {
        _admit(keccak256("org:customs-fr"), Kinds.CUSTOMS, "FR", 0xC0DE04);
        assertEq(membership.activeCustomsCount(), 4, "n");
        assertEq(membership.organisation(keccak256("org:customs-fr")).kind, Kinds.CUSTOMS, "kind");
    }

    function test_execute_revertsAddCustomsWithOtherKind() public {
        IMembership.Proposal memory p = _proposal(4);
        p.orgId = keccak256("org:x");
        p.kind = Kinds.TRADER;
        p.country = "FR";
        p.account = address(0x1111);
        p.validUntil = uint40(block.timestamp + 1 days);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidKind.selector, Kinds.TRADER));
        membership.execute(p);
    }

    function test_execute_suspendsAndReinstatesMember() public {
        _suspend(CARRIER);
        assertEq(membership.organisation(CARRIER).status, Kinds.STATUS_SUSPENDED, "suspended");
        IMembership.Proposal memory p = _proposal(3);
        p.orgId = CARRIER;
        _govern(p);
        assertEq(membership.organisation(CARRIER).status, Kinds.STATUS_ACTIVE, "reinstated");
    }

    function test_execute_revertsReinstateOfActiveMember() public {
        IMembership.Proposal memory p = _proposal(3);
        p.orgId = CARRIER;
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.InvalidStatus.selector, CARRIER, Kinds.STATUS_ACTIVE)
        );
        membership.execute(p);
    }

    function test_execute_revertsSuspendOfUnknownOrganisation() public {
        IMembership.Proposal memory p = _proposal(2);
        p.orgId = keccak256("org:none");
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.UnknownOrganisation.selector, p.orgId)
        );
        membership.execute(p);
    }

    function test_execute_suspendingCustomsUpdatesCount() public {
        _suspend(CUSTOMS_CN);
        assertEq(membership.activeCustomsCount(), 2, "n");
        IMembership.Proposal memory p = _proposal(3);
        p.orgId = CUSTOMS_CN;
        _govern(p);
        assertEq(membership.activeCustomsCount(), 3, "n after reinstate");
    }

    function test_execute_revertsSuspensionBelowThreshold() public {
        _suspend(CUSTOMS_CN);
        IMembership.Proposal memory p = _proposal(2);
        p.orgId = CUSTOMS_NL;
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(abi.encodeWithSelector(IMembership.ThresholdUnreachable.selector, 2, 1));
        membership.execute(p);
    }

    function test_execute_setsThreshold() public {
        IMembership.Proposal memory p = _proposal(5);
        p.threshold = 3;
        _govern(p);
        assertEq(membership.threshold(), 3, "k");
    }

    function test_execute_revertsThresholdAboveAdministrations() public {
        IMembership.Proposal memory p = _proposal(5);
        p.threshold = 4;
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, 4, 3));
        membership.execute(p);
    }

    function test_execute_revokesAnyKeyInEmergency() public {
        IMembership.Proposal memory p = _proposal(6);
        p.account = vm.addr(PK_CARRIER);
        _govern(p);
        assertEq(membership.key(vm.addr(PK_CARRIER)).revokedAt, block.timestamp, "revoked");
    }

    function test_execute_revertsRevokeOfUnknownKey() public {
        IMembership.Proposal memory p = _proposal(6);
        p.account = address(0x1234);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.KeyNotRegistered.selector, address(0x1234))
        );
        membership.execute(p);
    }

    function test_execute_addsAndRemovesRelayer() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = OUTSIDER_RELAYER;
        _govern(p);
        assertTrue(membership.isRelayer(OUTSIDER_RELAYER), "added");
        p = _proposal(8);
        p.account = OUTSIDER_RELAYER;
        _govern(p);
        assertFalse(membership.isRelayer(OUTSIDER_RELAYER), "removed");
    }

    function test_execute_revertsAddingListedRelayer() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(this);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.RelayerAlreadyAllowed.selector, address(this))
        );
        membership.execute(p);
    }

    function test_execute_revertsRemovingUnlistedRelayer() public {
        IMembership.Proposal memory p = _proposal(8);
        p.account = OUTSIDER_RELAYER;
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.RelayerNotListed.selector, OUTSIDER_RELAYER)
        );
        membership.execute(p);
    }

    // ------------------------------------------------------------------ own keys

    // ------------------------------------------------------------------ key lifecycle

    uint256 internal constant PK_NEW = 0xBEE5;

    function _keyProposal(uint8 action, bytes32 orgId, address account)
        internal
        returns (IMembership.Proposal memory p)
    {
        p = _proposal(action);
        p.orgId = orgId;
        p.account = account;
        p.validFrom = uint40(block.timestamp);
        p.validUntil = uint40(block.timestamp + KEY_LIFETIME);
    }

    function test_execute_addKeyGivesLockedOutOrganisationAKey() public {
        IMembership.Proposal memory revoke = _proposal(6);
        revoke.account = vm.addr(PK_CARRIER);
        _govern(revoke); // the carrier's only key: it can sign nothing now
        IMembership.Proposal memory p = _keyProposal(9, CARRIER, vm.addr(PK_NEW));
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectEmit(true, true, true, true, address(membership));
        emit IMembership.ProposalExecuted(id, 9, 2);
        vm.expectEmit(true, true, true, true, address(membership));
        emit IMembership.SigningKeyAdded(
            CARRIER, vm.addr(PK_NEW), p.validFrom, p.validUntil, address(0), id
        );
        membership.execute(p);
        // The new key manages the organisation's keys again.
        _addKey(CARRIER, PK_NEW, address(0x7777), uint40(block.timestamp), T0 + 100 days);
        assertEq(membership.keyInfo(address(0x7777)).orgId, CARRIER, "key added by new key");
    }

    function test_execute_addKeyForCustomsAdministration() public {
        _govern(_keyProposal(9, CUSTOMS_CN, vm.addr(PK_NEW)));
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xABCD);
        _propose(p, PK_NEW); // CN proposes with its new key
        assertTrue(membership.hasApproved(membership.hashProposal(p), CUSTOMS_CN), "approved");
    }

    function test_execute_revertsAddKeyForUnknownOrganisation() public {
        IMembership.Proposal memory p = _keyProposal(9, keccak256("nobody"), vm.addr(PK_NEW));
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.UnknownOrganisation.selector, keccak256("nobody"))
        );
        membership.execute(p);
    }

    function test_execute_revertsAddKeyOfRegisteredKey() public {
        IMembership.Proposal memory p = _keyProposal(9, CARRIER, vm.addr(PK_EXPORTER));
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.KeyAlreadyRegistered.selector, vm.addr(PK_EXPORTER))
        );
        membership.execute(p);
    }

    function test_execute_replaceKeyAddsSuccessorAndRevokesReplacedKey() public {
        IMembership.Proposal memory p = _keyProposal(10, CARRIER, vm.addr(PK_NEW));
        p.subject = bytes32(uint256(uint160(vm.addr(PK_CARRIER))));
        _govern(p);
        assertEq(membership.key(vm.addr(PK_CARRIER)).revokedAt, block.timestamp, "old revoked");
        ISignedRecords.KeyInfo memory info = membership.keyInfo(vm.addr(PK_NEW));
        assertEq(info.orgId, CARRIER, "new key of the carrier");
        assertEq(info.revokedAt, 0, "new key live");
    }

    function test_execute_replaceKeyOfRevokedKeyOnlyAdds() public {
        _revokeKey(CARRIER, PK_CARRIER, vm.addr(PK_CARRIER));
        IMembership.Proposal memory p = _keyProposal(10, CARRIER, vm.addr(PK_NEW));
        p.subject = bytes32(uint256(uint160(vm.addr(PK_CARRIER))));
        _govern(p);
        assertEq(membership.keyInfo(vm.addr(PK_NEW)).orgId, CARRIER, "added");
    }

    function test_execute_revertsReplaceKeyOfOtherOrganisation() public {
        IMembership.Proposal memory p = _keyProposal(10, CARRIER, vm.addr(PK_NEW));
        p.subject = bytes32(uint256(uint160(vm.addr(PK_EXPORTER))));
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMembership.KeyNotOfOrganisation.selector, vm.addr(PK_EXPORTER), CARRIER
            )
        );
        membership.execute(p);
    }

    function test_execute_revertsReplaceKeyWithMalformedSubject() public {
        IMembership.Proposal memory p = _keyProposal(10, CARRIER, vm.addr(PK_NEW));
        p.subject = bytes32(uint256(uint160(vm.addr(PK_CARRIER))) | (1 << 200));
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.InvalidProposalSubject.selector, p.subject)
        );
        membership.execute(p);
    }

    function test_propose_revertsAddKeyByWrongKind() public {
        IMembership.Proposal memory p = _keyProposal(9, CARRIER, vm.addr(PK_NEW));
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashProposal(p)));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, CARRIER, Kinds.CARRIER)
        );
        membership.propose(p, sig);
    }

    function test_propose_revertsAddKeyWhenReplayed() public {
        IMembership.Proposal memory p = _keyProposal(9, CARRIER, vm.addr(PK_NEW));
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_DE, membership.hashTypedData(id));
        vm.expectRevert(abi.encodeWithSelector(IMembership.ProposalExists.selector, id));
        membership.propose(p, sig);
    }

    /// @dev Every administration's key has expired: governance still gives keys back, with the
    /// expired (never revoked) keys, and only for key recovery.
    function test_governance_recoversWhenEveryAdministrationKeyHasExpired() public {
        vm.warp(T0 + KEY_LIFETIME + 1);
        IMembership.Proposal memory other = _proposal(7);
        other.account = address(0xABCD);
        ISignedRecords.Sig memory otherSig =
            _sig(PK_CUSTOMS_DE, membership.hashTypedData(membership.hashProposal(other)));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.KeyExpired.selector,
                vm.addr(PK_CUSTOMS_DE),
                T0 + KEY_LIFETIME,
                uint40(block.timestamp)
            )
        );
        membership.propose(other, otherSig);

        _govern(_keyProposal(9, CUSTOMS_DE, vm.addr(PK_NEW)));
        _propose(other, PK_NEW); // DE governs again with its new key
        assertTrue(membership.hasApproved(membership.hashProposal(other), CUSTOMS_DE), "DE");
    }

    function test_propose_revertsKeyRecoveryWithRevokedKey() public {
        IMembership.Proposal memory revoke = _proposal(6);
        revoke.account = vm.addr(PK_CUSTOMS_DE);
        _govern(revoke);
        IMembership.Proposal memory p = _keyProposal(9, CUSTOMS_DE, vm.addr(PK_NEW));
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_DE, membership.hashTypedData(membership.hashProposal(p)));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.KeyRevoked.selector, vm.addr(PK_CUSTOMS_DE), uint40(block.timestamp)
            )
        );
        membership.propose(p, sig);
        // The others give DE a key back.
        bytes32 id = _propose(p, PK_CUSTOMS_NL);
        _approve(id, PK_CUSTOMS_CN);
        membership.execute(p);
        assertEq(membership.keyInfo(vm.addr(PK_NEW)).orgId, CUSTOMS_DE, "DE has a key again");
    }

    function test_addKey_cannotBackdateTheKey() public {
        uint40 earliest = T0 - membership.MAX_KEY_BACKDATE();
        vm.expectEmit(true, true, true, true, address(membership));
        emit IMembership.SigningKeyAdded(
            CARRIER, vm.addr(PK_NEW), earliest, T0 + 100 days, vm.addr(PK_CARRIER), bytes32(0)
        );
        _addKey(CARRIER, PK_CARRIER, vm.addr(PK_NEW), 0, T0 + 100 days);
        assertEq(membership.keyInfo(vm.addr(PK_NEW)).validFrom, earliest, "bounded backdating");
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.KeyNotYetValid.selector, vm.addr(PK_NEW), earliest, uint40(1)
            )
        );
        membership.authorise(vm.addr(PK_NEW), 1, Kinds.MASK_ANY); // an event dated 1970
        membership.authorise(vm.addr(PK_NEW), earliest, Kinds.MASK_ANY); // within the bound
        // A window starting later is kept as signed.
        _addKey(CARRIER, PK_CARRIER, address(0x7778), T0 - 1 hours, T0 + 100 days);
        assertEq(membership.keyInfo(address(0x7778)).validFrom, T0 - 1 hours, "as signed");
    }

    function test_execute_admissionCannotBackdateTheFirstKey() public {
        IMembership.Proposal memory p = _keyProposal(1, keccak256("org:late"), vm.addr(PK_NEW));
        p.kind = Kinds.TRADER;
        p.country = "FR";
        p.validFrom = 0;
        _govern(p);
        assertEq(
            membership.keyInfo(vm.addr(PK_NEW)).validFrom,
            block.timestamp - membership.MAX_KEY_BACKDATE(),
            "bounded backdating"
        );
    }

    function test_addKey_registersKeyWithWindow() public {
        address k = address(0x5555);
        vm.expectEmit(true, true, true, true, address(membership));
        emit IMembership.SigningKeyAdded(
            CARRIER, k, T0 + 10, T0 + 100, vm.addr(PK_CARRIER), bytes32(0)
        );
        _addKey(CARRIER, PK_CARRIER, k, T0 + 10, T0 + 100);
        ISignedRecords.KeyInfo memory info = membership.keyInfo(k);
        assertEq(info.orgId, CARRIER, "org");
        assertEq(info.validFrom, T0 + 10, "from");
        assertEq(info.validUntil, T0 + 100, "until");
        assertEq(info.kind, Kinds.CARRIER, "kind");
    }

    function test_addKey_revertsForOtherOrganisation() public {
        IMembership.KeyAddition memory r = IMembership.KeyAddition({
            orgId: EXPORTER, key: address(0x5555), validFrom: T0, validUntil: T0 + 100
        });
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashKeyAddition(r)));
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.NotOrganisationKey.selector, CARRIER, EXPORTER)
        );
        membership.addKey(r, sig);
    }

    function test_addKey_revertsForRegisteredKey() public {
        IMembership.KeyAddition memory r = IMembership.KeyAddition({
            orgId: CARRIER, key: vm.addr(PK_EXPORTER), validFrom: T0, validUntil: T0 + 100
        });
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashKeyAddition(r)));
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.KeyAlreadyRegistered.selector, vm.addr(PK_EXPORTER))
        );
        membership.addKey(r, sig);
    }

    function test_addKey_revertsForInvalidWindow() public {
        IMembership.KeyAddition memory r = IMembership.KeyAddition({
            orgId: CARRIER, key: address(0x5555), validFrom: T0 + 100, validUntil: T0 + 100
        });
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashKeyAddition(r)));
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.InvalidValidity.selector, T0 + 100, T0 + 100)
        );
        membership.addKey(r, sig);
    }

    function test_addKey_revertsForSuspendedMember() public {
        _suspend(CARRIER);
        IMembership.KeyAddition memory r = IMembership.KeyAddition({
            orgId: CARRIER, key: address(0x5555), validFrom: T0, validUntil: T0 + 100
        });
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashKeyAddition(r)));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, CARRIER, Kinds.STATUS_SUSPENDED
            )
        );
        membership.addKey(r, sig);
    }

    function test_addKey_revertsWhenReplayed() public {
        IMembership.KeyAddition memory r = IMembership.KeyAddition({
            orgId: CARRIER, key: address(0x5555), validFrom: T0, validUntil: T0 + 100
        });
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashKeyAddition(r)));
        membership.addKey(r, sig);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.KeyAlreadyRegistered.selector, address(0x5555))
        );
        membership.addKey(r, sig);
    }

    function test_revokeKey_revokesOwnKey() public {
        uint256 second = 0xCA0099;
        _addKey(CARRIER, PK_CARRIER, vm.addr(second), T0, T0 + 100);
        vm.warp(T0 + 5);
        _revokeKey(CARRIER, PK_CARRIER, vm.addr(second));
        assertEq(membership.key(vm.addr(second)).revokedAt, T0 + 5, "revokedAt");
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyRevoked.selector, vm.addr(second), T0 + 5)
        );
        membership.authorise(vm.addr(second), T0 + 5, Kinds.MASK_ANY);
    }

    function test_revokeKey_revertsForKeyOfOtherOrganisation() public {
        IMembership.KeyRevocation memory r = IMembership.KeyRevocation({
            orgId: CARRIER, key: vm.addr(PK_EXPORTER), deadline: _deadline()
        });
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashKeyRevocation(r)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IMembership.KeyNotOfOrganisation.selector, vm.addr(PK_EXPORTER), CARRIER
            )
        );
        membership.revokeKey(r, sig);
    }

    function test_revokeKey_revertsWhenAlreadyRevoked() public {
        uint256 second = 0xCA0099;
        _addKey(CARRIER, PK_CARRIER, vm.addr(second), T0, T0 + 100);
        _revokeKey(CARRIER, PK_CARRIER, vm.addr(second));
        IMembership.KeyRevocation memory r = IMembership.KeyRevocation({
            orgId: CARRIER, key: vm.addr(second), deadline: _deadline()
        });
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashKeyRevocation(r)));
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.KeyAlreadyRevoked.selector, vm.addr(second))
        );
        membership.revokeKey(r, sig);
    }

    function test_revokeKey_revertsWhenSignedByRevokedKey() public {
        _revokeKey(CARRIER, PK_CARRIER, vm.addr(PK_CARRIER));
        IMembership.KeyAddition memory r = IMembership.KeyAddition({
            orgId: CARRIER, key: address(0x5555), validFrom: T0, validUntil: T0 + 100
        });
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashKeyAddition(r)));
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyRevoked.selector, vm.addr(PK_CARRIER), T0)
        );
        membership.addKey(r, sig);
    }

    function _keyRevocation(address key_, uint40 deadline)
        internal
        view
        returns (IMembership.KeyRevocation memory r, ISignedRecords.Sig memory sig)
    {
        r = IMembership.KeyRevocation({orgId: CARRIER, key: key_, deadline: deadline});
        sig = _sig(PK_CARRIER, membership.hashTypedData(membership.hashKeyRevocation(r)));
    }

    function test_revokeKey_revertsAfterDeadline() public {
        uint256 second = 0xCA0099;
        _addKey(CARRIER, PK_CARRIER, vm.addr(second), T0, T0 + 100);
        (IMembership.KeyRevocation memory r, ISignedRecords.Sig memory sig) =
            _keyRevocation(vm.addr(second), T0 - 1);
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.DeadlineExpired.selector, T0 - 1, T0));
        membership.revokeKey(r, sig);
        assertEq(membership.key(vm.addr(second)).revokedAt, 0, "not revoked");
    }

    function test_revokeKey_acceptedAtDeadline_againWithOtherDeadlineRefused() public {
        uint256 second = 0xCA0099;
        _addKey(CARRIER, PK_CARRIER, vm.addr(second), T0, T0 + 100);
        (IMembership.KeyRevocation memory r, ISignedRecords.Sig memory sig) =
            _keyRevocation(vm.addr(second), T0);
        membership.revokeKey(r, sig);
        assertEq(membership.key(vm.addr(second)).revokedAt, T0, "revoked at its deadline");
        (r, sig) = _keyRevocation(vm.addr(second), T0 + 1 days);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.KeyAlreadyRevoked.selector, vm.addr(second))
        );
        membership.revokeKey(r, sig);
    }

    // ------------------------------------------------------------------ authorise

    function test_authorise_revertsBeforeWindow() public {
        address k = address(0x5555);
        _addKey(CARRIER, PK_CARRIER, k, T0 + 10, T0 + 100);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyNotYetValid.selector, k, T0 + 10, T0)
        );
        membership.authorise(k, T0, Kinds.MASK_ANY);
    }

    function test_authorise_revertsWhenRecordTimeBeforeWindow() public {
        address k = address(0x5555);
        _addKey(CARRIER, PK_CARRIER, k, T0 + 10, T0 + 100);
        vm.warp(T0 + 20);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyNotYetValid.selector, k, T0 + 10, T0 + 5)
        );
        membership.authorise(k, T0 + 5, Kinds.MASK_ANY);
    }

    function test_authorise_revertsAfterWindow() public {
        address k = address(0x5555);
        _addKey(CARRIER, PK_CARRIER, k, T0, T0 + 100);
        vm.warp(T0 + 100);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.KeyExpired.selector, k, T0 + 100, T0 + 100)
        );
        membership.authorise(k, T0 + 50, Kinds.MASK_ANY);
    }

    function test_authorise_revertsForRecordTimeInFuture() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RecordTimeInFuture.selector, T0 + 301, T0)
        );
        membership.authorise(vm.addr(PK_CARRIER), T0 + 301, Kinds.MASK_ANY);
    }

    function test_authorise_resolvesActiveKey() public view {
        ISignedRecords.KeyInfo memory info =
            membership.authorise(vm.addr(PK_EXPORTER), T0, Kinds.MASK_TRADER);
        assertEq(info.orgId, EXPORTER, "org");
        assertEq(bytes32(info.country), bytes32(bytes2("CN")), "country");
        assertEq(info.orgIndex, 5, "index");
    }

    function testFuzz_authorise_window(uint40 from, uint40 length, uint40 nowTs, uint40 recordTime)
        public
    {
        from = uint40(bound(from, T0, T0 + 1000 days));
        length = uint40(bound(length, 1, 1000 days));
        uint40 until = from + length;
        address k = address(0x5555);
        _addKey(CARRIER, PK_CARRIER, k, from, until);
        nowTs = uint40(bound(nowTs, T0, T0 + 3000 days));
        recordTime = uint40(bound(recordTime, T0 - 10 days, uint256(nowTs) + 600));
        vm.warp(nowTs);
        bool ok = recordTime <= nowTs + 300 && from <= nowTs && nowTs < until && from <= recordTime
            && recordTime < until;
        bytes memory expected = _timeError(k, from, until, recordTime);
        assertEq(expected.length == 0, ok, "the rule and the expected error agree");
        if (!ok) vm.expectRevert(expected);
        membership.authorise(k, recordTime, Kinds.MASK_ANY);
    }

    function testFuzz_propose_rejectsUnregisteredSigner(uint256 pk) public {
        pk = bound(pk, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        vm.assume(membership.keyInfo(vm.addr(pk)).orgId == bytes32(0));
        IMembership.Proposal memory p = _proposal(7);
        ISignedRecords.Sig memory sig =
            _sig(pk, membership.hashTypedData(membership.hashProposal(p)));
        vm.expectRevert(abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(pk)));
        membership.propose(p, sig);
    }

    // ------------------------------------------------------------------ more revert paths

    function test_constructor_revertsOnExpiredBootstrapKey() public {
        IMembership.BootstrapAdministration[] memory admins =
            new IMembership.BootstrapAdministration[](1);
        admins[0] = _bootstrap(CUSTOMS_DE, "DE", PK_CUSTOMS_DE);
        admins[0].validUntil = T0;
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.InvalidValidity.selector, T0 - 1 days, T0)
        );
        new Membership(admins, new address[](0), 1);
    }

    function test_constructor_revertsOnZeroRelayer() public {
        IMembership.BootstrapAdministration[] memory admins =
            new IMembership.BootstrapAdministration[](1);
        admins[0] = _bootstrap(CUSTOMS_DE, "DE", PK_CUSTOMS_DE);
        vm.expectRevert(IMembership.ZeroAddress.selector);
        new Membership(admins, new address[](1), 1);
    }

    function test_propose_emitsCreatedAndApproved() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xAAAA);
        bytes32 id = membership.hashProposal(p);
        ISignedRecords.Sig memory sig = _sig(PK_CUSTOMS_DE, membership.hashTypedData(id));
        vm.expectEmit(true, true, true, true, address(membership));
        emit IMembership.ProposalCreated(id, CUSTOMS_DE, 7, p);
        vm.expectEmit(true, true, true, true, address(membership));
        emit IMembership.ProposalApproved(id, CUSTOMS_DE, vm.addr(PK_CUSTOMS_DE), 1);
        membership.propose(p, sig);
    }

    function test_approve_revertsAfterExecution() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xAAAA);
        bytes32 id = _govern(p);
        ISignedRecords.Sig memory sig =
            _sig(PK_CUSTOMS_CN, membership.hashTypedData(membership.hashApproval(id)));
        vm.expectRevert(abi.encodeWithSelector(IMembership.ProposalAlreadyExecuted.selector, id));
        membership.approve(id, sig);
    }

    function test_execute_revertsForUnknownProposal() public {
        IMembership.Proposal memory p = _proposal(7);
        bytes32 id = membership.hashProposal(p);
        vm.expectRevert(abi.encodeWithSelector(IMembership.UnknownProposal.selector, id));
        membership.execute(p);
    }

    function test_execute_revertsSuspendOfSuspendedMember() public {
        _suspend(CARRIER);
        IMembership.Proposal memory p = _proposal(2);
        p.orgId = CARRIER;
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMembership.InvalidStatus.selector, CARRIER, Kinds.STATUS_SUSPENDED
            )
        );
        membership.execute(p);
    }

    function test_execute_revertsAdmitWithZeroCountry() public {
        IMembership.Proposal memory p = _proposal(1);
        p.orgId = keccak256("org:x");
        p.kind = Kinds.TRADER;
        p.account = address(0x1111);
        p.validUntil = uint40(block.timestamp + 1 days);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidCountry.selector, bytes2(0)));
        membership.execute(p);
    }

    function test_execute_emitsProposalExecutedThenAction() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = OUTSIDER_RELAYER;
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectEmit(true, true, true, true, address(membership));
        emit IMembership.ProposalExecuted(id, 7, 2);
        vm.expectEmit(true, true, true, true, address(membership));
        emit IMembership.RelayerAdded(OUTSIDER_RELAYER, id);
        membership.execute(p);
    }

    function test_revokeKey_emitsSigningKeyRevoked() public {
        uint256 second = 0xCA0099;
        _addKey(CARRIER, PK_CARRIER, vm.addr(second), T0, T0 + 100);
        IMembership.KeyRevocation memory r = IMembership.KeyRevocation({
            orgId: CARRIER, key: vm.addr(second), deadline: _deadline()
        });
        ISignedRecords.Sig memory sig =
            _sig(second, membership.hashTypedData(membership.hashKeyRevocation(r)));
        vm.expectEmit(true, true, true, true, address(membership));
        emit IMembership.SigningKeyRevoked(
            CARRIER, vm.addr(second), T0, vm.addr(second), bytes32(0)
        );
        membership.revokeKey(r, sig); // a key may revoke itself
    }

    function test_addKey_revertsWhenRelayerNotAllowed() public {
        IMembership.KeyAddition memory r = IMembership.KeyAddition({
            orgId: CARRIER, key: address(0x5555), validFrom: T0, validUntil: T0 + 100
        });
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashKeyAddition(r)));
        vm.prank(OUTSIDER_RELAYER);
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER)
        );
        membership.addKey(r, sig);
    }

    function test_authorise_revertsForWrongKind() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISignedRecords.WrongKind.selector, CARRIER, Kinds.CARRIER)
        );
        membership.authorise(vm.addr(PK_CARRIER), T0, Kinds.MASK_CUSTOMS);
    }

    function test_keyInfo_zeroForUnknownKey() public view {
        assertEq(membership.keyInfo(address(0x9999)).orgId, bytes32(0), "unknown");
        assertEq(membership.organisation(keccak256("none")).index, 0, "unknown org");
    }

    function test_addKey_revertsForRelayerAccount() public {
        IMembership.KeyAddition memory r = IMembership.KeyAddition({
            orgId: CARRIER, key: address(this), validFrom: T0, validUntil: T0 + 100
        });
        ISignedRecords.Sig memory sig =
            _sig(PK_CARRIER, membership.hashTypedData(membership.hashKeyAddition(r)));
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.RelayerCannotSign.selector, address(this))
        );
        membership.addKey(r, sig);
    }

    function test_execute_revertsAddingSigningKeyAsRelayer() public {
        IMembership.Proposal memory p = _proposal(7);
        p.account = vm.addr(PK_CARRIER);
        bytes32 id = _propose(p, PK_CUSTOMS_DE);
        _approve(id, PK_CUSTOMS_NL);
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.SignerCannotRelay.selector, vm.addr(PK_CARRIER))
        );
        membership.execute(p);
    }
}

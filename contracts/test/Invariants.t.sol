// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixture} from "./utils/Fixture.sol";
import {LedgerHandler} from "./handlers/LedgerHandler.sol";
import {GovernanceHandler} from "./handlers/GovernanceHandler.sol";
import {ICertificates} from "../src/interfaces/ICertificates.sol";
import {IMembership} from "../src/interfaces/IMembership.sol";
import {Kinds} from "../src/libraries/Kinds.sol";

/// @dev Keys as LedgerInvariantsTest.setUp adds them to the handler.
uint8 constant CARRIER_KEY = 0;
uint8 constant POSTAL_KEY = 1;
uint8 constant CARRIER_DAY_ONE_KEY = 4; // valid [T0, T0 + 1 day)

/// @notice Quantity ledger, hash chain and key-validity invariants under random events (alone, as
/// lists with one signature each, and batch-signed), drawdowns and attestations (alone and
/// batch-signed), time jumps, key revocations and member suspensions.
contract LedgerInvariantsTest is Fixture {
    LedgerHandler internal handler;

    function setUp() public override {
        super.setUp();
        uint256[] memory governors = new uint256[](2);
        governors[0] = PK_CUSTOMS_NL;
        governors[1] = PK_CUSTOMS_CN;
        bytes32 schemaId = _registerSchema(SCHEMA, PK_CUSTOMS_NL);
        handler = new LedgerHandler(
            membership, consignments, certificates, attestations, schemaId, governors
        );
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(handler);
        _govern(p);

        for (uint256 i; i < 3; ++i) {
            bytes32 id = _register(keccak256(abi.encode("UCR", i)));
            handler.track(id);
        }
        handler.trackCertificate(_issue(keccak256("CO-1"), 1000));
        handler.trackCertificate(_issue(keccak256("CO-2"), 300));

        uint256 carrier = handler.addOrg(CARRIER, PK_CARRIER);
        uint256 postal = handler.addOrg(POSTAL, PK_POSTAL);
        uint256 exporter = handler.addOrg(EXPORTER, PK_EXPORTER);
        uint256 customsDe = handler.addOrg(CUSTOMS_DE, PK_CUSTOMS_DE);
        uint40 from = T0 - 1 days;
        uint40 until = T0 + KEY_LIFETIME;
        handler.addKey(PK_CARRIER, carrier, from, until);
        handler.addKey(PK_POSTAL, postal, from, until);
        handler.addKey(PK_EXPORTER, exporter, from, until);
        handler.addKey(PK_CUSTOMS_DE, customsDe, from, until);
        // narrow windows, one starting later
        _addKey(CARRIER, PK_CARRIER, vm.addr(0xCA0101), T0, T0 + 1 days);
        handler.addKey(0xCA0101, carrier, T0, T0 + 1 days);
        _addKey(CARRIER, PK_CARRIER, vm.addr(0xCA0102), T0 + 1 days, T0 + 3 days);
        handler.addKey(0xCA0102, carrier, T0 + 1 days, T0 + 3 days);
        _addKey(EXPORTER, PK_EXPORTER, vm.addr(0x7AD101), T0 + 12 hours, T0 + 2 days);
        handler.addKey(0x7AD101, exporter, T0 + 12 hours, T0 + 2 days);

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = handler.postEvent.selector;
        selectors[1] = handler.drawDown.selector;
        selectors[2] = handler.warp.selector;
        selectors[3] = handler.revokeKey.selector;
        selectors[4] = handler.toggleSuspension.selector;
        selectors[5] = handler.attest.selector;
        selectors[6] = handler.postEventBatch.selector;
        selectors[7] = handler.postEvents.selector;
        selectors[8] = handler.attestSignedBatch.selector;
        selectors[9] = handler.drawDownSignedBatch.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function invariant_drawnNeverExceedsTotal() public view {
        for (uint256 i; i < handler.certificateCount(); ++i) {
            bytes32 id = handler.certificateIds(i);
            ICertificates.Certificate memory c = certificates.certificate(id);
            assertLe(c.drawn, c.quantity, "drawn <= total");
            assertEq(c.drawn, handler.ghostDrawn(id), "drawn == sum of accepted drawdowns");
        }
    }

    function invariant_headIsFoldOfEmittedEventDigests() public view {
        for (uint256 i; i < handler.consignmentCount(); ++i) {
            bytes32 id = handler.consignmentIds(i);
            (bytes28 head, uint32 count) = consignments.head(id);
            assertEq(bytes32(head), bytes32(handler.ghostHead(id)), "head == fold of logs");
            assertEq(count, handler.ghostCount(id), "count == emitted events");
        }
    }

    function invariant_noRecordUnderInvalidKeyOrSuspendedMember() public view {
        assertEq(handler.violations(), 0, "violations");
    }

    /// @dev The handler is not vacuous: a fixed sequence accepts and refuses records.
    function test_handler_acceptsAndRefuses() public {
        handler.postEvent(0, 0, 0); // carrier, valid
        handler.drawDown(2, 0, 0, 10); // exporter, valid
        assertEq(handler.acceptedEvents(), 1, "event accepted");
        assertEq(handler.acceptedDrawdowns(), 1, "drawdown accepted");
        handler.attest(3, 0, keccak256("ok")); // customs DE, valid
        assertEq(handler.acceptedAttestations(), 1, "attestation accepted");
        handler.postEvent(5, 1, 0); // key valid from T0 + 1 day: refused now
        assertEq(handler.acceptedEvents(), 1, "not-yet-valid key refused");
        handler.postEventBatch(0, 0, 0, 3); // carrier, three events in one signature
        assertEq(handler.acceptedBatches(), 1, "batch accepted");
        assertEq(handler.acceptedEvents(), 4, "batch events counted");
        handler.postEventBatch(5, 0, 0, 2); // key valid from T0 + 1 day: batch refused
        assertEq(handler.acceptedBatches(), 1, "not-yet-valid key refused for a batch");
        handler.toggleSuspension(0); // suspend the carrier
        handler.postEvent(0, 1, 0);
        assertEq(handler.acceptedEvents(), 4, "suspended member refused");
        handler.warp(2 days);
        handler.postEventBatch(0, 1, 0, 2);
        assertEq(handler.acceptedBatches(), 1, "suspended member refused for a batch");
        handler.postEvent(1, 1, 0); // postal operator, still valid
        assertEq(handler.acceptedEvents(), 5, "postal accepted");
        assertEq(handler.violations(), 0, "no violations");
        invariant_headIsFoldOfEmittedEventDigests();
        invariant_drawnNeverExceedsTotal();
    }

    function test_handler_drawDownSignedBatchAcceptsAndRefuses() public {
        handler.drawDownSignedBatch(2, 0, 0, 0, 1); // exporter, one drawdown
        assertEq(handler.acceptedDrawdownBatches(), 1, "batch accepted");
        assertEq(handler.acceptedDrawdowns(), 1, "batch drawdown counted");
        handler.drawDownSignedBatch(2, 0, 0, 0, 1); // the same batch again: refused
        assertEq(handler.acceptedDrawdownBatches(), 1, "replayed batch refused");
        handler.drawDownSignedBatch(0, 1, 1, 1, 1); // carrier: not allowed to draw
        assertEq(handler.acceptedDrawdownBatches(), 1, "carrier refused");
        handler.drawDownSignedBatch(5, 1, 1, 1, 1); // key valid from T0 + 1 day
        assertEq(handler.acceptedDrawdownBatches(), 1, "not-yet-valid key refused");
        uint256 accepted;
        for (uint256 seed = 10; seed < 40; ++seed) {
            handler.drawDownSignedBatch(2, seed, seed, seed, 3); // exporter, three drawdowns
        }
        accepted = handler.acceptedDrawdownBatches();
        assertGt(accepted, 1, "some batches of three accepted");
        assertLe(accepted, 30, "some refused (pairs drawn, quantity exhausted)");
        assertEq(handler.violations(), 0, "no violations");
        invariant_drawnNeverExceedsTotal();
    }

    function test_handler_attestSignedBatchAcceptsAndRefuses() public {
        handler.attestSignedBatch(0, 0, keccak256("a"), 3); // carrier, three in one signature
        assertEq(handler.acceptedAttestationBatches(), 1, "batch accepted");
        assertEq(handler.acceptedAttestations(), 3, "batch attestations counted");
        handler.attestSignedBatch(0, 0, keccak256("a"), 3); // the same batch again: refused
        assertEq(handler.acceptedAttestationBatches(), 1, "replayed batch refused");
        handler.attestSignedBatch(5, 0, keccak256("b"), 2); // key valid from T0 + 1 day
        assertEq(handler.acceptedAttestationBatches(), 1, "not-yet-valid key refused");
        handler.toggleSuspension(1); // suspend the postal operator
        handler.attestSignedBatch(POSTAL_KEY, 0, keccak256("c"), 2);
        assertEq(handler.acceptedAttestationBatches(), 1, "suspended member refused");
        handler.attestSignedBatch(3, 1, keccak256("c"), 4); // customs DE
        assertEq(handler.acceptedAttestationBatches(), 2, "customs accepted");
        assertEq(handler.acceptedAttestations(), 7, "seven attestations");
        assertEq(handler.violations(), 0, "no violations");
    }

    function _list(uint8 k0, uint8 k1, uint8 k2, uint32 b0, uint32 b1, uint32 b2)
        internal
        pure
        returns (uint8[4] memory keys, uint32[4] memory backs)
    {
        (keys[0], keys[1], keys[2]) = (k0, k1, k2);
        (backs[0], backs[1], backs[2]) = (b0, b1, b2);
    }

    function test_handler_postEventsRechecksRepeatedSignerAtNewTime() public {
        // three items by the day-one key; item 1 repeats signer and time, item 2 the signer
        // only, one hour before the key's window: refused
        (uint8[4] memory keys, uint32[4] memory backs) =
            _list(CARRIER_DAY_ONE_KEY, 0, 0, 0, 0, 1 hours);
        handler.postEvents(keys, backs, 2 | (1 << 2) | (1 << 3) | (1 << 5), 0);
        assertEq(handler.acceptedEventLists(), 0, "item 2 outside the window refused");
        // the same with item 2 at the repeated time: accepted
        handler.postEvents(keys, backs, 2 | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 6), 0);
        assertEq(handler.acceptedEventLists(), 1, "accepted");
        assertEq(handler.acceptedEvents(), 3, "three events");
        // postal, day-one key, postal again at a time before the day-one key's window
        (keys, backs) = _list(POSTAL_KEY, CARRIER_DAY_ONE_KEY, POSTAL_KEY, 2 hours, 0, 2 hours);
        handler.postEvents(keys, backs, 2, 1);
        assertEq(handler.acceptedEventLists(), 2, "each signer valid at its own time");
        (keys, backs) = _list(CARRIER_KEY, CARRIER_DAY_ONE_KEY, 0, 0, 2 hours, 0);
        handler.postEvents(keys, backs, 1, 2);
        assertEq(handler.acceptedEventLists(), 2, "second signer outside its window refused");
        handler.warp(1 days);
        (keys, backs) = _list(CARRIER_KEY, CARRIER_DAY_ONE_KEY, 0, 0, 0, 0);
        handler.postEvents(keys, backs, 1 | (1 << 5), 0);
        assertEq(handler.acceptedEventLists(), 2, "expired key refused at a repeated time");
        assertEq(handler.violations(), 0, "no violations");
        invariant_headIsFoldOfEmittedEventDigests();
    }
}

/// @notice Membership changes only through executed proposals with at least k approvals.
contract GovernanceInvariantsTest is Fixture {
    GovernanceHandler internal handler;
    bytes32 internal constant CUSTOMS_FR = keccak256("org:customs-fr");

    function setUp() public override {
        super.setUp();
        _admit(CUSTOMS_FR, Kinds.CUSTOMS, "FR", 0xC0DE04);
        uint256[] memory pks = new uint256[](4);
        bytes32[] memory ids = new bytes32[](4);
        (pks[0], ids[0]) = (PK_CUSTOMS_DE, CUSTOMS_DE);
        (pks[1], ids[1]) = (PK_CUSTOMS_NL, CUSTOMS_NL);
        (pks[2], ids[2]) = (PK_CUSTOMS_CN, CUSTOMS_CN);
        (pks[3], ids[3]) = (0xC0DE04, CUSTOMS_FR);
        handler = new GovernanceHandler(membership, pks, ids);
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(handler);
        _govern(p);
        handler.trackOrg(CARRIER);
        handler.trackOrg(EXPORTER);
        handler.trackOrg(CUSTOMS_CN);
        handler.trackOrg(CUSTOMS_FR);
        handler.trackKey(vm.addr(PK_CARRIER));
        handler.trackKey(vm.addr(PK_EXPORTER));
        handler.trackKey(vm.addr(0xC0DE04)); // FR's governance key
        handler.trackRelayer(address(0xBEEF01));
        handler.trackRelayer(address(0xBEEF02));
        handler.trackRelayer(vm.addr(PK_CARRIER)); // a signing key: cannot be listed
        handler.trackRelayer(address(this)); // the bootstrap relayer

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](4);
        selectors[0] = handler.propose.selector;
        selectors[1] = handler.approve.selector;
        selectors[2] = handler.execute.selector;
        selectors[3] = handler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function invariant_changesOnlyWithThresholdApprovals() public view {
        assertEq(handler.violations(), 0, "violations");
        for (uint256 i; i < handler.orgCount(); ++i) {
            bytes32 id = handler.orgIds(i);
            assertEq(membership.organisation(id).status, handler.ghostStatus(id), "status");
        }
        assertEq(membership.threshold(), handler.ghostThreshold(), "threshold");
        uint16 k = membership.threshold();
        uint16 n = membership.activeCustomsCount();
        assertTrue(k >= 1 && k <= n, "1 <= k <= n");
        assertEq(membership.organisationCount(), handler.ghostOrganisationCount(), "admissions");
        assertEq(membership.activeCustomsCount(), handler.ghostActiveCustoms(), "active customs");
        for (uint256 i; i < handler.keyCount(); ++i) {
            address key = handler.keys(i);
            IMembership.Key memory kk = membership.key(key);
            assertEq(kk.orgId, handler.ghostKeyOrg(key), "key registered only by governance");
            assertEq(kk.revokedAt != 0, handler.ghostRevoked(key), "key revoked");
        }
        for (uint256 i; i < handler.relayerCount(); ++i) {
            address account = handler.relayers(i);
            assertEq(membership.isRelayer(account), handler.ghostRelayer(account), "relayer");
        }
    }

    function test_handler_executesWithEnoughApprovals() public {
        handler.propose(0, 2, 0, 3); // DE proposes threshold 3 (action seed 2)
        handler.execute(0);
        assertEq(handler.executions(), 0, "one approval is not enough");
        handler.approve(1, 0); // NL approves
        handler.approve(1, 0); // NL again: refused
        handler.execute(0);
        assertEq(handler.executions(), 1, "executed with 2 of 4");
        assertEq(membership.threshold(), 3, "k = 3");
        handler.propose(0, 0, 0, 0); // suspend carrier
        handler.approve(1, 1);
        handler.execute(1);
        assertEq(handler.executions(), 1, "2 approvals < 3");
        handler.approve(2, 1);
        handler.execute(1);
        assertEq(handler.executions(), 2, "3 approvals");
        assertEq(handler.violations(), 0, "no violations");
        invariant_changesOnlyWithThresholdApprovals();
    }

    /// @dev Proposal `index` (in the order proposed) approved by admin `a`, then executed.
    function _approveAndExecute(uint256 a, uint256 index) internal {
        handler.approve(a, index);
        handler.execute(index);
    }

    function test_handler_governsKeysRelayersAndCustoms() public {
        handler.propose(0, 5, 0, 0); // 0: revoke the carrier's key
        handler.execute(0);
        assertEq(handler.executionsOf(6), 0, "one approval is not enough");
        _approveAndExecute(1, 0);
        assertEq(handler.executionsOf(6), 1, "key revoked");
        assertTrue(membership.key(vm.addr(PK_CARRIER)).revokedAt != 0, "revokedAt");
        handler.propose(0, 6, 0, 0); // 1: list 0xBEEF01
        _approveAndExecute(1, 1);
        assertTrue(membership.isRelayer(address(0xBEEF01)), "listed");
        handler.propose(0, 7, 0, 0); // 2: delist it
        _approveAndExecute(2, 2);
        assertFalse(membership.isRelayer(address(0xBEEF01)), "delisted");
        handler.propose(0, 6, 2, 0); // 3: list the carrier's (revoked) signing key: refused
        _approveAndExecute(1, 3);
        assertEq(handler.executionsOf(7), 1, "a signing key is never listed");
        handler.propose(0, 7, 3, 0); // 4: delist the bootstrap relayer
        _approveAndExecute(1, 4);
        assertFalse(membership.isRelayer(address(this)), "bootstrap relayer delisted");
        handler.propose(0, 4, 0, 0); // 5: add a fifth customs administration
        _approveAndExecute(3, 5);
        assertEq(membership.activeCustomsCount(), 5, "n = 5");
        assertEq(handler.adminCount(), 5, "the new administration governs");
        handler.propose(4, 2, 0, 3); // 6: proposed by the new administration: k = 3
        _approveAndExecute(0, 6);
        assertEq(membership.threshold(), 3, "k = 3");
        handler.propose(0, 5, 2, 0); // 7: revoke FR's governance key
        handler.approve(1, 7);
        _approveAndExecute(2, 7);
        assertTrue(membership.key(vm.addr(0xC0DE04)).revokedAt != 0, "FR key revoked");
        handler.propose(0, 2, 0, 2); // 8: FR can no longer approve
        _approveAndExecute(3, 8);
        assertEq(handler.executionsOf(5), 1, "a revoked key's approval does not count");
        assertEq(membership.threshold(), 3, "k unchanged");
        handler.propose(0, 0, 0, 0); // 9: suspend the carrier
        handler.approve(1, 9);
        _approveAndExecute(2, 9);
        handler.propose(0, 1, 0, 0); // 10: reinstate it (the suspended organisation is chosen)
        handler.approve(1, 10);
        _approveAndExecute(2, 10);
        assertEq(handler.executionsOf(3), 1, "reinstated");
        assertEq(membership.organisation(CARRIER).status, Kinds.STATUS_ACTIVE, "carrier active");
        assertEq(handler.violations(), 0, "no violations");
        invariant_changesOnlyWithThresholdApprovals();
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {Membership} from "../../src/Membership.sol";
import {IMembership} from "../../src/interfaces/IMembership.sol";
import {ISignedRecords} from "../../src/interfaces/ISignedRecords.sol";

/// @notice Random proposals, approvals, executions and time jumps against Membership. The model
/// counts distinct approving administrations per proposal from successful calls only, and
/// applies a proposal's effect only when `execute` succeeds. An execution that succeeds with
/// fewer model approvals than the threshold is a violation.
contract GovernanceHandler is Test {
    Membership public immutable membership;

    uint256[] internal _adminPks;
    bytes32[] internal _adminIds;
    bytes32[] public orgIds; // organisations whose status the handler changes
    IMembership.Proposal[] internal _proposals;

    mapping(bytes32 proposalId => mapping(bytes32 orgId => bool)) internal _approved;
    mapping(bytes32 proposalId => uint256) public ghostApprovals;
    mapping(bytes32 orgId => uint8 status) public ghostStatus;
    uint16 public ghostThreshold;
    uint32 public ghostOrganisationCount;

    uint256 public violations;
    uint256 public executions;
    uint256 internal _salt;

    constructor(Membership membership_, uint256[] memory adminPks, bytes32[] memory adminIds) {
        membership = membership_;
        _adminPks = adminPks;
        _adminIds = adminIds;
        ghostThreshold = membership_.threshold();
        ghostOrganisationCount = membership_.organisationCount();
    }

    function trackOrg(bytes32 orgId) external {
        orgIds.push(orgId);
        ghostStatus[orgId] = membership.organisation(orgId).status;
    }

    function orgCount() external view returns (uint256) {
        return orgIds.length;
    }

    // ------------------------------------------------------------------ actions

    function propose(uint256 adminSeed, uint256 actionSeed, uint256 targetSeed, uint16 k) external {
        uint256 a = adminSeed % _adminPks.length;
        IMembership.Proposal memory p;
        uint256 kind = actionSeed % 4;
        if (kind == 3) {
            p.action = 1; // admit a trader with a fresh key
            p.orgId = keccak256(abi.encode("org:new", targetSeed % 8));
            p.kind = 3;
            p.country = "IT";
            p.account = address(uint160(uint256(keccak256(abi.encode("key", _salt)))));
            p.validUntil = uint40(block.timestamp + 30 days);
        } else if (kind == 0) {
            p.action = 2; // suspend
            p.orgId = orgIds[targetSeed % orgIds.length];
        } else if (kind == 1) {
            p.action = 3; // reinstate
            p.orgId = orgIds[targetSeed % orgIds.length];
        } else {
            p.action = 5; // set threshold
            p.threshold = uint16(bound(k, 0, _adminPks.length + 1));
        }
        p.expiresAt = uint40(block.timestamp + 3 days);
        p.salt = bytes32(++_salt);
        bytes32 id = membership.hashProposal(p);
        try membership.propose(p, _sig(_adminPks[a], membership.hashTypedData(id))) {
            _proposals.push(p);
            _approved[id][_adminIds[a]] = true;
            ghostApprovals[id] = 1;
        } catch {}
    }

    function approve(uint256 adminSeed, uint256 proposalSeed) external {
        if (_proposals.length == 0) return;
        uint256 a = adminSeed % _adminPks.length;
        bytes32 id = membership.hashProposal(_proposals[proposalSeed % _proposals.length]);
        try membership.approve(
            id, _sig(_adminPks[a], membership.hashTypedData(membership.hashApproval(id)))
        ) {
            if (_approved[id][_adminIds[a]]) ++violations; // counted twice
            _approved[id][_adminIds[a]] = true;
            ++ghostApprovals[id];
        } catch {}
    }

    function execute(uint256 proposalSeed) external {
        if (_proposals.length == 0) return;
        IMembership.Proposal memory p = _proposals[proposalSeed % _proposals.length];
        bytes32 id = membership.hashProposal(p);
        uint16 k = membership.threshold();
        try membership.execute(p) {
            ++executions;
            if (ghostApprovals[id] < k || k != ghostThreshold) ++violations;
            if (p.action == 1) ++ghostOrganisationCount;
            else if (p.action == 2) ghostStatus[p.orgId] = 2;
            else if (p.action == 3) ghostStatus[p.orgId] = 1;
            else ghostThreshold = p.threshold;
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 1 days));
    }

    function _sig(uint256 pk, bytes32 digest) internal pure returns (ISignedRecords.Sig memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return ISignedRecords.Sig({r: r, vs: bytes32(uint256(s) | (uint256(v - 27) << 255))});
    }
}

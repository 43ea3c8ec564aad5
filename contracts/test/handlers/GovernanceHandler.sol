// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {Membership} from "../../src/Membership.sol";
import {IMembership} from "../../src/interfaces/IMembership.sol";
import {ISignedRecords} from "../../src/interfaces/ISignedRecords.sol";

/// @notice Random proposals of every governance action (admit member, suspend, reinstate, add
/// customs administration, set threshold, revoke key, add and remove relayer), approvals,
/// executions and time jumps against Membership. The model counts distinct approving
/// administrations per proposal from successful calls only, and applies a proposal's effect
/// only when `execute` succeeds: organisation statuses and kinds, the active customs count, the
/// threshold, which tracked keys are registered (to which organisation) and revoked, and which
/// tracked accounts are relayers. An execution that succeeds with fewer model approvals than the
/// threshold, or whose effect the model says must be refused (admitting an existing organisation,
/// suspending a suspended one, revoking a revoked key, listing a listed relayer or a signing
/// key, ...), is a violation. Administrations added by governance join the proposers and
/// approvers.
contract GovernanceHandler is Test {
    uint8 internal constant ADMIT_MEMBER = 1;
    uint8 internal constant SUSPEND_MEMBER = 2;
    uint8 internal constant REINSTATE_MEMBER = 3;
    uint8 internal constant ADD_CUSTOMS = 4;
    uint8 internal constant SET_THRESHOLD = 5;
    uint8 internal constant REVOKE_KEY = 6;
    uint8 internal constant ADD_RELAYER = 7;
    uint8 internal constant REMOVE_RELAYER = 8;

    Membership public immutable membership;

    uint256[] internal _adminPks;
    bytes32[] internal _adminIds;
    bytes32[] public orgIds; // organisations whose status the model tracks (and proposals target)
    address[] public keys; // signing keys whose registration and revocation the model tracks
    address[] public relayers; // accounts whose relayer status the model tracks
    IMembership.Proposal[] internal _proposals;

    mapping(bytes32 proposalId => mapping(bytes32 orgId => bool)) internal _approved;
    mapping(bytes32 proposalId => uint256) public ghostApprovals;
    mapping(bytes32 orgId => uint8 status) public ghostStatus; // 0: not admitted
    mapping(bytes32 orgId => uint8 kind) public ghostKind;
    mapping(address key => bytes32 orgId) public ghostKeyOrg; // zero: not registered
    mapping(address key => bool) public ghostRevoked;
    mapping(address account => bool) public ghostRelayer;
    mapping(address key => uint256 pk) internal _pkOf; // keys of proposed administrations
    mapping(bytes32 orgId => bool) internal _trackedOrg;
    mapping(address key => bool) internal _trackedKey;
    uint16 public ghostThreshold;
    uint16 public ghostActiveCustoms;
    uint32 public ghostOrganisationCount;

    uint256 public violations;
    uint256 public executions;
    mapping(uint8 action => uint256) public executionsOf;
    uint256 internal _salt;

    constructor(Membership membership_, uint256[] memory adminPks, bytes32[] memory adminIds) {
        membership = membership_;
        _adminPks = adminPks;
        _adminIds = adminIds;
        ghostThreshold = membership_.threshold();
        ghostActiveCustoms = membership_.activeCustomsCount();
        ghostOrganisationCount = membership_.organisationCount();
    }

    // ------------------------------------------------------------------ set-up (by the test)

    function trackOrg(bytes32 orgId) public {
        if (_trackedOrg[orgId]) return;
        _trackedOrg[orgId] = true;
        orgIds.push(orgId);
        IMembership.Organisation memory o = membership.organisation(orgId);
        ghostStatus[orgId] = o.status;
        ghostKind[orgId] = o.kind;
    }

    function trackKey(address key) public {
        if (_trackedKey[key]) return;
        _trackedKey[key] = true;
        keys.push(key);
        IMembership.Key memory k = membership.key(key);
        ghostKeyOrg[key] = k.orgId;
        ghostRevoked[key] = k.revokedAt != 0;
    }

    function trackRelayer(address account) external {
        relayers.push(account);
        ghostRelayer[account] = membership.isRelayer(account);
    }

    function orgCount() external view returns (uint256) {
        return orgIds.length;
    }

    function keyCount() external view returns (uint256) {
        return keys.length;
    }

    function relayerCount() external view returns (uint256) {
        return relayers.length;
    }

    function adminCount() external view returns (uint256) {
        return _adminPks.length;
    }

    // ------------------------------------------------------------------ actions

    /// @dev `actionSeed % 8`: 0 suspend, 1 reinstate, 2 set threshold, 3 admit a trader,
    /// 4 add a customs administration, 5 revoke a tracked key, 6 add, 7 remove a tracked relayer.
    /// Suspensions, reinstatements and relayer changes target `targetSeed`'s entry, or, when bit
    /// 128 of `targetSeed` is clear, the first entry from there that the model says the action
    /// applies to (so that executions of each action are common, and refusals still occur).
    function propose(uint256 adminSeed, uint256 actionSeed, uint256 targetSeed, uint16 k) external {
        uint256 a = adminSeed % _adminPks.length;
        IMembership.Proposal memory p;
        uint256 kind = actionSeed % 8;
        if (kind == 3) {
            p.action = ADMIT_MEMBER; // a trader with a fresh key
            p.orgId = keccak256(abi.encode("org:new", targetSeed % 8));
            p.kind = 3;
            p.country = "IT";
            p.account = address(uint160(uint256(keccak256(abi.encode("key", _salt)))));
            p.validUntil = uint40(block.timestamp + 30 days);
        } else if (kind == 4) {
            p.action = ADD_CUSTOMS; // one of four candidates, each with its own key
            uint256 candidate = targetSeed % 4;
            p.orgId = keccak256(abi.encode("org:new-customs", candidate));
            p.kind = 1;
            p.country = "FR";
            uint256 pk = uint256(keccak256(abi.encode("customs-pk", candidate)));
            p.account = vm.addr(pk);
            _pkOf[p.account] = pk;
            p.validUntil = uint40(block.timestamp + 30 days);
        } else if (kind == 0 || kind == 1) {
            p.action = kind == 0 ? SUSPEND_MEMBER : REINSTATE_MEMBER;
            p.orgId = orgIds[_pickOrg(targetSeed, kind == 0 ? 1 : 2)];
        } else if (kind == 2) {
            p.action = SET_THRESHOLD;
            p.threshold = uint16(bound(k, 0, _adminPks.length + 1));
        } else if (kind == 5) {
            p.action = REVOKE_KEY;
            p.account = keys[targetSeed % keys.length];
        } else {
            p.action = kind == 6 ? ADD_RELAYER : REMOVE_RELAYER;
            p.account = relayers[_pickRelayer(targetSeed, kind == 7)];
        }
        p.expiresAt = uint40(block.timestamp + 7 days); // a run warps ~8 days: some expire
        p.salt = bytes32(++_salt);
        bytes32 id = membership.hashProposal(p);
        try membership.propose(p, _sig(_adminPks[a], membership.hashTypedData(id))) {
            _proposals.push(p);
            _approved[id][_adminIds[a]] = true;
            ghostApprovals[id] = 1;
            if (p.action == ADMIT_MEMBER || p.action == ADD_CUSTOMS) {
                // tracked before execution: nothing of it may appear without k approvals
                trackOrg(p.orgId);
                trackKey(p.account);
            }
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
            ++executionsOf[p.action];
            if (ghostApprovals[id] < k || k != ghostThreshold) ++violations;
            _apply(p);
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 1 days));
    }

    /// @dev Index of the first tracked organisation from `seed` whose model status is `status`
    /// (or `seed`'s own when bit 128 is set or none is).
    function _pickOrg(uint256 seed, uint8 status) internal view returns (uint256) {
        uint256 n = orgIds.length;
        uint256 start = seed % n;
        if ((seed >> 128) & 1 == 0) {
            for (uint256 j; j < n; ++j) {
                uint256 i = (start + j) % n;
                if (ghostStatus[orgIds[i]] == status) return i;
            }
        }
        return start;
    }

    /// @dev As `_pickOrg` for tracked relayer accounts whose model listing is `listed`.
    function _pickRelayer(uint256 seed, bool listed) internal view returns (uint256) {
        uint256 n = relayers.length;
        uint256 start = seed % n;
        if ((seed >> 128) & 1 == 0) {
            for (uint256 j; j < n; ++j) {
                uint256 i = (start + j) % n;
                if (ghostRelayer[relayers[i]] == listed) return i;
            }
        }
        return start;
    }

    // ------------------------------------------------------------------ model

    /// @dev The effect of an executed proposal; a violation where the model says it must have
    /// been refused.
    function _apply(IMembership.Proposal memory p) internal {
        uint8 action = p.action;
        if (action == ADMIT_MEMBER || action == ADD_CUSTOMS) {
            if (ghostStatus[p.orgId] != 0 || ghostKeyOrg[p.account] != bytes32(0)) ++violations;
            if (ghostRelayer[p.account]) ++violations; // a relayer cannot sign
            ++ghostOrganisationCount;
            ghostStatus[p.orgId] = 1;
            ghostKind[p.orgId] = p.kind;
            ghostKeyOrg[p.account] = p.orgId;
            if (action == ADD_CUSTOMS) {
                ++ghostActiveCustoms;
                _adminPks.push(_pkOf[p.account]);
                _adminIds.push(p.orgId);
            }
        } else if (action == SUSPEND_MEMBER) {
            if (ghostStatus[p.orgId] != 1) ++violations;
            ghostStatus[p.orgId] = 2;
            if (ghostKind[p.orgId] == 1) {
                --ghostActiveCustoms;
                if (ghostActiveCustoms < ghostThreshold) ++violations; // k unreachable
            }
        } else if (action == REINSTATE_MEMBER) {
            if (ghostStatus[p.orgId] != 2) ++violations;
            ghostStatus[p.orgId] = 1;
            if (ghostKind[p.orgId] == 1) ++ghostActiveCustoms;
        } else if (action == SET_THRESHOLD) {
            if (p.threshold == 0 || p.threshold > ghostActiveCustoms) ++violations;
            ghostThreshold = p.threshold;
        } else if (action == REVOKE_KEY) {
            if (ghostKeyOrg[p.account] == bytes32(0) || ghostRevoked[p.account]) ++violations;
            ghostRevoked[p.account] = true;
        } else if (action == ADD_RELAYER) {
            if (ghostRelayer[p.account] || ghostKeyOrg[p.account] != bytes32(0)) ++violations;
            ghostRelayer[p.account] = true;
        } else {
            if (!ghostRelayer[p.account]) ++violations;
            ghostRelayer[p.account] = false;
        }
    }

    function _sig(uint256 pk, bytes32 digest) internal pure returns (ISignedRecords.Sig memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return ISignedRecords.Sig({r: r, vs: bytes32(uint256(s) | (uint256(v - 27) << 255))});
    }
}

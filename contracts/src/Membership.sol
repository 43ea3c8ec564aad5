// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SignedRecords} from "./base/SignedRecords.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IRevocableByGovernance} from "./interfaces/IRevocableByGovernance.sol";
import {Kinds} from "./libraries/Kinds.sol";

/// @title Membership
/// @notice Organisations, signing keys, relayers and k-of-n governance by customs administrations.
contract Membership is IMembership, SignedRecords {
    /// @inheritdoc IMembership
    bytes32 public constant PROPOSAL_TYPEHASH = keccak256(
        "Proposal(uint8 action,bytes32 orgId,uint8 kind,bytes2 country,address account,uint40 validFrom,uint40 validUntil,uint16 threshold,uint40 expiresAt,bytes32 salt,bytes32 subject)"
    );
    /// @inheritdoc IMembership
    bytes32 public constant APPROVAL_TYPEHASH = keccak256("Approval(bytes32 proposalId)");
    /// @inheritdoc IMembership
    bytes32 public constant KEY_ADDITION_TYPEHASH =
        keccak256("KeyAddition(bytes32 orgId,address key,uint40 validFrom,uint40 validUntil)");
    /// @inheritdoc IMembership
    bytes32 public constant KEY_REVOCATION_TYPEHASH =
        keccak256("KeyRevocation(bytes32 orgId,address key,uint40 deadline)");
    /// @inheritdoc IMembership
    uint40 public constant MAX_PROPOSAL_LIFETIME = 30 days;
    /// @inheritdoc IMembership
    uint40 public constant MAX_KEY_BACKDATE = 30 days;

    uint8 internal constant ADMIT_MEMBER = 1;
    uint8 internal constant SUSPEND_MEMBER = 2;
    uint8 internal constant REINSTATE_MEMBER = 3;
    uint8 internal constant ADD_CUSTOMS = 4;
    uint8 internal constant SET_THRESHOLD = 5;
    uint8 internal constant REVOKE_KEY = 6;
    uint8 internal constant ADD_RELAYER = 7;
    uint8 internal constant REMOVE_RELAYER = 8;
    uint8 internal constant ADD_KEY = 9;
    uint8 internal constant REPLACE_KEY = 10;
    uint8 internal constant REVOKE_RECORD = 11;

    /// @dev Governance counters, one slot.
    struct Config {
        uint16 threshold; // approvals needed to execute (k)
        uint16 activeCustoms; // active customs administrations (n)
        uint32 organisationCount; // registered organisations; last index assigned
    }

    mapping(bytes32 orgId => Organisation) private _organisations;
    mapping(uint32 index => bytes32 orgId) private _organisationIds;
    mapping(address key => Key) private _keys;
    mapping(address account => bool allowed) private _relayers;
    mapping(bytes32 proposalId => ProposalState) private _proposals;
    mapping(bytes32 proposalId => mapping(bytes32 orgId => bool approved)) private _approvals;
    Config private _config;

    /// @param administrations The bootstrap customs administrations and their first keys.
    /// @param relayers The bootstrap relayer accounts.
    /// @param threshold_ Approvals needed (k), 1..administrations.length.
    constructor(
        BootstrapAdministration[] memory administrations,
        address[] memory relayers,
        uint16 threshold_
    ) SignedRecords("TradeLedger Membership", "1") {
        for (uint256 i; i < administrations.length; ++i) {
            BootstrapAdministration memory a = administrations[i];
            _admit(a.orgId, Kinds.CUSTOMS, a.country, bytes32(0));
            _registerKey(a.orgId, a.key, a.validFrom, a.validUntil, address(0), bytes32(0));
        }
        for (uint256 i; i < relayers.length; ++i) {
            _addRelayer(relayers[i], bytes32(0));
        }
        _setThreshold(threshold_, bytes32(0));
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IMembership
    function propose(Proposal calldata proposal, Sig calldata sig)
        external
        onlyRelayer
        returns (bytes32 proposalId)
    {
        proposalId = hashProposal(proposal);
        (address signer,) = _recover(proposalId, sig);
        KeyInfo memory info = _authoriseGovernance(signer, proposal.action);
        if (proposal.action == 0 || proposal.action > REVOKE_RECORD) {
            revert UnknownAction(proposal.action);
        }
        if (
            proposal.expiresAt <= block.timestamp
                || proposal.expiresAt > block.timestamp + MAX_PROPOSAL_LIFETIME
        ) revert ProposalExpired(proposalId, proposal.expiresAt);
        if (_proposals[proposalId].action != 0) revert ProposalExists(proposalId);

        _proposals[proposalId] = ProposalState({
            action: proposal.action, approvals: 1, expiresAt: proposal.expiresAt, executed: false
        });
        _approvals[proposalId][info.orgId] = true;
        emit ProposalCreated(proposalId, info.orgId, proposal.action, proposal);
        emit ProposalApproved(proposalId, info.orgId, signer, 1);
    }

    /// @inheritdoc IMembership
    function approve(bytes32 proposalId, Sig calldata sig) external onlyRelayer {
        (address signer,) = _recover(hashApproval(proposalId), sig);
        ProposalState storage p = _openProposal(proposalId);
        KeyInfo memory info = _authoriseGovernance(signer, p.action);
        if (_approvals[proposalId][info.orgId]) revert AlreadyApproved(proposalId, info.orgId);

        uint16 approvals = p.approvals + 1;
        p.approvals = approvals;
        _approvals[proposalId][info.orgId] = true;
        emit ProposalApproved(proposalId, info.orgId, signer, approvals);
    }

    /// @inheritdoc IMembership
    function execute(Proposal calldata proposal) external onlyRelayer {
        bytes32 proposalId = hashProposal(proposal);
        ProposalState storage p = _openProposal(proposalId);
        uint16 approvals = p.approvals;
        uint16 k = _config.threshold;
        if (approvals < k) revert InsufficientApprovals(proposalId, approvals, k);

        p.executed = true;
        emit ProposalExecuted(proposalId, proposal.action, approvals);

        uint8 action = proposal.action;
        if (action == ADMIT_MEMBER) {
            if (proposal.kind == Kinds.CUSTOMS || !Kinds.isValid(proposal.kind)) {
                revert InvalidKind(proposal.kind);
            }
            _admitWithKey(proposal, proposalId);
        } else if (action == ADD_CUSTOMS) {
            if (proposal.kind != Kinds.CUSTOMS) revert InvalidKind(proposal.kind);
            _admitWithKey(proposal, proposalId);
        } else if (action == SUSPEND_MEMBER) {
            _suspend(proposal.orgId, proposalId);
        } else if (action == REINSTATE_MEMBER) {
            _reinstate(proposal.orgId, proposalId);
        } else if (action == SET_THRESHOLD) {
            _setThreshold(proposal.threshold, proposalId);
        } else if (action == REVOKE_KEY) {
            Key storage k_ = _keys[proposal.account];
            if (k_.orgId == bytes32(0)) revert KeyNotRegistered(proposal.account);
            _revoke(k_, proposal.account, address(0), proposalId);
        } else if (action == ADD_KEY) {
            _knownOrganisation(proposal.orgId);
            _registerKey(
                proposal.orgId,
                proposal.account,
                proposal.validFrom,
                proposal.validUntil,
                address(0),
                proposalId
            );
        } else if (action == REPLACE_KEY) {
            _knownOrganisation(proposal.orgId);
            bytes32 subject = proposal.subject;
            if (uint256(subject) >> 160 != 0) revert InvalidProposalSubject(subject);
            address old = address(uint160(uint256(subject)));
            Key storage replaced = _keys[old];
            if (replaced.orgId != proposal.orgId) revert KeyNotOfOrganisation(old, proposal.orgId);
            _registerKey(
                proposal.orgId,
                proposal.account,
                proposal.validFrom,
                proposal.validUntil,
                address(0),
                proposalId
            );
            if (replaced.revokedAt == 0) _revoke(replaced, old, address(0), proposalId);
        } else if (action == REVOKE_RECORD) {
            // What a suspended member issued: only governance may revoke it.
            Organisation storage o = _organisations[proposal.orgId];
            if (o.index == 0) revert UnknownOrganisation(proposal.orgId);
            if (o.status != Kinds.STATUS_SUSPENDED) revert InvalidStatus(proposal.orgId, o.status);
            IRevocableByGovernance(proposal.account)
                .revokeByGovernance(proposal.orgId, proposal.subject, proposalId);
        } else if (action == ADD_RELAYER) {
            _addRelayer(proposal.account, proposalId);
        } else {
            // REMOVE_RELAYER (the action code was checked at propose time)
            if (!_relayers[proposal.account]) revert RelayerNotListed(proposal.account);
            _relayers[proposal.account] = false;
            emit RelayerRemoved(proposal.account, proposalId);
        }
    }

    // ------------------------------------------------------------------ own keys

    /// @inheritdoc IMembership
    function addKey(KeyAddition calldata record, Sig calldata sig) external onlyRelayer {
        (address signer,) = _recover(hashKeyAddition(record), sig);
        KeyInfo memory info = _authorise(signer, uint40(block.timestamp), Kinds.MASK_ANY);
        if (info.orgId != record.orgId) revert NotOrganisationKey(info.orgId, record.orgId);
        _registerKey(
            record.orgId, record.key, record.validFrom, record.validUntil, signer, bytes32(0)
        );
    }

    /// @inheritdoc IMembership
    function revokeKey(KeyRevocation calldata record, Sig calldata sig) external onlyRelayer {
        (address signer,) = _recover(hashKeyRevocation(record), sig);
        KeyInfo memory info = _authorise(signer, uint40(block.timestamp), Kinds.MASK_ANY);
        _checkDeadline(record.deadline);
        if (info.orgId != record.orgId) revert NotOrganisationKey(info.orgId, record.orgId);
        Key storage k = _keys[record.key];
        if (k.orgId != record.orgId) revert KeyNotOfOrganisation(record.key, record.orgId);
        _revoke(k, record.key, signer, bytes32(0));
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IMembership
    function isRelayer(address account) external view returns (bool) {
        return _relayers[account];
    }

    /// @inheritdoc IMembership
    function keyInfo(address key_) external view returns (KeyInfo memory) {
        return _keyInfo(key_);
    }

    /// @inheritdoc IMembership
    function key(address key_) external view returns (Key memory) {
        return _keys[key_];
    }

    /// @inheritdoc IMembership
    function authorise(address key_, uint40 recordTime, uint256 kindMask)
        external
        view
        returns (KeyInfo memory)
    {
        return _authorise(key_, recordTime, kindMask);
    }

    /// @inheritdoc IMembership
    function organisation(bytes32 orgId) external view returns (Organisation memory) {
        return _organisations[orgId];
    }

    /// @inheritdoc IMembership
    function organisationId(uint32 index) external view returns (bytes32) {
        return _organisationIds[index];
    }

    /// @inheritdoc IMembership
    function statusAt(uint32 index) external view returns (uint8) {
        return _organisations[_organisationIds[index]].status;
    }

    /// @inheritdoc IMembership
    function organisationCount() external view returns (uint32) {
        return _config.organisationCount;
    }

    /// @inheritdoc IMembership
    function threshold() external view returns (uint16) {
        return _config.threshold;
    }

    /// @inheritdoc IMembership
    function activeCustomsCount() external view returns (uint16) {
        return _config.activeCustoms;
    }

    /// @inheritdoc IMembership
    function proposalState(bytes32 proposalId) external view returns (ProposalState memory) {
        return _proposals[proposalId];
    }

    /// @inheritdoc IMembership
    function hasApproved(bytes32 proposalId, bytes32 orgId) external view returns (bool) {
        return _approvals[proposalId][orgId];
    }

    /// @inheritdoc IMembership
    function hashProposal(Proposal calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(PROPOSAL_TYPEHASH, offset, 11);
    }

    /// @inheritdoc IMembership
    function hashApproval(bytes32 proposalId) public pure returns (bytes32) {
        return keccak256(abi.encode(APPROVAL_TYPEHASH, proposalId));
    }

    /// @inheritdoc IMembership
    function hashKeyAddition(KeyAddition calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(KEY_ADDITION_TYPEHASH, offset, 4);
    }

    /// @inheritdoc IMembership
    function hashKeyRevocation(KeyRevocation calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(KEY_REVOCATION_TYPEHASH, offset, 3);
    }

    // ------------------------------------------------------------------ internals

    function _isRelayer(address account) internal view override returns (bool) {
        return _relayers[account];
    }

    function _keyInfo(address key_) internal view override returns (KeyInfo memory info) {
        Key storage k = _keys[key_];
        bytes32 orgId = k.orgId;
        if (orgId == bytes32(0)) return info;
        Organisation storage o = _organisations[orgId];
        info = KeyInfo({
            orgId: orgId,
            orgIndex: o.index,
            kind: o.kind,
            status: o.status,
            country: o.country,
            validFrom: k.validFrom,
            validUntil: k.validUntil,
            revokedAt: k.revokedAt
        });
    }

    /// @dev The signer check of proposals and approvals: a key of an active customs
    /// administration, valid now. For key recovery (ADD_KEY, REPLACE_KEY) a key that has
    /// expired but was never revoked is accepted too, so that expiries alone can never freeze
    /// governance: k administrations holding unrevoked keys can always give keys back.
    function _authoriseGovernance(address signer, uint8 action)
        private
        view
        returns (KeyInfo memory info)
    {
        info = _keyInfo(signer);
        if (
            (action == ADD_KEY || action == REPLACE_KEY) && info.revokedAt == 0
                && info.validUntil <= block.timestamp
        ) info.validUntil = type(uint40).max;
        _check(info, signer, uint40(block.timestamp), Kinds.MASK_CUSTOMS, _NO_BATCH_ITEM);
    }

    function _openProposal(bytes32 proposalId) private view returns (ProposalState storage p) {
        p = _proposals[proposalId];
        if (p.action == 0) revert UnknownProposal(proposalId);
        if (p.executed) revert ProposalAlreadyExecuted(proposalId);
        if (block.timestamp >= p.expiresAt) revert ProposalExpired(proposalId, p.expiresAt);
    }

    function _admitWithKey(Proposal calldata p, bytes32 proposalId) private {
        _admit(p.orgId, p.kind, p.country, proposalId);
        _registerKey(p.orgId, p.account, p.validFrom, p.validUntil, address(0), proposalId);
    }

    function _knownOrganisation(bytes32 orgId) private view {
        if (_organisations[orgId].index == 0) revert UnknownOrganisation(orgId);
    }

    function _admit(bytes32 orgId, uint8 kind, bytes2 country, bytes32 proposalId) private {
        if (orgId == bytes32(0) || _organisations[orgId].index != 0) {
            revert OrganisationExists(orgId);
        }
        if (country == bytes2(0)) revert InvalidCountry(country);
        Config memory c = _config;
        uint32 index = c.organisationCount + 1;
        _config.organisationCount = index;
        if (kind == Kinds.CUSTOMS) _config.activeCustoms = c.activeCustoms + 1;
        _organisations[orgId] = Organisation({
            kind: kind,
            status: Kinds.STATUS_ACTIVE,
            country: country,
            index: index,
            admittedAt: uint40(block.timestamp)
        });
        _organisationIds[index] = orgId;
        emit OrganisationAdmitted(orgId, kind, country, index, proposalId);
    }

    function _registerKey(
        bytes32 orgId,
        address key_,
        uint40 validFrom,
        uint40 validUntil,
        address signer,
        bytes32 proposalId
    ) private {
        if (key_ == address(0) || _keys[key_].orgId != bytes32(0)) {
            revert KeyAlreadyRegistered(key_);
        }
        if (_relayers[key_]) revert RelayerCannotSign(key_);
        if (validUntil <= validFrom || validUntil <= block.timestamp) {
            revert InvalidValidity(validFrom, validUntil);
        }
        // No backdating beyond MAX_KEY_BACKDATE: a key signs for no time more than that before
        // it was registered.
        uint256 earliest =
            block.timestamp > MAX_KEY_BACKDATE ? block.timestamp - MAX_KEY_BACKDATE : 0;
        if (validFrom < earliest) validFrom = uint40(earliest);
        _keys[key_] =
            Key({orgId: orgId, validFrom: validFrom, validUntil: validUntil, revokedAt: 0});
        emit SigningKeyAdded(orgId, key_, validFrom, validUntil, signer, proposalId);
    }

    function _revoke(Key storage k, address key_, address signer, bytes32 proposalId) private {
        if (k.revokedAt != 0) revert KeyAlreadyRevoked(key_);
        uint40 nowTs = uint40(block.timestamp);
        k.revokedAt = nowTs;
        emit SigningKeyRevoked(k.orgId, key_, nowTs, signer, proposalId);
    }

    function _suspend(bytes32 orgId, bytes32 proposalId) private {
        Organisation storage o = _organisations[orgId];
        if (o.index == 0) revert UnknownOrganisation(orgId);
        if (o.status != Kinds.STATUS_ACTIVE) revert InvalidStatus(orgId, o.status);
        if (o.kind == Kinds.CUSTOMS) {
            Config memory c = _config;
            if (c.activeCustoms - 1 < c.threshold) {
                revert ThresholdUnreachable(c.threshold, c.activeCustoms - 1);
            }
            _config.activeCustoms = c.activeCustoms - 1;
        }
        o.status = Kinds.STATUS_SUSPENDED;
        emit OrganisationSuspended(orgId, proposalId);
    }

    function _reinstate(bytes32 orgId, bytes32 proposalId) private {
        Organisation storage o = _organisations[orgId];
        if (o.index == 0) revert UnknownOrganisation(orgId);
        if (o.status != Kinds.STATUS_SUSPENDED) revert InvalidStatus(orgId, o.status);
        if (o.kind == Kinds.CUSTOMS) _config.activeCustoms += 1;
        o.status = Kinds.STATUS_ACTIVE;
        emit OrganisationReinstated(orgId, proposalId);
    }

    function _setThreshold(uint16 k, bytes32 proposalId) private {
        uint16 n = _config.activeCustoms;
        if (k == 0 || k > n) revert InvalidThreshold(k, n);
        uint16 previous = _config.threshold;
        _config.threshold = k;
        emit ThresholdChanged(previous, k, proposalId);
    }

    function _addRelayer(address account, bytes32 proposalId) private {
        if (account == address(0)) revert ZeroAddress();
        if (_relayers[account]) revert RelayerAlreadyAllowed(account);
        if (_keys[account].orgId != bytes32(0)) revert SignerCannotRelay(account);
        _relayers[account] = true;
        emit RelayerAdded(account, proposalId);
    }
}

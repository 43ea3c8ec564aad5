// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MembershipClient} from "./base/MembershipClient.sol";
import {IAeoRegistry} from "./interfaces/IAeoRegistry.sol";
import {IRevocableByGovernance} from "./interfaces/IRevocableByGovernance.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {Kinds} from "./libraries/Kinds.sol";
import {Programmes} from "./libraries/Programmes.sol";

/// @title AeoRegistry
/// @notice AEO certifications with status history, MRAs, and the recognition query.
contract AeoRegistry is IAeoRegistry, MembershipClient {
    /// @inheritdoc IAeoRegistry
    bytes32 public constant AEO_ACTION_TYPEHASH = keccak256(
        "AeoAction(uint8 action,bytes32 operatorId,bytes8 programme,uint40 validFrom,uint40 validUntil,uint32 nonce,uint40 deadline)"
    );
    /// @inheritdoc IAeoRegistry
    bytes32 public constant MRA_PROPOSAL_TYPEHASH = keccak256(
        "MraProposal(bytes32 counterpart,uint32 scope,uint40 validFrom,uint40 validUntil,uint40 deadline)"
    );
    /// @inheritdoc IAeoRegistry
    bytes32 public constant MRA_ACCEPTANCE_TYPEHASH =
        keccak256("MraAcceptance(bytes32 mraId,uint40 deadline)");
    /// @inheritdoc IAeoRegistry
    bytes32 public constant MRA_TERMINATION_TYPEHASH =
        keccak256("MraTermination(bytes32 mraId,uint40 deadline)");

    uint8 private constant _CERTIFY = 1;
    uint8 private constant _SUSPEND = 2;
    uint8 private constant _REINSTATE = 3;
    uint8 private constant _REVOKE = 4;

    uint8 private constant _ACTIVE = 1;
    uint8 private constant _SUSPENDED = 2;
    uint8 private constant _REVOKED = 3;

    uint256 private constant _OPERATOR_KINDS =
        Kinds.MASK_TRADER | Kinds.MASK_CARRIER | Kinds.MASK_POSTAL;

    mapping(bytes32 certificationId => Certification) private _certifications;
    mapping(bytes32 certificationId => StatusChange[]) private _history;
    mapping(bytes32 operatorId => bytes32[] certificationIds) private _operatorCertifications;
    mapping(bytes32 mraId => Mra) private _mras;
    mapping(bytes32 pairKey => bytes32[] mraIds) private _pairMras;

    /// @param membership_ The Membership contract.
    constructor(IMembership membership_)
        MembershipClient(membership_, "TradeLedger AeoRegistry", "1")
    {}

    // ------------------------------------------------------------------ AEO

    /// @inheritdoc IAeoRegistry
    function applyAction(AeoAction calldata r, Sig calldata sig)
        external
        onlyRelayer
        returns (bytes32 id)
    {
        (address signer,) = _recover(hashAeoAction(r), sig);
        KeyInfo memory info = _authorise(signer, uint40(block.timestamp), Kinds.MASK_CUSTOMS);
        _checkDeadline(r.deadline);
        _useNonce(signer, r.nonce);

        IMembership.Organisation memory operator = _organisation(r.operatorId);
        if ((1 << operator.kind) & _OPERATOR_KINDS == 0) {
            revert InvalidOperator(r.operatorId, operator.kind);
        }
        if (operator.country != info.country) {
            revert WrongCountry(info.orgId, info.country, operator.country);
        }
        if (Programmes.bit(r.programme) == 0) revert UnknownProgramme(r.programme);

        id = certificationId(info.orgId, r.operatorId, r.programme);
        if (r.action == _CERTIFY) {
            _certify(id, r, info.orgId, signer);
        } else if (r.action >= _SUSPEND && r.action <= _REVOKE) {
            if (r.validFrom != 0 || r.validUntil != 0) revert InvalidAeoAction(r.action);
            _changeStatus(id, r, signer);
        } else {
            revert InvalidAeoAction(r.action);
        }
    }

    // ------------------------------------------------------------------ MRA

    /// @inheritdoc IAeoRegistry
    function proposeMra(MraProposal calldata r, Sig calldata sig)
        external
        onlyRelayer
        returns (bytes32 mraId)
    {
        (address signer,) = _recover(hashMraProposal(r), sig);
        KeyInfo memory info = _authorise(signer, uint40(block.timestamp), Kinds.MASK_CUSTOMS);
        _checkDeadline(r.deadline);
        IMembership.Organisation memory other = _organisation(r.counterpart);
        if (other.kind != Kinds.CUSTOMS || r.counterpart == info.orgId) {
            revert InvalidCounterpart(r.counterpart);
        }
        if (r.scope == 0 || r.scope & ~Programmes.ALL != 0) revert InvalidScope(r.scope);
        if (r.validUntil <= r.validFrom || r.validUntil <= block.timestamp) {
            revert InvalidValidity(r.validFrom, r.validUntil);
        }
        mraId = mraIdOf(info.orgId, r);
        if (_mras[mraId].proposer != bytes32(0)) revert MraExists(mraId);

        _mras[mraId] = Mra({
            proposer: info.orgId,
            counterpart: r.counterpart,
            scope: r.scope,
            validFrom: r.validFrom,
            validUntil: r.validUntil,
            proposedAt: uint40(block.timestamp),
            acceptedAt: 0,
            terminatedAt: 0
        });
        emit MraProposed(
            mraId, info.orgId, r.counterpart, signer, r.scope, r.validFrom, r.validUntil
        );
    }

    /// @inheritdoc IAeoRegistry
    function acceptMra(bytes32 mraId, uint40 deadline, Sig calldata sig) external onlyRelayer {
        (address signer,) = _recover(hashMraAcceptance(mraId, deadline), sig);
        KeyInfo memory info = _authorise(signer, uint40(block.timestamp), Kinds.MASK_CUSTOMS);
        _checkDeadline(deadline);
        Mra storage m = _mras[mraId];
        if (m.proposer == bytes32(0)) revert UnknownMra(mraId);
        if (info.orgId != m.counterpart) revert NotMraCounterpart(mraId, info.orgId);
        if (m.acceptedAt != 0 || m.terminatedAt != 0 || block.timestamp >= m.validUntil) {
            revert MraNotPending(mraId);
        }
        m.acceptedAt = uint40(block.timestamp);
        _pairMras[_pairKey(m.proposer, m.counterpart)].push(mraId);
        emit MraAccepted(mraId, m.proposer, m.counterpart, signer);
    }

    /// @inheritdoc IAeoRegistry
    function terminateMra(bytes32 mraId, uint40 deadline, Sig calldata sig) external onlyRelayer {
        (address signer,) = _recover(hashMraTermination(mraId, deadline), sig);
        KeyInfo memory info = _authorise(signer, uint40(block.timestamp), Kinds.MASK_CUSTOMS);
        _checkDeadline(deadline);
        Mra storage m = _mras[mraId];
        if (m.proposer == bytes32(0)) revert UnknownMra(mraId);
        if (info.orgId != m.proposer && info.orgId != m.counterpart) {
            revert NotMraParty(mraId, info.orgId);
        }
        if (m.terminatedAt != 0) revert MraAlreadyTerminated(mraId);
        m.terminatedAt = uint40(block.timestamp);
        emit MraTerminated(mraId, info.orgId, signer);
    }

    /// @inheritdoc IRevocableByGovernance
    function revokeByGovernance(bytes32 administration, bytes32 certificationId_, bytes32)
        external
    {
        if (msg.sender != address(_membership)) revert NotMembership(msg.sender);
        Certification storage c = _certifications[certificationId_];
        if (administration == bytes32(0) || c.administration != administration) {
            revert UnknownCertification(certificationId_);
        }
        uint8 status = c.status;
        if (status == _REVOKED) revert InvalidStatusTransition(certificationId_, status, _REVOKE);
        c.status = _REVOKED;
        _history[certificationId_].push(
            StatusChange({
                at: uint40(block.timestamp),
                status: _REVOKED,
                validFrom: c.validFrom,
                validUntil: c.validUntil
            })
        );
        emit AeoRevoked(certificationId_, c.operatorId, administration, address(0), 0);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IAeoRegistry
    function recognition(bytes32 operatorId, bytes32 administration, uint40 at)
        external
        view
        returns (Recognition memory result)
    {
        bytes32[] storage ids = _operatorCertifications[operatorId];
        uint256 n = ids.length;
        // A suspended administration's certifications are recognised by no one (itself
        // included) while it is suspended, whatever `at`: suspension cuts present authority.
        bool ownActive = _isActive(administration);
        for (uint256 i; i < n; ++i) {
            bytes32 id = ids[i];
            if (
                ownActive && _certifications[id].administration == administration
                    && _inForce(id, at)
            ) return Recognition({recognised: true, certificationId: id, mraId: bytes32(0)});
        }
        for (uint256 i; i < n; ++i) {
            bytes32 id = ids[i];
            Certification storage c = _certifications[id];
            if (c.administration == administration || !_inForce(id, at)) continue;
            if (!_isActive(c.administration)) continue;
            bytes32 mraId =
                _mraCovering(c.administration, administration, Programmes.bit(c.programme), at);
            if (mraId != bytes32(0)) {
                return Recognition({recognised: true, certificationId: id, mraId: mraId});
            }
        }
    }

    /// @inheritdoc IAeoRegistry
    function certification(bytes32 id) external view returns (Certification memory) {
        return _certifications[id];
    }

    /// @inheritdoc IAeoRegistry
    function statusHistory(bytes32 id) external view returns (StatusChange[] memory) {
        return _history[id];
    }

    /// @inheritdoc IAeoRegistry
    function certificationsOf(bytes32 operatorId) external view returns (bytes32[] memory) {
        return _operatorCertifications[operatorId];
    }

    /// @inheritdoc IAeoRegistry
    function mra(bytes32 mraId) external view returns (Mra memory) {
        return _mras[mraId];
    }

    /// @inheritdoc IAeoRegistry
    function mrasBetween(bytes32 a, bytes32 b) external view returns (bytes32[] memory) {
        return _pairMras[_pairKey(a, b)];
    }

    /// @inheritdoc IAeoRegistry
    function certificationId(bytes32 administration, bytes32 operatorId, bytes8 programme)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(administration, operatorId, programme));
    }

    /// @inheritdoc IAeoRegistry
    function mraIdOf(bytes32 proposer, MraProposal calldata r) public pure returns (bytes32) {
        return keccak256(abi.encode(proposer, r.counterpart, r.scope, r.validFrom, r.validUntil));
    }

    /// @inheritdoc IAeoRegistry
    function hashAeoAction(AeoAction calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(AEO_ACTION_TYPEHASH, offset, 7);
    }

    /// @inheritdoc IAeoRegistry
    function hashMraProposal(MraProposal calldata r) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := r
        }
        h = _hashStatic(MRA_PROPOSAL_TYPEHASH, offset, 5);
    }

    /// @inheritdoc IAeoRegistry
    function hashMraAcceptance(bytes32 mraId, uint40 deadline) public pure returns (bytes32) {
        return keccak256(abi.encode(MRA_ACCEPTANCE_TYPEHASH, mraId, deadline));
    }

    /// @inheritdoc IAeoRegistry
    function hashMraTermination(bytes32 mraId, uint40 deadline) public pure returns (bytes32) {
        return keccak256(abi.encode(MRA_TERMINATION_TYPEHASH, mraId, deadline));
    }

    // ------------------------------------------------------------------ internals

    function _certify(bytes32 id, AeoAction calldata r, bytes32 administration, address signer)
        private
    {
        if (r.validUntil <= r.validFrom || r.validUntil <= block.timestamp) {
            revert InvalidValidity(r.validFrom, r.validUntil);
        }
        Certification storage c = _certifications[id];
        if (c.administration == bytes32(0)) {
            c.administration = administration;
            c.operatorId = r.operatorId;
            c.programme = r.programme;
            _operatorCertifications[r.operatorId].push(id);
        } else if (c.status != _REVOKED && block.timestamp < c.validUntil) {
            revert CertificationInForce(id);
        }
        c.validFrom = r.validFrom;
        c.validUntil = r.validUntil;
        c.status = _ACTIVE;
        _history[id].push(
            StatusChange({
                at: uint40(block.timestamp),
                status: _ACTIVE,
                validFrom: r.validFrom,
                validUntil: r.validUntil
            })
        );
        emit AeoCertified(
            id,
            r.operatorId,
            administration,
            r.programme,
            r.validFrom,
            r.validUntil,
            signer,
            r.nonce
        );
    }

    function _changeStatus(bytes32 id, AeoAction calldata r, address signer) private {
        Certification storage c = _certifications[id];
        if (c.administration == bytes32(0)) revert UnknownCertification(id);
        uint8 status = c.status;
        uint8 action = r.action;
        uint8 next;
        if (action == _SUSPEND && status == _ACTIVE) next = _SUSPENDED;
        else if (action == _REINSTATE && status == _SUSPENDED) next = _ACTIVE;
        else if (action == _REVOKE && status != _REVOKED) next = _REVOKED;
        else revert InvalidStatusTransition(id, status, action);

        c.status = next;
        _history[id].push(
            StatusChange({
                at: uint40(block.timestamp),
                status: next,
                validFrom: c.validFrom,
                validUntil: c.validUntil
            })
        );
        bytes32 administration = c.administration;
        if (action == _SUSPEND) {
            emit AeoSuspended(id, r.operatorId, administration, signer, r.nonce);
        } else if (action == _REINSTATE) {
            emit AeoReinstated(id, r.operatorId, administration, signer, r.nonce);
        } else {
            emit AeoRevoked(id, r.operatorId, administration, signer, r.nonce);
        }
    }

    /// @dev Whether the organisation is an active member now.
    function _isActive(bytes32 orgId) private view returns (bool) {
        return _membership.organisation(orgId).status == Kinds.STATUS_ACTIVE;
    }

    /// @dev Whether the certification was active and within its validity at `at`.
    function _inForce(bytes32 id, uint40 at) private view returns (bool) {
        StatusChange[] storage h = _history[id];
        for (uint256 j = h.length; j > 0; --j) {
            StatusChange memory s = h[j - 1];
            if (s.at <= at) return s.status == _ACTIVE && s.validFrom <= at && at < s.validUntil;
        }
        return false;
    }

    /// @dev An MRA between `a` and `b` in effect at `at` whose scope includes `programmeBit`.
    function _mraCovering(bytes32 a, bytes32 b, uint32 programmeBit, uint40 at)
        private
        view
        returns (bytes32)
    {
        bytes32[] storage ids = _pairMras[_pairKey(a, b)];
        uint256 n = ids.length;
        for (uint256 i; i < n; ++i) {
            Mra storage m = _mras[ids[i]];
            if (
                m.scope & programmeBit != 0 && m.acceptedAt <= at && m.validFrom <= at
                    && at < m.validUntil && (m.terminatedAt == 0 || at < m.terminatedAt)
            ) return ids[i];
        }
        return bytes32(0);
    }

    function _pairKey(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {MembershipClient} from "./base/MembershipClient.sol";
import {IEpcisCaptures} from "./interfaces/IEpcisCaptures.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {Kinds} from "./libraries/Kinds.sol";

/// @title EpcisCaptures
/// @notice EPCIS 2.0 captures, each one Merkle root over its events' hash digests.
contract EpcisCaptures is IEpcisCaptures, MembershipClient {
    /// @inheritdoc IEpcisCaptures
    bytes32 public constant CAPTURE_TYPEHASH = keccak256(
        "Capture(bytes32 captureId,bytes32 root,uint32 eventCount,uint40 capturedAt,uint40 deadline)"
    );

    /// @dev Kinds that capture supply-chain events: customs (inspections), carriers, traders
    /// (brand owners commission serials), postal operators. Issuing bodies do not.
    uint256 private constant _CAPTURERS =
        Kinds.MASK_CUSTOMS | Kinds.MASK_CARRIER | Kinds.MASK_TRADER | Kinds.MASK_POSTAL;

    mapping(bytes32 captureId => Commitment) private _captures;

    /// @param membership_ The Membership contract (deploy it first).
    constructor(IMembership membership_)
        MembershipClient(membership_, "TradeLedger EpcisCaptures", "1")
    {}

    /// @inheritdoc IEpcisCaptures
    function commitCapture(Capture calldata c, Sig calldata sig) external onlyRelayer {
        _commit(c, sig, _NO_BATCH_ITEM);
    }

    /// @inheritdoc IEpcisCaptures
    function commitCaptures(Capture[] calldata captures, Sig[] calldata sigs) external onlyRelayer {
        _checkLengths(captures.length, sigs.length);
        for (uint256 i; i < captures.length; ++i) {
            _commit(captures[i], sigs[i], i);
        }
    }

    /// @inheritdoc IEpcisCaptures
    function capture(bytes32 captureId) external view returns (Commitment memory c) {
        c = _captures[captureId];
        if (c.root == bytes32(0)) revert UnknownCapture(captureId);
    }

    /// @inheritdoc IEpcisCaptures
    function proveEvent(bytes32 captureId, bytes32 digest, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = _captures[captureId].root;
        if (root == bytes32(0)) revert UnknownCapture(captureId);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(digest))));
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IEpcisCaptures
    function hashCapture(Capture calldata c) public pure returns (bytes32 h) {
        uint256 offset;
        assembly ("memory-safe") {
            offset := c
        }
        h = _hashStatic(CAPTURE_TYPEHASH, offset, 5);
    }

    function _commit(Capture calldata c, Sig calldata sig, uint256 index) private {
        _checkDeadline(c.deadline, index);
        if (c.eventCount == 0 || c.root == bytes32(0)) {
            _fail(index, abi.encodeWithSelector(EmptyCapture.selector, c.captureId));
        }
        if (_captures[c.captureId].root != bytes32(0)) {
            _fail(index, abi.encodeWithSelector(CaptureExists.selector, c.captureId));
        }
        (address signer,) = _recover(hashCapture(c), sig, index);
        KeyInfo memory info = _authorise(signer, c.capturedAt, _CAPTURERS, index);
        _captures[c.captureId] = Commitment({
            root: c.root,
            orgId: info.orgId,
            signer: signer,
            capturedAt: c.capturedAt,
            eventCount: c.eventCount
        });
        emit CaptureCommitted(c.captureId, info.orgId, signer, c.root, c.eventCount, c.capturedAt);
    }
}

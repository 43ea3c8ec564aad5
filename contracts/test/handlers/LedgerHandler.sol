// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {Vm} from "../utils/Vm.sol";
import {Membership} from "../../src/Membership.sol";
import {Consignments} from "../../src/Consignments.sol";
import {Certificates} from "../../src/Certificates.sol";
import {Attestations} from "../../src/Attestations.sol";
import {IAttestations} from "../../src/interfaces/IAttestations.sol";
import {IMembership} from "../../src/interfaces/IMembership.sol";
import {IConsignments} from "../../src/interfaces/IConsignments.sol";
import {ICertificates} from "../../src/interfaces/ICertificates.sol";
import {ISignedRecords} from "../../src/interfaces/ISignedRecords.sol";
import {EventMeta} from "../../src/libraries/EventMeta.sol";

/// @notice Drives events, drawdowns, time, key revocations and member suspensions with random
/// inputs, and keeps an independent model: the fold of emitted event digests per consignment,
/// the drawn sum per certificate, and which keys/members are valid. Any record the contracts
/// accept while the model says its key or member was not valid is counted in `violations`.
contract LedgerHandler is Test {
    struct ModelKey {
        uint256 pk;
        uint256 org; // index into orgs
        uint40 validFrom;
        uint40 validUntil;
        bool revoked;
    }

    struct ModelOrg {
        bytes32 id;
        uint256 mainPk; // signs self-revocations
        bool suspended;
    }

    Membership public immutable membership;
    Consignments public immutable consignments;
    Certificates public immutable certificates;
    Attestations public immutable attestations;
    bytes32 public immutable schemaId;
    uint256[] internal _governors; // customs keys that sign governance (never revoked here)

    ModelKey[] internal _keys;
    ModelOrg[] internal _orgs;
    bytes32[] public consignmentIds;
    bytes32[] public certificateIds;

    mapping(bytes32 consignmentId => bytes28 head) public ghostHead;
    mapping(bytes32 consignmentId => uint32 count) public ghostCount;
    mapping(bytes32 certificateId => uint256 drawn) public ghostDrawn;
    mapping(bytes32 certificateId => mapping(bytes32 consignmentId => bool)) internal _drawn;

    uint256 public violations;
    uint256 public acceptedEvents;
    uint256 public acceptedDrawdowns;
    uint256 public acceptedAttestations;
    uint256 public acceptedAttestationBatches;
    uint256 public acceptedDrawdownBatches;
    uint256 public acceptedBatches;
    uint256 public acceptedEventLists;
    uint32 internal _nonce;
    uint256 internal _salt;

    constructor(
        Membership membership_,
        Consignments consignments_,
        Certificates certificates_,
        Attestations attestations_,
        bytes32 schemaId_,
        uint256[] memory governors
    ) {
        membership = membership_;
        consignments = consignments_;
        certificates = certificates_;
        attestations = attestations_;
        schemaId = schemaId_;
        _governors = governors;
    }

    // ------------------------------------------------------------------ set-up (by the test)

    function addOrg(bytes32 id, uint256 mainPk) external returns (uint256) {
        _orgs.push(ModelOrg({id: id, mainPk: mainPk, suspended: false}));
        return _orgs.length - 1;
    }

    function addKey(uint256 pk, uint256 org, uint40 validFrom, uint40 validUntil) external {
        _keys.push(
            ModelKey({
                pk: pk, org: org, validFrom: validFrom, validUntil: validUntil, revoked: false
            })
        );
    }

    function track(bytes32 consignmentId) external {
        consignmentIds.push(consignmentId);
        (ghostHead[consignmentId], ghostCount[consignmentId]) = consignments.head(consignmentId);
    }

    function trackCertificate(bytes32 certificateId) external {
        certificateIds.push(certificateId);
    }

    function consignmentCount() external view returns (uint256) {
        return consignmentIds.length;
    }

    function certificateCount() external view returns (uint256) {
        return certificateIds.length;
    }

    // ------------------------------------------------------------------ actions

    function postEvent(uint256 keySeed, uint256 consignmentSeed, uint256 timeBack) external {
        ModelKey memory k = _keys[keySeed % _keys.length];
        bytes32 id = consignmentIds[consignmentSeed % consignmentIds.length];
        uint40 eventTime = uint40(block.timestamp - bound(timeBack, 0, 3 days));
        IConsignments.EventRecord memory r = IConsignments.EventRecord({
            consignmentId: id,
            meta: EventMeta.pack(
                39, 15, "DEHAM", eventTime, bytes11(0), uint40(block.timestamp + 1 hours), ++_nonce
            ),
            sealDigest: keccak256(abi.encode("seal", _nonce)),
            documentsDigest: bytes32(0),
            epcisEventHash: keccak256(abi.encode("epcis", _nonce))
        });
        ISignedRecords.Sig memory sig =
            _sig(k.pk, consignments.hashTypedData(consignments.hashEvent(r)));
        vm.recordLogs();
        try consignments.postEvent(r, sig) {
            ++acceptedEvents;
            if (!_valid(k, eventTime)) ++violations;
            _foldLogs(vm.getRecordedLogs());
        } catch {}
    }

    /// @dev One EventBatch signature over 1..4 events on random consignments, at times from
    /// `timeBack` before now. The batch is signed over the single-event struct hashes (`hashEvent`), so the
    /// contract's batch hashing is checked against the single-event rule.
    function postEventBatch(uint256 keySeed, uint256 consignmentSeed, uint256 timeBack, uint8 size)
        external
    {
        ModelKey memory k = _keys[keySeed % _keys.length];
        uint256 n = bound(size, 1, 4);
        uint32 nonce = ++_nonce;
        uint40 deadline = uint40(block.timestamp + 1 hours);
        IConsignments.EventRecord[] memory rs = new IConsignments.EventRecord[](n);
        bytes32[] memory structHashes = new bytes32[](n);
        uint256 back = bound(timeBack, 0, 3 days);
        bool valid = true;
        for (uint256 i; i < n; ++i) {
            // the events go forward one hour at a time from `back` before now, up to now, so
            // that some batches straddle a key's validFrom
            uint256 step = i * 1 hours < back ? i * 1 hours : back;
            uint40 eventTime = uint40(block.timestamp - back + step);
            uint256 c = uint256(keccak256(abi.encode(consignmentSeed, i))) % consignmentIds.length;
            rs[i] = _batchEvent(consignmentIds[c], eventTime, deadline, nonce, i);
            structHashes[i] = consignments.hashEvent(rs[i]);
            valid = valid && _valid(k, eventTime);
        }
        bytes32 batchHash = keccak256(
            abi.encode(
                keccak256("EventBatch(bytes32 eventsHash,uint32 nonce,uint40 deadline)"),
                keccak256(abi.encodePacked(structHashes)),
                nonce,
                deadline
            )
        );
        ISignedRecords.Sig memory sig = _sig(k.pk, _digest(batchHash));
        vm.recordLogs();
        try consignments.postEventBatch(rs, nonce, deadline, sig) {
            ++acceptedBatches;
            acceptedEvents += n;
            if (!valid) ++violations;
            _foldLogs(vm.getRecordedLogs());
        } catch {}
    }

    /// @dev 1..4 events in one `postEvents` call, one signature each. `shape` bits 0-1: size - 1;
    /// bit 1 + i (i = 1..3): item i is signed by item i - 1's key, else by `keySeeds[i]`; bit
    /// 4 + i: item i has item i - 1's event time, else `timeBacks[i]` (up to 3 days) before now.
    /// So the batch's signer memo (`SignedRecords._authoriseCached`) meets repeated signers at
    /// repeated and at new times, and signers that come back after another one.
    function postEvents(
        uint8[4] calldata keySeeds,
        uint32[4] calldata timeBacks,
        uint8 shape,
        uint256 consignmentSeed
    ) external {
        uint256 n = (shape & 3) + 1;
        IConsignments.EventRecord[] memory rs = new IConsignments.EventRecord[](n);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](n);
        bool valid = true;
        uint256 key;
        uint40 eventTime;
        for (uint256 i; i < n; ++i) {
            if (i == 0 || shape & (1 << (1 + i)) == 0) key = keySeeds[i] % _keys.length;
            if (i == 0 || shape & (1 << (4 + i)) == 0) {
                eventTime = uint40(block.timestamp - bound(timeBacks[i], 0, 3 days));
            }
            ModelKey memory k = _keys[key];
            uint256 c = uint256(keccak256(abi.encode(consignmentSeed, i))) % consignmentIds.length;
            rs[i] = _batchEvent(
                consignmentIds[c], eventTime, uint40(block.timestamp + 1 hours), ++_nonce, i
            );
            sigs[i] = _sig(k.pk, consignments.hashTypedData(consignments.hashEvent(rs[i])));
            valid = valid && _valid(k, eventTime);
        }
        vm.recordLogs();
        try consignments.postEvents(rs, sigs) {
            ++acceptedEventLists;
            acceptedEvents += n;
            if (!valid) ++violations; // a record under a key outside its window or suspended
            _foldLogs(vm.getRecordedLogs());
        } catch {
            // every model-valid list must go through (fresh nonces, known consignments, and
            // each signer may post to them): a refusal means the model and the rule disagree
            if (valid) ++violations;
        }
    }

    function _batchEvent(bytes32 id, uint40 eventTime, uint40 deadline, uint32 nonce, uint256 i)
        internal
        pure
        returns (IConsignments.EventRecord memory)
    {
        return IConsignments.EventRecord({
            consignmentId: id,
            meta: EventMeta.pack(39, 15, "DEHAM", eventTime, bytes11(0), deadline, nonce),
            sealDigest: keccak256(abi.encode("seal", nonce, i)),
            documentsDigest: bytes32(0),
            epcisEventHash: keccak256(abi.encode("epcis", nonce, i))
        });
    }

    function drawDown(uint256 keySeed, uint256 certSeed, uint256 consignmentSeed, uint64 quantity)
        external
    {
        ModelKey memory k = _keys[keySeed % _keys.length];
        bytes32 certId = certificateIds[certSeed % certificateIds.length];
        bytes32 id = consignmentIds[consignmentSeed % consignmentIds.length];
        quantity = uint64(bound(quantity, 0, 400));
        ICertificates.Drawdown memory r = ICertificates.Drawdown({
            certificateId: certId, consignmentId: id, quantity: quantity, deadline: _deadline()
        });
        ISignedRecords.Sig memory sig =
            _sig(k.pk, certificates.hashTypedData(certificates.hashDrawdown(r)));
        try certificates.drawDown(r, sig) {
            ++acceptedDrawdowns;
            if (!_valid(k, uint40(block.timestamp))) ++violations;
            if (_drawn[certId][id]) ++violations; // drawn twice for one consignment
            _drawn[certId][id] = true;
            ghostDrawn[certId] += quantity;
        } catch {}
    }

    /// @dev One DrawdownBatch signature over 1..4 drawdowns of random certificates, consignments
    /// and quantities (0..400; pairs may repeat within the batch). The batch is signed over the
    /// single-drawdown struct hashes (`hashDrawdown`), so the contract's batch hashing is checked
    /// against the single-drawdown rule. An accepted batch must come from a valid key, draw every
    /// (certificate, consignment) pair once, ever, and add exactly its quantities.
    function drawDownSignedBatch(
        uint256 keySeed,
        uint256 certSeed,
        uint256 consignmentSeed,
        uint256 quantitySeed,
        uint8 size
    ) external {
        ModelKey memory k = _keys[keySeed % _keys.length];
        uint256 n = bound(size, 1, 4);
        uint40 deadline = uint40(block.timestamp + 1 hours);
        ICertificates.Drawdown[] memory rs = new ICertificates.Drawdown[](n);
        bytes32[] memory structHashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            rs[i] = ICertificates.Drawdown({
                certificateId: certificateIds[uint256(keccak256(abi.encode(certSeed, i)))
                        % certificateIds.length],
                consignmentId: consignmentIds[uint256(keccak256(abi.encode(consignmentSeed, i)))
                        % consignmentIds.length],
                quantity: uint64(uint256(keccak256(abi.encode(quantitySeed, i))) % 401),
                deadline: deadline
            });
            structHashes[i] = certificates.hashDrawdown(rs[i]);
        }
        bytes32 batchHash = keccak256(
            abi.encode(
                keccak256("DrawdownBatch(bytes32 drawdownsHash,uint40 deadline)"),
                keccak256(abi.encodePacked(structHashes)),
                deadline
            )
        );
        ISignedRecords.Sig memory sig = _sig(k.pk, certificates.hashTypedData(batchHash));
        try certificates.drawDownSignedBatch(rs, deadline, sig) {
            ++acceptedDrawdownBatches;
            acceptedDrawdowns += n;
            if (!_valid(k, uint40(block.timestamp))) ++violations;
            for (uint256 i; i < n; ++i) {
                bytes32 certId = rs[i].certificateId;
                bytes32 id = rs[i].consignmentId;
                if (_drawn[certId][id]) ++violations; // drawn twice for one consignment
                if (certificates.drawnFor(certId, id) != rs[i].quantity) ++violations;
                _drawn[certId][id] = true;
                ghostDrawn[certId] += rs[i].quantity;
            }
        } catch {}
    }

    function attest(uint256 keySeed, uint256 consignmentSeed, bytes32 data) external {
        ModelKey memory k = _keys[keySeed % _keys.length];
        IAttestations.Attestation memory r = IAttestations.Attestation({
            schemaId: schemaId,
            subjectType: 1,
            subjectId: consignmentIds[consignmentSeed % consignmentIds.length],
            dataDigest: data,
            refUid: bytes32(0),
            expiresAt: 0,
            deadline: uint40(block.timestamp + 1 hours)
        });
        ISignedRecords.Sig memory sig =
            _sig(k.pk, attestations.hashTypedData(attestations.hashAttestation(r)));
        try attestations.attest(r, sig) {
            ++acceptedAttestations;
            if (!_valid(k, uint40(block.timestamp))) ++violations;
        } catch {}
    }

    /// @dev One AttestationBatch signature over 1..4 attestations about random consignments. The
    /// batch is signed over the single-attestation struct hashes (`hashAttestation`), so the
    /// contract's batch hashing is checked against the single-attestation rule; every accepted
    /// attestation must be stored under the uid it has when attested alone, for the signer's
    /// organisation.
    function attestSignedBatch(uint256 keySeed, uint256 consignmentSeed, bytes32 data, uint8 size)
        external
    {
        ModelKey memory k = _keys[keySeed % _keys.length];
        uint256 n = bound(size, 1, 4);
        uint40 deadline = uint40(block.timestamp + 1 hours);
        IAttestations.Attestation[] memory rs = new IAttestations.Attestation[](n);
        bytes32[] memory structHashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            uint256 c = uint256(keccak256(abi.encode(consignmentSeed, i))) % consignmentIds.length;
            rs[i] = IAttestations.Attestation({
                schemaId: schemaId,
                subjectType: 1,
                subjectId: consignmentIds[c],
                dataDigest: keccak256(abi.encode(data, i)),
                refUid: bytes32(0),
                expiresAt: 0,
                deadline: deadline
            });
            structHashes[i] = attestations.hashAttestation(rs[i]);
        }
        bytes32 batchHash = keccak256(
            abi.encode(
                keccak256("AttestationBatch(bytes32 attestationsHash,uint40 deadline)"),
                keccak256(abi.encodePacked(structHashes)),
                deadline
            )
        );
        ISignedRecords.Sig memory sig = _sig(k.pk, attestations.hashTypedData(batchHash));
        try attestations.attestSignedBatch(rs, deadline, sig) {
            ++acceptedAttestationBatches;
            acceptedAttestations += n;
            if (!_valid(k, uint40(block.timestamp))) ++violations;
            bytes32 orgId = _orgs[k.org].id;
            for (uint256 i; i < n; ++i) {
                IAttestations.Attestation memory r = rs[i];
                bytes32 uid = keccak256(
                    abi.encode(
                        orgId,
                        r.schemaId,
                        r.subjectType,
                        r.subjectId,
                        r.dataDigest,
                        r.refUid,
                        r.expiresAt
                    )
                );
                if (attestations.attestation(uid).attester != orgId) ++violations;
            }
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 2 days));
    }

    function revokeKey(uint256 keySeed) external {
        uint256 i = keySeed % _keys.length;
        ModelKey storage k = _keys[i];
        ModelOrg memory o = _orgs[k.org];
        IMembership.KeyRevocation memory r =
            IMembership.KeyRevocation({orgId: o.id, key: vm.addr(k.pk), deadline: _deadline()});
        ISignedRecords.Sig memory sig =
            _sig(o.mainPk, membership.hashTypedData(membership.hashKeyRevocation(r)));
        try membership.revokeKey(r, sig) {
            k.revoked = true;
        } catch {}
    }

    function toggleSuspension(uint256 orgSeed) external {
        uint256 i = orgSeed % _orgs.length;
        ModelOrg storage o = _orgs[i];
        IMembership.Proposal memory p;
        p.action = o.suspended ? 3 : 2;
        p.orgId = o.id;
        p.expiresAt = uint40(block.timestamp + 1 days);
        p.salt = bytes32(++_salt);
        bytes32 id = membership.hashProposal(p);
        membership.propose(p, _sig(_governors[0], membership.hashTypedData(id)));
        membership.approve(
            id, _sig(_governors[1], membership.hashTypedData(membership.hashApproval(id)))
        );
        try membership.execute(p) {
            o.suspended = !o.suspended;
        } catch {}
    }

    // ------------------------------------------------------------------ model

    /// @dev The model's view of validity: key window contains both now and the record time,
    /// key not revoked, organisation not suspended.
    function _valid(ModelKey memory k, uint40 recordTime) internal view returns (bool) {
        uint256 nowTs = block.timestamp;
        return !k.revoked && !_orgs[k.org].suspended && k.validFrom <= nowTs && nowTs < k.validUntil
            && k.validFrom <= recordTime && recordTime < k.validUntil;
    }

    function _foldLogs(Vm.Log[] memory logs) internal {
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory l = logs[i];
            if (
                l.emitter != address(consignments)
                    || l.topics[0] != IConsignments.ConsignmentEventRecorded.selector
            ) continue;
            bytes32 id = l.topics[1];
            (bytes32 meta, bytes32 seal, bytes32 docs, bytes32 epcis, bytes28 head, uint32 count) =
                abi.decode(l.data, (bytes32, bytes32, bytes32, bytes32, bytes28, uint32));
            IConsignments.EventRecord memory r =
                IConsignments.EventRecord(id, meta, seal, docs, epcis);
            bytes32 digest = _digest(consignments.hashEvent(r));
            // the step commits to the log's orgId and signer topics too (RECORDS.md "Hash chain")
            bytes28 next = bytes28(
                keccak256(
                    abi.encode(
                        ghostHead[id], digest, l.topics[2], address(uint160(uint256(l.topics[3])))
                    )
                )
            );
            if (next != head || count != ghostCount[id] + 1) ++violations; // log disagrees
            ghostHead[id] = next;
            ghostCount[id] += 1;
        }
    }

    function _digest(bytes32 structHash) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("TradeLedger Consignments"),
                keccak256("1"),
                block.chainid,
                address(consignments)
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev The deadline single records are signed with: an hour after the block time.
    function _deadline() internal view returns (uint40) {
        return uint40(block.timestamp + 1 hours);
    }

    function _sig(uint256 pk, bytes32 digest) internal pure returns (ISignedRecords.Sig memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return ISignedRecords.Sig({r: r, vs: bytes32(uint256(s) | (uint256(v - 27) << 255))});
    }
}

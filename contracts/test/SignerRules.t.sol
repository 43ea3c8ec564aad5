// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Checks} from "./utils/Checks.sol";
import {IMembership} from "../src/interfaces/IMembership.sol";
import {IConsignments} from "../src/interfaces/IConsignments.sol";
import {ICertificates} from "../src/interfaces/ICertificates.sol";
import {IAttestations} from "../src/interfaces/IAttestations.sol";
import {IAeoRegistry} from "../src/interfaces/IAeoRegistry.sol";
import {ISignedRecords} from "../src/interfaces/ISignedRecords.sol";
import {Kinds} from "../src/libraries/Kinds.sol";

/// @notice The shared signer rules (RECORDS.md §1: relayer, signature, `SignedRecords._check`,
/// replay, deadline) run through every signed entry point of the five contracts, table-driven.
/// @dev Each `test_<fn>_<condition>` names one cell of the matrix: an entry point (`_signed`
/// builds its calldata, signed by a given key) and a condition (`_checkSigner` sets it up and
/// knows the error it must give). Single-record calls must revert with the plain custom error;
/// batches with one signature per record sign item 0 with a valid key of another organisation
/// (`_peer`) and item 1 with the key under test, and must revert with `BatchItemFailed(1, error)`.
/// `postEventBatch`, `drawDownSignedBatch` and `attestSignedBatch` are one signature for the
/// batch, so their signer errors are plain. The relayer check is plain everywhere. Replays send
/// the same calldata twice, so a replayed batch fails at item 0 (`drawDownSignedBatch` and
/// `attestSignedBatch` too: their replay protection is each drawdown's (certificate,
/// consignment) pair and each attestation's uid; in-batch duplicates are in the per-contract
/// tests). `revokeCertificate` is
/// `Certificates.revoke`, `revokeAttestation` is `Attestations.revoke`.
contract SignerRulesTest is Checks {
    enum Ep {
        Propose,
        Approve,
        AddKey,
        RevokeKey,
        Register,
        RegisterBatch,
        PostEvent,
        PostEvents,
        PostEventBatch,
        Issue,
        IssueBatch,
        RevokeCertificate,
        DrawDown,
        DrawDownBatch,
        DrawDownSignedBatch,
        RegisterSchema,
        Attest,
        AttestBatch,
        AttestSignedBatch,
        RevokeAttestation,
        RevokeBatch,
        ApplyAction,
        ProposeMra,
        AcceptMra,
        TerminateMra
    }

    enum Cond {
        UnknownKey,
        KeyNotYetValid,
        KeyExpired,
        KeyRevoked,
        MemberSuspended,
        RelayerNotAllowed
    }

    /// @dev A key of the acting organisation added for the condition under test.
    uint256 internal constant PK_FRESH = 0xF2E501;
    /// @dev A second key of the carrier, the subject of key revocations.
    address internal constant VICTIM_KEY = address(0x5555);
    bytes32 internal constant UCR_REF = keccak256("UCR:signer-rules-1");
    bytes32 internal constant UCR2_REF = keccak256("UCR:signer-rules-2");
    bytes32 internal constant UCR = keccak256(abi.encode(CARRIER, UCR_REF));
    bytes32 internal constant UCR2 = keccak256(abi.encode(CARRIER, UCR2_REF));
    bytes32 internal constant NUMBER = keccak256("CCPIT-2026-signer-rules");
    string internal constant SCHEMA_2 = "seal(bytes32 seal,bool intact)";

    bytes32 internal certId; // issued by the CN chamber, CN -> DE, 1000 KGM
    bytes32 internal schemaId; // registered by DE customs
    bytes32 internal proposalId; // proposed by DE customs, open
    bytes32 internal mraId; // proposed by CN customs to DE customs, pending
    bytes32 internal carrierUid; // attested by the carrier
    bytes32 internal customsUid; // attested by DE customs

    uint32 internal _eventNonce;
    uint256 internal _item;
    /// @dev What replaying the call `_signed` built last must revert with.
    bytes internal _replayError;
    /// @dev The signature `_signed` made with the key under test.
    ISignedRecords.Sig internal _subjectSig;

    function setUp() public override {
        super.setUp();
        _register(UCR_REF);
        _register(UCR2_REF);
        certId = _issue(NUMBER, 1000);
        schemaId = _registerSchema(SCHEMA, PK_CUSTOMS_DE);
        IMembership.Proposal memory p = _proposal(7);
        p.account = address(0xAAAA);
        proposalId = _propose(p, PK_CUSTOMS_DE);
        IAeoRegistry.MraProposal memory m = _mra(CUSTOMS_DE);
        mraId = aeo.proposeMra(m, _sig(PK_CUSTOMS_CN, aeo.hashTypedData(aeo.hashMraProposal(m))));
        IAttestations.Attestation memory a = _attestation(schemaId, UCR, keccak256("carrier"));
        carrierUid = attestations.attest(a, _signAttestation(a, PK_CARRIER));
        a = _attestation(schemaId, UCR, keccak256("customs"));
        customsUid = attestations.attest(a, _signAttestation(a, PK_CUSTOMS_DE));
        _addKey(CARRIER, PK_CARRIER, VICTIM_KEY, T0, T0 + 100 days);
    }

    // ------------------------------------------------------------------ the table

    /// @dev The organisation that signs `ep` in these tests, and its first key.
    function _actor(Ep ep) internal pure returns (bytes32 orgId, uint256 pk) {
        if (ep == Ep.Propose || ep == Ep.AcceptMra || ep == Ep.TerminateMra) {
            return (CUSTOMS_DE, PK_CUSTOMS_DE);
        }
        if (ep == Ep.Approve) return (CUSTOMS_NL, PK_CUSTOMS_NL);
        if (ep == Ep.Issue || ep == Ep.IssueBatch || ep == Ep.RevokeCertificate) {
            return (ISSUER, PK_ISSUER);
        }
        if (ep == Ep.DrawDown || ep == Ep.DrawDownBatch || ep == Ep.DrawDownSignedBatch) {
            return (EXPORTER, PK_EXPORTER);
        }
        if (ep == Ep.ApplyAction || ep == Ep.ProposeMra) return (CUSTOMS_CN, PK_CUSTOMS_CN);
        return (CARRIER, PK_CARRIER);
    }

    /// @dev Batches with one signature per record: item 0 is signed by this other organisation.
    function _peer(Ep ep) internal pure returns (uint256) {
        if (ep == Ep.RegisterBatch || ep == Ep.PostEvents) return PK_POSTAL;
        if (ep == Ep.IssueBatch) return PK_CUSTOMS_CN;
        if (ep == Ep.DrawDownBatch || ep == Ep.AttestBatch || ep == Ep.RevokeBatch) {
            return PK_CUSTOMS_DE;
        }
        return 0;
    }

    function _isItemBatch(Ep ep) internal pure returns (bool) {
        return _peer(ep) != 0;
    }

    function _target(Ep ep) internal view returns (address) {
        if (uint8(ep) <= uint8(Ep.RevokeKey)) return address(membership);
        if (uint8(ep) <= uint8(Ep.PostEventBatch)) return address(consignments);
        if (uint8(ep) <= uint8(Ep.DrawDownSignedBatch)) return address(certificates);
        if (uint8(ep) <= uint8(Ep.RevokeBatch)) return address(attestations);
        return address(aeo);
    }

    /// @dev Calldata of a fresh, otherwise valid record for `ep` whose record under test is signed
    /// by `pk`; sets `_replayError` and `_subjectSig`.
    function _signed(Ep ep, uint256 pk) internal returns (bytes memory) {
        if (uint8(ep) <= uint8(Ep.RevokeKey)) return _signedMembership(ep, pk);
        if (uint8(ep) <= uint8(Ep.PostEventBatch)) return _signedConsignments(ep, pk);
        if (uint8(ep) <= uint8(Ep.DrawDownSignedBatch)) return _signedCertificates(ep, pk);
        if (uint8(ep) <= uint8(Ep.RevokeBatch)) return _signedAttestations(ep, pk);
        return _signedAeo(ep, pk);
    }

    function _signedMembership(Ep ep, uint256 pk) internal returns (bytes memory) {
        if (ep == Ep.Propose) {
            IMembership.Proposal memory p = _proposal(7);
            p.account = address(uint160(0xA000 + ++_item));
            bytes32 id = membership.hashProposal(p);
            _subjectSig = _sig(pk, membership.hashTypedData(id));
            _replayError = abi.encodeWithSelector(IMembership.ProposalExists.selector, id);
            return abi.encodeCall(membership.propose, (p, _subjectSig));
        }
        if (ep == Ep.Approve) {
            _subjectSig = _sig(pk, membership.hashTypedData(membership.hashApproval(proposalId)));
            _replayError = abi.encodeWithSelector(
                IMembership.AlreadyApproved.selector, proposalId, CUSTOMS_NL
            );
            return abi.encodeCall(membership.approve, (proposalId, _subjectSig));
        }
        if (ep == Ep.AddKey) {
            IMembership.KeyAddition memory k = IMembership.KeyAddition({
                orgId: CARRIER,
                key: address(uint160(0x6000 + ++_item)),
                validFrom: T0,
                validUntil: T0 + 100 days
            });
            _subjectSig = _sig(pk, membership.hashTypedData(membership.hashKeyAddition(k)));
            _replayError = abi.encodeWithSelector(IMembership.KeyAlreadyRegistered.selector, k.key);
            return abi.encodeCall(membership.addKey, (k, _subjectSig));
        }
        IMembership.KeyRevocation memory r =
            IMembership.KeyRevocation({orgId: CARRIER, key: VICTIM_KEY, deadline: _deadline()});
        _subjectSig = _sig(pk, membership.hashTypedData(membership.hashKeyRevocation(r)));
        _replayError = abi.encodeWithSelector(IMembership.KeyAlreadyRevoked.selector, VICTIM_KEY);
        return abi.encodeCall(membership.revokeKey, (r, _subjectSig));
    }

    function _signedConsignments(Ep ep, uint256 pk) internal returns (bytes memory) {
        if (ep == Ep.Register || ep == Ep.RegisterBatch) {
            IConsignments.Registration memory r =
                _registration(keccak256(abi.encode("UCR:new", ++_item)));
            _subjectSig = _signRegistration(r, pk);
            _replayError = abi.encodeWithSelector(
                IConsignments.ConsignmentExists.selector, _cid(r.referenceHash)
            );
            if (ep == Ep.Register) return abi.encodeCall(consignments.register, (r, _subjectSig));
            IConsignments.Registration[] memory rs = new IConsignments.Registration[](2);
            ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
            rs[0] = _registration(keccak256(abi.encode("UCR:peer", _item)));
            sigs[0] = _signRegistration(rs[0], _peer(ep));
            (rs[1], sigs[1]) = (r, _subjectSig);
            _replayError = _item0(
                abi.encodeWithSelector(
                    IConsignments.ConsignmentExists.selector, _cid(POSTAL, rs[0].referenceHash)
                )
            );
            return abi.encodeCall(consignments.registerBatch, (rs, sigs));
        }
        if (ep == Ep.PostEvent || ep == Ep.PostEvents) {
            IConsignments.EventRecord memory e = _event(UCR, ++_eventNonce);
            _subjectSig = _signEvent(e, pk);
            _replayError = abi.encodeWithSelector(
                ISignedRecords.NonceAlreadyUsed.selector, vm.addr(pk), _eventNonce
            );
            if (ep == Ep.PostEvent) {
                return abi.encodeCall(consignments.postEvent, (e, _subjectSig));
            }
            IConsignments.EventRecord[] memory es = new IConsignments.EventRecord[](2);
            ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
            es[0] = _event(UCR2, ++_eventNonce);
            sigs[0] = _signEvent(es[0], _peer(ep));
            (es[1], sigs[1]) = (e, _subjectSig);
            _replayError = _item0(
                abi.encodeWithSelector(
                    ISignedRecords.NonceAlreadyUsed.selector, vm.addr(_peer(ep)), _eventNonce
                )
            );
            return abi.encodeCall(consignments.postEvents, (es, sigs));
        }
        bytes32[] memory ids = new bytes32[](2);
        (ids[0], ids[1]) = (UCR, UCR2);
        uint32 nonce = ++_eventNonce;
        uint40 deadline = uint40(block.timestamp + 1 hours);
        IConsignments.EventRecord[] memory batch = _batchEvents(ids, 2, nonce);
        _subjectSig = _signEventBatch(batch, nonce, deadline, pk);
        _replayError =
            abi.encodeWithSelector(ISignedRecords.NonceAlreadyUsed.selector, vm.addr(pk), nonce);
        return abi.encodeCall(consignments.postEventBatch, (batch, nonce, deadline, _subjectSig));
    }

    function _signedCertificates(Ep ep, uint256 pk) internal returns (bytes memory) {
        if (ep == Ep.Issue || ep == Ep.IssueBatch) {
            ICertificates.CertificateIssue memory r =
                _issueRecord(keccak256(abi.encode("CO", ++_item)), 5);
            _subjectSig = _signIssue(r, pk);
            _replayError = abi.encodeWithSelector(
                ICertificates.CertificateExists.selector,
                certificates.certificateId(ISSUER, r.certificateNumber)
            );
            if (ep == Ep.Issue) return abi.encodeCall(certificates.issue, (r, _subjectSig));
            ICertificates.CertificateIssue[] memory rs = new ICertificates.CertificateIssue[](2);
            ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
            rs[0] = _issueRecord(keccak256(abi.encode("CO:peer", _item)), 5);
            sigs[0] = _signIssue(rs[0], _peer(ep));
            (rs[1], sigs[1]) = (r, _subjectSig);
            _replayError = _item0(
                abi.encodeWithSelector(
                    ICertificates.CertificateExists.selector,
                    certificates.certificateId(CUSTOMS_CN, rs[0].certificateNumber)
                )
            );
            return abi.encodeCall(certificates.issueBatch, (rs, sigs));
        }
        if (ep == Ep.RevokeCertificate) {
            ICertificates.CertificateRevocation memory v = ICertificates.CertificateRevocation({
                certificateNumber: NUMBER, reasonDigest: keccak256("fraud"), deadline: _deadline()
            });
            _subjectSig = _sig(pk, certificates.hashTypedData(certificates.hashRevocation(v)));
            _replayError =
                abi.encodeWithSelector(ICertificates.CertificateIsRevoked.selector, certId);
            return abi.encodeCall(certificates.revoke, (v, _subjectSig));
        }
        if (ep == Ep.DrawDownSignedBatch) {
            ICertificates.Drawdown[] memory list = new ICertificates.Drawdown[](2);
            list[0] = ICertificates.Drawdown({
                certificateId: certId, consignmentId: UCR, quantity: 10, deadline: _deadline()
            });
            list[1] = ICertificates.Drawdown({
                certificateId: certId, consignmentId: UCR2, quantity: 10, deadline: _deadline()
            });
            uint40 deadline = uint40(block.timestamp + 1 hours);
            _subjectSig = _signDrawdownBatch(list, deadline, pk);
            _replayError =
                _item0(abi.encodeWithSelector(ICertificates.AlreadyDrawn.selector, certId, UCR));
            return abi.encodeCall(certificates.drawDownSignedBatch, (list, deadline, _subjectSig));
        }
        ICertificates.Drawdown memory d = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR, quantity: 10, deadline: _deadline()
        });
        _subjectSig = _signDrawdown(d, pk);
        _replayError = abi.encodeWithSelector(ICertificates.AlreadyDrawn.selector, certId, UCR);
        if (ep == Ep.DrawDown) return abi.encodeCall(certificates.drawDown, (d, _subjectSig));
        ICertificates.Drawdown[] memory ds = new ICertificates.Drawdown[](2);
        ISignedRecords.Sig[] memory dsigs = new ISignedRecords.Sig[](2);
        ds[0] = ICertificates.Drawdown({
            certificateId: certId, consignmentId: UCR2, quantity: 10, deadline: _deadline()
        });
        dsigs[0] = _signDrawdown(ds[0], _peer(ep));
        (ds[1], dsigs[1]) = (d, _subjectSig);
        _replayError =
            _item0(abi.encodeWithSelector(ICertificates.AlreadyDrawn.selector, certId, UCR2));
        return abi.encodeCall(certificates.drawDownBatch, (ds, dsigs));
    }

    function _signedAttestations(Ep ep, uint256 pk) internal returns (bytes memory) {
        if (ep == Ep.RegisterSchema) {
            uint40 deadline = uint40(block.timestamp + 1 hours);
            _subjectSig =
                _sig(pk, attestations.hashTypedData(attestations.hashSchema(SCHEMA_2, deadline)));
            _replayError = abi.encodeWithSelector(
                IAttestations.SchemaExists.selector, keccak256(bytes(SCHEMA_2))
            );
            return abi.encodeCall(attestations.registerSchema, (SCHEMA_2, deadline, _subjectSig));
        }
        if (ep == Ep.Attest || ep == Ep.AttestBatch) {
            IAttestations.Attestation memory a =
                _attestation(schemaId, UCR, keccak256(abi.encode("data", ++_item)));
            _subjectSig = _signAttestation(a, pk);
            _replayError = abi.encodeWithSelector(
                IAttestations.AttestationExists.selector, attestations.attestationUid(CARRIER, a)
            );
            if (ep == Ep.Attest) return abi.encodeCall(attestations.attest, (a, _subjectSig));
            IAttestations.Attestation[] memory as_ = new IAttestations.Attestation[](2);
            ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
            as_[0] = _attestation(schemaId, UCR, keccak256(abi.encode("peer", _item)));
            sigs[0] = _signAttestation(as_[0], _peer(ep));
            (as_[1], sigs[1]) = (a, _subjectSig);
            _replayError = _item0(
                abi.encodeWithSelector(
                    IAttestations.AttestationExists.selector,
                    attestations.attestationUid(CUSTOMS_DE, as_[0])
                )
            );
            return abi.encodeCall(attestations.attestBatch, (as_, sigs));
        }
        if (ep == Ep.AttestSignedBatch) {
            IAttestations.Attestation[] memory list = new IAttestations.Attestation[](2);
            list[0] = _attestation(schemaId, UCR, keccak256(abi.encode("signed", ++_item)));
            list[1] = _attestation(schemaId, UCR2, keccak256(abi.encode("signed", _item)));
            uint40 deadline = uint40(block.timestamp + 1 hours);
            _subjectSig = _signAttestationBatch(list, deadline, pk);
            _replayError = _item0(
                abi.encodeWithSelector(
                    IAttestations.AttestationExists.selector,
                    attestations.attestationUid(CARRIER, list[0])
                )
            );
            return abi.encodeCall(attestations.attestSignedBatch, (list, deadline, _subjectSig));
        }
        IAttestations.Revocation memory v = IAttestations.Revocation({
            uid: carrierUid,
            reasonDigest: keccak256("withdrawn"),
            deadline: uint40(block.timestamp + 1 hours)
        });
        _subjectSig = _sig(pk, attestations.hashTypedData(attestations.hashRevocation(v)));
        _replayError =
            abi.encodeWithSelector(IAttestations.AttestationAlreadyRevoked.selector, carrierUid);
        if (ep == Ep.RevokeAttestation) {
            return abi.encodeCall(attestations.revoke, (v, _subjectSig));
        }
        IAttestations.Revocation[] memory vs = new IAttestations.Revocation[](2);
        ISignedRecords.Sig[] memory vsigs = new ISignedRecords.Sig[](2);
        vs[0] = IAttestations.Revocation({
            uid: customsUid, reasonDigest: keccak256("withdrawn"), deadline: v.deadline
        });
        vsigs[0] = _sig(_peer(ep), attestations.hashTypedData(attestations.hashRevocation(vs[0])));
        (vs[1], vsigs[1]) = (v, _subjectSig);
        _replayError = _item0(
            abi.encodeWithSelector(IAttestations.AttestationAlreadyRevoked.selector, customsUid)
        );
        return abi.encodeCall(attestations.revokeBatch, (vs, vsigs));
    }

    function _signedAeo(Ep ep, uint256 pk) internal returns (bytes memory) {
        if (ep == Ep.ApplyAction) {
            IAeoRegistry.AeoAction memory a = _aeoAction(1, EXPORTER, "AEOS");
            _subjectSig = _sig(pk, aeo.hashTypedData(aeo.hashAeoAction(a)));
            _replayError = abi.encodeWithSelector(
                ISignedRecords.NonceAlreadyUsed.selector, vm.addr(pk), a.nonce
            );
            return abi.encodeCall(aeo.applyAction, (a, _subjectSig));
        }
        if (ep == Ep.ProposeMra) {
            IAeoRegistry.MraProposal memory m = _mra(CUSTOMS_NL);
            _subjectSig = _sig(pk, aeo.hashTypedData(aeo.hashMraProposal(m)));
            _replayError =
                abi.encodeWithSelector(IAeoRegistry.MraExists.selector, aeo.mraIdOf(CUSTOMS_CN, m));
            return abi.encodeCall(aeo.proposeMra, (m, _subjectSig));
        }
        if (ep == Ep.AcceptMra) {
            _subjectSig = _sig(pk, aeo.hashTypedData(aeo.hashMraAcceptance(mraId, MRA_DEADLINE)));
            _replayError = abi.encodeWithSelector(IAeoRegistry.MraNotPending.selector, mraId);
            return abi.encodeCall(aeo.acceptMra, (mraId, MRA_DEADLINE, _subjectSig));
        }
        _subjectSig = _sig(pk, aeo.hashTypedData(aeo.hashMraTermination(mraId, MRA_DEADLINE)));
        _replayError = abi.encodeWithSelector(IAeoRegistry.MraAlreadyTerminated.selector, mraId);
        return abi.encodeCall(aeo.terminateMra, (mraId, MRA_DEADLINE, _subjectSig));
    }

    function _mra(bytes32 counterpart) internal view returns (IAeoRegistry.MraProposal memory) {
        return IAeoRegistry.MraProposal({
            counterpart: counterpart,
            scope: 0x6,
            validFrom: uint40(block.timestamp),
            validUntil: uint40(block.timestamp + 5 * 365 days),
            deadline: MRA_DEADLINE
        });
    }

    function _item0(bytes memory reason) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISignedRecords.BatchItemFailed.selector, 0, reason);
    }

    /// @dev `reason` as `ep` must give it for the record under test (item 1 of a batch).
    function _asGiven(Ep ep, bytes memory reason) internal pure returns (bytes memory) {
        if (!_isItemBatch(ep)) return reason;
        return abi.encodeWithSelector(ISignedRecords.BatchItemFailed.selector, 1, reason);
    }

    // ------------------------------------------------------------------ the conditions

    /// @dev Set up `c` for the acting organisation of `ep`, sign with the key it concerns, and
    /// require the exact error.
    function _checkSigner(Ep ep, Cond c) internal {
        (bytes32 orgId, uint256 mainPk) = _actor(ep);
        address fresh = vm.addr(PK_FRESH);
        uint256 pk = PK_FRESH;
        address sender = address(this);
        bytes memory reason;
        if (c == Cond.UnknownKey) {
            pk = PK_OUTSIDER;
            reason =
                abi.encodeWithSelector(ISignedRecords.UnknownKey.selector, vm.addr(PK_OUTSIDER));
        } else if (c == Cond.KeyNotYetValid) {
            _addKey(orgId, mainPk, fresh, T0 + 1 days, T0 + 10 days);
            reason = abi.encodeWithSelector(
                ISignedRecords.KeyNotYetValid.selector, fresh, T0 + 1 days, T0
            );
        } else if (c == Cond.KeyExpired) {
            _addKey(orgId, mainPk, fresh, T0, T0 + 1 hours);
            vm.warp(T0 + 1 hours);
            reason = abi.encodeWithSelector(
                ISignedRecords.KeyExpired.selector, fresh, T0 + 1 hours, T0 + 1 hours
            );
        } else if (c == Cond.KeyRevoked) {
            _addKey(orgId, mainPk, fresh, T0, T0 + 10 days);
            _revokeKey(orgId, mainPk, fresh);
            reason = abi.encodeWithSelector(ISignedRecords.KeyRevoked.selector, fresh, T0);
        } else if (c == Cond.MemberSuspended) {
            _suspend(orgId);
            pk = mainPk;
            reason = abi.encodeWithSelector(
                ISignedRecords.MemberNotActive.selector, orgId, Kinds.STATUS_SUSPENDED
            );
        } else {
            pk = mainPk;
            sender = OUTSIDER_RELAYER;
            reason =
                abi.encodeWithSelector(ISignedRecords.RelayerNotAllowed.selector, OUTSIDER_RELAYER);
        }
        bytes memory data = _signed(ep, pk);
        // the relayer gate comes before any item is looked at: never wrapped
        bytes memory expected = c == Cond.RelayerNotAllowed ? reason : _asGiven(ep, reason);
        _assertRevert(sender, _target(ep), data, expected);
    }

    /// @dev Signed by a key of organisation `orgId` of the wrong kind for `ep`.
    function _checkWrongKind(Ep ep, uint256 pk, bytes32 orgId, uint8 kind) internal {
        bytes memory data = _signed(ep, pk);
        _assertRevert(
            address(this),
            _target(ep),
            data,
            _asGiven(ep, abi.encodeWithSelector(ISignedRecords.WrongKind.selector, orgId, kind))
        );
    }

    /// @dev Signed by DE customs where the record needs an organisation of China (the
    /// certificate's origin, the operator's country).
    function _checkWrongCountry(Ep ep) internal {
        bytes memory data = _signed(ep, PK_CUSTOMS_DE);
        _assertRevert(
            address(this),
            _target(ep),
            data,
            _asGiven(
                ep,
                abi.encodeWithSelector(
                    ISignedRecords.WrongCountry.selector, CUSTOMS_DE, bytes2("DE"), bytes2("CN")
                )
            )
        );
    }

    /// @dev The exact call succeeds once and is refused when sent again.
    function _checkReplay(Ep ep) internal {
        (, uint256 mainPk) = _actor(ep);
        bytes memory data = _signed(ep, mainPk);
        bytes memory expected = _replayError;
        (bool ok, bytes memory reason) = _target(ep).call(data);
        if (!ok) revert(string.concat("first call refused: ", _str(reason)));
        _assertRevert(address(this), _target(ep), data, expected);
    }

    /// @dev Signed with a deadline one hour ahead, sent one second after it.
    function _checkDeadline(Ep ep) internal {
        (, uint256 mainPk) = _actor(ep);
        bytes memory data = _signed(ep, mainPk);
        vm.warp(T0 + 1 hours + 1);
        _assertRevert(
            address(this),
            _target(ep),
            data,
            abi.encodeWithSelector(
                ISignedRecords.DeadlineExpired.selector, T0 + 1 hours, T0 + 1 hours + 1
            )
        );
    }

    /// @dev The record under test carries a high-s signature (s in (n/2, 2^255), both parities
    /// representable in EIP-2098 form): OpenZeppelin ECDSA refuses it, mapped to
    /// `InvalidSignature()`.
    function _checkHighS(Ep ep) internal {
        (, uint256 mainPk) = _actor(ep);
        bytes memory data = _signed(ep, mainPk);
        ISignedRecords.Sig memory low = _subjectSig;
        uint256 s = uint256(low.vs) & (type(uint256).max >> 1);
        uint256 parity = uint256(low.vs) & (1 << 255);
        bytes32 highVs = bytes32(parity | (HALF_N + 1 + (s % (1 << 126))));
        _replaceSig(data, low, highVs);
        _assertRevert(
            address(this),
            _target(ep),
            data,
            _asGiven(ep, abi.encodeWithSelector(ISignedRecords.InvalidSignature.selector))
        );
    }

    /// @dev Overwrite the `vs` word that follows the word pair (sig.r, sig.vs) in ABI calldata.
    function _replaceSig(bytes memory data, ISignedRecords.Sig memory sig, bytes32 vs)
        internal
        pure
    {
        bytes32 r = sig.r;
        bytes32 old = sig.vs;
        uint256 found;
        for (uint256 off = 4; off + 64 <= data.length; off += 32) {
            bytes32 a;
            bytes32 b;
            assembly ("memory-safe") {
                a := mload(add(add(data, 0x20), off))
                b := mload(add(add(data, 0x40), off))
            }
            if (a == r && b == old) {
                assembly ("memory-safe") {
                    mstore(add(add(data, 0x40), off), vs)
                }
                ++found;
            }
        }
        assertEq(found, 1, "signature found once in calldata");
    }

    // ------------------------------------------------------------------ the cells
    // propose
    function test_propose_revertsForUnknownKey() public {
        _checkSigner(Ep.Propose, Cond.UnknownKey);
    }

    function test_propose_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.Propose, Cond.KeyNotYetValid);
    }

    function test_propose_revertsForExpiredKey() public {
        _checkSigner(Ep.Propose, Cond.KeyExpired);
    }

    function test_propose_revertsForRevokedKey() public {
        _checkSigner(Ep.Propose, Cond.KeyRevoked);
    }

    function test_propose_revertsForSuspendedMember() public {
        _checkSigner(Ep.Propose, Cond.MemberSuspended);
    }

    function test_propose_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.Propose, Cond.RelayerNotAllowed);
    }

    function test_propose_revertsWhenReplayed() public {
        _checkReplay(Ep.Propose);
    }

    function test_propose_revertsForHighS() public {
        _checkHighS(Ep.Propose);
    }

    function test_propose_revertsForWrongKind() public {
        _checkWrongKind(Ep.Propose, PK_CARRIER, CARRIER, Kinds.CARRIER);
    }

    // approve
    function test_approve_revertsForUnknownKey() public {
        _checkSigner(Ep.Approve, Cond.UnknownKey);
    }

    function test_approve_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.Approve, Cond.KeyNotYetValid);
    }

    function test_approve_revertsForExpiredKey() public {
        _checkSigner(Ep.Approve, Cond.KeyExpired);
    }

    function test_approve_revertsForRevokedKey() public {
        _checkSigner(Ep.Approve, Cond.KeyRevoked);
    }

    function test_approve_revertsForSuspendedMember() public {
        _checkSigner(Ep.Approve, Cond.MemberSuspended);
    }

    function test_approve_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.Approve, Cond.RelayerNotAllowed);
    }

    function test_approve_revertsWhenReplayed() public {
        _checkReplay(Ep.Approve);
    }

    function test_approve_revertsForHighS() public {
        _checkHighS(Ep.Approve);
    }

    function test_approve_revertsForWrongKind() public {
        _checkWrongKind(Ep.Approve, PK_CARRIER, CARRIER, Kinds.CARRIER);
    }

    // addKey
    function test_addKey_revertsForUnknownKey() public {
        _checkSigner(Ep.AddKey, Cond.UnknownKey);
    }

    function test_addKey_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.AddKey, Cond.KeyNotYetValid);
    }

    function test_addKey_revertsForExpiredKey() public {
        _checkSigner(Ep.AddKey, Cond.KeyExpired);
    }

    function test_addKey_revertsForRevokedKey() public {
        _checkSigner(Ep.AddKey, Cond.KeyRevoked);
    }

    function test_addKey_revertsForSuspendedMember() public {
        _checkSigner(Ep.AddKey, Cond.MemberSuspended);
    }

    function test_addKey_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.AddKey, Cond.RelayerNotAllowed);
    }

    function test_addKey_revertsWhenReplayed() public {
        _checkReplay(Ep.AddKey);
    }

    function test_addKey_revertsForHighS() public {
        _checkHighS(Ep.AddKey);
    }

    // revokeKey
    function test_revokeKey_revertsForUnknownKey() public {
        _checkSigner(Ep.RevokeKey, Cond.UnknownKey);
    }

    function test_revokeKey_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.RevokeKey, Cond.KeyNotYetValid);
    }

    function test_revokeKey_revertsForExpiredKey() public {
        _checkSigner(Ep.RevokeKey, Cond.KeyExpired);
    }

    function test_revokeKey_revertsForRevokedKey() public {
        _checkSigner(Ep.RevokeKey, Cond.KeyRevoked);
    }

    function test_revokeKey_revertsForSuspendedMember() public {
        _checkSigner(Ep.RevokeKey, Cond.MemberSuspended);
    }

    function test_revokeKey_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.RevokeKey, Cond.RelayerNotAllowed);
    }

    function test_revokeKey_revertsWhenReplayed() public {
        _checkReplay(Ep.RevokeKey);
    }

    function test_revokeKey_revertsForHighS() public {
        _checkHighS(Ep.RevokeKey);
    }

    // register
    function test_register_revertsForUnknownKey() public {
        _checkSigner(Ep.Register, Cond.UnknownKey);
    }

    function test_register_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.Register, Cond.KeyNotYetValid);
    }

    function test_register_revertsForExpiredKey() public {
        _checkSigner(Ep.Register, Cond.KeyExpired);
    }

    function test_register_revertsForRevokedKey() public {
        _checkSigner(Ep.Register, Cond.KeyRevoked);
    }

    function test_register_revertsForSuspendedMember() public {
        _checkSigner(Ep.Register, Cond.MemberSuspended);
    }

    function test_register_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.Register, Cond.RelayerNotAllowed);
    }

    function test_register_revertsWhenReplayed() public {
        _checkReplay(Ep.Register);
    }

    function test_register_revertsForHighS() public {
        _checkHighS(Ep.Register);
    }

    function test_register_revertsForWrongKind() public {
        _checkWrongKind(Ep.Register, PK_ISSUER, ISSUER, Kinds.ISSUING_BODY);
    }

    // registerBatch
    function test_registerBatch_revertsForUnknownKey() public {
        _checkSigner(Ep.RegisterBatch, Cond.UnknownKey);
    }

    function test_registerBatch_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.RegisterBatch, Cond.KeyNotYetValid);
    }

    function test_registerBatch_revertsForExpiredKey() public {
        _checkSigner(Ep.RegisterBatch, Cond.KeyExpired);
    }

    function test_registerBatch_revertsForRevokedKey() public {
        _checkSigner(Ep.RegisterBatch, Cond.KeyRevoked);
    }

    function test_registerBatch_revertsForSuspendedMember() public {
        _checkSigner(Ep.RegisterBatch, Cond.MemberSuspended);
    }

    function test_registerBatch_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.RegisterBatch, Cond.RelayerNotAllowed);
    }

    function test_registerBatch_revertsWhenReplayed() public {
        _checkReplay(Ep.RegisterBatch);
    }

    function test_registerBatch_revertsForHighS() public {
        _checkHighS(Ep.RegisterBatch);
    }

    function test_registerBatch_revertsForWrongKind() public {
        _checkWrongKind(Ep.RegisterBatch, PK_ISSUER, ISSUER, Kinds.ISSUING_BODY);
    }

    // postEvent
    function test_postEvent_revertsForUnknownKey() public {
        _checkSigner(Ep.PostEvent, Cond.UnknownKey);
    }

    function test_postEvent_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.PostEvent, Cond.KeyNotYetValid);
    }

    function test_postEvent_revertsForExpiredKey() public {
        _checkSigner(Ep.PostEvent, Cond.KeyExpired);
    }

    function test_postEvent_revertsForRevokedKey() public {
        _checkSigner(Ep.PostEvent, Cond.KeyRevoked);
    }

    function test_postEvent_revertsForSuspendedMember() public {
        _checkSigner(Ep.PostEvent, Cond.MemberSuspended);
    }

    function test_postEvent_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.PostEvent, Cond.RelayerNotAllowed);
    }

    function test_postEvent_revertsWhenReplayed() public {
        _checkReplay(Ep.PostEvent);
    }

    function test_postEvent_revertsForHighS() public {
        _checkHighS(Ep.PostEvent);
    }

    function test_postEvent_revertsAfterDeadline() public {
        _checkDeadline(Ep.PostEvent);
    }

    // postEvents
    function test_postEvents_revertsForUnknownKey() public {
        _checkSigner(Ep.PostEvents, Cond.UnknownKey);
    }

    function test_postEvents_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.PostEvents, Cond.KeyNotYetValid);
    }

    function test_postEvents_revertsForExpiredKey() public {
        _checkSigner(Ep.PostEvents, Cond.KeyExpired);
    }

    function test_postEvents_revertsForRevokedKey() public {
        _checkSigner(Ep.PostEvents, Cond.KeyRevoked);
    }

    function test_postEvents_revertsForSuspendedMember() public {
        _checkSigner(Ep.PostEvents, Cond.MemberSuspended);
    }

    function test_postEvents_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.PostEvents, Cond.RelayerNotAllowed);
    }

    function test_postEvents_revertsWhenReplayed() public {
        _checkReplay(Ep.PostEvents);
    }

    function test_postEvents_revertsForHighS() public {
        _checkHighS(Ep.PostEvents);
    }

    // postEventBatch
    function test_postEventBatch_revertsForUnknownKey() public {
        _checkSigner(Ep.PostEventBatch, Cond.UnknownKey);
    }

    function test_postEventBatch_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.PostEventBatch, Cond.KeyNotYetValid);
    }

    function test_postEventBatch_revertsForExpiredKey() public {
        _checkSigner(Ep.PostEventBatch, Cond.KeyExpired);
    }

    function test_postEventBatch_revertsForRevokedKey() public {
        _checkSigner(Ep.PostEventBatch, Cond.KeyRevoked);
    }

    function test_postEventBatch_revertsForSuspendedMember() public {
        _checkSigner(Ep.PostEventBatch, Cond.MemberSuspended);
    }

    function test_postEventBatch_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.PostEventBatch, Cond.RelayerNotAllowed);
    }

    function test_postEventBatch_revertsWhenReplayed() public {
        _checkReplay(Ep.PostEventBatch);
    }

    function test_postEventBatch_revertsForHighS() public {
        _checkHighS(Ep.PostEventBatch);
    }

    function test_postEventBatch_revertsAfterDeadline() public {
        _checkDeadline(Ep.PostEventBatch);
    }

    // issue
    function test_issue_revertsForUnknownKey() public {
        _checkSigner(Ep.Issue, Cond.UnknownKey);
    }

    function test_issue_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.Issue, Cond.KeyNotYetValid);
    }

    function test_issue_revertsForExpiredKey() public {
        _checkSigner(Ep.Issue, Cond.KeyExpired);
    }

    function test_issue_revertsForRevokedKey() public {
        _checkSigner(Ep.Issue, Cond.KeyRevoked);
    }

    function test_issue_revertsForSuspendedMember() public {
        _checkSigner(Ep.Issue, Cond.MemberSuspended);
    }

    function test_issue_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.Issue, Cond.RelayerNotAllowed);
    }

    function test_issue_revertsWhenReplayed() public {
        _checkReplay(Ep.Issue);
    }

    function test_issue_revertsForHighS() public {
        _checkHighS(Ep.Issue);
    }

    function test_issue_revertsForWrongKind() public {
        _checkWrongKind(Ep.Issue, PK_EXPORTER, EXPORTER, Kinds.TRADER);
    }

    function test_issue_revertsForWrongCountry() public {
        _checkWrongCountry(Ep.Issue);
    }

    // issueBatch
    function test_issueBatch_revertsForUnknownKey() public {
        _checkSigner(Ep.IssueBatch, Cond.UnknownKey);
    }

    function test_issueBatch_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.IssueBatch, Cond.KeyNotYetValid);
    }

    function test_issueBatch_revertsForExpiredKey() public {
        _checkSigner(Ep.IssueBatch, Cond.KeyExpired);
    }

    function test_issueBatch_revertsForRevokedKey() public {
        _checkSigner(Ep.IssueBatch, Cond.KeyRevoked);
    }

    function test_issueBatch_revertsForSuspendedMember() public {
        _checkSigner(Ep.IssueBatch, Cond.MemberSuspended);
    }

    function test_issueBatch_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.IssueBatch, Cond.RelayerNotAllowed);
    }

    function test_issueBatch_revertsWhenReplayed() public {
        _checkReplay(Ep.IssueBatch);
    }

    function test_issueBatch_revertsForHighS() public {
        _checkHighS(Ep.IssueBatch);
    }

    function test_issueBatch_revertsForWrongKind() public {
        _checkWrongKind(Ep.IssueBatch, PK_EXPORTER, EXPORTER, Kinds.TRADER);
    }

    function test_issueBatch_revertsForWrongCountry() public {
        _checkWrongCountry(Ep.IssueBatch);
    }

    // revokeCertificate
    function test_revokeCertificate_revertsForUnknownKey() public {
        _checkSigner(Ep.RevokeCertificate, Cond.UnknownKey);
    }

    function test_revokeCertificate_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.RevokeCertificate, Cond.KeyNotYetValid);
    }

    function test_revokeCertificate_revertsForExpiredKey() public {
        _checkSigner(Ep.RevokeCertificate, Cond.KeyExpired);
    }

    function test_revokeCertificate_revertsForRevokedKey() public {
        _checkSigner(Ep.RevokeCertificate, Cond.KeyRevoked);
    }

    function test_revokeCertificate_revertsForSuspendedMember() public {
        _checkSigner(Ep.RevokeCertificate, Cond.MemberSuspended);
    }

    function test_revokeCertificate_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.RevokeCertificate, Cond.RelayerNotAllowed);
    }

    function test_revokeCertificate_revertsWhenReplayed() public {
        _checkReplay(Ep.RevokeCertificate);
    }

    function test_revokeCertificate_revertsForHighS() public {
        _checkHighS(Ep.RevokeCertificate);
    }

    function test_revokeCertificate_revertsForWrongKind() public {
        _checkWrongKind(Ep.RevokeCertificate, PK_EXPORTER, EXPORTER, Kinds.TRADER);
    }

    // drawDown
    function test_drawDown_revertsForUnknownKey() public {
        _checkSigner(Ep.DrawDown, Cond.UnknownKey);
    }

    function test_drawDown_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.DrawDown, Cond.KeyNotYetValid);
    }

    function test_drawDown_revertsForExpiredKey() public {
        _checkSigner(Ep.DrawDown, Cond.KeyExpired);
    }

    function test_drawDown_revertsForRevokedKey() public {
        _checkSigner(Ep.DrawDown, Cond.KeyRevoked);
    }

    function test_drawDown_revertsForSuspendedMember() public {
        _checkSigner(Ep.DrawDown, Cond.MemberSuspended);
    }

    function test_drawDown_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.DrawDown, Cond.RelayerNotAllowed);
    }

    function test_drawDown_revertsWhenReplayed() public {
        _checkReplay(Ep.DrawDown);
    }

    function test_drawDown_revertsForHighS() public {
        _checkHighS(Ep.DrawDown);
    }

    // drawDownBatch
    function test_drawDownBatch_revertsForUnknownKey() public {
        _checkSigner(Ep.DrawDownBatch, Cond.UnknownKey);
    }

    function test_drawDownBatch_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.DrawDownBatch, Cond.KeyNotYetValid);
    }

    function test_drawDownBatch_revertsForExpiredKey() public {
        _checkSigner(Ep.DrawDownBatch, Cond.KeyExpired);
    }

    function test_drawDownBatch_revertsForRevokedKey() public {
        _checkSigner(Ep.DrawDownBatch, Cond.KeyRevoked);
    }

    function test_drawDownBatch_revertsForSuspendedMember() public {
        _checkSigner(Ep.DrawDownBatch, Cond.MemberSuspended);
    }

    function test_drawDownBatch_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.DrawDownBatch, Cond.RelayerNotAllowed);
    }

    function test_drawDownBatch_revertsWhenReplayed() public {
        _checkReplay(Ep.DrawDownBatch);
    }

    function test_drawDownBatch_revertsForHighS() public {
        _checkHighS(Ep.DrawDownBatch);
    }

    // drawDownSignedBatch
    function test_drawDownSignedBatch_revertsForUnknownKey() public {
        _checkSigner(Ep.DrawDownSignedBatch, Cond.UnknownKey);
    }

    function test_drawDownSignedBatch_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.DrawDownSignedBatch, Cond.KeyNotYetValid);
    }

    function test_drawDownSignedBatch_revertsForExpiredKey() public {
        _checkSigner(Ep.DrawDownSignedBatch, Cond.KeyExpired);
    }

    function test_drawDownSignedBatch_revertsForRevokedKey() public {
        _checkSigner(Ep.DrawDownSignedBatch, Cond.KeyRevoked);
    }

    function test_drawDownSignedBatch_revertsForSuspendedMember() public {
        _checkSigner(Ep.DrawDownSignedBatch, Cond.MemberSuspended);
    }

    function test_drawDownSignedBatch_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.DrawDownSignedBatch, Cond.RelayerNotAllowed);
    }

    function test_drawDownSignedBatch_revertsWhenReplayed() public {
        _checkReplay(Ep.DrawDownSignedBatch);
    }

    function test_drawDownSignedBatch_revertsForHighS() public {
        _checkHighS(Ep.DrawDownSignedBatch);
    }

    function test_drawDownSignedBatch_revertsAfterDeadline() public {
        _checkDeadline(Ep.DrawDownSignedBatch);
    }

    /// @dev Who may draw is a rule of the certificate, not a kind mask (as for `drawDown`): a
    /// carrier's batch fails at its first drawdown.
    function test_drawDownSignedBatch_revertsForWrongKind() public {
        bytes memory data = _signed(Ep.DrawDownSignedBatch, PK_CARRIER);
        _assertRevert(
            address(this),
            address(certificates),
            data,
            _item0(
                abi.encodeWithSelector(ICertificates.NotAuthorisedToDraw.selector, certId, CARRIER)
            )
        );
    }

    /// @dev Customs of a country that is neither the certificate's origin nor its destination.
    function test_drawDownSignedBatch_revertsForWrongCountry() public {
        bytes memory data = _signed(Ep.DrawDownSignedBatch, PK_CUSTOMS_NL);
        _assertRevert(
            address(this),
            address(certificates),
            data,
            _item0(
                abi.encodeWithSelector(
                    ICertificates.NotAuthorisedToDraw.selector, certId, CUSTOMS_NL
                )
            )
        );
    }

    // registerSchema
    function test_registerSchema_revertsForUnknownKey() public {
        _checkSigner(Ep.RegisterSchema, Cond.UnknownKey);
    }

    function test_registerSchema_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.RegisterSchema, Cond.KeyNotYetValid);
    }

    function test_registerSchema_revertsForExpiredKey() public {
        _checkSigner(Ep.RegisterSchema, Cond.KeyExpired);
    }

    function test_registerSchema_revertsForRevokedKey() public {
        _checkSigner(Ep.RegisterSchema, Cond.KeyRevoked);
    }

    function test_registerSchema_revertsForSuspendedMember() public {
        _checkSigner(Ep.RegisterSchema, Cond.MemberSuspended);
    }

    function test_registerSchema_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.RegisterSchema, Cond.RelayerNotAllowed);
    }

    function test_registerSchema_revertsWhenReplayed() public {
        _checkReplay(Ep.RegisterSchema);
    }

    function test_registerSchema_revertsForHighS() public {
        _checkHighS(Ep.RegisterSchema);
    }

    // attest
    function test_attest_revertsForUnknownKey() public {
        _checkSigner(Ep.Attest, Cond.UnknownKey);
    }

    function test_attest_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.Attest, Cond.KeyNotYetValid);
    }

    function test_attest_revertsForExpiredKey() public {
        _checkSigner(Ep.Attest, Cond.KeyExpired);
    }

    function test_attest_revertsForRevokedKey() public {
        _checkSigner(Ep.Attest, Cond.KeyRevoked);
    }

    function test_attest_revertsForSuspendedMember() public {
        _checkSigner(Ep.Attest, Cond.MemberSuspended);
    }

    function test_attest_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.Attest, Cond.RelayerNotAllowed);
    }

    function test_attest_revertsWhenReplayed() public {
        _checkReplay(Ep.Attest);
    }

    function test_attest_revertsForHighS() public {
        _checkHighS(Ep.Attest);
    }

    // attestBatch
    function test_attestBatch_revertsForUnknownKey() public {
        _checkSigner(Ep.AttestBatch, Cond.UnknownKey);
    }

    function test_attestBatch_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.AttestBatch, Cond.KeyNotYetValid);
    }

    function test_attestBatch_revertsForExpiredKey() public {
        _checkSigner(Ep.AttestBatch, Cond.KeyExpired);
    }

    function test_attestBatch_revertsForRevokedKey() public {
        _checkSigner(Ep.AttestBatch, Cond.KeyRevoked);
    }

    function test_attestBatch_revertsForSuspendedMember() public {
        _checkSigner(Ep.AttestBatch, Cond.MemberSuspended);
    }

    function test_attestBatch_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.AttestBatch, Cond.RelayerNotAllowed);
    }

    function test_attestBatch_revertsWhenReplayed() public {
        _checkReplay(Ep.AttestBatch);
    }

    function test_attestBatch_revertsForHighS() public {
        _checkHighS(Ep.AttestBatch);
    }

    // attestSignedBatch
    function test_attestSignedBatch_revertsForUnknownKey() public {
        _checkSigner(Ep.AttestSignedBatch, Cond.UnknownKey);
    }

    function test_attestSignedBatch_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.AttestSignedBatch, Cond.KeyNotYetValid);
    }

    function test_attestSignedBatch_revertsForExpiredKey() public {
        _checkSigner(Ep.AttestSignedBatch, Cond.KeyExpired);
    }

    function test_attestSignedBatch_revertsForRevokedKey() public {
        _checkSigner(Ep.AttestSignedBatch, Cond.KeyRevoked);
    }

    function test_attestSignedBatch_revertsForSuspendedMember() public {
        _checkSigner(Ep.AttestSignedBatch, Cond.MemberSuspended);
    }

    function test_attestSignedBatch_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.AttestSignedBatch, Cond.RelayerNotAllowed);
    }

    function test_attestSignedBatch_revertsWhenReplayed() public {
        _checkReplay(Ep.AttestSignedBatch);
    }

    function test_attestSignedBatch_revertsForHighS() public {
        _checkHighS(Ep.AttestSignedBatch);
    }

    function test_attestSignedBatch_revertsAfterDeadline() public {
        _checkDeadline(Ep.AttestSignedBatch);
    }

    // revokeAttestation
    function test_revokeAttestation_revertsForUnknownKey() public {
        _checkSigner(Ep.RevokeAttestation, Cond.UnknownKey);
    }

    function test_revokeAttestation_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.RevokeAttestation, Cond.KeyNotYetValid);
    }

    function test_revokeAttestation_revertsForExpiredKey() public {
        _checkSigner(Ep.RevokeAttestation, Cond.KeyExpired);
    }

    function test_revokeAttestation_revertsForRevokedKey() public {
        _checkSigner(Ep.RevokeAttestation, Cond.KeyRevoked);
    }

    function test_revokeAttestation_revertsForSuspendedMember() public {
        _checkSigner(Ep.RevokeAttestation, Cond.MemberSuspended);
    }

    function test_revokeAttestation_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.RevokeAttestation, Cond.RelayerNotAllowed);
    }

    function test_revokeAttestation_revertsWhenReplayed() public {
        _checkReplay(Ep.RevokeAttestation);
    }

    function test_revokeAttestation_revertsForHighS() public {
        _checkHighS(Ep.RevokeAttestation);
    }

    // revokeBatch
    function test_revokeBatch_revertsForUnknownKey() public {
        _checkSigner(Ep.RevokeBatch, Cond.UnknownKey);
    }

    function test_revokeBatch_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.RevokeBatch, Cond.KeyNotYetValid);
    }

    function test_revokeBatch_revertsForExpiredKey() public {
        _checkSigner(Ep.RevokeBatch, Cond.KeyExpired);
    }

    function test_revokeBatch_revertsForRevokedKey() public {
        _checkSigner(Ep.RevokeBatch, Cond.KeyRevoked);
    }

    function test_revokeBatch_revertsForSuspendedMember() public {
        _checkSigner(Ep.RevokeBatch, Cond.MemberSuspended);
    }

    function test_revokeBatch_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.RevokeBatch, Cond.RelayerNotAllowed);
    }

    function test_revokeBatch_revertsWhenReplayed() public {
        _checkReplay(Ep.RevokeBatch);
    }

    function test_revokeBatch_revertsForHighS() public {
        _checkHighS(Ep.RevokeBatch);
    }

    // applyAction
    function test_applyAction_revertsForUnknownKey() public {
        _checkSigner(Ep.ApplyAction, Cond.UnknownKey);
    }

    function test_applyAction_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.ApplyAction, Cond.KeyNotYetValid);
    }

    function test_applyAction_revertsForExpiredKey() public {
        _checkSigner(Ep.ApplyAction, Cond.KeyExpired);
    }

    function test_applyAction_revertsForRevokedKey() public {
        _checkSigner(Ep.ApplyAction, Cond.KeyRevoked);
    }

    function test_applyAction_revertsForSuspendedMember() public {
        _checkSigner(Ep.ApplyAction, Cond.MemberSuspended);
    }

    function test_applyAction_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.ApplyAction, Cond.RelayerNotAllowed);
    }

    function test_applyAction_revertsWhenReplayed() public {
        _checkReplay(Ep.ApplyAction);
    }

    function test_applyAction_revertsForHighS() public {
        _checkHighS(Ep.ApplyAction);
    }

    function test_applyAction_revertsForWrongKind() public {
        _checkWrongKind(Ep.ApplyAction, PK_CARRIER, CARRIER, Kinds.CARRIER);
    }

    function test_applyAction_revertsForWrongCountry() public {
        _checkWrongCountry(Ep.ApplyAction);
    }

    function test_applyAction_revertsAfterDeadline() public {
        _checkDeadline(Ep.ApplyAction);
    }

    // proposeMra
    function test_proposeMra_revertsForUnknownKey() public {
        _checkSigner(Ep.ProposeMra, Cond.UnknownKey);
    }

    function test_proposeMra_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.ProposeMra, Cond.KeyNotYetValid);
    }

    function test_proposeMra_revertsForExpiredKey() public {
        _checkSigner(Ep.ProposeMra, Cond.KeyExpired);
    }

    function test_proposeMra_revertsForRevokedKey() public {
        _checkSigner(Ep.ProposeMra, Cond.KeyRevoked);
    }

    function test_proposeMra_revertsForSuspendedMember() public {
        _checkSigner(Ep.ProposeMra, Cond.MemberSuspended);
    }

    function test_proposeMra_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.ProposeMra, Cond.RelayerNotAllowed);
    }

    function test_proposeMra_revertsWhenReplayed() public {
        _checkReplay(Ep.ProposeMra);
    }

    function test_proposeMra_revertsForHighS() public {
        _checkHighS(Ep.ProposeMra);
    }

    function test_proposeMra_revertsForWrongKind() public {
        _checkWrongKind(Ep.ProposeMra, PK_CARRIER, CARRIER, Kinds.CARRIER);
    }

    // acceptMra
    function test_acceptMra_revertsForUnknownKey() public {
        _checkSigner(Ep.AcceptMra, Cond.UnknownKey);
    }

    function test_acceptMra_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.AcceptMra, Cond.KeyNotYetValid);
    }

    function test_acceptMra_revertsForExpiredKey() public {
        _checkSigner(Ep.AcceptMra, Cond.KeyExpired);
    }

    function test_acceptMra_revertsForRevokedKey() public {
        _checkSigner(Ep.AcceptMra, Cond.KeyRevoked);
    }

    function test_acceptMra_revertsForSuspendedMember() public {
        _checkSigner(Ep.AcceptMra, Cond.MemberSuspended);
    }

    function test_acceptMra_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.AcceptMra, Cond.RelayerNotAllowed);
    }

    function test_acceptMra_revertsWhenReplayed() public {
        _checkReplay(Ep.AcceptMra);
    }

    function test_acceptMra_revertsForHighS() public {
        _checkHighS(Ep.AcceptMra);
    }

    function test_acceptMra_revertsForWrongKind() public {
        _checkWrongKind(Ep.AcceptMra, PK_CARRIER, CARRIER, Kinds.CARRIER);
    }

    // terminateMra
    function test_terminateMra_revertsForUnknownKey() public {
        _checkSigner(Ep.TerminateMra, Cond.UnknownKey);
    }

    function test_terminateMra_revertsForKeyNotYetValid() public {
        _checkSigner(Ep.TerminateMra, Cond.KeyNotYetValid);
    }

    function test_terminateMra_revertsForExpiredKey() public {
        _checkSigner(Ep.TerminateMra, Cond.KeyExpired);
    }

    function test_terminateMra_revertsForRevokedKey() public {
        _checkSigner(Ep.TerminateMra, Cond.KeyRevoked);
    }

    function test_terminateMra_revertsForSuspendedMember() public {
        _checkSigner(Ep.TerminateMra, Cond.MemberSuspended);
    }

    function test_terminateMra_revertsWhenRelayerNotAllowed() public {
        _checkSigner(Ep.TerminateMra, Cond.RelayerNotAllowed);
    }

    function test_terminateMra_revertsWhenReplayed() public {
        _checkReplay(Ep.TerminateMra);
    }

    function test_terminateMra_revertsForHighS() public {
        _checkHighS(Ep.TerminateMra);
    }

    function test_terminateMra_revertsForWrongKind() public {
        _checkWrongKind(Ep.TerminateMra, PK_CARRIER, CARRIER, Kinds.CARRIER);
    }

    // ------------------------------------------------------------------ postEvents: deadline

    function test_postEvents_revertsAfterDeadlineNamingItem() public {
        IConsignments.EventRecord[] memory es = new IConsignments.EventRecord[](2);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](2);
        es[1] = _event(UCR, 1); // deadline T0 + 1 hour
        sigs[1] = _signEvent(es[1], PK_CARRIER);
        vm.warp(T0 + 1 hours + 1);
        es[0] = _event(UCR2, 1); // signed now: deadline an hour ahead
        sigs[0] = _signEvent(es[0], PK_POSTAL);
        _assertRevert(
            address(this),
            address(consignments),
            abi.encodeCall(consignments.postEvents, (es, sigs)),
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(
                    ISignedRecords.DeadlineExpired.selector, T0 + 1 hours, T0 + 1 hours + 1
                )
            )
        );
    }

    // ------------------------------------------------------------------ postEvents: signer cache

    /// @dev `postEvents` remembers the last signer and the event time it passed the key check at
    /// (`SignedRecords._authoriseCached`); `times[i]` is the event time of item i, all signed by
    /// `pks[i]`.
    function _events(uint256[] memory pks, uint40[] memory times) internal returns (bytes memory) {
        IConsignments.EventRecord[] memory es = new IConsignments.EventRecord[](pks.length);
        ISignedRecords.Sig[] memory sigs = new ISignedRecords.Sig[](pks.length);
        for (uint256 i; i < pks.length; ++i) {
            es[i] = _eventAt(UCR, ++_eventNonce, times[i]);
            sigs[i] = _signEvent(es[i], pks[i]);
        }
        return abi.encodeCall(consignments.postEvents, (es, sigs));
    }

    function test_postEvents_checksKeyWindowWhenSameSignerChangesTime() public {
        _addKey(CARRIER, PK_CARRIER, vm.addr(PK_FRESH), T0, T0 + 10 days);
        vm.warp(T0 + 1 hours);
        uint256[] memory pks = new uint256[](3);
        uint40[] memory times = new uint40[](3);
        (pks[0], pks[1], pks[2]) = (PK_FRESH, PK_FRESH, PK_FRESH);
        // item 1 repeats signer and time (the memo answers); item 2 repeats the signer only
        (times[0], times[1], times[2]) = (T0 + 1 hours, T0 + 1 hours, T0 - 1);
        _assertRevert(
            address(this),
            address(consignments),
            _events(pks, times),
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                2,
                abi.encodeWithSelector(
                    ISignedRecords.KeyNotYetValid.selector, vm.addr(PK_FRESH), T0, T0 - 1
                )
            )
        );
    }

    function test_postEvents_checksKeyExpiryWhenSameSignerMovesPastWindow() public {
        _addKey(CARRIER, PK_CARRIER, vm.addr(PK_FRESH), T0, T0 + 1 hours);
        vm.warp(T0 + 1 hours - 100);
        uint256[] memory pks = new uint256[](2);
        uint40[] memory times = new uint40[](2);
        (pks[0], pks[1]) = (PK_FRESH, PK_FRESH);
        // within the future skew, but after the key's window
        (times[0], times[1]) = (T0 + 1 hours - 100, T0 + 1 hours + 100);
        _assertRevert(
            address(this),
            address(consignments),
            _events(pks, times),
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                1,
                abi.encodeWithSelector(
                    ISignedRecords.KeyExpired.selector,
                    vm.addr(PK_FRESH),
                    T0 + 1 hours,
                    T0 + 1 hours + 100
                )
            )
        );
    }

    function test_postEvents_checksReturningSignerAfterAnother() public {
        _addKey(CARRIER, PK_CARRIER, vm.addr(PK_FRESH), T0, T0 + 10 days);
        vm.warp(T0 + 1 hours);
        uint256[] memory pks = new uint256[](3);
        uint40[] memory times = new uint40[](3);
        (pks[0], pks[1], pks[2]) = (PK_FRESH, PK_POSTAL, PK_FRESH);
        (times[0], times[1], times[2]) = (T0, T0 - 1, T0 - 1); // postal's key: from T0 - 1 day
        _assertRevert(
            address(this),
            address(consignments),
            _events(pks, times),
            abi.encodeWithSelector(
                ISignedRecords.BatchItemFailed.selector,
                2,
                abi.encodeWithSelector(
                    ISignedRecords.KeyNotYetValid.selector, vm.addr(PK_FRESH), T0, T0 - 1
                )
            )
        );
    }

    function test_postEvents_acceptsRepeatedSignerAndTimeWithinWindow() public {
        _addKey(CARRIER, PK_CARRIER, vm.addr(PK_FRESH), T0, T0 + 10 days);
        vm.warp(T0 + 1 hours);
        uint256[] memory pks = new uint256[](4);
        uint40[] memory times = new uint40[](4);
        (pks[0], pks[1], pks[2], pks[3]) = (PK_FRESH, PK_FRESH, PK_POSTAL, PK_FRESH);
        (times[0], times[1], times[2], times[3]) = (T0, T0, T0, T0 + 1 hours);
        (bool ok,) = address(consignments).call(_events(pks, times));
        assertTrue(ok, "accepted");
        (, uint32 count) = consignments.head(UCR);
        assertEq(count, 4, "all four recorded");
    }

    // ------------------------------------------------------------------ signatures

    /// @dev Any s above n/2 that EIP-2098 can carry (below 2^255), with either parity bit.
    function testFuzz_postEvent_rejectsHighS(uint256 s, bool parity) public {
        s = bound(s, HALF_N + 1, (1 << 255) - 1);
        IConsignments.EventRecord memory e = _event(UCR, 1);
        ISignedRecords.Sig memory sig = _signEvent(e, PK_CARRIER);
        sig.vs = bytes32(s | (parity ? 1 << 255 : 0));
        _assertRevert(
            address(this),
            address(consignments),
            abi.encodeCall(consignments.postEvent, (e, sig)),
            abi.encodeWithSelector(ISignedRecords.InvalidSignature.selector)
        );
    }

    /// @dev The malleated twin of a valid signature, (r, n - s) with the other parity, does not
    /// fit EIP-2098 when n - s >= 2^255 (it would overwrite the parity bit): sent anyway, the
    /// contract reads another (low) s and recovers another address, never the signer.
    function test_postEvent_refusesMalleatedTwin() public {
        IConsignments.EventRecord memory e = _event(UCR, 1);
        bytes32 digest = consignments.hashTypedData(consignments.hashEvent(e));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(PK_CARRIER, digest);
        uint256 twinS = SECP256K1_N - uint256(s);
        ISignedRecords.Sig memory twin =
            ISignedRecords.Sig({r: r, vs: bytes32(twinS | (uint256(v == 27 ? 1 : 0) << 255))});
        assertTrue(_recoverCompact(digest, twin) != vm.addr(PK_CARRIER), "not the signer");
        _assertRevert(
            address(this),
            address(consignments),
            abi.encodeCall(consignments.postEvent, (e, twin)),
            _signatureError(digest, twin)
        );
        // the original signature is accepted afterwards: the refusal consumed nothing
        consignments.postEvent(e, _sig(PK_CARRIER, digest));
    }
}

"""A typed Python client for the gateway API (httpx, synchronous).

::

    with GatewayClient("https://gateway.example", api_key) as client:
        # custodial: the gateway signs with the organisation's key
        view = client.post_event(EventCreate(consignment_ref="UCR-1", biz_step="loading",
                                             location="AUADL", event_time=now))
        # non-custodial: sign here with ledger.records.kinds, the gateway only relays
        signed = client.sign(ConsignmentEvent(...), carrier_key)
        view = client.submit(signed)
        client.get_record(view.record_id).status
        # many events, one signature (postEventBatch): one record per event
        batch = client.sign_event_batch(events, carrier_key, nonce=n, deadline=t)
        client.post_event_batch(batch).records
        # many attestations, one signature (attestSignedBatch): one record per attestation
        batch = client.sign_attestation_batch(attestations, customs_key, deadline=t)
        client.post_attestation_batch(batch).records
        # many drawdowns, one signature (drawDownSignedBatch): one record per drawdown
        batch = client.sign_drawdown_batch(drawdowns, exporter_key, deadline=t)
        client.post_drawdown_batch(batch).records

Client-side signing builds and signs the record locally (:mod:`ledger.records.kinds`); only the
EIP-712 domains (chain id and contract addresses) come from the gateway
(``GET /typed-data/domains``), so a gateway cannot get a client to sign a record other than
the one it built.

Error responses raise the classes of :mod:`gateway.errors` (``Unauthenticated``,
``PermissionDenied``, ``NotFound``, ``IdempotencyConflict``, ``InvalidRequest``, ...), built from
the JSON error body: ``code``, ``message``, ``field`` and ``rule`` are on the exception,
``status_code`` too. Request bodies are checked locally first with the same models as the
server; a broken rule raises :class:`~gateway.errors.InvalidRequest` before anything is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pydantic
from pydantic import BaseModel

from gateway.auth import OrgKind, Scope
from gateway.errors import (
    ApiError,
    Conflict,
    GatewayError,
    IdempotencyConflict,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ServiceUnavailable,
    Unauthenticated,
)
from gateway.models.admin import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyList,
    ApiKeyView,
    SigningKeyCreate,
    SigningKeyList,
    SigningKeyView,
)
from gateway.models.health_views import Readiness
from gateway.models.record_fields import RecordCreate
from gateway.models.record_requests import (
    CREATE_MODELS,
    AttestationBatchCreate,
    DrawdownBatchCreate,
    EventBatchCreate,
    SignedSubmission,
)
from gateway.models.record_views import (
    AttestationBatchTypedDataView,
    AttestationBatchView,
    BulkResult,
    DomainList,
    DrawdownBatchTypedDataView,
    DrawdownBatchView,
    EventBatchTypedDataView,
    EventBatchView,
    RecordPage,
    RecordSubmission,
    RecordView,
    TypedDataView,
)
from gateway.models.stored import RecordKind, RecordStatus
from gateway.models.trade_requests import AttestationCreate, DrawdownCreate, EventCreate
from gateway.reads.views import (
    AttestationList,
    AttestationView,
    CertificateView,
    ConsignmentView,
    MraList,
    OperatorAeoView,
    OrganisationList,
    OrganisationView,
    RecognitionView,
    TimelineView,
)
from gateway.writes.kinds import KIND_PATHS, kind_of
from ledger.records import (
    Attestation,
    ConsignmentEvent,
    Domain,
    Drawdown,
    Proposal,
    Record,
    SignedAttestationBatch,
    SignedDrawdownBatch,
    SignedEventBatch,
    SignedRecord,
    sign,
    sign_attestation_batch,
    sign_drawdown_batch,
    sign_event_batch,
)

__all__ = ["GatewayClient"]

Body = RecordCreate | Mapping[str, Any]
"""A human-friendly request body: the kind's model, or a mapping that validates as it."""

_BY_STATUS: dict[int, type[GatewayError]] = {
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidRequest,
    503: ServiceUnavailable,
}


_M = TypeVar("_M", bound=BaseModel)


def _build(model: type[_M], **data: Any) -> _M:
    """Validate a request body locally; a broken rule raises :class:`InvalidRequest`."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidRequest(
            f"{field}: {first['msg']}", code="invalid_request", field=field, rule=first["type"]
        ) from None


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        field, rule = error.get("field"), error.get("rule")
    except (ValueError, KeyError, TypeError):
        code, message, field, rule = f"http_{response.status_code}", response.text, None, None
    cls = _BY_STATUS.get(response.status_code, ApiError)
    if cls is Conflict and code == IdempotencyConflict.default_code:
        cls = IdempotencyConflict
    raise cls(message, code=code, field=field, rule=rule, status_code=response.status_code)


class GatewayClient:
    """Client of one gateway for one API key (the organisation the key belongs to).

    ``http`` may be given (e.g. an ``httpx.Client`` on an ASGI app in tests); otherwise the
    client makes and owns one.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        self._owned = http is None
        self._http = http if http is not None else httpx.Client(base_url=base_url, timeout=timeout)
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._domains: dict[str, Domain] | None = None

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        response = self._http.request(
            method,
            self._base + path,
            json=json,
            params={k: v for k, v in (params or {}).items() if v is not None},
            headers={**self._headers, **(headers or {})},
        )
        _raise_for(response)
        return response

    # --- records ------------------------------------------------------------------------

    def submit_record(
        self,
        *,
        kind: RecordKind | str,
        payload: Mapping[str, Any],
        signature: str,
        record_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> RecordView:
        """Submit a signed record (202); retries with the same idempotency key are safe.

        Without an ``idempotency_key`` one is generated, so a retry of *this call* is safe
        only if the caller passes the same key again (or gives a ``record_id``).
        """
        body = _build(
            RecordSubmission,
            kind=kind,
            record_id=record_id,
            payload=dict(payload),
            signature=signature,
        )
        key = idempotency_key or str(uuid.uuid4())
        response = self._request(
            "POST",
            "/records",
            json=body.model_dump(mode="json", exclude_none=True),
            headers={"Idempotency-Key": key},
        )
        return RecordView.model_validate(response.json())

    def get_record(self, record_id: str) -> RecordView:
        return RecordView.model_validate(self._request("GET", f"/records/{record_id}").json())

    def list_records(
        self,
        *,
        status: RecordStatus | str | None = None,
        kind: RecordKind | str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> RecordPage:
        params = {
            "status": None if status is None else RecordStatus(status).value,
            "kind": None if kind is None else RecordKind(kind).value,
            "after": after,
            "limit": limit,
        }
        return RecordPage.model_validate(self._request("GET", "/records", params=params).json())

    # --- operations ---------------------------------------------------------------------

    def healthz(self) -> bool:
        return self._http.get(self._base + "/healthz").is_success

    def readyz(self) -> Readiness:
        """Readiness, whether ready (200) or not (503)."""
        response = self._http.get(self._base + "/readyz")
        if response.status_code not in (200, 503):
            _raise_for(response)
        return Readiness.model_validate(response.json())

    # --- API keys (admin token or an admin-scoped key) -----------------------------------

    def issue_api_key(
        self,
        *,
        org_id: str,
        org_kind: OrgKind | str,
        country: str,
        scopes: Iterable[Scope | str],
        label: str | None = None,
        expires_at: datetime | None = None,
    ) -> ApiKeyIssued:
        body = _build(
            ApiKeyCreate,
            org_id=org_id,
            org_kind=org_kind,
            country=country,
            scopes=list(scopes),
            label=label,
            expires_at=expires_at,
        )
        response = self._request(
            "POST", "/admin/api-keys", json=body.model_dump(mode="json", exclude_none=True)
        )
        return ApiKeyIssued.model_validate(response.json())

    def list_api_keys(self, *, org_id: str | None = None) -> list[ApiKeyView]:
        response = self._request("GET", "/admin/api-keys", params={"org_id": org_id})
        return ApiKeyList.model_validate(response.json()).items

    def revoke_api_key(self, key_id: str) -> ApiKeyView:
        return ApiKeyView.model_validate(
            self._request("DELETE", f"/admin/api-keys/{key_id}").json()
        )

    def add_signing_key(
        self, *, org_id: str, private_key: str | None = None, replace: bool = False
    ) -> SigningKeyView:
        """Store (import, or generate when ``private_key`` is None) a custodial key."""
        body = _build(SigningKeyCreate, org_id=org_id, private_key=private_key, replace=replace)
        payload = body.model_dump(mode="json", exclude_none=True)
        if body.private_key is not None:
            payload["private_key"] = body.private_key.get_secret_value()
        response = self._request("POST", "/admin/signing-keys", json=payload)
        return SigningKeyView.model_validate(response.json())

    def list_signing_keys(self) -> list[SigningKeyView]:
        response = self._request("GET", "/admin/signing-keys")
        return SigningKeyList.model_validate(response.json()).items

    # --- typed writes: custodial (the gateway signs) --------------------------------------

    def _key_headers(self, idempotency_key: str | None) -> dict[str, str]:
        return {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}

    def create(
        self, kind: RecordKind | str, body: Body, *, idempotency_key: str | None = None
    ) -> RecordView:
        """Submit a human-friendly record of ``kind`` for the gateway to sign (202).

        An idempotency key is generated when none is given; pass the same one to retry.
        """
        record_kind = RecordKind(kind)
        model = CREATE_MODELS[record_kind]
        validated = body if isinstance(body, model) else _build(model, **dict(body))
        response = self._request(
            "POST",
            KIND_PATHS[record_kind],
            json=validated.model_dump(mode="json", exclude_none=True, by_alias=True),
            headers=self._key_headers(idempotency_key),
        )
        return RecordView.model_validate(response.json())

    def register_consignment(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.CONSIGNMENT, body, **kw)

    def post_event(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.EVENT, body, **kw)

    def issue_certificate(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.CERTIFICATE_ISSUE, body, **kw)

    def revoke_certificate(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.CERTIFICATE_REVOKE, body, **kw)

    def draw_down(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.DRAWDOWN, body, **kw)

    def register_schema(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.SCHEMA, body, **kw)

    def attest(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.ATTESTATION, body, **kw)

    def revoke_attestation(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.ATTESTATION_REVOKE, body, **kw)

    def aeo_action(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.AEO_ACTION, body, **kw)

    def propose_mra(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.MRA_PROPOSAL, body, **kw)

    def accept_mra(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.MRA_ACCEPTANCE, body, **kw)

    def terminate_mra(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.MRA_TERMINATION, body, **kw)

    def propose(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.PROPOSAL, body, **kw)

    def approve(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.APPROVAL, body, **kw)

    def add_key(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.KEY_ADDITION, body, **kw)

    def revoke_key(self, body: Body, **kw: Any) -> RecordView:
        return self.create(RecordKind.KEY_REVOCATION, body, **kw)

    def lodge_declaration(self, body: Body, **kw: Any) -> RecordView:
        """Lodge a goods declaration (its values are kept encrypted by the administration)."""
        return self.create(RecordKind.DECLARATION, body, **kw)

    def execute(self, proposal: Proposal | Mapping[str, Any], **kw: Any) -> RecordView:
        """Execute an approved proposal (its record or its EIP-712 message)."""
        message = proposal.json_message() if isinstance(proposal, Proposal) else dict(proposal)
        response = self._request(
            "POST",
            KIND_PATHS[RecordKind.EXECUTION],
            json={"proposal": message},
            headers=self._key_headers(kw.get("idempotency_key")),
        )
        return RecordView.model_validate(response.json())

    def post_events(
        self,
        items: Iterable[SignedRecord[Any] | EventCreate | Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> BulkResult:
        """Up to 1,000 events in one request: signed records, or bodies for the gateway to
        sign. Item i is stored under ``<idempotency_key>:<i>``: retry with the same key."""
        body: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, SignedRecord):
                body.append(
                    {
                        "message": item.record.json_message(),
                        "signature": "0x" + item.signature.hex(),
                    }
                )
            elif isinstance(item, EventCreate):
                body.append(item.model_dump(mode="json", exclude_none=True))
            else:
                body.append(dict(item))
        response = self._request(
            "POST",
            "/events/bulk",
            json={"items": body},
            headers=self._key_headers(idempotency_key),
        )
        return BulkResult.model_validate(response.json())

    # --- typed writes: non-custodial (signed here) ----------------------------------------

    def domains(self) -> dict[str, Domain]:
        """The contracts' EIP-712 domains (fetched once)."""
        if self._domains is None:
            listed = DomainList.model_validate(self._request("GET", "/typed-data/domains").json())
            self._domains = {
                name: Domain(d["name"], d["version"], int(d["chainId"]), d["verifyingContract"])
                for name, d in listed.domains.items()
            }
        return self._domains

    def sign(self, record: Record, private_key: bytes | str) -> SignedRecord[Any]:
        """Sign ``record`` locally with ``private_key`` in its contract's domain."""
        return sign(record, private_key, self.domains()[record.CONTRACT])

    def submit(
        self, signed: SignedRecord[Any], *, idempotency_key: str | None = None
    ) -> RecordView:
        """Submit a record signed by the client (``POST {path}/signed``)."""
        kind = kind_of(signed.record)
        body = SignedSubmission(
            message=signed.record.json_message(), signature="0x" + signed.signature.hex()
        )
        response = self._request(
            "POST",
            f"{KIND_PATHS[kind]}/signed",
            json=body.model_dump(mode="json"),
            headers=self._key_headers(idempotency_key),
        )
        return RecordView.model_validate(response.json())

    def sign_and_submit(
        self, record: Record, private_key: bytes | str, *, idempotency_key: str | None = None
    ) -> RecordView:
        return self.submit(self.sign(record, private_key), idempotency_key=idempotency_key)

    def submit_signed(
        self,
        kind: RecordKind | str,
        *,
        message: Mapping[str, Any],
        signature: str,
        idempotency_key: str | None = None,
    ) -> RecordView:
        """Submit an EIP-712 message signed elsewhere (e.g. over :meth:`typed_data`)."""
        body = _build(SignedSubmission, message=dict(message), signature=signature)
        response = self._request(
            "POST",
            f"{KIND_PATHS[RecordKind(kind)]}/signed",
            json=body.model_dump(mode="json"),
            headers=self._key_headers(idempotency_key),
        )
        return RecordView.model_validate(response.json())

    def sign_event_batch(
        self,
        events: Iterable[ConsignmentEvent],
        private_key: bytes | str,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> SignedEventBatch:
        """Sign ``events`` locally with one EventBatch signature (Consignments domain).

        With ``nonce`` and ``deadline`` they are set in every event; without, the events
        must already share one nonce and one deadline.
        """
        return sign_event_batch(
            list(events),
            private_key,
            self.domains()["Consignments"],
            nonce=nonce,
            deadline=deadline,
        )

    def post_event_batch(
        self, batch: SignedEventBatch, *, idempotency_key: str | None = None
    ) -> EventBatchView:
        """Submit events signed together (``POST /events/batch/signed``): one record per
        event, relayed in one transaction. Sending the same batch again is safe."""
        response = self._request(
            "POST",
            "/events/batch/signed",
            json={
                "events": [event.json_message() for event in batch.events],
                "signature": "0x" + batch.signature.hex(),
            },
            headers=self._key_headers(idempotency_key),
        )
        return EventBatchView.model_validate(response.json())

    def event_batch_typed_data(
        self,
        items: Iterable[EventCreate | Mapping[str, Any]],
        *,
        nonce: int | None = None,
        deadline: datetime | None = None,
    ) -> EventBatchTypedDataView:
        """The EventBatch typed data the gateway builds from event bodies (nothing stored):
        sign ``typed_data`` and submit ``events`` with the signature."""
        body = _build(
            EventBatchCreate,
            items=[i if isinstance(i, EventCreate) else dict(i) for i in items],
            nonce=nonce,
            deadline=deadline,
        )
        response = self._request(
            "POST",
            "/typed-data/event_batch",
            json=body.model_dump(mode="json", exclude_none=True, by_alias=True),
        )
        return EventBatchTypedDataView.model_validate(response.json())

    def sign_attestation_batch(
        self, attestations: Iterable[Attestation], private_key: bytes | str, *, deadline: int
    ) -> SignedAttestationBatch:
        """Sign ``attestations`` locally with one AttestationBatch signature (Attestations
        domain), valid until ``deadline`` (unix seconds)."""
        return sign_attestation_batch(
            list(attestations), private_key, self.domains()["Attestations"], deadline=deadline
        )

    def post_attestation_batch(
        self, batch: SignedAttestationBatch, *, idempotency_key: str | None = None
    ) -> AttestationBatchView:
        """Submit attestations signed together (``POST /attestations/batch/signed``): one
        record per attestation, relayed in one transaction. Sending the same batch again is
        safe."""
        response = self._request(
            "POST",
            "/attestations/batch/signed",
            json={
                "attestations": [a.json_message() for a in batch.attestations],
                "deadline": batch.deadline,
                "signature": "0x" + batch.signature.hex(),
            },
            headers=self._key_headers(idempotency_key),
        )
        return AttestationBatchView.model_validate(response.json())

    def attestation_batch_typed_data(
        self,
        items: Iterable[AttestationCreate | Mapping[str, Any]],
        *,
        deadline: datetime | None = None,
    ) -> AttestationBatchTypedDataView:
        """The AttestationBatch typed data the gateway builds from attestation bodies (nothing
        stored): sign ``typed_data`` and submit ``attestations`` and ``deadline`` with the
        signature."""
        body = _build(
            AttestationBatchCreate,
            items=[i if isinstance(i, AttestationCreate) else dict(i) for i in items],
            deadline=deadline,
        )
        response = self._request(
            "POST",
            "/typed-data/attestation_batch",
            json=body.model_dump(mode="json", exclude_none=True, by_alias=True),
        )
        return AttestationBatchTypedDataView.model_validate(response.json())

    def sign_drawdown_batch(
        self, drawdowns: Iterable[Drawdown], private_key: bytes | str, *, deadline: int
    ) -> SignedDrawdownBatch:
        """Sign ``drawdowns`` locally with one DrawdownBatch signature (Certificates domain),
        valid until ``deadline`` (unix seconds)."""
        return sign_drawdown_batch(
            list(drawdowns), private_key, self.domains()["Certificates"], deadline=deadline
        )

    def post_drawdown_batch(
        self, batch: SignedDrawdownBatch, *, idempotency_key: str | None = None
    ) -> DrawdownBatchView:
        """Submit drawdowns signed together (``POST /certificates/drawdowns/batch/signed``):
        one record per drawdown, relayed in one transaction. Sending the same batch again is
        safe."""
        response = self._request(
            "POST",
            "/certificates/drawdowns/batch/signed",
            json={
                "drawdowns": [d.json_message() for d in batch.drawdowns],
                "deadline": batch.deadline,
                "signature": "0x" + batch.signature.hex(),
            },
            headers=self._key_headers(idempotency_key),
        )
        return DrawdownBatchView.model_validate(response.json())

    def drawdown_batch_typed_data(
        self,
        items: Iterable[DrawdownCreate | Mapping[str, Any]],
        *,
        deadline: datetime | None = None,
    ) -> DrawdownBatchTypedDataView:
        """The DrawdownBatch typed data the gateway builds from drawdown bodies (nothing
        stored): sign ``typed_data`` and submit ``drawdowns`` and ``deadline`` with the
        signature."""
        body = _build(
            DrawdownBatchCreate,
            items=[i if isinstance(i, DrawdownCreate) else dict(i) for i in items],
            deadline=deadline,
        )
        response = self._request(
            "POST",
            "/typed-data/drawdown_batch",
            json=body.model_dump(mode="json", exclude_none=True, by_alias=True),
        )
        return DrawdownBatchTypedDataView.model_validate(response.json())

    def typed_data(self, kind: RecordKind | str, body: Body) -> TypedDataView:
        """The typed data the gateway builds from a human-friendly body (nothing stored)."""
        record_kind = RecordKind(kind)
        model = CREATE_MODELS[record_kind]
        validated = body if isinstance(body, model) else _build(model, **dict(body))
        response = self._request(
            "POST",
            f"/typed-data/{record_kind.value}",
            json=validated.model_dump(mode="json", exclude_none=True, by_alias=True),
        )
        return TypedDataView.model_validate(response.json())

    # --- reads ----------------------------------------------------------------------------

    def consignment(self, key: str) -> ConsignmentView:
        """A consignment by id (0x...) or business key."""
        return ConsignmentView.model_validate(self._request("GET", f"/consignments/{key}").json())

    def timeline(self, key: str) -> TimelineView:
        response = self._request("GET", f"/consignments/{key}/events")
        return TimelineView.model_validate(response.json())

    def certificate(self, certificate_id: str) -> CertificateView:
        response = self._request("GET", f"/certificates/{certificate_id}")
        return CertificateView.model_validate(response.json())

    def attestations(self, subject: str) -> AttestationList:
        response = self._request("GET", "/attestations", params={"subject": subject})
        return AttestationList.model_validate(response.json())

    def attestation(self, uid: str) -> AttestationView:
        return AttestationView.model_validate(self._request("GET", f"/attestations/{uid}").json())

    def operator_aeo(self, operator_id: str, *, at: datetime | None = None) -> OperatorAeoView:
        params = {"at": None if at is None else at.isoformat()}
        response = self._request("GET", f"/aeo/operators/{operator_id}", params=params)
        return OperatorAeoView.model_validate(response.json())

    def recognition(
        self, *, operator_id: str, administration: str, at: datetime | None = None
    ) -> RecognitionView:
        params = {
            "operator_id": operator_id,
            "administration": administration,
            "at": None if at is None else at.isoformat(),
        }
        response = self._request("GET", "/aeo/recognition", params=params)
        return RecognitionView.model_validate(response.json())

    def mras(self, a: str, b: str, *, at: datetime | None = None) -> MraList:
        params = {"a": a, "b": b, "at": None if at is None else at.isoformat()}
        return MraList.model_validate(self._request("GET", "/aeo/mras", params=params).json())

    def organisations(self) -> OrganisationList:
        return OrganisationList.model_validate(self._request("GET", "/organisations").json())

    def organisation(self, org_id: str) -> OrganisationView:
        response = self._request("GET", f"/organisations/{org_id}")
        return OrganisationView.model_validate(response.json())

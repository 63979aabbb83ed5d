"""Order intake: creating, reading and listing orders, and fixing their addresses."""
from __future__ import annotations

from functools import lru_cache
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Sequence

from sqlalchemy import (
    ColumnElement, Select, String, bindparam, func, insert, inspect, or_, select)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from postal_svc import ids
from postal_svc.access.service import Caller
from postal_svc.billing.errors import (
    BillingError, NoTariffInForce, NoTaxRateInForce, NoZoneForRoute, QuoteMismatch, QuoteNotFound)
from postal_svc.billing.models import Quote
from postal_svc.billing.facts import PricingFacts
from postal_svc.billing.pricing import TariffBook, remembered_price
from postal_svc.billing.service import (
    REVISION_TOKEN, book_for, current_book, latest_book, price_snapshot, redeem_quote,
    revision_token)
from postal_svc.db import CompiledWrite
from postal_svc.directory.lookup import AgencyInfo, DirectoryLookup
from postal_svc.errors import Conflict, DomainError, NotFound, RuleViolation, ServiceUnavailable
from postal_svc.geo.places import nearest_ward, province_by_code, ward_by_code
from postal_svc.geo.resolver import distance_m
from postal_svc.pagination import Page, paginate
from postal_svc.phones import InvalidPhone, normalize_vn_phone
from postal_svc.shipments.addresses import (
    AddressInput, AddressResolver, ResolvedAddress, leave_unresolved)
from postal_svc.shipments.attention import Attention, attention_condition
from postal_svc.shipments.lifecycle import Kind, Status
from postal_svc.shipments.models import Order, TrackingEvent
from postal_svc.shipments.pricing_facts import leg_pricing_facts
from postal_svc.shipments.service_level import due_at
from postal_svc.shipments.tracking_numbers import allocate_tracking_number

CHANNELS = ("online_public_service", "counter", "hotline")
PAYERS = ("citizen", "agency")
PAYMENT_METHODS = {"citizen": ("online", "cash_on_delivery"), "agency": ("agency_account",)}
INITIAL_PAYMENT_STATUS = {"online": "unpaid", "cash_on_delivery": "due_on_delivery",
                          "agency_account": "on_account"}


class OrderNotFound(NotFound):
    code = "order_not_found"


class DuplicateOrder(Conflict):
    code = "duplicate_order"


class UnknownAgency(RuleViolation):
    code = "unknown_agency"


class InvalidOrder(RuleViolation):
    code = "invalid_order"


@dataclass(frozen=True)
class IntakePolicy:
    """The configurable rules of intake."""

    tracking_prefix: str = "RR"
    registered_at_max_age: timedelta = timedelta(days=180)
    registered_at_future_skew: timedelta = timedelta(minutes=5)
    delivery_working_days: int = 3


@dataclass(frozen=True)
class OrderDraft:
    """A well-formed order request (formats already checked), before business rules."""

    kind: Kind
    agency_code: str
    dossier_code: str
    channel: str
    citizen_name: str
    citizen_phone: str  # E.164
    address: AddressInput
    weight_g: int
    payer: str
    pieces: int = 1
    procedure_code: str | None = None
    procedure_name: str | None = None
    registered_at: datetime | None = None
    citizen_email: str | None = None
    contents: str | None = None
    payment_method: str | None = None
    fee_forwarding_vnd: int | None = None
    deliver_after: datetime | None = None
    deliver_before: datetime | None = None
    quote_id: str | None = None
    beneficiary_category: str | None = None


@dataclass
class OrderFilters:
    status: str | None = None
    kind: str | None = None
    agency_code: str | None = None
    post_office_code: str | None = None
    dossier_code: str | None = None
    tracking_number: str | None = None
    phone: str | None = None
    address_precision: str | None = None
    address_ambiguous: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    # The console's: one box for a tracking number, a dossier code or a phone number (any
    # of them matches), and the attention lists of its Today page. The API sets neither.
    search: str | None = None
    attention: Attention | None = None


@dataclass(frozen=True)
class BatchItemResult:
    index: int
    order: Order | None = None
    error: DomainError | None = None


def payment_method_for(payer: str, requested: str | None) -> tuple[str, str | None]:
    """The payment method of an order (the payer's default when none was asked for), and what
    is wrong with it, if anything: each payer has its own methods."""
    method = requested or PAYMENT_METHODS[payer][0]
    if method in PAYMENT_METHODS[payer]:
        return method, None
    return method, f"A {payer}-paid order is paid by: {', '.join(PAYMENT_METHODS[payer])}."


def _check_rules(draft: OrderDraft, registered_at: datetime, policy: IntakePolicy,
                 now: datetime) -> str:
    """Business rules on a draft; returns the payment method. Raises InvalidOrder."""
    errors: dict[str, list[str]] = {}
    if registered_at > now + policy.registered_at_future_skew:
        errors["registered_at"] = ["Must not be in the future."]
    elif registered_at < now - policy.registered_at_max_age:
        days = policy.registered_at_max_age.days
        errors["registered_at"] = [f"Must not be more than {days} days ago."]
    method, problem = payment_method_for(draft.payer, draft.payment_method)
    if problem:
        errors["payment_method"] = [problem]
    if draft.deliver_after and draft.deliver_before and draft.deliver_after >= draft.deliver_before:
        errors["deliver_before"] = ["Must be after deliver_after."]
    if draft.deliver_before and draft.deliver_before <= now:
        errors["deliver_before"] = ["Must be in the future."]
    if errors:
        raise InvalidOrder("The order breaks an intake rule.", errors=errors)
    return method


def _find_by_natural_key(session: Session, draft: OrderDraft) -> Order | None:
    return session.scalar(select(Order).where(
        Order.agency_code == draft.agency_code, Order.dossier_code == draft.dossier_code,
        Order.kind == draft.kind.value))


def _duplicate(existing: Order) -> DuplicateOrder:
    return DuplicateOrder(
        "An order for this dossier, agency and kind exists already.",
        details={"existing_id": existing.public_id,
                 "existing_tracking_number": existing.tracking_number})


def create_order(session: Session, draft: OrderDraft, *, caller: Caller, policy: IntakePolicy,
                 now: datetime, resolve_address: AddressResolver = leave_unresolved,
                 directory: DirectoryLookup | None = None) -> Order:
    """Create one order with its S10 number and its `created` event.

    Guarantees one order per (agency_code, dossier_code, kind), even under concurrency: the
    insert yields to an existing row (ON CONFLICT DO NOTHING), and the loser of a race gets
    DuplicateOrder with the winner's id. Raises UnknownAgency (also for an agency outside the
    caller's scope, so codes do not leak), InvalidOrder, QuoteNotFound, DuplicateOrder.
    """
    directory = directory or DirectoryLookup()
    allowed = caller.agency_codes()
    agency = directory.agency(session, draft.agency_code)
    if agency is None or (allowed is not None and draft.agency_code not in allowed):
        raise UnknownAgency("No such agency among those you act for.",
                            errors={"agency_code": ["Unknown agency."]})
    registered_at = draft.registered_at or now
    method = _check_rules(draft, registered_at, policy, now)
    resolved = resolve_address(session, draft.address)
    post_office_code = (directory.post_office_for_ward(session, resolved.ward_code)
                        or agency.post_office_code)
    public_id = "ord_" + ids.random_hex(10)
    facts = leg_pricing_facts(
        kind=draft.kind.value, channel=draft.channel, agency_code=draft.agency_code,
        agency_location=agency, citizen_address=resolved, weight_g=draft.weight_g,
        payment_method=method, fee_forwarding_vnd=draft.fee_forwarding_vnd,
        beneficiary_category=draft.beneficiary_category)
    def priced_by_book_of(revision: str) -> dict[str, Any] | None:
        return _price(session, facts, registered_at, quote_id=None, caller=caller,
                      order_public_id=public_id, now=now, book=book_for(session, revision))

    # Priced with the newest tariff book this process knows. The insert happens only while
    # that book is still current (checked in the same statement); in the rare case tariff
    # data changed meanwhile, nothing is written and the order is priced again. A quoted
    # price is honoured whatever the book.
    token, book = latest_book(session)
    book_token = None if draft.quote_id is not None else token
    try:
        price = _price(session, facts, registered_at, quote_id=draft.quote_id, caller=caller,
                       order_public_id=public_id, now=now, book=book)
    except BillingError:
        # A refusal counts only from the current book: a stale one may refuse what the
        # tariff now in force accepts (a later version raised the weight limit).
        changed = _changed_revision(session, book_token)
        if changed is None:
            raise
        book_token = changed
        price = priced_by_book_of(book_token)
    values = dict(
        public_id=public_id,
        tracking_number=allocate_tracking_number(session, policy.tracking_prefix),
        kind=draft.kind.value, status=Status.CREATED.value,
        agency_code=draft.agency_code, dossier_code=draft.dossier_code,
        procedure_code=draft.procedure_code, procedure_name=draft.procedure_name,
        channel=draft.channel, registered_at=registered_at,
        citizen_name=draft.citizen_name, citizen_phone=draft.citizen_phone,
        citizen_email=draft.citizen_email,
        address_input=draft.address.as_sent(), address_line=resolved.line,
        ward_code=resolved.ward_code, ward_name=resolved.ward_name,
        province_code=resolved.province_code, province_name=resolved.province_name,
        lat=resolved.lat, lon=resolved.lon, address_precision=resolved.precision,
        address_ambiguous=resolved.ambiguous,
        address_candidates=list(resolved.candidates) if resolved.candidates else None,
        old_ward_code=resolved.old_ward_code, old_ward_name=resolved.old_ward_name,
        old_district_name=resolved.old_district_name, post_office_code=post_office_code,
        weight_g=draft.weight_g, pieces=draft.pieces, contents=draft.contents,
        payer=draft.payer, payment_method=method, payment_status=INITIAL_PAYMENT_STATUS[method],
        fee_forwarding_vnd=draft.fee_forwarding_vnd,
        deliver_after=draft.deliver_after, deliver_before=draft.deliver_before,
        quote_id=draft.quote_id, price=price, total_vnd=price["total"] if price else None,
        attempt_count=0,
        due_at=due_at(accepted_at=now, deliver_before=draft.deliver_before,
                      working_days=policy.delivery_working_days),
        created_by_client_id=caller.client_id, created_at=now, updated_at=now)
    for _ in range(MAX_BOOK_RETRIES):
        outcome = _insert_with_created_event(session, values, actor_role=caller.role.value,
                                             book_token=book_token)
        if outcome.current_token is None:
            break
        # Also when the stale book could not price it at all (e.g. this process had cached
        # the book from before the tariffs were loaded): the fresh one may. A price the
        # fresh book refuses (a lowered weight limit) is refused here, before any write.
        book_token = outcome.current_token
        fresh = priced_by_book_of(book_token)
        values.update(price=fresh, total_vnd=fresh["total"] if fresh else None)
    else:
        raise TariffDataChanging("The tariff data is being changed; retry in a moment.")
    if outcome.order_id is None:
        existing = _find_by_natural_key(session, draft)
        assert existing is not None, "ON CONFLICT skipped the insert, so the row exists"
        raise _duplicate(existing)
    new_id = outcome.order_id
    # Built from the values, not attached to the session: intake is its last writer here.
    return _order_as_written({**_column_defaults(), **values, "id": new_id})


def _order_as_written(values: dict[str, Any]) -> Order:
    """The order as the insert wrote it. Like a row loaded by a query, its columns are set
    directly, without the per-attribute change events of `Order(**values)` (50 columns:
    a tenth of a millisecond per order), since it is never added to a session."""
    order: Order = inspect(Order).class_manager.new_instance()
    order.__dict__.update(values)
    return order


def _price(session: Session, facts: PricingFacts | None, registered_at: datetime, *,
           quote_id: str | None, caller: Caller, order_public_id: str,
           now: datetime, book: TariffBook | None = None) -> dict[str, Any] | None:
    """The order's price snapshot: the quoted price when it names a quote, else the tariff's.

    None (priced later) while an end of the leg has no ward, or while the tariff data cannot
    price it at all (no version in force, no zone, no tax rate): an order from a government
    system is never bounced for the post office's own configuration. Input the tariff refuses
    (a weight over its limit, an add-on it does not offer) is a 422.
    """
    if quote_id is not None:
        if facts is None:
            quote = session.get(Quote, quote_id)
            if quote is None or quote.client_id != caller.client_id:
                raise QuoteNotFound("No such quote.", errors={"quote_id": ["Unknown quote."]})
            raise QuoteMismatch(
                "The quoted price cannot be honoured: the address could not be placed in a ward.",
                errors={"quote_id": ["The order's address has no ward; the quote cannot apply."]})
        return redeem_quote(session, quote_id, client_id=caller.client_id, facts=facts, now=now,
                            order_public_id=order_public_id)
    if facts is None:
        return None
    try:
        return price_snapshot(remembered_price(facts, registered_at,
                                              book or current_book(session)))
    except (NoTariffInForce, NoZoneForRoute, NoTaxRateInForce):
        return None


class InsertOutcome(NamedTuple):
    order_id: int | None  # the new order's id; None when nothing was inserted
    # Nothing inserted because the tariff data changed since the order was priced: the
    # revision now current. None otherwise.
    current_token: str | None = None


def _insert_with_created_event(session: Session, values: dict[str, Any], *, actor_role: str,
                               book_token: str | None) -> InsertOutcome:
    """Insert the order with its `created` event, unless its natural key exists (ON CONFLICT
    DO NOTHING) or, with a `book_token`, the tariff data changed since that revision.

    On PostgreSQL one statement checks the revision and does both inserts (a data-modifying
    CTE), compiled once and run on the driver's cursor: one round trip on the hottest path of the
    service, atomic by itself. Only when it inserts nothing does a second read tell a stale
    book from an existing order. (SQLite holds its write lock from the transaction's start,
    so checking the revision first is as good there.)
    """
    dialect = session.get_bind().dialect
    # Like an ORM insert, columns intake does not set are NULL (or their default).
    params = {**_insert_defaults(), **values, "event_type": "created", "actor_role": actor_role,
              "book_token": book_token}
    if dialect.name == "postgresql":
        key = (dialect.name, dialect.driver)
        write = _INTAKE_WRITES.get(key) or _INTAKE_WRITES.setdefault(
            key, CompiledWrite.compile(_build_intake_statements("postgresql")[0], dialect))
        row = write.first_row(session, params)
        if row is not None:
            return InsertOutcome(row[0])
        return InsertOutcome(None, _changed_revision(session, book_token))
    changed = _changed_revision(session, book_token)
    if changed is not None:
        return InsertOutcome(None, changed)
    statements = _INTAKE_STATEMENTS.get(dialect.name) or _build_intake_statements(dialect.name)
    new_id = session.execute(statements[0], params).scalar()
    if new_id is None:
        return InsertOutcome(None)
    session.execute(statements[1], {**params, "order_id": new_id})
    return InsertOutcome(new_id)


def _changed_revision(session: Session, book_token: str | None) -> str | None:
    """The tariff revision now current if it is not `book_token` (None: no book to check)."""
    if book_token is None:
        return None
    current = revision_token(session)
    return current if current != book_token else None


# A book found stale is reloaded; this many times in a row means tariff data is being
# changed continuously, and the caller is asked to retry.
MAX_BOOK_RETRIES = 3


class TariffDataChanging(ServiceUnavailable):
    code = "tariff_data_changing"


_INTAKE_STATEMENTS: dict[str, tuple[Any, ...]] = {}
_INTAKE_WRITES: dict[tuple[str, str], CompiledWrite] = {}  # per (dialect, driver)


@lru_cache(maxsize=1)
def _column_defaults() -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for column in Order.__table__.c:
        if column.name == "id":
            continue
        if column.default is not None and column.default.is_scalar:
            defaults[column.name] = column.default.arg
        elif column.nullable:
            defaults[column.name] = None
    return defaults


# Columns a new order never has a value for: intake leaves them to their NULL default, which
# keeps the statement's parameters under psycopg's limit for caching the parsed query (50).
NEVER_SET_AT_INTAKE = frozenset({"id", "delivered_at", "cash_collected_vnd", "cancelled_at",
                                 "cancel_reason"})


@lru_cache(maxsize=1)
def _insert_defaults() -> dict[str, Any]:
    return {k: v for k, v in _column_defaults().items() if k not in NEVER_SET_AT_INTAKE}


def _build_intake_statements(dialect: str) -> tuple[Any, ...]:
    orders, events = Order.__table__, TrackingEvent.__table__
    columns = [c for c in orders.c if c.name not in NEVER_SET_AT_INTAKE]
    order_values = {c.name: bindparam(c.name, type_=c.type) for c in columns}
    if dialect == "postgresql":
        # The row is written only while the tariff book it was priced with is current.
        book_token = bindparam("book_token", type_=String())
        book_is_current = or_(book_token.is_(None),
                              func.coalesce(REVISION_TOKEN.scalar_subquery(), "") == book_token)
        upsert = postgresql.insert(orders).from_select(
            list(order_values), select(*order_values.values()).where(book_is_current))
    else:
        upsert = sqlite.insert(orders).values(order_values)
    order_insert = (upsert
                    .on_conflict_do_nothing(index_elements=["agency_code", "dossier_code", "kind"])
                    .returning(orders.c.id))
    # The created event repeats the order's own values under the same parameter names.
    event_values = {
        "type": bindparam("event_type", type_=events.c.type.type),
        "status": bindparam("status", type_=events.c.status.type),
        "occurred_at": bindparam("created_at", type_=events.c.occurred_at.type),
        "recorded_at": bindparam("created_at", type_=events.c.recorded_at.type),
        "actor_client_id": bindparam("created_by_client_id", type_=events.c.actor_client_id.type),
        "actor_role": bindparam("actor_role", type_=events.c.actor_role.type),
        "post_office_code": bindparam("post_office_code", type_=events.c.post_office_code.type),
        "ward_code": bindparam("ward_code", type_=events.c.ward_code.type),
    }
    if dialect == "postgresql":
        new_order = order_insert.cte("new_order")
        statements: tuple[Any, ...] = (
            insert(events)
            .from_select(["order_id", *event_values],
                         select(new_order.c.id, *event_values.values()))
            .returning(events.c.order_id),)
    else:
        event_insert = insert(events).values(
            {"order_id": bindparam("order_id", type_=events.c.order_id.type), **event_values})
        statements = (order_insert, event_insert)
    _INTAKE_STATEMENTS[dialect] = statements
    return statements


def create_orders(session: Session, drafts: Sequence[OrderDraft | DomainError], *, caller: Caller,
                  policy: IntakePolicy, now: datetime,
                  resolve_address: AddressResolver = leave_unresolved,
                  directory: DirectoryLookup | None = None) -> list[BatchItemResult]:
    """Create each draft independently; an item that failed validation is passed in as its error.

    Good items are created even when others fail; results come back in input order.
    """
    results: list[BatchItemResult] = []
    for index, item in enumerate(drafts):
        if isinstance(item, DomainError):
            results.append(BatchItemResult(index=index, error=item))
            continue
        # Each item in a savepoint: a failed item (e.g. a duplicate after its quote was
        # claimed) leaves nothing behind.
        savepoint = session.begin_nested()
        try:
            order = create_order(session, item, caller=caller, policy=policy, now=now,
                                 resolve_address=resolve_address, directory=directory)
            savepoint.commit()
        except DomainError as error:
            savepoint.rollback()
            results.append(BatchItemResult(index=index, error=error))
        else:
            results.append(BatchItemResult(index=index, order=order))
    return results


def scoped(stmt: Select[Any], caller: Caller) -> Select[Any]:
    agencies, offices = caller.agency_codes(), caller.post_office_codes()
    if agencies is None and offices is None:
        return stmt
    if agencies:
        return stmt.where(Order.agency_code.in_(sorted(agencies)))
    if offices:
        return stmt.where(Order.post_office_code.in_(sorted(offices)))
    return stmt.where(False)


def get_order(session: Session, public_id: str, *, caller: Caller) -> Order:
    """The order with this id if the caller may see it; raises OrderNotFound otherwise."""
    order = session.scalar(scoped(select(Order).where(Order.public_id == public_id), caller))
    if order is None:
        raise OrderNotFound("No such order.")
    return order


def list_orders(session: Session, filters: OrderFilters, *, caller: Caller, limit: int,
                cursor: str | None, now: datetime | None = None) -> Page[Order]:
    """Orders the caller may see, newest first, filtered, one page at a time.

    `now` is the instant an `attention` filter is judged at (overdue is relative to it).
    """
    stmt = scoped(select(Order), caller)
    equal = {"status": Order.status, "kind": Order.kind, "agency_code": Order.agency_code,
             "post_office_code": Order.post_office_code, "dossier_code": Order.dossier_code,
             "tracking_number": Order.tracking_number, "phone": Order.citizen_phone,
             "address_precision": Order.address_precision,
             "address_ambiguous": Order.address_ambiguous}
    for name, column in equal.items():
        value = getattr(filters, name)
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.created_from is not None:
        stmt = stmt.where(Order.created_at >= filters.created_from)
    if filters.created_to is not None:
        stmt = stmt.where(Order.created_at < filters.created_to)
    if filters.search is not None:
        stmt = stmt.where(_matches_search(filters.search))
    if filters.attention is not None:
        if now is None:
            raise ValueError("an attention filter is judged at an instant: pass now")
        stmt = stmt.where(attention_condition(filters.attention, now=now))
    return paginate(session, stmt, Order.id, limit=limit, cursor=cursor, descending=True)


def _matches_search(text: str) -> ColumnElement[bool]:
    """Orders whose tracking number, dossier code or citizen phone is `text`.

    Exact matches only, each on an indexed column: a tracking number in any case and with
    spaces, a dossier code as written, a phone in any Vietnamese form (0912 345 678,
    +84912345678...).
    """
    text = text.strip()
    matches = [Order.tracking_number == "".join(text.split()).upper(),
               Order.dossier_code == text]
    try:
        matches.append(Order.citizen_phone == normalize_vn_phone(text))
    except InvalidPhone:
        pass
    return or_(*matches)


FINISHED = frozenset({Status.DELIVERED, Status.DELIVERED_TO_AGENCY, Status.RETURNED_TO_AGENCY,
                      Status.CANCELLED})


MAX_POINT_TO_WARD_CENTRE_M = 20_000


class OrderFinished(Conflict):
    code = "order_finished"


class InvalidAddressCorrection(RuleViolation):
    code = "invalid_address"


def correct_address(session: Session, public_id: str, *, caller: Caller, ward_code: str | None,
                    lat: float | None, lon: float | None, now: datetime,
                    street_radius_m: float = 3000,
                    directory: DirectoryLookup | None = None) -> Order:
    """Set an order's ward and/or point by hand (a dispatcher fixing an unclear address).

    With a ward code: that 2025 ward, at the given point (street precision, which must lie
    within `street_radius_m` of the ward's centre) or at its centre (ward precision). With
    only a point: the ward with the nearest centre, street precision. The post office is
    re-assigned from the ward; an `address_corrected` event records who changed what.
    Raises OrderNotFound, OrderFinished, InvalidAddressCorrection.
    """
    directory = directory or DirectoryLookup()
    order = session.scalar(scoped(select(Order).where(Order.public_id == public_id), caller)
                           .with_for_update())
    if order is None:
        raise OrderNotFound("No such order.")
    if Status(order.status) in FINISHED:
        raise OrderFinished(f"The order is {order.status}; its address can no longer change.")
    point = (lat, lon) if lat is not None and lon is not None else None
    if ward_code is not None:
        ward = ward_by_code(ward_code)
        if ward is None:
            raise InvalidAddressCorrection("No 2025 ward has this code.",
                                           errors={"ward_code": ["Unknown ward code."]})
        if point is not None and distance_m(point, (ward.lat, ward.lon)) > street_radius_m:
            raise InvalidAddressCorrection(
                "The point is too far from the ward's centre; pick the ward the point is in.",
                errors={"lat": [f"More than {street_radius_m:.0f} m from {ward.name}."]})
    elif point is not None:
        nearest = nearest_ward(point[0], point[1])
        # No ward outlines: the nearest centre names the ward, but only for a point plausibly
        # inside it (the largest communes reach some 15 km from their centre).
        if nearest is None or nearest[1] > MAX_POINT_TO_WARD_CENTRE_M:
            raise InvalidAddressCorrection(
                "No ward centre is near this point; pick the ward by its code.",
                errors={"lat": [f"More than {MAX_POINT_TO_WARD_CENTRE_M // 1000} km from every ward."]})
        ward = nearest[0]
    else:
        raise InvalidAddressCorrection("Give a ward code, a point, or both.",
                                       errors={"ward_code": ["Required without lat/lon."]})
    province = province_by_code(ward.province_code)
    before, office_before = order.ward_code, order.post_office_code
    order.ward_code, order.ward_name = ward.code, ward.name
    order.province_code = ward.province_code
    order.province_name = province.name if province else None
    order.lat, order.lon = point if point is not None else (ward.lat, ward.lon)
    order.address_precision = "street" if point is not None else "ward"
    order.address_ambiguous, order.address_candidates = False, None
    # The old units the caller wrote no longer describe the chosen ward.
    order.old_ward_code = order.old_ward_name = order.old_district_name = None
    agency = directory.agency(session, order.agency_code)
    order.post_office_code = (directory.post_office_for_ward(session, ward.code)
                              or (agency.post_office_code if agency else order.post_office_code))
    if order.price is None:
        # Priced now that both ends are known, as of its registration: pricing is a pure
        # function of the facts and that instant. A price given before is never changed.
        # A tariff that cannot price it (e.g. a weight over its limit) leaves the price
        # pending: the address is fixed either way.
        try:
            order.price = _price(session, _facts_of(order, agency), order.registered_at,
                                 quote_id=None, caller=caller, order_public_id=order.public_id,
                                 now=now)
        except RuleViolation:
            order.price = None
        order.total_vnd = order.price["total"] if order.price else None
    order.updated_at = now
    session.add(TrackingEvent(
        order_id=order.id, type="address_corrected", status=order.status, occurred_at=now,
        recorded_at=now, actor_client_id=caller.client_id, actor_role=caller.role.value,
        post_office_code=order.post_office_code, ward_code=ward.code,
        data={"ward_code_before": before, "ward_code": ward.code,
              "post_office_code_before": office_before,
              "precision": order.address_precision}))
    session.flush()
    return order


def _facts_of(order: Order, agency: AgencyInfo | None) -> PricingFacts | None:
    resolved = ResolvedAddress(
        line=order.address_line, ward_code=order.ward_code, ward_name=order.ward_name,
        province_code=order.province_code, province_name=order.province_name,
        lat=order.lat, lon=order.lon, precision=order.address_precision,
        old_ward_code=order.old_ward_code)
    return leg_pricing_facts(
        kind=order.kind, channel=order.channel, agency_code=order.agency_code,
        agency_location=agency, citizen_address=resolved, weight_g=order.weight_g,
        payment_method=order.payment_method, fee_forwarding_vnd=order.fee_forwarding_vnd)


@dataclass(frozen=True)
class Located:
    address: ResolvedAddress
    post_office_code: str | None


def locate_address(session: Session, address: AddressInput, *, resolve_address: AddressResolver,
                   directory: DirectoryLookup | None = None) -> Located:
    """Resolve an address as intake would, with the post office serving its ward."""
    directory = directory or DirectoryLookup()
    resolved = resolve_address(session, address)
    return Located(resolved, directory.post_office_for_ward(session, resolved.ward_code))

"""Billing use cases: tariff, promotion and VAT administration with an audit trail, the tariff
book in force, quotes and their redemption by orders, and the demo billing data.

Past prices never change: a tariff version, a promotion that has started and a VAT row that is
in force are never rewritten; every change takes effect at a future instant, so pricing any
past registration instant gives today the answer it gave then.
"""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import CursorResult, Result, Select, func, select, update
from sqlalchemy.orm import Session

from postal_svc import ids
from postal_svc.db import database_key
from postal_svc.billing.codec import (
    decode_facts,
    decode_promotion,
    decode_tariff_version,
    decode_vat_rate,
    encode_decimal,
    encode_eligibility,
    encode_facts,
    encode_instant,
    encode_promotion,
    encode_promotion_value,
    encode_tariff_version,
    encode_vat_rate,
)
from postal_svc.billing.demo_tariffs import (
    covid19_online_promotion,
    hcmc_2020_tariff,
    new_units_2025_tariff,
)
from postal_svc.billing.errors import (
    InvalidPricingFacts,
    InvalidPromotion,
    InvalidQuote,
    PromotionExists,
    PromotionNotFound,
    QuoteExpired,
    QuoteMismatch,
    QuoteNotFound,
    QuoteUsed,
    RetroactiveChange,
    TariffVersionExists,
    TariffVersionNotFound,
    TaxRateExists,
)
from postal_svc.billing.facts import PricingFacts
from postal_svc.billing.models import (
    BillingAuditEntry,
    BillingRevision,
    PromotionRecord,
    Quote,
    TariffVersionRecord,
    TaxRateRecord,
)
from postal_svc.billing.pricing import Price, TariffBook, price_order
from postal_svc.billing.promotions import Promotion
from postal_svc.billing.tariffs import TariffVersion
from postal_svc.billing.tax import VatRate, VatTable, default_vat_rates, vietnam_date
from postal_svc.pagination import Page, paginate

QUOTE_VALIDITY = timedelta(minutes=30)
_REVISION_ROW = 1


@dataclass(frozen=True)
class Actor:
    """Who makes a billing change: an API client, or a named process such as the demo loader."""

    client_id: int | None
    name: str


DEMO_ACTOR = Actor(client_id=None, name="demo")


# -- audit and revision ----------------------------------------------------------------------

def _audit(session: Session, *, entity: str, key: str, action: str, actor: Actor,
           now: datetime, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    session.add(BillingAuditEntry(entity=entity, entity_key=key, action=action,
                                  actor_client_id=actor.client_id, actor=actor.name, at=now,
                                  before=before, after=after))


def _bump_revision(session: Session, now: datetime) -> None:
    """Mark billing data as changed, in the caller's transaction.

    The UPDATE locks the one revision row, so concurrent admin changes queue behind each
    other; the random token keys every process's cached tariff book.
    """
    token = secrets.token_hex(16)
    changed = _rowcount(session.execute(
        update(BillingRevision).where(BillingRevision.id == _REVISION_ROW)
        .values(revision=BillingRevision.revision + 1, token=token, changed_at=now)
        .execution_options(synchronize_session=False)))
    if not changed:  # the row is seeded by the migration; recreate it if someone deleted it
        session.add(BillingRevision(id=_REVISION_ROW, revision=1, token=token, changed_at=now))
    session.flush()


def _rowcount(result: Result[Any]) -> int:
    # An UPDATE's result is a CursorResult, which knows how many rows matched.
    return int(cast(CursorResult[Any], result).rowcount)


def list_audit(session: Session, *, entity: str | None = None, entity_key: str | None = None,
               limit: int, cursor: str | None) -> Page[BillingAuditEntry]:
    """The billing audit trail, newest first, optionally for one entity (and key)."""
    stmt: Select[Any] = select(BillingAuditEntry)
    if entity is not None:
        stmt = stmt.where(BillingAuditEntry.entity == entity)
    if entity_key is not None:
        stmt = stmt.where(BillingAuditEntry.entity_key == entity_key)
    return paginate(session, stmt, BillingAuditEntry.id, limit=limit, cursor=cursor,
                    descending=True)


# -- tariff versions -------------------------------------------------------------------------

def create_tariff_version(session: Session, document: Any, *, actor: Actor,
                          now: datetime) -> TariffVersionRecord:
    """Publish a tariff version taking effect at a future instant; it never changes after.

    Raises InvalidTariff (the document or the tariff is inconsistent), RetroactiveChange
    (`effective_from` not in the future: prices already given would change) and
    TariffVersionExists (the code, or the effective instant, is taken).
    """
    version = decode_tariff_version(document)
    if version.effective_from <= now:
        raise RetroactiveChange(
            "A tariff version must take effect in the future; past prices never change.",
            errors={"effective_from": ["Must be in the future."]})
    return _add_tariff_version(session, version, actor=actor, now=now)


def _add_tariff_version(session: Session, version: TariffVersion, *, actor: Actor,
                        now: datetime) -> TariffVersionRecord:
    if session.get(TariffVersionRecord, version.code) is not None:
        raise TariffVersionExists(f"Tariff version {version.code!r} exists already.",
                                  errors={"code": ["Already exists."]})
    clash = session.scalar(select(TariffVersionRecord.code).where(
        TariffVersionRecord.effective_from == version.effective_from))
    if clash is not None:
        raise TariffVersionExists(f"Tariff version {clash!r} takes effect at the same instant.",
                                  errors={"effective_from": [f"Taken by {clash}."]})
    document = encode_tariff_version(version)
    record = TariffVersionRecord(code=version.code, effective_from=version.effective_from,
                                 document=document, created_at=now,
                                 created_by_client_id=actor.client_id)
    session.add(record)
    _audit(session, entity="tariff_version", key=version.code, action="create", actor=actor,
           now=now, before=None, after=document)
    _bump_revision(session, now)
    return record


def get_tariff_version(session: Session, code: str) -> TariffVersionRecord:
    """The stored tariff version; raises TariffVersionNotFound."""
    record = session.get(TariffVersionRecord, code)
    if record is None:
        raise TariffVersionNotFound(f"No tariff version {code!r}.")
    return record


def list_tariff_versions(session: Session, *, limit: int,
                         cursor: str | None) -> Page[TariffVersionRecord]:
    """Tariff versions by code, one page at a time."""
    return paginate(session, select(TariffVersionRecord), TariffVersionRecord.code,
                    limit=limit, cursor=cursor)


# -- promotions ------------------------------------------------------------------------------

def promotion_of(record: PromotionRecord) -> Promotion:
    """The core promotion a stored row describes."""
    return decode_promotion(_promotion_document(record))


def _promotion_document(record: PromotionRecord) -> dict[str, Any]:
    return {"code": record.code, "kind": record.kind, "value": record.value,
            "valid_from": encode_instant(record.valid_from),
            "valid_until": (encode_instant(record.valid_until)
                            if record.valid_until is not None else None),
            "eligibility": record.eligibility, "stackable": record.stackable,
            "priority": record.priority, "description": record.description}


def _fill_promotion(record: PromotionRecord, promotion: Promotion) -> None:
    record.kind = promotion.kind.value
    record.value = encode_promotion_value(promotion)
    record.valid_from = promotion.valid_from
    record.valid_until = promotion.valid_until
    record.eligibility = encode_eligibility(promotion.eligibility)
    record.stackable = promotion.stackable
    record.priority = promotion.priority
    record.description = promotion.description


def create_promotion(session: Session, document: Any, *, actor: Actor,
                     now: datetime) -> PromotionRecord:
    """Create a promotion starting at a future instant.

    Raises InvalidPromotion, RetroactiveChange (`valid_from` not in the future) and
    PromotionExists.
    """
    promotion = decode_promotion(document)
    if promotion.valid_from <= now:
        raise RetroactiveChange(
            "A promotion must start in the future; past prices never change.",
            errors={"valid_from": ["Must be in the future."]})
    return _add_promotion(session, promotion, actor=actor, now=now)


def _add_promotion(session: Session, promotion: Promotion, *, actor: Actor,
                   now: datetime) -> PromotionRecord:
    if session.get(PromotionRecord, promotion.code) is not None:
        raise PromotionExists(f"Promotion {promotion.code!r} exists already.",
                              errors={"code": ["Already exists."]})
    record = PromotionRecord(code=promotion.code, created_at=now, updated_at=now)
    _fill_promotion(record, promotion)
    session.add(record)
    _audit(session, entity="promotion", key=promotion.code, action="create", actor=actor,
           now=now, before=None, after=encode_promotion(promotion))
    _bump_revision(session, now)
    return record


def get_promotion(session: Session, code: str) -> PromotionRecord:
    """The stored promotion; raises PromotionNotFound."""
    record = session.get(PromotionRecord, code)
    if record is None:
        raise PromotionNotFound(f"No promotion {code!r}.")
    return record


def list_promotions(session: Session, *, limit: int,
                    cursor: str | None) -> Page[PromotionRecord]:
    """Promotions by code, one page at a time."""
    return paginate(session, select(PromotionRecord), PromotionRecord.code, limit=limit,
                    cursor=cursor)


_PATCHABLE = ("kind", "value", "valid_from", "valid_until", "eligibility", "stackable",
              "priority", "description")


def update_promotion(session: Session, code: str, changes: Mapping[str, Any], *, actor: Actor,
                     now: datetime) -> PromotionRecord:
    """Change a promotion without changing any price at an instant before `now`.

    Before it starts, any field may change (a new `valid_from` must still be in the future).
    Once started, only `valid_until` may change: closing an open-ended promotion, or moving
    its end, to an instant not before `now` (and after `valid_from`); the end of a promotion
    that is over cannot move. Unchanged fields are ignored; a PATCH that changes nothing
    writes nothing. Raises PromotionNotFound, InvalidPromotion, RetroactiveChange.
    """
    record = session.scalar(select(PromotionRecord).where(PromotionRecord.code == code)
                            .with_for_update())
    if record is None:
        raise PromotionNotFound(f"No promotion {code!r}.")
    unknown = [key for key in changes if key not in _PATCHABLE]
    if unknown:
        raise InvalidPromotion("Only a promotion's terms can change, not its code.",
                               errors={key: ["Cannot be changed."] for key in unknown})
    current = promotion_of(record)
    before = encode_promotion(current)
    updated = decode_promotion({**before, **changes})
    after = encode_promotion(updated)
    changed = [key for key in _PATCHABLE if before[key] != after[key]]
    if not changed:
        return record

    problems: dict[str, list[str]] = {}
    started = current.valid_from <= now
    for key in changed:
        if key == "valid_until":
            continue
        if started:
            problems[key] = ["Cannot change once the promotion has started."]
        elif key == "valid_from" and updated.valid_from <= now:
            problems[key] = ["Must be in the future."]
    if "valid_until" in changed:
        old_end, new_end = current.valid_until, updated.valid_until
        if old_end is not None and old_end < now:
            problems["valid_until"] = ["The promotion is over; its end cannot move."]
        elif new_end is not None and new_end < now:
            problems["valid_until"] = ["Must not be before now."]
    if problems:
        raise RetroactiveChange(
            "This change would alter prices already given; past prices never change.",
            errors=problems)

    _fill_promotion(record, updated)
    record.updated_at = now
    _audit(session, entity="promotion", key=code, action="update", actor=actor, now=now,
           before=before, after=after)
    _bump_revision(session, now)
    return record


# -- VAT rates -------------------------------------------------------------------------------

def vat_rate_of(record: TaxRateRecord) -> VatRate:
    """The core VAT row a stored row describes."""
    return decode_vat_rate(_tax_document(record))


def _tax_document(record: TaxRateRecord) -> dict[str, Any]:
    return {"category": record.category, "rate": record.rate,
            "valid_from": record.valid_from.isoformat(),
            "valid_until": record.valid_until.isoformat() if record.valid_until else None,
            "legal_basis": record.legal_basis}


def create_tax_rate(session: Session, document: Any, *, actor: Actor,
                    now: datetime) -> TaxRateRecord:
    """Add a VAT row for its category from a future Vietnam date.

    An open-ended row of the same category that started earlier is closed on the new row's
    first day (a future date, so no price already given changes; audited as an update).
    Raises InvalidTaxRate (bad row, or an overlap with another period), RetroactiveChange
    (`valid_from` not after today in Vietnam) and TaxRateExists.
    """
    row = decode_vat_rate(document)
    today = vietnam_date(now)
    if row.valid_from <= today:
        raise RetroactiveChange(
            "A VAT rate must start after today (Vietnam date); past prices never change.",
            errors={"valid_from": [f"Must be after {today.isoformat()}."]})
    return _add_tax_rate(session, row, actor=actor, now=now, close_open_ended=True)


def _add_tax_rate(session: Session, row: VatRate, *, actor: Actor, now: datetime,
                  close_open_ended: bool) -> TaxRateRecord:
    records = list(session.scalars(select(TaxRateRecord).with_for_update()))
    if any(r.category == row.category.value and r.valid_from == row.valid_from
           for r in records):
        raise TaxRateExists(f"A {row.category} VAT row from {row.valid_from} exists already.",
                            errors={"valid_from": ["Already exists for this category."]})
    to_close = [record for record in records
                if close_open_ended and record.category == row.category.value
                and record.valid_until is None and record.valid_from < row.valid_from]
    # The whole table must stay consistent (periods of one category never overlap); checked
    # before anything changes, so a refused row leaves the session as it was.
    VatTable(tuple(vat_rate_of(r) if r not in to_close
                   else decode_vat_rate({**_tax_document(r),
                                         "valid_until": row.valid_from.isoformat()})
                   for r in records) + (row,))
    closed: list[tuple[TaxRateRecord, dict[str, Any]]] = []
    for record in to_close:
        closed.append((record, _tax_document(record)))
        record.valid_until = row.valid_from
    record = TaxRateRecord(category=row.category.value,
                           rate=encode_decimal(row.rate) if row.rate is not None else None,
                           valid_from=row.valid_from, valid_until=row.valid_until,
                           legal_basis=row.legal_basis, created_at=now)
    session.add(record)
    session.flush()
    for old, before in closed:
        _audit(session, entity="tax_rate", key=_tax_key(old), action="update", actor=actor,
               now=now, before=before, after=_tax_document(old))
    _audit(session, entity="tax_rate", key=_tax_key(record), action="create", actor=actor,
           now=now, before=None, after=encode_vat_rate(row))
    _bump_revision(session, now)
    return record


def _tax_key(record: TaxRateRecord) -> str:
    return f"{record.category}:{record.valid_from.isoformat()}"


def list_tax_rates(session: Session, *, category: str | None = None, limit: int,
                   cursor: str | None) -> Page[TaxRateRecord]:
    """VAT rows in the order they were added, optionally of one category."""
    stmt: Select[Any] = select(TaxRateRecord)
    if category is not None:
        stmt = stmt.where(TaxRateRecord.category == category)
    return paginate(session, stmt, TaxRateRecord.id, limit=limit, cursor=cursor)


# -- the tariff book in force ----------------------------------------------------------------

class _BookCache:
    """The last few tariff books built by this process, keyed by database and revision token."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._books: OrderedDict[tuple[str, str], TariffBook] = OrderedDict()

    def get(self, key: tuple[str, str]) -> TariffBook | None:
        with self._lock:
            book = self._books.get(key)
            if book is not None:
                self._books.move_to_end(key)
            return book

    def put(self, key: tuple[str, str], book: TariffBook) -> None:
        with self._lock:
            self._books[key] = book
            self._books.move_to_end(key)
            while len(self._books) > self._size:
                self._books.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._books.clear()


_BOOKS = _BookCache()


def current_book(session: Session) -> TariffBook:
    """Every tariff version, promotion and VAT row, as one TariffBook.

    Costs one SELECT of the revision token when this process has built the book for that
    token already; otherwise the book is rebuilt from the tables. Empty tables give an empty
    book, with which pricing raises NoTariffInForce (422).
    """
    return book_for(session, revision_token(session))


REVISION_TOKEN = select(BillingRevision.token).where(BillingRevision.id == _REVISION_ROW)


def revision_token(session: Session) -> str:
    """The token that changes with every change to tariffs, promotions or tax rates."""
    return session.scalar(REVISION_TOKEN) or ""


def book_for(session: Session, token: str) -> TariffBook:
    """The book of revision `token`, built once per process."""
    database = database_key(session)
    book = _BOOKS.get((database, token))
    if book is None:
        book = load_book(session)
        _BOOKS.put((database, token), book)
        _LATEST[database] = token
    return book


_LATEST: dict[str, str] = {}


def latest_book(session: Session) -> tuple[str, TariffBook]:
    """The newest book this process knows, without asking the database when it has one.

    For a caller that verifies the token in a statement it runs anyway (order intake inserts
    only while it is current) and re-prices in the rare case it changed.
    """
    database = database_key(session)
    token = _LATEST.get(database)
    book = _BOOKS.get((database, token)) if token is not None else None
    if token is None or book is None:
        token = revision_token(session)
        book = book_for(session, token)
    return token, book


def load_book(session: Session) -> TariffBook:
    """The tariff book as the tables hold it now (uncached)."""
    versions = tuple(decode_tariff_version(document) for document in session.scalars(
        select(TariffVersionRecord.document).order_by(TariffVersionRecord.effective_from)))
    promotions = tuple(promotion_of(record) for record in session.scalars(
        select(PromotionRecord).order_by(PromotionRecord.code)))
    vat_rows = tuple(vat_rate_of(record) for record in session.scalars(
        select(TaxRateRecord).order_by(TaxRateRecord.category, TaxRateRecord.valid_from)))
    return TariffBook(tariff_versions=versions, promotions=promotions,
                      vat_table=VatTable(vat_rows))


def price_snapshot(price: Price) -> dict[str, Any]:
    """What an order stores in `price` (with `total_vnd` = `price.total`): the PRICE object."""
    return price.to_dict()


def price_leg(session: Session, facts: PricingFacts, registered_at: datetime) -> Price:
    """Price one leg with the tariff book in force (the intake's pricing step).

    Raises the pricing errors of `price_order` (all 422).
    """
    return price_order(facts, registered_at, current_book(session))


# -- quotes ----------------------------------------------------------------------------------

def quote_price(session: Session, facts: PricingFacts, registered_at: datetime, *,
                client_id: int, now: datetime, validity: timedelta = QUOTE_VALIDITY,
                future_skew: timedelta = timedelta(0)) -> Quote:
    """Price the facts as at `registered_at` (any past instant) and keep the price for
    `validity` (30 minutes) for one order of the same client with the same facts.

    Raises InvalidPricingFacts (naive instant), InvalidQuote (an instant in the future,
    beyond `future_skew`) and the pricing errors of `price_order`.
    """
    if registered_at.utcoffset() is None:
        raise InvalidPricingFacts("registration time must carry a UTC offset",
                                  errors={"registered_at": ["must be an aware datetime"]})
    if registered_at > now + future_skew:
        raise InvalidQuote("A quote prices a registration that has happened, not a future one.",
                           errors={"registered_at": ["Must not be in the future."]})
    price = price_leg(session, facts, registered_at)
    quote = Quote(id="quo_" + ids.random_hex(12), client_id=client_id,
                  facts=encode_facts(facts), registered_at=registered_at,
                  price=price_snapshot(price), total_vnd=price.total, created_at=now,
                  expires_at=now + validity, order_public_id=None, redeemed_at=None)
    session.add(quote)
    session.flush()
    return quote


def redeem_quote(session: Session, quote_id: str, *, client_id: int, facts: PricingFacts,
                 now: datetime, order_public_id: str | None = None) -> dict[str, Any]:
    """The exact price a quote promised, for an order with the same facts.

    The quote must exist and belong to `client_id` (else QuoteNotFound), not be redeemed by
    another order (QuoteUsed), not be expired at `now` (QuoteExpired: it lives until
    `expires_at`, exclusive) and have been given for equal facts (QuoteMismatch, naming the
    fields that differ). With `order_public_id` the quote is claimed for that order in the
    caller's transaction (a conditional UPDATE, so two orders racing for one quote cannot
    both win; a rolled-back order releases it). All errors are 422.
    """
    quote = session.get(Quote, quote_id)
    if quote is None or quote.client_id != client_id:
        raise QuoteNotFound("No such quote.", errors={"quote_id": ["Unknown quote."]})
    if quote.order_public_id is not None and quote.order_public_id != order_public_id:
        raise QuoteUsed("Another order has used this quote.",
                        errors={"quote_id": ["Already used by another order."]})
    if now >= quote.expires_at:
        raise QuoteExpired("The quote has expired; ask for a new one.",
                           errors={"quote_id": ["Expired."]},
                           details={"expired_at": quote.expires_at.isoformat()})
    quoted = encode_facts(decode_facts(quote.facts))
    ordered = encode_facts(facts)
    differing = _differences(quoted, ordered)
    if differing:
        raise QuoteMismatch(
            "The order differs from what was quoted: " + ", ".join(differing) + ".",
            errors={"quote_id": ["Quoted for different order facts."]},
            details={"mismatched_fields": differing})
    if order_public_id is not None and quote.order_public_id is None:
        claimed = _rowcount(session.execute(
            update(Quote).where(Quote.id == quote_id, Quote.order_public_id.is_(None))
            .values(order_public_id=order_public_id, redeemed_at=now)
            .execution_options(synchronize_session=False)))
        if claimed != 1:
            raise QuoteUsed("Another order has used this quote.",
                            errors={"quote_id": ["Already used by another order."]})
        session.expire(quote)
    return dict(quote.price)


def _differences(first: Mapping[str, Any], second: Mapping[str, Any],
                 prefix: str = "") -> list[str]:
    found: list[str] = []
    for key in sorted(set(first) | set(second)):
        a, b = first.get(key), second.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            found.extend(_differences(a, b, f"{prefix}{key}."))
        elif a != b:
            found.append(f"{prefix}{key}")
    return found


# -- demo data -------------------------------------------------------------------------------

def load_demo_billing(session: Session, now: datetime) -> dict[str, int]:
    """Seed the demo billing data that is missing; running it again changes nothing.

    The HCMC 2020 tariff, the 2025-07-01 tariff on the new units, the COVID19-ONLINE-20
    promotion (20% off online registrations from 2020-02-15T00:00+07:00, open-ended) and the
    VAT table (when it is empty). Written directly, bypassing the admins' no-past-dates rule,
    with audit rows by actor "demo".
    """
    added = {"tariff_versions": 0, "promotions": 0, "tax_rates": 0}
    for version in (hcmc_2020_tariff(), new_units_2025_tariff()):
        if session.get(TariffVersionRecord, version.code) is None:
            _add_tariff_version(session, version, actor=DEMO_ACTOR, now=now)
            added["tariff_versions"] += 1
    promotion = covid19_online_promotion()
    if session.get(PromotionRecord, promotion.code) is None:
        _add_promotion(session, promotion, actor=DEMO_ACTOR, now=now)
        added["promotions"] += 1
    if not session.scalar(select(func.count()).select_from(TaxRateRecord)):
        for row in default_vat_rates():
            _add_tax_rate(session, row, actor=DEMO_ACTOR, now=now, close_open_ended=False)
            added["tax_rates"] += 1
    session.flush()
    return added


__all__ = [
    "DEMO_ACTOR", "QUOTE_VALIDITY", "Actor", "create_promotion", "create_tax_rate",
    "create_tariff_version", "current_book", "get_promotion", "get_tariff_version",
    "list_audit", "list_promotions", "list_tariff_versions", "list_tax_rates", "load_book",
    "load_demo_billing", "price_leg", "price_snapshot", "promotion_of", "quote_price",
    "redeem_quote", "update_promotion", "vat_rate_of",
]

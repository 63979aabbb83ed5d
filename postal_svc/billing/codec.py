"""JSON documents <-> billing dataclasses: tariff versions, promotions, VAT rates, order facts.

The documents are what the database stores and what the admin API sends and receives:
- money is a JSON integer of VND, never a float or a string;
- instants are ISO 8601 strings with an offset; they are written in UTC with `Z`, and read
  with any offset (a naive instant is refused: midnight where?);
- VAT periods are ISO dates ("2022-02-01"), `valid_until` exclusive, null for open-ended;
- rates are Decimal strings, never JSON numbers (0.1 as a JSON number is a binary float):
  a VAT `rate` is a fraction, as `VatRate` holds it ("0.08" is 8%); a `percent_off`
  promotion's `value` is a percentage, as `Promotion` holds it ("20" is 20%; a JSON integer
  such as 20 is exact and accepted too).
Decoding checks the document's shape and types, naming every bad field by its path, then lets
the core's constructors check the business rules; it raises the core's own errors
(InvalidTariff, InvalidPromotion, InvalidTaxRate, InvalidPricingFacts). Unknown keys are
refused: a misspelt field silently ignored would publish a different tariff than intended.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, NoReturn, cast

from postal_svc.billing.errors import (
    BillingError,
    InvalidPricingFacts,
    InvalidPromotion,
    InvalidTariff,
    InvalidTaxRate,
)
from postal_svc.billing.facts import AreaRef, PricingFacts
from postal_svc.billing.promotions import Eligibility, Promotion, PromotionKind
from postal_svc.billing.tariffs import (
    AddOns,
    Exemption,
    RegionMap,
    TariffVersion,
    WeightBand,
    ZoneRule,
)
from postal_svc.billing.tax import VatRate

__all__ = [
    "decode_facts", "decode_promotion", "decode_tariff_version", "decode_vat_rate",
    "encode_decimal", "encode_facts", "encode_instant", "encode_promotion",
    "encode_tariff_version", "encode_vat_rate", "parse_instant",
]


# -- scalars ---------------------------------------------------------------------------------

def encode_instant(moment: datetime) -> str:
    """An aware instant as ISO 8601 in UTC with `Z` (API.md: responses use UTC)."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_instant(text: str) -> datetime:
    """ISO 8601 with an offset (`Z` or +07:00) -> aware datetime; ValueError if naive/bad."""
    moment = datetime.fromisoformat(text)
    if moment.utcoffset() is None:
        raise ValueError("naive instant")
    try:
        moment.astimezone(timezone.utc)  # e.g. 9999-12-31T23:59-23:59 has no UTC form
    except OverflowError:
        raise ValueError("instant out of range") from None
    return moment


def encode_decimal(value: Decimal) -> str:
    """A Decimal as a plain string without exponent: Decimal("20") -> "20", "0.08" -> "0.08"."""
    return f"{value.normalize():f}"


# Bounds that keep every value storable (BIGINT, INTEGER, VARCHAR columns): no tariff needs
# a whole number above a billion (VND, grams, priorities), nor a rate of more than 16 characters.
MAX_WHOLE = 10**9
MAX_DECIMAL_CHARS = 16


class _Reader:
    """Collects every problem of one document, by field path, before raising once."""

    def __init__(self, error: type[BillingError], what: str) -> None:
        self.error = error
        self.what = what
        self.problems: dict[str, list[str]] = {}

    def fail(self, path: str, message: str) -> None:
        self.problems.setdefault(path or "_schema", []).append(message)

    def raise_if_any(self) -> None:
        if self.problems:
            raise self.error(f"the {self.what} document is not valid", errors=self.problems)

    def scan(self, value: Any, path: str = "") -> None:
        """Refuse text no database can store: NUL characters and lone surrogates."""
        if isinstance(value, str):
            if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
                self.fail(path, "must be valid text without NUL characters")
        elif isinstance(value, Mapping):
            for key, item in value.items():
                self.scan(key, path)
                self.scan(item, _join(path, str(key)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.scan(item, _join(path, str(index)))

    def obj(self, value: Any, path: str, allowed: tuple[str, ...],
            required: tuple[str, ...] = ()) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.fail(path, "must be an object")
            return None
        for key in value:
            if key not in allowed:
                self.fail(_join(path, str(key)), "unknown field")
        for key in required:
            if key not in value:
                self.fail(_join(path, key), "required")
        return value

    def text(self, doc: Mapping[str, Any], key: str, path: str, *, optional: bool = False,
             default: str | None = None, max_length: int = 500) -> str | None:
        value = doc.get(key, default)
        if value is None and optional:
            return None
        if not isinstance(value, str) or (not optional and not value.strip()):
            self.fail(_join(path, key), "must be a non-empty string" if not optional
                      else "must be a string or null")
            return None
        if len(value) > max_length:
            self.fail(_join(path, key), f"must be at most {max_length} characters")
            return None
        return value

    def integer(self, doc: Mapping[str, Any], key: str, path: str, *, optional: bool = False,
                default: int | None = None, minimum: int | None = None) -> int | None:
        value = doc.get(key, default)
        if value is None and optional:
            return None
        return self.int_value(value, _join(path, key), minimum=minimum)

    def int_value(self, value: Any, path: str, *, minimum: int | None = None,
                  maximum: int = MAX_WHOLE) -> int | None:
        # bool is an int subclass, and a float like 26000.0 is not money.
        if type(value) is not int:
            self.fail(path, "must be a whole number")
            return None
        if minimum is not None and value < minimum:
            self.fail(path, f"must be >= {minimum}")
            return None
        if value > maximum or value < -maximum:
            self.fail(path, f"must be at most {maximum}")
            return None
        return value

    def boolean(self, doc: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = doc.get(key, default)
        if type(value) is not bool:
            self.fail(_join(path, key), "must be true or false")
            return default
        return value

    def instant(self, doc: Mapping[str, Any], key: str, path: str, *,
                optional: bool = False) -> datetime | None:
        value = doc.get(key)
        if value is None and optional:
            return None
        if isinstance(value, str):
            try:
                return parse_instant(value)
            except (ValueError, OverflowError):
                pass
        self.fail(_join(path, key), "must be an ISO 8601 instant with an offset, "
                                    "e.g. 2020-02-15T00:00:00+07:00")
        return None

    def day(self, doc: Mapping[str, Any], key: str, path: str, *,
            optional: bool = False) -> date | None:
        value = doc.get(key)
        if value is None and optional:
            return None
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(_join(path, key), "must be an ISO date, e.g. 2022-02-01")
        return None

    def decimal(self, value: Any, path: str, *, allow_int: bool) -> Decimal | None:
        if allow_int and type(value) is int and -MAX_WHOLE <= value <= MAX_WHOLE:
            return Decimal(value)
        if isinstance(value, str) and len(value) <= MAX_DECIMAL_CHARS:
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                number = None
            # Written back without an exponent ("1E-15" is 17 characters then).
            if (number is not None and number.is_finite()
                    and len(encode_decimal(number)) <= MAX_DECIMAL_CHARS):
                return number
        self.fail(path, "must be a decimal number written as a string, e.g. \"0.08\"")
        return None

    def strings(self, value: Any, path: str) -> list[str] | None:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(path, "must be a list of non-empty strings")
            return None
        return value

    def build(self, path: str, make: Callable[[], Any]) -> Any:
        """Run a core constructor, turning its own error into problems under `path`."""
        try:
            return make()
        except BillingError as error:
            if path or not error.errors:
                # A part of a list (zones.2): its own messages, under its own path.
                for message in [m for ms in error.errors.values() for m in ms] or [
                        error.message]:
                    self.fail(path, message)
            else:
                for key, messages in error.errors.items():
                    for message in messages:
                        self.fail(key, message)
            return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _bad_document(error: type[BillingError], what: str) -> NoReturn:
    raise error(f"the {what} document must be a JSON object",
                errors={"_schema": ["must be an object"]})


# -- tariff versions -------------------------------------------------------------------------

_TARIFF_KEYS = ("code", "effective_from", "tax_category", "description", "base_weight_g",
                "zones", "weight_bands", "add_ons", "exemptions", "regions")
_ZONE_KEYS = ("code", "description", "relation", "base_price_vnd", "region_relation")
_BAND_KEYS = ("up_to_g", "step_g", "step_price_vnd")
_ADD_ON_KEYS = ("fee_forwarding_vnd", "cash_on_delivery_vnd")
_EXEMPTION_KEYS = ("beneficiary_category", "description", "legal_basis")
_REGION_KEYS = ("province_regions", "adjacent_regions")


def encode_tariff_version(version: TariffVersion) -> dict[str, Any]:
    """A tariff version as its JSON document (every key present, null when unset)."""
    return {
        "code": version.code,
        "effective_from": encode_instant(version.effective_from),
        "tax_category": version.tax_category.value,
        "description": version.description,
        "base_weight_g": version.base_weight_g,
        "zones": [{"code": zone.code, "description": zone.description,
                   "relation": zone.relation.value, "base_price_vnd": zone.base_price_vnd,
                   "region_relation": (zone.region_relation.value
                                       if zone.region_relation is not None else None)}
                  for zone in version.zones],
        "weight_bands": [{"up_to_g": band.up_to_g, "step_g": band.step_g,
                          "step_price_vnd": dict(band.step_price_vnd)}
                         for band in version.weight_bands],
        "add_ons": {"fee_forwarding_vnd": version.add_ons.fee_forwarding_vnd,
                    "cash_on_delivery_vnd": version.add_ons.cash_on_delivery_vnd},
        "exemptions": [{"beneficiary_category": e.beneficiary_category,
                        "description": e.description, "legal_basis": e.legal_basis}
                       for e in version.exemptions],
        "regions": {"province_regions": dict(sorted(version.regions.province_regions.items())),
                    "adjacent_regions": sorted(sorted(pair)
                                               for pair in version.regions.adjacent_regions)},
    }


def decode_tariff_version(document: Any) -> TariffVersion:
    """A tariff version from its JSON document; raises InvalidTariff naming every bad field."""
    r = _Reader(InvalidTariff, "tariff version")
    r.scan(document)
    doc = r.obj(document, "", _TARIFF_KEYS,
                required=("code", "effective_from", "tax_category", "zones"))
    if doc is None:
        _bad_document(InvalidTariff, "tariff version")
    code = r.text(doc, "code", "", max_length=64)
    effective_from = r.instant(doc, "effective_from", "")
    tax_category = r.text(doc, "tax_category", "", max_length=32)
    description = r.text(doc, "description", "", optional=True, default="")
    base_weight_g = r.integer(doc, "base_weight_g", "", default=100, minimum=1)

    zones: list[ZoneRule] = []
    raw_zones = doc.get("zones")
    if not isinstance(raw_zones, list):
        r.fail("zones", "must be a list")
        raw_zones = []
    for index, raw in enumerate(raw_zones):
        path = f"zones.{index}"
        zone = r.obj(raw, path, _ZONE_KEYS, required=("code", "relation", "base_price_vnd"))
        if zone is None:
            continue
        zone_code = r.text(zone, "code", path, max_length=64)
        zone_text = r.text(zone, "description", path, optional=True, default="")
        relation = r.text(zone, "relation", path, max_length=32)
        base_price = r.integer(zone, "base_price_vnd", path, minimum=0)
        region_relation = r.text(zone, "region_relation", path, optional=True, max_length=32)
        if zone_code is None or relation is None or base_price is None:
            continue
        # The core converts the relation names to enums and refuses unknown ones.
        built = r.build(path, partial(ZoneRule, zone_code, zone_text or "", cast(Any, relation),
                                      base_price, cast(Any, region_relation)))
        if built is not None:
            zones.append(built)

    bands: list[WeightBand] = []
    raw_bands = doc.get("weight_bands", [])
    if not isinstance(raw_bands, list):
        r.fail("weight_bands", "must be a list")
        raw_bands = []
    for index, raw in enumerate(raw_bands):
        path = f"weight_bands.{index}"
        band = r.obj(raw, path, _BAND_KEYS, required=("step_g", "step_price_vnd"))
        if band is None:
            continue
        up_to_g = r.integer(band, "up_to_g", path, optional=True, minimum=1)
        step_g = r.integer(band, "step_g", path, minimum=1)
        prices = _money_map(r, band.get("step_price_vnd"), f"{path}.step_price_vnd")
        if step_g is None or prices is None or ("up_to_g" in band and band["up_to_g"] is not None
                                                 and up_to_g is None):
            continue
        built = r.build(path, partial(WeightBand, up_to_g, step_g, prices))
        if built is not None:
            bands.append(built)

    add_ons = AddOns()
    if "add_ons" in doc and doc["add_ons"] is not None:
        raw = r.obj(doc["add_ons"], "add_ons", _ADD_ON_KEYS)
        if raw is not None:
            forwarding = r.integer(raw, "fee_forwarding_vnd", "add_ons", optional=True, minimum=0)
            cod = r.integer(raw, "cash_on_delivery_vnd", "add_ons", optional=True, minimum=0)
            add_ons = AddOns(forwarding, cod)

    exemptions: list[Exemption] = []
    raw_exemptions = doc.get("exemptions", [])
    if not isinstance(raw_exemptions, list):
        r.fail("exemptions", "must be a list")
        raw_exemptions = []
    for index, raw in enumerate(raw_exemptions):
        path = f"exemptions.{index}"
        item = r.obj(raw, path, _EXEMPTION_KEYS, required=("beneficiary_category",))
        if item is None:
            continue
        category = r.text(item, "beneficiary_category", path, max_length=64)
        text = r.text(item, "description", path, optional=True, default="")
        basis = r.text(item, "legal_basis", path, optional=True, default="")
        if category is not None:
            exemptions.append(Exemption(category, text or "", basis or ""))

    regions = RegionMap()
    if "regions" in doc and doc["regions"] is not None:
        raw = r.obj(doc["regions"], "regions", _REGION_KEYS)
        if raw is not None:
            regions = _decode_regions(r, raw) or regions

    r.raise_if_any()
    assert code is not None and effective_from is not None and tax_category is not None
    assert base_weight_g is not None
    # Every field was checked above; what is left (zones vs bands, duplicate codes...) is
    # the tariff's own consistency, which its constructor judges.
    return TariffVersion(code=code, effective_from=effective_from,
                         tax_category=tax_category,  # type: ignore[arg-type]
                         zones=tuple(zones), weight_bands=tuple(bands),
                         base_weight_g=base_weight_g, add_ons=add_ons,
                         exemptions=tuple(exemptions), regions=regions,
                         description=description or "")


def _money_map(r: _Reader, value: Any, path: str) -> dict[str, int] | None:
    if not isinstance(value, Mapping) or not value:
        r.fail(path, "must be a non-empty object of {zone code: VND}")
        return None
    prices: dict[str, int] = {}
    for key, amount in value.items():
        checked = r.int_value(amount, f"{path}.{key}", minimum=0)
        if checked is not None:
            prices[str(key)] = checked
    return prices if len(prices) == len(value) else None


def _decode_regions(r: _Reader, raw: Mapping[str, Any]) -> RegionMap | None:
    provinces = raw.get("province_regions", {})
    if not isinstance(provinces, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in provinces.items()):
        r.fail("regions.province_regions", "must be an object of {province code: region}")
        return None
    pairs = raw.get("adjacent_regions", [])
    if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) and x for x in p)
            for p in pairs):
        r.fail("regions.adjacent_regions", "must be a list of [region, region] pairs")
        return None
    return r.build("", lambda: RegionMap(dict(provinces),
                                         frozenset(frozenset(p) for p in pairs)))


# -- promotions ------------------------------------------------------------------------------

_PROMOTION_KEYS = ("code", "kind", "value", "valid_from", "valid_until", "eligibility",
                   "stackable", "priority", "description")
_ELIGIBILITY_KEYS = ("channels", "kinds", "province_codes", "agency_codes")


def encode_promotion_value(promotion: Promotion) -> Any:
    """The `value` of a promotion as JSON: "20" (percent), 3000 (VND), {zone: VND}."""
    value = promotion.value
    if isinstance(value, Decimal):
        return encode_decimal(value)
    if isinstance(value, int):
        return value
    return dict(sorted(value.items()))


def encode_eligibility(eligibility: Eligibility) -> dict[str, list[str]]:
    return {name: sorted(str(v) for v in getattr(eligibility, name))
            for name in _ELIGIBILITY_KEYS}


def encode_promotion(promotion: Promotion) -> dict[str, Any]:
    """A promotion as its JSON document (every key present)."""
    return {
        "code": promotion.code,
        "kind": promotion.kind.value,
        "value": encode_promotion_value(promotion),
        "valid_from": encode_instant(promotion.valid_from),
        "valid_until": (encode_instant(promotion.valid_until)
                        if promotion.valid_until is not None else None),
        "eligibility": encode_eligibility(promotion.eligibility),
        "stackable": promotion.stackable,
        "priority": promotion.priority,
        "description": promotion.description,
    }


def decode_promotion(document: Any) -> Promotion:
    """A promotion from its JSON document; raises InvalidPromotion naming every bad field."""
    r = _Reader(InvalidPromotion, "promotion")
    r.scan(document)
    doc = r.obj(document, "", _PROMOTION_KEYS, required=("code", "kind", "value", "valid_from"))
    if doc is None:
        _bad_document(InvalidPromotion, "promotion")
    code = r.text(doc, "code", "", max_length=64)
    kind = r.text(doc, "kind", "", max_length=32)
    valid_from = r.instant(doc, "valid_from", "")
    valid_until = r.instant(doc, "valid_until", "", optional=True)
    stackable = r.boolean(doc, "stackable", "", False)
    priority = r.integer(doc, "priority", "", default=100)
    description = r.text(doc, "description", "", optional=True, default="")
    value: Any = None
    raw_value = doc.get("value")
    if kind == PromotionKind.PERCENT_OFF:
        value = r.decimal(raw_value, "value", allow_int=True)
    elif kind == PromotionKind.AMOUNT_OFF:
        value = r.int_value(raw_value, "value", minimum=1)
    elif kind == PromotionKind.FIXED_PRICE:
        value = _money_map(r, raw_value, "value")
    elif kind is not None:
        r.fail("kind", f"must be one of {', '.join(k.value for k in PromotionKind)}")
    eligibility = Eligibility()
    if doc.get("eligibility") is not None:
        raw = r.obj(doc["eligibility"], "eligibility", _ELIGIBILITY_KEYS)
        if raw is not None:
            sets = {name: r.strings(raw.get(name, []), f"eligibility.{name}")
                    for name in _ELIGIBILITY_KEYS}
            if all(v is not None for v in sets.values()):
                eligibility = r.build("", lambda: Eligibility(
                    **{name: frozenset(v or ()) for name, v in sets.items()})) or eligibility
    r.raise_if_any()
    assert code is not None and kind is not None and valid_from is not None
    return Promotion(code=code, kind=kind,  # type: ignore[arg-type]
                     value=value, valid_from=valid_from, valid_until=valid_until,
                     eligibility=eligibility, stackable=stackable,
                     priority=priority if priority is not None else 100,
                     description=description or "")


# -- VAT rates -------------------------------------------------------------------------------

_VAT_KEYS = ("category", "rate", "valid_from", "valid_until", "legal_basis")


def encode_vat_rate(row: VatRate) -> dict[str, Any]:
    """A VAT table row as JSON: `rate` a fraction string ("0.08") or null for not_subject."""
    return {
        "category": row.category.value,
        "rate": encode_decimal(row.rate) if row.rate is not None else None,
        "valid_from": row.valid_from.isoformat(),
        "valid_until": row.valid_until.isoformat() if row.valid_until is not None else None,
        "legal_basis": row.legal_basis,
    }


def decode_vat_rate(document: Any) -> VatRate:
    """A VAT table row from JSON; raises InvalidTaxRate naming every bad field."""
    r = _Reader(InvalidTaxRate, "tax rate")
    r.scan(document)
    doc = r.obj(document, "", _VAT_KEYS, required=("category", "valid_from", "legal_basis"))
    if doc is None:
        _bad_document(InvalidTaxRate, "tax rate")
    category = r.text(doc, "category", "", max_length=32)
    rate = (r.decimal(doc["rate"], "rate", allow_int=False)
            if doc.get("rate") is not None else None)
    valid_from = r.day(doc, "valid_from", "")
    valid_until = r.day(doc, "valid_until", "", optional=True)
    legal_basis = r.text(doc, "legal_basis", "", max_length=300)
    r.raise_if_any()
    assert category is not None and valid_from is not None and legal_basis is not None
    return VatRate(category, rate, valid_from, valid_until,  # type: ignore[arg-type]
                   legal_basis)


# -- order facts (what a quote remembers) ----------------------------------------------------

_FACTS_KEYS = ("kind", "channel", "agency_code", "origin", "destination", "weight_g",
               "pieces", "payment_method", "fee_forwarding_vnd", "beneficiary_category")
_AREA_KEYS = ("ward_code", "old_district_code", "province_code", "region")


def encode_facts(facts: PricingFacts) -> dict[str, Any]:
    """Pricing facts as JSON, so a quote can later be compared with an order's facts."""
    def area(ref: AreaRef) -> dict[str, Any]:
        return {"ward_code": ref.ward_code, "old_district_code": ref.old_district_code,
                "province_code": ref.province_code, "region": ref.region}
    return {
        "kind": facts.kind.value, "channel": facts.channel.value,
        "agency_code": facts.agency_code,
        "origin": area(facts.origin), "destination": area(facts.destination),
        "weight_g": facts.weight_g, "pieces": facts.pieces,
        "payment_method": facts.payment_method.value,
        "fee_forwarding_vnd": facts.fee_forwarding_vnd,
        "beneficiary_category": facts.beneficiary_category,
    }


def decode_facts(document: Any) -> PricingFacts:
    """Pricing facts from JSON; raises InvalidPricingFacts."""
    r = _Reader(InvalidPricingFacts, "pricing facts")
    r.scan(document)
    doc = r.obj(document, "", _FACTS_KEYS, required=_FACTS_KEYS[:6] + ("payment_method",))
    if doc is None:
        _bad_document(InvalidPricingFacts, "pricing facts")
    areas: dict[str, AreaRef] = {}
    for end in ("origin", "destination"):
        raw = r.obj(doc.get(end), end, _AREA_KEYS, required=("ward_code", "province_code"))
        if raw is not None:
            # PricingFacts checks each value (strings, non-empty) and names the bad ones.
            areas[end] = AreaRef(raw["ward_code"], raw.get("old_district_code"),
                                 raw["province_code"], raw.get("region"))
    r.raise_if_any()
    return PricingFacts(
        kind=doc["kind"], channel=doc["channel"], agency_code=doc["agency_code"],
        origin=areas["origin"], destination=areas["destination"], weight_g=doc["weight_g"],
        pieces=doc.get("pieces", 1), payment_method=doc["payment_method"],
        fee_forwarding_vnd=doc.get("fee_forwarding_vnd"),
        beneficiary_category=doc.get("beneficiary_category"))

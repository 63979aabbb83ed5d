"""Tariff versions as data: zone rules, prices and weight steps per zone, add-ons, exemptions."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from postal_svc.billing.errors import InvalidTariff, NoZoneForRoute, WeightOutOfRange
from postal_svc.billing.facts import AreaRef
from postal_svc.billing.tax import TaxCategory


class ZoneRelation(StrEnum):
    """How the two ends of a leg relate on the administrative map."""

    SAME_WARD = "same_ward"
    SAME_OLD_DISTRICT = "same_old_district"  # only meaningful on the pre-2025-07-01 map
    SAME_PROVINCE = "same_province"
    INTER_PROVINCE = "inter_province"


class RegionRelation(StrEnum):
    """How the regions of two provinces relate (nội vùng / cận vùng / cách vùng)."""

    SAME_REGION = "same_region"
    ADJACENT_REGION = "adjacent_region"
    DISTANT_REGION = "distant_region"


@dataclass(frozen=True, slots=True)
class RegionMap:
    """A tariff's province -> region map and which regions count as adjacent.

    `adjacent_regions` holds unordered pairs; two different regions not listed are distant.
    """

    province_regions: Mapping[str, str] = field(default_factory=dict)
    adjacent_regions: frozenset[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "province_regions",
                           MappingProxyType(dict(self.province_regions)))
        pairs = frozenset(frozenset(pair) for pair in self.adjacent_regions)
        if any(len(pair) != 2 for pair in pairs):
            raise InvalidTariff("an adjacent-region pair must name two different regions",
                                errors={"regions.adjacent_regions": ["pairs of two regions"]})
        object.__setattr__(self, "adjacent_regions", pairs)

    def region_of(self, area: AreaRef) -> str | None:
        # The tariff's own map wins: its prices were set against it. The area's region is only
        # a fallback for provinces the map does not list.
        return self.province_regions.get(area.province_code, area.region)

    def relation(self, origin: AreaRef, destination: AreaRef) -> RegionRelation | None:
        """The region relation of two areas, or None when either region is unknown."""
        first, second = self.region_of(origin), self.region_of(destination)
        if first is None or second is None:
            return None
        if first == second:
            return RegionRelation.SAME_REGION
        if frozenset((first, second)) in self.adjacent_regions:
            return RegionRelation.ADJACENT_REGION
        return RegionRelation.DISTANT_REGION


@dataclass(frozen=True, slots=True)
class ZoneRule:
    """A zone: the relation it matches and its price for the first `base_weight_g` grams.

    `region_relation` narrows an `inter_province` rule (None matches any region relation).
    """

    code: str
    description: str
    relation: ZoneRelation
    base_price_vnd: int
    region_relation: RegionRelation | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "relation", ZoneRelation(self.relation))
            if self.region_relation is not None:
                object.__setattr__(self, "region_relation",
                                   RegionRelation(self.region_relation))
        except ValueError as exc:
            raise InvalidTariff(f"zone {self.code!r}: {exc}",
                                errors={"zones": [str(exc)]}) from None
        if (self.region_relation is not None
                and self.relation is not ZoneRelation.INTER_PROVINCE):
            raise InvalidTariff(f"zone {self.code!r}: a region relation only narrows "
                                "inter_province", errors={"zones": ["region_relation misplaced"]})
        if not _is_vnd(self.base_price_vnd):
            raise InvalidTariff(f"zone {self.code!r}: base price must be an int >= 0",
                                errors={"zones": ["base_price_vnd must be an int >= 0"]})


@dataclass(frozen=True, slots=True)
class WeightBand:
    """Weight above the previous band's limit, up to `up_to_g` inclusive (None = no limit),
    costs `step_price_vnd[zone]` for each `step_g` grams or part thereof."""

    up_to_g: int | None
    step_g: int
    step_price_vnd: Mapping[str, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "step_price_vnd", MappingProxyType(dict(self.step_price_vnd)))
        if type(self.step_g) is not int or self.step_g <= 0:
            raise InvalidTariff("a weight step must be a positive number of grams",
                                errors={"weight_bands": ["step_g must be > 0"]})
        if self.up_to_g is not None and (type(self.up_to_g) is not int or self.up_to_g <= 0):
            raise InvalidTariff("a weight band limit must be a positive number of grams",
                                errors={"weight_bands": ["up_to_g must be > 0 or null"]})
        if not all(_is_vnd(price) for price in self.step_price_vnd.values()):
            raise InvalidTariff("weight step prices must be ints >= 0",
                                errors={"weight_bands": ["step prices must be ints >= 0"]})


@dataclass(frozen=True, slots=True)
class AddOns:
    """Fixed add-on fees of a tariff version; None means the version does not offer the add-on."""

    fee_forwarding_vnd: int | None = None  # per dossier whose procedure fee the post forwards
    cash_on_delivery_vnd: int | None = None

    def __post_init__(self) -> None:
        for name in ("fee_forwarding_vnd", "cash_on_delivery_vnd"):
            value = getattr(self, name)
            if value is not None and not _is_vnd(value):
                raise InvalidTariff(f"{name} must be an int >= 0 or None",
                                    errors={f"add_ons.{name}": ["int >= 0 or null"]})


@dataclass(frozen=True, slots=True)
class Exemption:
    """A beneficiary category whose postage is waived under this version."""

    beneficiary_category: str
    description: str
    legal_basis: str = ""


@dataclass(frozen=True, slots=True)
class TariffVersion:
    """A tariff as published from `effective_from` (an aware instant) until the next version.

    Zones are tried in order and the first matching rule wins, so a version states its own
    zoning (e.g. same old district before 2025-07-01, same ward after). Postage is the zone's
    base price for the first `base_weight_g` grams plus, band by band, each started step.
    Raises InvalidTariff when the data is inconsistent (naive instant, duplicate zone codes,
    a band without a price for some zone, bands out of order...).
    """

    code: str
    effective_from: datetime
    tax_category: TaxCategory
    zones: tuple[ZoneRule, ...]
    weight_bands: tuple[WeightBand, ...]
    base_weight_g: int = 100
    add_ons: AddOns = AddOns()
    exemptions: tuple[Exemption, ...] = ()
    regions: RegionMap = RegionMap()
    description: str = ""
    _zones_by_code: Mapping[str, ZoneRule] = field(init=False, repr=False, compare=False)
    _exemptions_by_category: Mapping[str, Exemption] = field(init=False, repr=False,
                                                            compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zones", tuple(self.zones))
        object.__setattr__(self, "weight_bands", tuple(self.weight_bands))
        object.__setattr__(self, "exemptions", tuple(self.exemptions))
        problems: dict[str, list[str]] = {}
        if not self.code:
            problems["code"] = ["required"]
        if not isinstance(self.effective_from, datetime) or self.effective_from.utcoffset() is None:
            problems["effective_from"] = ["must be an aware datetime"]
        try:
            object.__setattr__(self, "tax_category", TaxCategory(self.tax_category))
        except ValueError:
            problems["tax_category"] = ["unknown tax category"]
        zone_codes = [zone.code for zone in self.zones]
        if not zone_codes:
            problems["zones"] = ["at least one zone rule"]
        elif len(set(zone_codes)) != len(zone_codes):
            problems["zones"] = ["zone codes must be unique"]
        if type(self.base_weight_g) is not int or self.base_weight_g <= 0:
            problems["base_weight_g"] = ["must be a positive number of grams"]
        else:
            band_problems = _band_problems(self.weight_bands, self.base_weight_g, zone_codes)
            if band_problems:
                problems["weight_bands"] = band_problems
        categories = [exemption.beneficiary_category for exemption in self.exemptions]
        if len(set(categories)) != len(categories) or not all(categories):
            problems["exemptions"] = ["beneficiary categories must be unique and non-empty"]
        if problems:
            raise InvalidTariff(f"tariff version {self.code!r} is inconsistent", errors=problems)
        object.__setattr__(self, "_zones_by_code",
                           MappingProxyType({zone.code: zone for zone in self.zones}))
        object.__setattr__(self, "_exemptions_by_category",
                           MappingProxyType(dict(zip(categories, self.exemptions, strict=True))))

    @property
    def max_weight_g(self) -> int | None:
        """The heaviest item this version accepts, or None when the last band is open."""
        if not self.weight_bands:
            return self.base_weight_g
        return self.weight_bands[-1].up_to_g

    def zone(self, code: str) -> ZoneRule:
        """The zone rule with this code; KeyError if the version has none."""
        return self._zones_by_code[code]

    def zone_for(self, origin: AreaRef, destination: AreaRef) -> ZoneRule:
        """The first zone rule matching the leg. Raises NoZoneForRoute when none does (e.g. an
        inter-province leg whose regions are unknown to a version that zones by region)."""
        same_province = origin.province_code == destination.province_code
        region_relation: RegionRelation | None = None
        region_known = False
        for rule in self.zones:
            relation = rule.relation
            if relation is ZoneRelation.SAME_PROVINCE:
                if same_province:
                    return rule
            elif relation is ZoneRelation.INTER_PROVINCE:
                if same_province:
                    continue
                if rule.region_relation is None:
                    return rule
                if not region_known:  # computed lazily: most legs never get here
                    region_relation = self.regions.relation(origin, destination)
                    region_known = True
                if region_relation is rule.region_relation:
                    return rule
            elif relation is ZoneRelation.SAME_WARD:
                if same_province and origin.ward_code == destination.ward_code:
                    return rule
            elif (same_province and origin.old_district_code is not None
                  and origin.old_district_code == destination.old_district_code):
                return rule
        raise NoZoneForRoute(
            f"tariff {self.code} has no zone for province {origin.province_code} -> "
            f"{destination.province_code}",
            details={"tariff_version": self.code, "origin_province": origin.province_code,
                     "destination_province": destination.province_code})

    def postage_vnd(self, zone: ZoneRule, weight_g: int) -> int:
        """Postage for an item of `weight_g` in `zone`: base price plus every started step.

        Raises WeightOutOfRange above `max_weight_g`.
        """
        limit = self.max_weight_g
        if limit is not None and weight_g > limit:
            raise WeightOutOfRange(
                f"{weight_g} g exceeds the {limit} g limit of tariff {self.code}",
                errors={"weight_g": [f"must be at most {limit} g"]})
        price = zone.base_price_vnd
        lower = self.base_weight_g
        for band in self.weight_bands:
            if weight_g <= lower:
                break
            upper = band.up_to_g
            top = weight_g if upper is None or weight_g < upper else upper
            steps = -(-(top - lower) // band.step_g)  # ceiling: "or part thereof"
            price += steps * band.step_price_vnd[zone.code]
            if upper is None:
                break
            lower = upper
        return price

    def exemption_for(self, beneficiary_category: str | None) -> Exemption | None:
        """The exemption of this category under this version, if it rides free."""
        if beneficiary_category is None:
            return None
        return self._exemptions_by_category.get(beneficiary_category)


def _band_problems(bands: Iterable[WeightBand], base_weight_g: int,
                   zone_codes: list[str]) -> list[str]:
    problems: list[str] = []
    lower = base_weight_g
    bands = tuple(bands)
    for index, band in enumerate(bands):
        if band.up_to_g is None and index != len(bands) - 1:
            problems.append("only the last band may be open-ended")
        elif band.up_to_g is not None and band.up_to_g <= lower:
            problems.append(f"band {index} must end above {lower} g")
        missing = [code for code in zone_codes if code not in band.step_price_vnd]
        if missing:
            problems.append(f"band {index} has no step price for zones {', '.join(missing)}")
        if band.up_to_g is not None:
            lower = band.up_to_g
    return problems


def _is_vnd(value: object) -> bool:
    return type(value) is int and value >= 0

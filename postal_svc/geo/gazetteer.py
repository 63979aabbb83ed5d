"""Gazetteer of Vietnamese administrative units, old (3-level, to 2025-06-30) and new (2-level, from 2025-07-01).

The data file ``data/gazetteer.json.gz`` is built by ``scripts/build_gazetteer.py``; this module only
reads it (no network, no third-party import), once, on first use, and keeps lookup indexes in memory.
"""
from __future__ import annotations

import gzip
import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from postal_svc.geo.normalize import accent_key, compact_key

__all__ = [
    "Gazetteer",
    "OldDistrict",
    "OldProvince",
    "OldWard",
    "Province",
    "Successor",
    "Ward",
    "get_gazetteer",
]

DATA_FILE = "gazetteer.json.gz"
_PROVINCE_TYPES = ("Thành phố", "Tỉnh")
# Longest unit name counted in syllables is 5-6 ("Văn Miếu Quốc Tử Giám"); aliases never exceed it.
_MAX_SPAN_CAP = 8


def _short(name: str, unit_type: str) -> str:
    if unit_type and name.startswith(unit_type + " "):
        return name[len(unit_type) + 1:]
    return name


@dataclass(frozen=True, slots=True)
class Province:
    """A province-level unit in force since 2025-07-01 (one of 34)."""

    code: str
    name: str
    short: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Ward:
    """A ward, commune or special zone in force since 2025-07-01, directly under its province."""

    code: str
    province_code: str
    name: str
    unit_type: str
    short: str
    lat: float
    lon: float
    area_km2: float | None


@dataclass(frozen=True, slots=True)
class OldProvince:
    """A province valid until 2025-06-30 (one of 63) and the new province it became part of."""

    code: str
    name: str
    short: str
    lat: float
    lon: float
    new_province_code: str


@dataclass(frozen=True, slots=True)
class OldDistrict:
    """A district valid until 2025-06-30.

    ``special_ward_code``: an island district without wards (Côn Đảo, Lý Sơn...) maps straight to one new unit.
    """

    code: str
    province_code: str
    name: str
    unit_type: str
    short: str
    lat: float
    lon: float
    special_ward_code: str | None


@dataclass(frozen=True, slots=True)
class Successor:
    """One new ward an old ward (or part of it) became; ``is_default`` marks the pick when no point is known."""

    ward_code: str
    is_default: bool


@dataclass(frozen=True, slots=True)
class OldWard:
    """A ward valid until 2025-06-30, with its bounding box and the new ward(s) it became."""

    code: str
    district_code: str
    province_code: str
    name: str
    unit_type: str
    short: str
    lat: float
    lon: float
    bbox: tuple[float, float, float, float] | None  # south, west, north, east
    successors: tuple[Successor, ...]

    @property
    def default_successor(self) -> str:
        return next(s.ward_code for s in self.successors if s.is_default)

    @property
    def is_split(self) -> bool:
        return len(self.successors) > 1


class Gazetteer:
    """Units and lookup indexes. Keys are diacritic-free, space-free strings (see ``normalize.compact_key``)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.sources: Mapping[str, Any] = document.get("sources", {})
        self.provinces: dict[str, Province] = {}
        self.old_provinces: dict[str, OldProvince] = {}
        self.old_districts: dict[str, OldDistrict] = {}
        self.wards: dict[str, Ward] = {}
        self.old_wards: dict[str, OldWard] = {}

        for code, name, lat, lon, _aliases in document["provinces"]:
            self.provinces[code] = Province(code, name, _strip_province_type(name), lat, lon)
        for code, name, lat, lon, new_code, _aliases in document["old_provinces"]:
            self.old_provinces[code] = OldProvince(code, name, _strip_province_type(name), lat, lon, new_code)
        for code, pcode, name, utype, lat, lon, _aliases, special in document["old_districts"]:
            self.old_districts[code] = OldDistrict(code, pcode, name, utype, _short(name, utype), lat, lon, special)
        for code, pcode, name, utype, lat, lon, area, _aliases in document["wards"]:
            self.wards[code] = Ward(code, pcode, name, utype, _short(name, utype), lat, lon, area)
        for code, dcode, name, utype, lat, lon, bbox, _aliases, parts in document["old_wards"]:
            self.old_wards[code] = OldWard(
                code, dcode, self.old_districts[dcode].province_code, name, utype, _short(name, utype), lat, lon,
                tuple(bbox) if bbox else None, tuple(Successor(c, bool(d)) for c, d in parts),
            )
        self._build_indexes(document)

    # -- loading ------------------------------------------------------------------------------
    @classmethod
    def from_path(cls, path: str | Path) -> Gazetteer:
        """Load a gazetteer file written by ``scripts/build_gazetteer.py``."""
        with gzip.open(path, "rb") as fh:
            return cls(json.loads(fh.read()))

    @classmethod
    def load_default(cls) -> Gazetteer:
        """Load the data file shipped inside the package."""
        data = resources.files("postal_svc.geo").joinpath("data").joinpath(DATA_FILE).read_bytes()
        return cls(json.loads(gzip.decompress(data)))

    # -- indexes ------------------------------------------------------------------------------
    def _build_indexes(self, doc: Mapping[str, Any]) -> None:
        province_keys: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for code, _name, _lat, _lon, aliases in doc["provinces"]:
            for key in _keys(self.provinces[code].short, aliases):
                province_keys[key].add(("new", code))
        for code, _name, _lat, _lon, _new, aliases in doc["old_provinces"]:
            for key in _keys(self.old_provinces[code].short, aliases):
                province_keys[key].add(("old", code))
        #: key -> ("new" | "old", province code) pairs
        self.province_index: dict[str, tuple[tuple[str, str], ...]] = {
            k: tuple(sorted(v)) for k, v in province_keys.items()
        }

        districts: dict[tuple[str, str], list[OldDistrict]] = defaultdict(list)
        districts_national: dict[str, list[OldDistrict]] = defaultdict(list)
        for code, _p, _name, _t, _lat, _lon, aliases, _s in doc["old_districts"]:
            d = self.old_districts[code]
            for key in _keys(d.short, aliases):
                districts[(d.province_code, key)].append(d)
                districts_national[key].append(d)
        #: (old province code, key) -> old districts
        self.district_index = _freeze(districts)
        #: key -> old districts anywhere in the country (to infer a missing province)
        self.district_national_index = _freeze(districts_national)

        wards: dict[tuple[str, str], list[Ward]] = defaultdict(list)
        for code, _p, _name, _t, _lat, _lon, _area, aliases in doc["wards"]:
            w = self.wards[code]
            for key in _keys(w.short, aliases):
                wards[(w.province_code, key)].append(w)
        #: (new province code, key) -> new wards
        self.ward_index = _freeze(wards)

        by_district: dict[tuple[str, str], list[OldWard]] = defaultdict(list)
        by_province: dict[tuple[str, str], list[OldWard]] = defaultdict(list)
        of_district: dict[str, list[OldWard]] = defaultdict(list)
        sources: dict[str, set[str]] = defaultdict(set)
        source_provinces: dict[str, set[str]] = defaultdict(set)
        for code, _d, _name, _t, _lat, _lon, _bbox, aliases, _parts in doc["old_wards"]:
            ow = self.old_wards[code]
            of_district[ow.district_code].append(ow)
            for s in ow.successors:
                sources[s.ward_code].add(ow.district_code)
                source_provinces[s.ward_code].add(ow.province_code)
            for key in _keys(ow.short, aliases):
                by_district[(ow.district_code, key)].append(ow)
                by_province[(ow.province_code, key)].append(ow)
        #: (old district code, key) -> old wards
        self.old_ward_district_index = _freeze(by_district)
        #: (old province code, key) -> old wards, across districts (for a missing or wrong district)
        self.old_ward_province_index = _freeze(by_province)
        #: key -> new provinces where a ward (new, or old and mapped) of that name lies: infers a missing province
        provinces_by_ward_key: dict[str, set[str]] = defaultdict(set)
        for (pcode, key) in wards:
            provinces_by_ward_key[key].add(pcode)
        for (old_pcode, key) in by_province:
            provinces_by_ward_key[key].add(self.old_provinces[old_pcode].new_province_code)
        self.ward_key_provinces: dict[str, frozenset[str]] = {
            k: frozenset(v) for k, v in provinces_by_ward_key.items()
        }
        #: old district code -> its old wards
        self.old_wards_of_district: dict[str, tuple[OldWard, ...]] = {k: tuple(v) for k, v in of_district.items()}
        #: new ward code -> old districts its territory came from (to judge "new ward, old district" input)
        self.new_ward_source_districts: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in sources.items()}
        #: new ward code -> old provinces its territory came from
        self.new_ward_source_provinces: dict[str, frozenset[str]] = {
            k: frozenset(v) for k, v in source_provinces.items()
        }
        #: new province code -> old provinces merged into it
        merged: dict[str, list[str]] = defaultdict(list)
        for old_province in self.old_provinces.values():
            merged[old_province.new_province_code].append(old_province.code)
        self.old_provinces_of: dict[str, tuple[str, ...]] = {k: tuple(sorted(v)) for k, v in merged.items()}

        # Keys per level: cheap first filters for the resolver's many candidate spans.
        self.province_keys: frozenset[str] = frozenset(self.province_index)
        self.district_keys: frozenset[str] = frozenset(k for _, k in self.district_index)
        self.ward_keys: frozenset[str] = frozenset(
            {k for _, k in self.ward_index} | {k for _, k in self.old_ward_province_index}
        )
        #: every key any index knows
        self.all_keys: frozenset[str] = self.province_keys | self.district_keys | self.ward_keys
        #: accent-keeping key per unit code, to tell apart names that fold alike (Cẩm Giang / Cẩm Giàng)
        self.accent_keys: dict[str, str] = {}
        for w in self.wards.values():
            self.accent_keys["n" + w.code] = accent_key(w.short)
        for ow in self.old_wards.values():
            self.accent_keys["o" + ow.code] = accent_key(ow.short)
        for d in self.old_districts.values():
            self.accent_keys["d" + d.code] = accent_key(d.short)

        names = [p.short for p in self.provinces.values()] + [p.short for p in self.old_provinces.values()]
        names += [d.short for d in self.old_districts.values()] + [w.short for w in self.wards.values()]
        names += [w.short for w in self.old_wards.values()]
        self.max_span_tokens = min(_MAX_SPAN_CAP, max(len(n.split()) for n in names) + 1)
        #: folded syllables of all unit names: the vocabulary typo correction may map to
        self.vocabulary: frozenset[str] = frozenset(
            syllable for n in names for syllable in compact_syllables(n)
        )


def _strip_province_type(name: str) -> str:
    for t in _PROVINCE_TYPES:
        if name.startswith(t + " "):
            return name[len(t) + 1:]
    return name


def compact_syllables(name: str) -> list[str]:
    """Folded syllables of a name, as the tokenizer would produce them ("Đắk R'Lấp" -> dak, rlap)."""
    return [compact_key(part) for part in name.replace("-", " ").split() if compact_key(part)]


def _keys(short: str, aliases: Iterable[str]) -> set[str]:
    # Names are keyed without their type word ("Tỉnh", "Phường"): the type word is read separately,
    # so "xa son tinh quang ngai" can end Sơn Tịnh with "tinh" and still find Quảng Ngãi.
    keys = {compact_key(short), *aliases}
    if " - " in short:
        # "Phường Lâm Viên - Đà Lạt" is written "Phường Lâm Viên"; the part after the dash is a
        # suffix shared by several wards, so only the first part becomes a key of its own.
        keys.add(compact_key(short.split(" - ", 1)[0]))
    keys.discard("")
    return keys


def _freeze(index: Mapping[Any, list[Any]]) -> dict[Any, tuple[Any, ...]]:
    # Deduplicate (a unit may list the same key twice through aliases) keeping a stable order.
    return {k: tuple(dict.fromkeys(v)) for k, v in index.items()}


_lock = threading.Lock()
_default: Gazetteer | None = None


def get_gazetteer() -> Gazetteer:
    """The packaged gazetteer, loaded on first call (thread-safe) and shared afterwards."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Gazetteer.load_default()
    return _default

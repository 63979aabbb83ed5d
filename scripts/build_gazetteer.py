#!/usr/bin/env python3
"""Build postal_svc/geo/data/gazetteer.json.gz from vietnamadminunits plus the authoritative HCMC CSVs.

Build-time only: needs ``pip install vietnamadminunits`` (MIT). The runtime never imports it.

    .venv/bin/python scripts/build_gazetteer.py            # writes the data file
    .venv/bin/python scripts/build_gazetteer.py --check    # rebuilds in memory, fails if the file differs

What it writes (see postal_svc/geo/gazetteer.py for the reader):
- the 34 new provinces and 3,321 new wards (2-level, in force since 2025-07-01) with centre points;
- the 63 old provinces, ~700 old districts and ~10,000 old wards (3-level, valid until 2025-06-30) with
  centre points and, for wards, a bounding box;
- for every old ward, the new ward(s) it became, with the default one for a split ward.

For the new Thành phố Hồ Chí Minh (79, including the former Bình Dương 74 and Bà Rịa–Vũng Tàu 77) the
shared CSVs under shared/data/geo are authoritative: their GSO 2025 ``ward_code`` replaces the
vietnamadminunits code, which differs for 10 HCMC wards.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from postal_svc.geo.normalize import compact_key  # noqa: E402

DEFAULT_OUT = REPO / "postal_svc" / "geo" / "data" / "gazetteer.json.gz"
DEFAULT_SHARED = REPO.parent / "shared" / "data" / "geo"
HCMC_NEW = "79"
HCMC_OLD = ("79", "74", "77")

# Aliases people write that vietnamadminunits does not list. Keys are province codes; values
# compact keys. Why each: "Sài Gòn"/"SG"/"TPHCM" for HCMC are everyday usage; Thừa Thiên Huế was
# the province's name until 2025-01 and still fills old records; the short forms of Bà Rịa–Vũng Tàu.
EXTRA_NEW_PROVINCE_ALIASES: dict[str, tuple[str, ...]] = {
    "79": ("saigon", "sg", "tphcm", "hcm", "hcmc", "hochiminhcity", "tphochiminh"),
    "01": ("hn", "tphn", "hanoicity"),
    "48": ("tpdanang",),
    "92": ("tpcantho",),
    "31": ("tphaiphong",),
    "46": ("thuathienhue", "tthue"),
}
EXTRA_OLD_PROVINCE_ALIASES: dict[str, tuple[str, ...]] = {
    "79": EXTRA_NEW_PROVINCE_ALIASES["79"],
    "01": EXTRA_NEW_PROVINCE_ALIASES["01"],
    "48": EXTRA_NEW_PROVINCE_ALIASES["48"],
    "92": EXTRA_NEW_PROVINCE_ALIASES["92"],
    "31": EXTRA_NEW_PROVINCE_ALIASES["31"],
    "46": EXTRA_NEW_PROVINCE_ALIASES["46"],
    "77": ("brvt", "bariavungtau"),
    "74": ("bd",),
}

# Abbreviated keyword forms ("p13", "f13", "q9", "ward13", "district09") become bare numbers:
# the runtime expands "P."/"F."/"Q." itself and only accepts a number after a type word.
_ABBREV_NUMBER = re.compile(r"^(?:p|f|q|ward|district|phuong|quan)(\d+)$")
_SUFFIX_TYPE = re.compile(r"(?:huyen|thixa|thisa|thanhpho)$")


def _vau_dir() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("vietnamadminunits is not installed: pip install vietnamadminunits")
    return Path(next(iter(spec.submodule_search_locations)))


WARD_PREFIXES = ("phuong", "thitran", "dackhu", "xa")
DISTRICT_PREFIXES = ("thanhpho", "thixa", "quan", "huyen", "tp", "tx")
PROVINCE_PREFIXES = ("thanhpho", "tinh", "tp")


def _aliases(keywords: list[str] | str | None, name: str, short: str, prefixes: tuple[str, ...]) -> list[str]:
    """Keep only the keywords the runtime cannot derive from the unit's own name.

    A type word is cut off an alias ("phuongnguyentrungtruc" -> "nguyentrungtruc") only when it is
    a type of the unit's own level and the bare form is listed as well: "phuonglien" is the bare
    name Phương Liên, not "Phường Liên".
    """
    if keywords is None:
        return []
    if isinstance(keywords, str):
        keywords = json.loads(keywords) if keywords.startswith("[") else keywords.split(";")
    own = {compact_key(name), compact_key(short)}
    listed = {compact_key(kw) for kw in keywords}
    out: list[str] = []
    for kw in keywords:
        key = compact_key(kw)
        if key in own:
            continue
        num = _ABBREV_NUMBER.match(key)
        if num:
            key = str(int(num.group(1)))
        else:
            for prefix in prefixes:
                # vau lists each name typed and bare ("phuongphuonglien", "phuonglien"): cut the
                # type word only when the bare form is listed too, so "phuonglien" stays whole.
                if key.startswith(prefix) and key[len(prefix):] in listed:
                    key = key[len(prefix):]
                    break
        if not key or key in own or _SUFFIX_TYPE.search(key) or key in out:
            continue
        out.append(key)
    return sorted(out)


def _bbox(bounds: str | None) -> list[float | None] | None:
    """'south,west – north,east' -> [south, west, north, east]."""
    if not bounds:
        return None
    sw, ne = (part.strip() for part in bounds.split("–"))
    s, w = (float(x) for x in sw.split(","))
    n, e = (float(x) for x in ne.split(","))
    return [round(s, 6), round(w, 6), round(n, 6), round(e, 6)]


WARD_TYPES = ("Thị trấn", "Đặc khu", "Phường", "Xã")
DISTRICT_TYPES = ("Thành phố", "Thị xã", "Quận", "Huyện")


def _typed(name: str, given_type: str | None, types: tuple[str, ...]) -> tuple[str, str, str]:
    """Return (name, type, short) with the type read from the name itself.

    The source has a few rows whose type column contradicts the name ("Phường 15" typed "Xã",
    "Thị Trấn" capitalised): the name is the official form, so it wins, with the type word in
    its usual capitalisation.
    """
    name = " ".join(name.split())
    lowered = name.casefold()
    for unit_type in types:
        if lowered.startswith(unit_type.casefold() + " "):
            short = name[len(unit_type) + 1:]
            return f"{unit_type} {short}", unit_type, short
    return name, given_type or "", name


def _r(x: float | str | None, digits: int = 6) -> float | None:
    return None if x is None or x == "" else round(float(x), digits)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(shared_dir: Path) -> dict[str, Any]:
    """Return the gazetteer document (plain JSON-able data)."""
    vau = _vau_dir()
    db = sqlite3.connect(vau / "data" / "dataset.db")
    db.row_factory = sqlite3.Row
    converter = json.loads((vau / "data" / "converter_2025.json").read_text(encoding="utf-8"))

    hcmc_new_rows = list(csv.DictReader((shared_dir / "hcmc_wards_2025.csv").open(encoding="utf-8")))
    hcmc_old_rows = list(csv.DictReader((shared_dir / "hcmc_wards_legacy.csv").open(encoding="utf-8")))
    hcmc_map_rows = list(csv.DictReader((shared_dir / "hcmc_ward_mapping_legacy_to_2025.csv").open(encoding="utf-8")))
    vau_to_gso = {r["vau_ward_code"]: r["ward_code"] for r in hcmc_new_rows}

    # --- new provinces and wards -------------------------------------------------------------
    new_units = db.execute("SELECT * FROM admin_units ORDER BY provinceCode, wardCode").fetchall()
    provinces: dict[str, list[Any]] = {}
    new_ward_code_by_key: dict[tuple[str, str], str] = {}  # (provinceKey, wardKey) -> code (GSO for 79)
    wards: list[list[Any]] = []
    for u in new_units:
        pcode = u["provinceCode"]
        if pcode not in provinces:
            aliases = _aliases(u["provinceKeywords"], u["province"], u["provinceShort"], PROVINCE_PREFIXES)
            aliases = sorted(set(aliases) | set(EXTRA_NEW_PROVINCE_ALIASES.get(pcode, ())))
            provinces[pcode] = [pcode, u["province"], _r(u["provinceLat"], 4), _r(u["provinceLon"], 4), aliases]
        code = vau_to_gso[u["wardCode"]] if pcode == HCMC_NEW else u["wardCode"]
        new_ward_code_by_key[(u["provinceKey"], u["wardKey"])] = code
        if pcode == HCMC_NEW:
            continue  # written from the CSV below
        name, wtype, short = _typed(u["ward"], u["wardType"], WARD_TYPES)
        wards.append([
            code, pcode, name, wtype, _r(u["wardLat"], 4), _r(u["wardLon"], 4),
            _r(u["wardAreaKm2"], 2), _aliases(u["wardKeywords"], name, short, WARD_PREFIXES),
        ])
    for r in hcmc_new_rows:
        name, wtype, short = _typed(r["ward_name"], r["ward_type"], WARD_TYPES)
        wards.append([
            r["ward_code"], HCMC_NEW, name, wtype, _r(r["lat"], 4), _r(r["lon"], 4),
            _r(r["area_km2"], 2), _aliases(r["keywords"], name, short, WARD_PREFIXES),
        ])
    wards.sort(key=lambda w: w[0])
    new_codes = {w[0] for w in wards}
    if len(new_codes) != len(wards):
        raise SystemExit("duplicate new ward codes")

    # --- old provinces, districts, wards -------------------------------------------------------
    new_prov_of_old_key: dict[str, str] = {}
    new_prov_code_by_key = {u["provinceKey"]: u["provinceCode"] for u in new_units}
    for new_key, old_keys in converter["DICT_PROVINCE"].items():
        for old_key in old_keys:
            new_prov_of_old_key[old_key] = new_prov_code_by_key[new_key]

    old_units = db.execute("SELECT * FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode").fetchall()
    old_provinces: dict[str, list[Any]] = {}
    old_districts: dict[str, list[Any]] = {}
    old_ward_code_by_key: dict[str, str] = {}
    special_district_by_key: dict[str, str] = {}
    old_wards_vau: dict[str, Any] = {}
    for u in old_units:
        pcode, dcode = u["provinceCode"], u["districtCode"]
        if pcode not in old_provinces:
            aliases = _aliases(u["provinceKeywords"], u["province"], u["provinceShort"], PROVINCE_PREFIXES)
            aliases = sorted(set(aliases) | set(EXTRA_OLD_PROVINCE_ALIASES.get(pcode, ())))
            old_provinces[pcode] = [
                pcode, u["province"], _r(u["provinceLat"], 4), _r(u["provinceLon"], 4),
                new_prov_of_old_key[u["provinceKey"]], aliases,
            ]
        if dcode not in old_districts:
            dname, dtype, dshort = _typed(u["district"], u["districtType"], DISTRICT_TYPES)
            old_districts[dcode] = [
                dcode, pcode, dname, dtype, _r(u["districtLat"], 5), _r(u["districtLon"], 5),
                _aliases(u["districtKeywords"], dname, dshort, DISTRICT_PREFIXES), None,
            ]
        key = f"{u['provinceKey']}_{u['districtKey']}_{u['wardKey'] or ''}"
        if u["wardCode"] is None:
            special_district_by_key[key] = dcode  # island district without wards (Côn Đảo, Lý Sơn...)
            continue
        old_ward_code_by_key[key] = u["wardCode"]
        old_wards_vau[u["wardCode"]] = u

    # old ward -> [(new code, is_default)] from the converter, then HCMC replaced by the CSV.
    mapping: dict[str, list[list[Any]]] = defaultdict(list)
    for new_pkey, by_new in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_wkey, old_keys in by_new.items():
            new_code = new_ward_code_by_key[(new_pkey, new_wkey)]
            for old_key in old_keys:
                if old_key in special_district_by_key:
                    old_districts[special_district_by_key[old_key]][7] = new_code
                    continue
                mapping[old_ward_code_by_key[old_key]].append([new_code, 1])
    for new_pkey, by_old in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, parts in by_old.items():
            old_code = old_ward_code_by_key[old_key]
            for part in parts:
                new_code = new_ward_code_by_key[(new_pkey, part["newWardKey"])]
                mapping[old_code].append([new_code, int(part["isDefaultNewWard"])])

    hcmc_mapping: dict[str, list[list[Any]]] = defaultdict(list)
    for r in hcmc_map_rows:
        hcmc_mapping[r["old_ward_code"]].append([r["new_ward_code"], int(r["is_default_new_ward"])])
    disagreements = 0
    for old_code, parts in hcmc_mapping.items():
        if sorted(parts) != sorted(mapping.get(old_code, [])):
            disagreements += 1
        mapping[old_code] = parts
    hcmc_old_by_code = {r["old_ward_code"]: r for r in hcmc_old_rows if r["old_ward_code"]}
    for d in old_districts.values():
        if d[1] in HCMC_OLD and d[7] is not None and d[7] not in new_codes:
            d[7] = vau_to_gso.get(d[7], d[7])  # Côn Đảo: vau code -> GSO code

    old_wards: list[list[Any]] = []
    for code, u in old_wards_vau.items():
        parts = sorted(mapping[code], key=lambda p: (-p[1], p[0]))
        if not parts or sum(p[1] for p in parts) != 1:
            raise SystemExit(f"old ward {code} has no single default new ward: {parts}")
        for new_code, _ in parts:
            if new_code not in new_codes:
                raise SystemExit(f"old ward {code} maps to unknown new ward {new_code}")
        src = hcmc_old_by_code.get(code)
        if src is not None:  # the shared CSV is authoritative for HCMC, Bình Dương, Bà Rịa–Vũng Tàu
            lat, lon = _r(src["lat"]), _r(src["lon"])
            bbox: list[float | None] | None = [
                _r(src[k]) for k in ("bbox_south", "bbox_west", "bbox_north", "bbox_east")
            ]
            name, wtype, kw = src["old_ward_name"], src["old_ward_type"], src["ward_keywords"]
        else:
            lat, lon = _r(u["wardLat"]), _r(u["wardLon"])
            bbox = list(_bbox(u["wardBounds"]) or []) or None
            name, wtype, kw = u["ward"], u["wardType"], u["wardKeywords"]
        name, wtype, short = _typed(name, wtype, WARD_TYPES)
        old_wards.append([
            code, u["districtCode"], name, wtype, lat, lon, bbox,
            _aliases(kw, name, short, WARD_PREFIXES), parts,
        ])
    old_wards.sort(key=lambda w: w[0])

    return {
        "format": 1,
        "sources": {
            "vietnamadminunits": {
                "version": importlib.metadata.version("vietnamadminunits"),
                "license": "MIT",
                "files": {
                    "data/dataset.db": _sha256(vau / "data" / "dataset.db"),
                    "data/converter_2025.json": _sha256(vau / "data" / "converter_2025.json"),
                },
            },
            "shared/data/geo": {
                name: _sha256(shared_dir / name)
                for name in ("hcmc_wards_2025.csv", "hcmc_wards_legacy.csv", "hcmc_ward_mapping_legacy_to_2025.csv")
            },
            "hcmc_old_wards_whose_csv_mapping_differs_from_vau": disagreements,
        },
        "provinces": sorted(provinces.values()),
        "old_provinces": sorted(old_provinces.values()),
        "old_districts": sorted(old_districts.values()),
        "wards": wards,
        "old_wards": old_wards,
    }


def encode(doc: dict[str, Any]) -> bytes:
    """Compact, deterministic gzip'd JSON (mtime 0 so rebuilding gives the same bytes)."""
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return gzip.compress(raw, compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder with the HCMC CSVs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if --out is not what a rebuild gives")
    args = parser.parse_args(argv)

    doc = build(args.shared)
    data = encode(doc)
    summary = (
        f"{len(doc['provinces'])} provinces, {len(doc['wards'])} wards (new); "
        f"{len(doc['old_provinces'])} provinces, {len(doc['old_districts'])} districts, "
        f"{len(doc['old_wards'])} wards (old); {len(data) / 1024:.0f} KiB"
    )
    if args.check:
        if not args.out.exists() or args.out.read_bytes() != data:
            print(f"{args.out} is stale: rerun scripts/build_gazetteer.py", file=sys.stderr)
            return 1
        print(f"up to date: {summary}")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out.relative_to(REPO)}: {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

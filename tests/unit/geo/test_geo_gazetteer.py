"""The embedded gazetteer: coverage, HCMC official codes, mapping integrity, and that it is current."""
from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from postal_svc.geo.gazetteer import get_gazetteer

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared" / "data" / "geo"


def test_the_gazetteer_covers_the_whole_country_in_old_and_new_units() -> None:
    g = get_gazetteer()
    assert len(g.provinces) == 34
    assert len(g.old_provinces) == 63
    assert len(g.wards) > 3300
    assert len(g.old_wards) > 10000
    assert {p.new_province_code for p in g.old_provinces.values()} == set(g.provinces)


def test_every_old_ward_maps_to_known_new_wards_with_exactly_one_default() -> None:
    g = get_gazetteer()
    for ow in g.old_wards.values():
        assert sum(s.is_default for s in ow.successors) == 1, ow
        assert all(s.ward_code in g.wards for s in ow.successors), ow


def test_hcmc_wards_carry_the_official_gso_2025_codes_not_the_draft_ones() -> None:
    g = get_gazetteer()
    assert g.wards["26794"].name == "Phường Linh Xuân"  # vietnamadminunits says 26800
    assert g.wards["27160"].name == "Phường Bàn Cờ"
    assert g.old_wards["26800"].successors[0].ward_code == "26794"


@pytest.mark.skipif(not SHARED.exists(), reason="shared/data/geo not present")
def test_hcmc_data_matches_the_authoritative_shared_csvs() -> None:
    g = get_gazetteer()
    with (SHARED / "hcmc_wards_2025.csv").open(encoding="utf-8") as fh:
        new_rows = list(csv.DictReader(fh))
    assert {r["ward_code"] for r in new_rows} == {w.code for w in g.wards.values() if w.province_code == "79"}
    with (SHARED / "hcmc_ward_mapping_legacy_to_2025.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            successors = {s.ward_code: s.is_default for s in g.old_wards[r["old_ward_code"]].successors}
            assert successors[r["new_ward_code"]] == (r["is_default_new_ward"] == "1")


@pytest.mark.skipif(
    importlib.util.find_spec("vietnamadminunits") is None or not SHARED.exists(),
    reason="build-time tool vietnamadminunits not installed",
)
def test_the_data_file_is_what_the_build_script_produces() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_gazetteer.py"), "--check"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_data_file_stays_small() -> None:
    data = REPO / "postal_svc" / "geo" / "data" / "gazetteer.json.gz"
    assert data.stat().st_size < 3 * 1024 * 1024

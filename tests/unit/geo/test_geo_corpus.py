"""The hand-written address corpus: ward accuracy and no confident answer where the address is ambiguous.

Expected codes in address_corpus.csv were read off the gazetteer's source tables (old ward -> new ward
mapping, new ward list) by hand, not produced by the resolver, so this test can fail.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from postal_svc.geo.gazetteer import get_gazetteer
from postal_svc.geo.resolver import AddressResolution, AddressResolver

CORPUS = Path(__file__).with_name("address_corpus.csv")
REQUIRED_ACCURACY = 0.97


def _rows() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def results() -> list[tuple[dict[str, str], AddressResolution]]:
    resolver = AddressResolver()
    return [(row, resolver.resolve(row["address"])) for row in _rows()]


def test_the_corpus_is_large_and_varied_enough_to_mean_something() -> None:
    rows = _rows()
    assert len(rows) >= 300
    assert len({r["address"] for r in rows}) == len(rows), "duplicate addresses"
    wards = get_gazetteer().wards
    outside_hcmc = [r for r in rows if r["expected_ward_code"] and wards[r["expected_ward_code"]].province_code != "79"]
    assert len(outside_hcmc) >= 60
    assert sum(r["expected_ambiguous"] == "1" for r in rows) >= 20
    assert all(r["expected_ambiguous"] in {"0", "1"} for r in rows)
    assert all(r["expected_ward_code"] or r["expected_ambiguous"] == "1" for r in rows)


def test_at_least_97_percent_of_corpus_addresses_resolve_to_the_expected_ward(
    results: list[tuple[dict[str, str], AddressResolution]],
) -> None:
    scored = [(row, res) for row, res in results if row["expected_ward_code"]]
    wrong = [(row["address"], row["expected_ward_code"], res.ward_code) for row, res in scored
             if res.ward_code != row["expected_ward_code"]]
    accuracy = 1 - len(wrong) / len(scored)
    assert accuracy >= REQUIRED_ACCURACY, f"accuracy {accuracy:.1%}; wrong: {wrong}"


def test_no_address_marked_ambiguous_gets_a_confident_wrong_ward(
    results: list[tuple[dict[str, str], AddressResolution]],
) -> None:
    confident_wrong = [
        (row["address"], row["expected_ward_code"] or None, res.ward_code)
        for row, res in results
        if row["expected_ambiguous"] == "1"
        and not res.ambiguous
        and res.ward_code != (row["expected_ward_code"] or None)
    ]
    assert confident_wrong == []


def test_addresses_without_a_sensible_default_are_never_given_a_ward(
    results: list[tuple[dict[str, str], AddressResolution]],
) -> None:
    guessed = [(row["address"], res.ward_code) for row, res in results
               if not row["expected_ward_code"] and res.ward_code is not None]
    assert guessed == []

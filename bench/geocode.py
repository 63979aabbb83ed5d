#!/usr/bin/env python3
"""Benchmark: address resolver throughput (addresses/s, one process) against baselines measured in the same run.

    .venv/bin/python bench/geocode.py [--rounds 20] [--vau-sample 500]

Workload: the hand-written test corpus (tests/unit/geo/address_corpus.csv), repeated ``--rounds`` times.
Baselines: (1) NFC + case-fold + strip diacritics of each address, the floor any resolver pays;
(2) vietnamadminunits' own ``parse_address`` (legacy 3-level mode), if that package is installed, on
a sample (it is slower). Prints a markdown table with the machine and the date. Target: >= 5,000/s.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from postal_svc.geo.gazetteer import get_gazetteer  # noqa: E402
from postal_svc.geo.normalize import fold  # noqa: E402
from postal_svc.geo.resolver import AddressResolver  # noqa: E402

CORPUS = REPO / "tests" / "unit" / "geo" / "address_corpus.csv"
TARGET_PER_S = 5000


def _load_corpus() -> list[str]:
    with CORPUS.open(encoding="utf-8", newline="") as fh:
        return [row["address"] for row in csv.DictReader(fh)]


def _timed(fn: Callable[[str], object], addresses: Sequence[str]) -> float:
    start = time.perf_counter()
    for a in addresses:
        fn(a)
    return time.perf_counter() - start


def _machine() -> tuple[str, str]:
    try:
        uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        uname = platform.platform()
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    return uname, nproc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="times the corpus is repeated")
    parser.add_argument("--vau-sample", type=int, default=500, help="addresses for the vietnamadminunits baseline")
    args = parser.parse_args(argv)

    corpus = _load_corpus()
    workload = corpus * args.rounds

    t0 = time.perf_counter()
    get_gazetteer()
    load_s = time.perf_counter() - t0
    resolver = AddressResolver()
    resolver.resolve(corpus[0])  # builds the typo index once, outside the timed loop

    rows: list[tuple[str, int, float]] = []
    rows.append(("baseline: NFC + fold (strip diacritics)", len(workload), _timed(fold, workload)))
    rows.append(("postal_svc.geo resolve_address", len(workload), _timed(resolver.resolve, workload)))

    try:
        from vietnamadminunits import ParseMode, parse_address  # build-time tool, optional here
    except ImportError:
        vau_note = "vietnamadminunits not installed: its baseline skipped"
    else:
        sample = (corpus * (args.vau_sample // len(corpus) + 1))[: args.vau_sample]

        def vau(address: str) -> object:
            try:
                return parse_address(address, mode=ParseMode.LEGACY, level=3)
            except Exception:  # it raises on addresses it cannot parse; the attempt still counts
                return None

        vau(sample[0])
        rows.append(("baseline: vietnamadminunits parse_address (legacy)", len(sample), _timed(vau, sample)))
        vau_note = ""

    uname, nproc = _machine()
    print("## Address resolver throughput\n")
    print(f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}")
    print(f"- machine: `{uname}`; nproc: {nproc}; Python {platform.python_version()}")
    print(f"- workload: {len(corpus)} corpus addresses x {args.rounds} rounds, one process, warm indexes")
    print(f"- gazetteer load (once, lazily): {load_s * 1000:.0f} ms")
    if vau_note:
        print(f"- {vau_note}")
    print()
    print("| method | addresses | seconds | addresses/s |")
    print("|---|---:|---:|---:|")
    for name, count, seconds in rows:
        print(f"| {name} | {count} | {seconds:.3f} | {count / seconds:,.0f} |")
    ours = next(count / seconds for name, count, seconds in rows if name.startswith("postal_svc"))
    print()
    print(f"Target >= {TARGET_PER_S:,}/s: {'met' if ours >= TARGET_PER_S else 'NOT met'} ({ours:,.0f}/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""In-process quote throughput of `price_order` against a bare dict-lookup baseline, same run.

Usage: .venv/bin/python bench/pricing.py [--quotes 20000] [--rounds 5] [--seed 2020]

The baseline prices the same order mix with the same arithmetic (zone, weight steps, exemption,
the 20% promotion, fee forwarding, COD, per-line VAT split with Decimal) from flat dicts and no
validation, so the gap is the price of typed, validated, data-driven pricing. Both must agree on
every total and VAT figure, or the benchmark stops: it doubles as a cross-check.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from postal_svc.billing.demo_tariffs import (
    covid19_online_promotion,
    demo_tariff_book,
)
from postal_svc.billing.facts import (
    AreaRef,
    Channel,
    OrderKind,
    PaymentMethod,
    PricingFacts,
)
from postal_svc.billing.pricing import TariffBook, price_order
from postal_svc.billing.tariffs import TariffVersion
from postal_svc.billing.tax import VIETNAM_TZ, TaxCategory

ICT = timezone(timedelta(hours=7))
NEW_UNITS_FROM = datetime(2025, 7, 1, tzinfo=ICT)

# Pools of (area, weight) by relation to an HCMC agency; codes are real GSO codes.
OLD_HCMC = [AreaRef("26800", "769", "79"), AreaRef("26815", "769", "79"),
            AreaRef("26740", "760", "79"), AreaRef("26743", "760", "79")]
OLD_ELSEWHERE = [(AreaRef("25741", "718", "74"), 10), (AreaRef("20194", "490", "48"), 4),
                 (AreaRef("00001", "001", "01"), 1)]
NEW_HCMC = [AreaRef("26800", None, "79"), AreaRef("26740", None, "79"),
            AreaRef("26743", None, "79"), AreaRef("25747", None, "79")]
NEW_ELSEWHERE = [(AreaRef("20194", None, "48"), 4), (AreaRef("00097", None, "01"), 1),
                 (AreaRef("21028", None, "51"), 3)]


def order_mix(count: int, seed: int) -> list[tuple[PricingFacts, datetime]]:
    """A day-to-day mix: mostly intra-city, light dossiers, 60% online, some COD and fees."""
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=ICT)
    span_s = int((datetime(2026, 12, 31, tzinfo=ICT) - start).total_seconds())
    orders = []
    for _ in range(count):
        registered_at = start + timedelta(seconds=rng.randrange(span_s))
        new_units = registered_at >= NEW_UNITS_FROM
        local, elsewhere = (NEW_HCMC, NEW_ELSEWHERE) if new_units else (OLD_HCMC, OLD_ELSEWHERE)
        agency = rng.choice(local)
        roll = rng.random()
        if roll < 0.45:
            citizen = agency
        elif roll < 0.85:
            citizen = rng.choice(local)
        else:
            citizen = rng.choices([a for a, _ in elsewhere], [w for _, w in elsewhere])[0]
        kind = rng.choice(list(OrderKind))
        origin, destination = ((citizen, agency) if kind is OrderKind.DOSSIER_PICKUP
                               else (agency, citizen))
        weight_roll = rng.random()
        weight_g = (rng.randint(20, 250) if weight_roll < 0.80 else
                    rng.randint(251, 2_000) if weight_roll < 0.95 else rng.randint(2_001, 5_000))
        orders.append((PricingFacts(
            kind=kind,
            channel=rng.choices([Channel.ONLINE_PUBLIC_SERVICE, Channel.COUNTER, Channel.HOTLINE],
                                [6, 3, 1])[0],
            agency_code=f"UBND-{agency.ward_code}",
            origin=origin, destination=destination, weight_g=weight_g,
            pieces=rng.randint(1, 3),
            fee_forwarding_vnd=rng.choice([10_000, 30_000, 50_000, 100_000])
            if rng.random() < 0.4 else None,
            payment_method=rng.choices([PaymentMethod.ONLINE, PaymentMethod.CASH_ON_DELIVERY,
                                        PaymentMethod.AGENCY_ACCOUNT], [5, 3, 2])[0],
            beneficiary_category=rng.choices([None, "heroic_mother", "revolutionary_pre_1945"],
                                             [97, 2, 1])[0],
        ), registered_at))
    return orders


# ---- baseline: the same arithmetic over flat dicts, no validation, no objects --------------

# (utc timestamp, Vietnam date, origin ward/district/province, destination ward/district/
#  province, weight_g, channel, procedure fee, cash on delivery?, beneficiary category)
BaselineRow = tuple[float, date, str, "str | None", str, str, "str | None", str, int, str,
                    "int | None", bool, "str | None"]


def _flatten(version: TariffVersion) -> dict[str, Any]:
    return {
        "zones": [(z.relation.value, z.region_relation.value if z.region_relation else None,
                   z.code, z.base_price_vnd) for z in version.zones],
        "base_g": version.base_weight_g,
        "bands": [(b.up_to_g, b.step_g, dict(b.step_price_vnd)) for b in version.weight_bands],
        "regions": dict(version.regions.province_regions),
        "adjacent": {tuple(sorted(p)) for p in version.regions.adjacent_regions},
        "fee_forwarding": version.add_ons.fee_forwarding_vnd,
        "cod": version.add_ons.cash_on_delivery_vnd,
        "exempt": {e.beneficiary_category for e in version.exemptions},
    }


def build_baseline(book: TariffBook) -> Callable[[BaselineRow], tuple[int, int]]:
    versions = [(v.effective_from.timestamp(), _flatten(v)) for v in book.tariff_versions]
    covid = covid19_online_promotion()
    covid_from, covid_percent = covid.valid_from.timestamp(), covid.value
    day = date(2020, 1, 1)
    vat_by_day: dict[date, Decimal | None] = {}
    while day <= date(2027, 1, 1):
        vat_by_day[day] = book.vat_table.rate_on(TaxCategory.STANDARD, day).rate
        day += timedelta(days=1)
    one, hundred = Decimal(1), Decimal(100)

    def vat(amount: int, rate: Decimal | None) -> int:
        if rate is None:
            return 0
        return int((amount * rate / (one + rate)).quantize(one, rounding=ROUND_HALF_UP))

    def price(order: BaselineRow) -> tuple[int, int]:
        (ts, local_day, o_ward, o_dist, o_prov, d_ward, d_dist, d_prov, weight, channel,
         fee, cod, beneficiary) = order
        tariff = versions[1][1] if ts >= versions[1][0] else versions[0][1]
        zone = None
        for relation, region_relation, code, base in tariff["zones"]:
            if o_prov == d_prov and (
                    relation == "same_province"
                    or (relation == "same_old_district" and o_dist and o_dist == d_dist)
                    or (relation == "same_ward" and o_ward == d_ward)):
                zone = (code, base)
            elif relation == "inter_province" and o_prov != d_prov:
                a, b = tariff["regions"][o_prov], tariff["regions"][d_prov]
                rel = ("same_region" if a == b else "adjacent_region"
                       if tuple(sorted((a, b))) in tariff["adjacent"] else "distant_region")
                if rel == region_relation:
                    zone = (code, base)
            if zone:
                break
        code, postage = zone  # type: ignore[misc]
        lower = tariff["base_g"]
        for up_to, step, prices in tariff["bands"]:
            if weight <= lower:
                break
            top = min(weight, up_to)
            postage += -(-(top - lower) // step) * prices[code]
            lower = up_to
        rate = vat_by_day[local_day]
        if beneficiary in tariff["exempt"]:
            after = 0
        elif channel == "online_public_service" and ts >= covid_from:
            after = postage - int((postage * covid_percent / hundred).quantize(
                one, rounding=ROUND_HALF_UP))
        else:
            after = postage
        total, vat_total = after, vat(after, rate)
        if fee:
            # The forwarded procedure fee itself is a pass-through outside the total.
            total += tariff["fee_forwarding"]
            vat_total += vat(tariff["fee_forwarding"], rate)
        if cod:
            total += tariff["cod"]
            vat_total += vat(tariff["cod"], rate)
        return total, vat_total

    return price


def baseline_input(facts: PricingFacts, registered_at: datetime) -> BaselineRow:
    o, d = facts.origin, facts.destination
    return (registered_at.timestamp(), registered_at.astimezone(VIETNAM_TZ).date(),
            o.ward_code, o.old_district_code, o.province_code,
            d.ward_code, d.old_district_code, d.province_code, facts.weight_g,
            facts.channel.value, facts.fee_forwarding_vnd,
            facts.payment_method.value == "cash_on_delivery", facts.beneficiary_category)


# ---- measurement ----------------------------------------------------------------------------

def measure(run: Callable[[], object], quotes: int, rounds: int) -> list[float]:
    run()  # warm-up: imports, caches, branch predictors
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        rates.append(quotes / (time.perf_counter() - started))
    return rates


def machine() -> str:
    uname = platform.uname()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{uname.system} {uname.release} {uname.machine}; {model or uname.processor}; "
            f"nproc {usable} (cpu_count {os.cpu_count()}); Python {platform.python_version()}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--target", type=float, default=20_000.0)
    args = parser.parse_args(argv)

    book = demo_tariff_book()
    orders = order_mix(args.quotes, args.seed)
    baseline = build_baseline(book)
    flat = [baseline_input(f, t) for f, t in orders]

    # Cross-check before timing: the two must agree to the dong on every order.
    for (facts, at), row in zip(orders, flat, strict=True):
        price = price_order(facts, at, book)
        if (price.total, price.vat_included) != baseline(row):
            raise SystemExit(f"baseline and price_order disagree on {facts} at {at}: "
                             f"{(price.total, price.vat_included)} vs {baseline(row)}")

    versions, promotions, vat_table = book.tariff_versions, book.promotions, book.vat_table
    # What the HTTP layer holds after schema validation: plain values, facts still to build.
    raw: list[tuple[dict[str, Any], datetime]] = [
        (dict(kind=f.kind.value, channel=f.channel.value, agency_code=f.agency_code,
              origin=f.origin, destination=f.destination, weight_g=f.weight_g, pieces=f.pieces,
              fee_forwarding_vnd=f.fee_forwarding_vnd, payment_method=f.payment_method.value,
              beneficiary_category=f.beneficiary_category), t) for f, t in orders]
    cases: list[tuple[str, Callable[[], object]]] = [
        ("baseline: flat dicts, same arithmetic", lambda: [baseline(r) for r in flat]),
        ("price_order, cached TariffBook", lambda: [price_order(f, t, book) for f, t in orders]),
        ("price_order + to_dict", lambda: [price_order(f, t, book).to_dict()
                                           for f, t in orders]),
        ("PricingFacts(...) + price_order + to_dict",
         lambda: [price_order(PricingFacts(**kw), t, book).to_dict() for kw, t in raw]),
        ("price_order, TariffBook rebuilt per quote",
         lambda: [price_order(f, t, TariffBook(versions, promotions, vat_table))
                  for f, t in orders]),
    ]
    results = [(name, measure(run, args.quotes, args.rounds)) for name, run in cases]
    baseline_rate = max(results[0][1])

    print("## Pricing throughput (in-process, single thread)\n")
    print(f"- machine: {machine()}")
    print(f"- date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}")
    print(f"- mix: {args.quotes} orders, seed {args.seed}, registered 2020-2026 across both "
          f"demo tariff versions; best and median of {args.rounds} rounds\n")
    print("| case | quotes/s (best) | quotes/s (median) | µs/quote | vs baseline |")
    print("|---|---:|---:|---:|---:|")
    for name, rates in results:
        best = max(rates)
        print(f"| {name} | {best:,.0f} | {statistics.median(rates):,.0f} | {1e6 / best:.1f} | "
              f"{best / baseline_rate:.2f}x |")
    cached = max(results[1][1])
    verdict = "meets" if cached >= args.target else "MISSES"
    print(f"\nTarget >= {args.target:,.0f} quotes/s with the book cached: {verdict} "
          f"({cached:,.0f}).")
    return 0 if cached >= args.target else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The dispatcher console's pages over HTTP with ~50,000 orders: p50/p95 per page.

Builds a fresh PostgreSQL database (`postal_bench_console`, dropped afterwards unless --keep)
with the demo reference data and ORDERS orders (default 50,000) spread over four post offices
and the last 60 days, with their tracking events and price snapshots, generated in SQL. Then
serves postal-svc under gunicorn and a bare baseline (a minimal Flask endpoint doing one
indexed SELECT of one order) under the same settings, signs in as the demo dispatcher of
BD-THUDUC (and the demo admin for the admin pages), and requests each console page one at a
time, REQUESTS times after a warm-up, recording the wall-clock latency of each answer.

    .venv/bin/python bench/console.py [--orders 50000] [--requests 40] [--keep]

Pages that do not exist yet (404) are listed as absent. Needs PostgreSQL on 127.0.0.1:5432
(trust auth).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import (  # noqa: E402
    BIN, PG_SERVER, free_port, gunicorn, machine_line, psql, stop, utc_stamp, wait_http)
from bench.tracking import S10_FUNCTION  # noqa: E402  (valid S10 numbers made in SQL)

DATABASE = "postal_bench_console"
SECRET = "bench-console-secret-key-0123456789abcdef"
OFFICES = ("BD-THUDUC", "BD-SAIGON", "BD-GOVAP", "BD-CHOLON")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# Order g: office g % 5 (Thủ Đức twice as often), registered in the last 60 days; one in ten
# still open, others delivered (one in six after a failed attempt), one in twenty returned
# after two failures; online registrations get the 20% promotion line in their snapshot.
ORDERS_SQL = """
INSERT INTO orders (public_id, tracking_number, kind, status, agency_code, dossier_code,
  procedure_code, procedure_name, channel, registered_at, citizen_name, citizen_phone,
  address_input, address_line, ward_code, ward_name, province_code, province_name, lat, lon,
  address_precision, address_ambiguous, post_office_code, weight_g, pieces, payer,
  payment_method, payment_status, price, total_vnd, attempt_count, delivered_at, due_at,
  created_at, updated_at)
SELECT 'ord_bench' || lpad(g::text, 11, '0'), bench_s10(g), 'result_delivery',
  CASE WHEN g % 10 = 0 THEN 'out_for_delivery' WHEN g % 20 = 1 THEN 'returned_to_agency'
       ELSE 'delivered' END,
  a.agency, 'BENCH-' || g, '1.001193', 'Đăng ký khai sinh', a.channel, a.registered_at,
  'Nguyễn Văn An', '+8490' || lpad((g % 200000)::text, 7, '0'),
  '{"text": "12 đường số 7"}', '12 đường số 7', a.ward, 'Phường ' || a.ward, '79',
  'Thành phố Hồ Chí Minh', 10.87, 106.78, 'ward', false, a.office, 150, 1, 'citizen',
  'online', 'paid',
  CASE WHEN a.channel = 'online_public_service' THEN '{price_online}'::jsonb
       ELSE '{price_full}'::jsonb END,
  a.total,
  CASE WHEN g % 20 = 1 THEN 2 WHEN g % 6 = 0 AND g % 10 <> 0 THEN 1 ELSE 0 END,
  CASE WHEN g % 10 = 0 OR g % 20 = 1 THEN NULL
       ELSE a.registered_at + (1 + g % 4) * interval '1 day' END,
  a.registered_at + interval '3 days', a.registered_at, a.registered_at
FROM generate_series(1, {orders}) AS g
CROSS JOIN LATERAL (SELECT
  (ARRAY['BD-THUDUC','BD-THUDUC','BD-SAIGON','BD-GOVAP','BD-CHOLON'])[1 + g % 5] AS office,
  (ARRAY['UBND-LINHTRUNG','UBND-TRUONGTHANH','UBND-BENNGHE','UBND-BENNGHE',
         'UBND-BENNGHE'])[1 + g % 5] AS agency,
  (ARRAY['online_public_service','online_public_service','online_public_service','counter',
         'hotline'])[1 + (g / 7) % 5] AS channel,
  (26700 + g % 5 * 20 + (g / 5) % 8)::text AS ward,
  CASE WHEN (g / 7) % 5 < 3 THEN 22000 ELSE 27500 END AS total,
  -- in arrival order, as a live system inserts them: the last 60 days, evenly
  now() - (({orders} - g)::bigint * 5184000 / {orders}) * interval '1 second' AS registered_at
) AS a"""



def price_snapshot(promotion: bool) -> str:
    """A PRICE object as intake stores it (2025 tariff, same ward, 150 g, 8% VAT), as JSON."""
    def line(code: str, description: str, amount: int, vat: int,
             promotion_code: str | None = None) -> dict[str, Any]:
        return {"code": code, "description": description, "amount": amount,
                "tariff_version": "HCM-BCCI-2025-07", "zone": "intra_ward",
                "promotion_code": promotion_code, "tax_category": "standard", "vat_rate": "8%",
                "net": amount - vat, "vat": vat}
    lines = [line("postage", "Cước chuyển trả kết quả: nội phường/xã, 150 g", 27_500, 2_037)]
    if promotion:
        lines.append(line("promotion", "Giảm 20% cước (Covid-19)", -5_500, -407,
                          "COVID19-ONLINE-20"))
    total = sum(item["amount"] for item in lines)
    return json.dumps({
        "currency": "VND", "lines": lines, "total": total,
        "vat_included": sum(item["vat"] for item in lines), "procedure_fee": 0,
        "amount_due": total, "vat_rate": "8%", "tax_category": "standard",
        "tariff_version": "HCM-BCCI-2025-07", "zone": "intra_ward",
        "promotion_codes": ["COVID19-ONLINE-20"] if promotion else [],
        "priced_at": "2025-07-01T00:00:00Z"}, ensure_ascii=False).replace("'", "''")


EVENTS_SQL = """
INSERT INTO tracking_events (order_id, type, status, occurred_at, recorded_at, actor_role,
  post_office_code, ward_code, failure_reason)
SELECT o.id, s.status, s.status, o.registered_at + s.n * interval '3 hours',
       o.registered_at + s.n * interval '3 hours', 'courier', o.post_office_code, o.ward_code,
       CASE WHEN s.status = 'delivery_failed' THEN 'recipient_not_home' END
FROM orders AS o
CROSS JOIN (VALUES (0, 'created'), (1, 'collected'), (2, 'at_post_office'),
                   (3, 'out_for_delivery'), (4, 'delivery_failed'), (5, 'delivered'),
                   (6, 'returning')) AS s(n, status)
WHERE (s.n <= 3)
   OR (s.status = 'delivery_failed' AND o.attempt_count > 0)
   OR (s.status = 'delivered' AND o.status = 'delivered')
   OR (s.status = 'returning' AND o.status = 'returned_to_agency')"""


def baseline_app() -> Any:
    """The bare baseline: Flask + SQLAlchemy Core, one indexed SELECT of one order."""
    from flask import Flask, abort, jsonify
    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ["BASELINE_DATABASE_URL"], pool_size=10, max_overflow=20)
    app = Flask(__name__)
    order = text("SELECT status, kind, due_at, ward_name FROM orders WHERE public_id = :id")

    @app.get("/o/<public_id>")
    def one_order(public_id: str) -> Any:
        with engine.connect() as conn:
            row = conn.execute(order, {"id": public_id}).mappings().first()
        if row is None:
            abort(404)
        return jsonify({"status": row["status"], "kind": row["kind"],
                        "due_at": row["due_at"].isoformat(), "ward": row["ward_name"]})
    return app


def build(orders: int) -> dict[str, list[str]]:
    """The database with demo data and `orders` orders; a sample of Thủ Đức ids and phones."""
    url = f"{PG_SERVER}/{DATABASE}"
    env = {**os.environ, "POSTAL_DATABASE_URL": url, "POSTAL_LOG_LEVEL": "WARNING"}
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([str(BIN / "postal-svc"), *command], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    psql(S10_FUNCTION, DATABASE)
    psql(ORDERS_SQL.replace("{orders}", str(int(orders)))
         .replace("{price_online}", price_snapshot(True))
         .replace("{price_full}", price_snapshot(False)), DATABASE)
    psql(EVENTS_SQL, DATABASE)
    for table in ("orders", "tracking_events"):
        psql(f"VACUUM ANALYZE {table}", DATABASE)
    print(f"built {orders:,} orders and their events in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)

    def sample(column: str) -> list[str]:
        return subprocess.run(
            ["psql", "-At", "-h", "127.0.0.1", "-U", "postgres", "-d", DATABASE, "-c",
             f"SELECT {column} FROM orders WHERE post_office_code = 'BD-THUDUC' "
             "ORDER BY random() LIMIT 200"],
            check=True, capture_output=True, text=True).stdout.split()
    return {"ids": sample("public_id"), "phones": ["0" + p[3:] for p in sample("citizen_phone")]}


def signed_in(base: str, username: str, password: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}/console/login", timeout=30)
    token = _CSRF.search(page.text)
    assert token, "no CSRF token on the sign-in page"
    answer = browser.post(f"{base}/console/login", data={
        "csrf_token": token.group(1), "username": username, "password": password,
        "next": "/console/"}, allow_redirects=False, timeout=30)
    assert answer.status_code == 303, (answer.status_code, answer.text[:300])
    return browser


def time_page(browser: requests.Session, url: str | list[str], count: int
              ) -> dict[str, float] | None:
    """Latency of `count` sequential GETs after three warm-ups (None: the page is absent)."""
    urls = url if isinstance(url, list) else [url]
    first = browser.get(urls[0], timeout=60)
    if first.status_code == 404:
        return None
    assert first.status_code == 200, (urls[0], first.status_code, first.text[:300])
    for _ in range(2):
        browser.get(random.choice(urls), timeout=60)
    latencies = []
    for _ in range(count):
        target = random.choice(urls)
        started = time.perf_counter()
        answer = browser.get(target, timeout=60)
        latencies.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (target, answer.status_code)
    latencies.sort()
    return {"p50_ms": statistics.median(latencies),
            "p95_ms": latencies[max(0, round(0.95 * len(latencies)) - 1)],
            "bytes": len(first.content)}


def pages(base: str, sample: dict[str, list[str]]) -> dict[str, tuple[str, str | list[str]]]:
    """Page name -> (who, URL or URLs picked at random)."""
    today = datetime.now(timezone.utc).date()
    quarter = f"from={(today - timedelta(days=59)).isoformat()}&to={today.isoformat()}"
    c = f"{base}/console"
    return {
        "today": ("dispatcher", f"{c}/"),
        "orders list": ("dispatcher", f"{c}/orders"),
        "orders search by phone": ("dispatcher", [f"{c}/orders?q={p}" for p in sample["phones"]]),
        "order detail": ("dispatcher", [f"{c}/orders/{i}" for i in sample["ids"]]),
        "reports (this month)": ("dispatcher", f"{c}/reports"),
        "reports (60 days, by week)": ("dispatcher", f"{c}/reports?{quarter}&by=week"),
        "reports CSV (60 days)": ("dispatcher", f"{c}/reports/orders-by-channel.csv?{quarter}"),
        "reports (admin, all offices)": ("admin", f"{c}/reports?{quarter}&by=week"),
        "plans": ("dispatcher", f"{c}/plans"),
        "cash": ("dispatcher", f"{c}/cash"),
        "admin": ("admin", f"{c}/admin"),
        "admin promotions": ("admin", f"{c}/admin/promotions"),
        "admin API clients": ("admin", f"{c}/admin/clients"),
        "admin webhooks": ("admin", f"{c}/admin/webhooks"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")
    procs = []
    results: dict[str, dict[str, float] | None] = {}
    try:
        sample = build(args.orders)
        url = f"{PG_SERVER}/{DATABASE}"
        postal_port, baseline_port = free_port(), free_port()
        procs.append(gunicorn("wsgi:app", postal_port,
                              {"POSTAL_DATABASE_URL": url, "POSTAL_LOG_LEVEL": "WARNING",
                               "POSTAL_SECRET_KEY": SECRET}, args.workers, args.threads))
        procs.append(gunicorn("bench.console:baseline_app()", baseline_port,
                              {"BASELINE_DATABASE_URL": url}, args.workers, args.threads))
        base = f"http://127.0.0.1:{postal_port}"
        wait_http(f"{base}/healthz")
        wait_http(f"http://127.0.0.1:{baseline_port}/o/{sample['ids'][0]}")
        results["baseline: one order by id"] = time_page(
            requests.Session(), [f"http://127.0.0.1:{baseline_port}/o/{i}" for i in sample["ids"]],
            args.requests)
        browsers = {"dispatcher": signed_in(base, "dieuphoi", "demo-dieuphoi"),
                    "admin": signed_in(base, "quantri", "demo-quantri")}
        for name, (who, target) in pages(base, sample).items():
            results[name] = time_page(browsers[who], target, args.requests)
    finally:
        for proc in procs:
            stop(proc)
        if not args.keep:
            psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")

    print(f"# Console pages benchmark, {utc_stamp()}")
    print(f"machine: {machine_line()}")
    print(f"data: {args.orders:,} orders over {len(OFFICES)} post offices and 60 days (BD-THUDUC "
          f"{args.orders * 2 // 5:,}), with their tracking events, in PostgreSQL; one client, "
          f"{args.requests} sequential requests per page after a warm-up; gunicorn gthread "
          f"{args.workers} workers x {args.threads} threads\n")
    print("| page | p50 ms | p95 ms | KiB |")
    print("|---|---:|---:|---:|")
    for name, row in results.items():
        if row is None:
            print(f"| {name} | absent | | |")
        else:
            print(f"| {name} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} "
                  f"| {row['bytes'] / 1024:.0f} |")
    slow = [name for name, row in results.items() if row and row["p95_ms"] > 300]
    print(f"\npages over 300 ms at p95: {', '.join(slow) if slow else 'none'}")


if __name__ == "__main__":
    main()

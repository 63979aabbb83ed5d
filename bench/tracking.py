"""Public tracking over HTTP at scale: postal-svc against a bare Flask JSON endpoint.

Builds a fresh PostgreSQL database with ORDERS orders (default 1,000,000) and five tracking
events each (5,000,000), generated in SQL, then serves postal-svc and a bare Flask +
SQLAlchemy endpoint doing the same two reads under the same gunicorn settings, and drives
both with wrk at 16 connections with random existing tracking numbers. Rounds alternate.

    .venv/bin/python bench/tracking.py [--orders 1000000] [--seconds 20] [--rounds 2] [--keep]

Needs wrk and PostgreSQL on 127.0.0.1:5432 (trust auth). Building the data takes minutes.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import (  # noqa: E402
    BIN, PG_SERVER, free_port, gunicorn, machine_line, print_table, psql, run_wrk, stop,
    utc_stamp, wait_http)

S10_FUNCTION = """
CREATE FUNCTION bench_s10(n integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT 'RB' || lpad(n::text, 8, '0')
         || (CASE c WHEN 10 THEN 0 WHEN 11 THEN 5 ELSE c END)::text || 'VN'
  FROM (SELECT 11 - (sum(substr(lpad(n::text, 8, '0'), i, 1)::int
                         * (ARRAY[8, 6, 4, 2, 3, 5, 9, 7])[i]) % 11)::int AS c
        FROM generate_series(1, 8) AS i) AS digits
$$"""

ORDERS_SQL = """
INSERT INTO orders (public_id, tracking_number, kind, status, agency_code, dossier_code,
  procedure_code, procedure_name, channel, registered_at, citizen_name, citizen_phone,
  address_input, address_line, ward_code, ward_name, province_code, province_name, lat, lon,
  address_precision, address_ambiguous, post_office_code, weight_g, pieces, payer,
  payment_method, payment_status, attempt_count, due_at, created_at, updated_at)
SELECT 'ord_bench' || lpad(g::text, 11, '0'), bench_s10(g), 'result_delivery',
  (ARRAY['created','collected','at_post_office','out_for_delivery','delivered'])[1 + mod(g, 5)],
  'UBND-LINHTRUNG', 'BENCH-' || g, '1.001193', 'Đăng ký khai sinh', 'online_public_service',
  now() - interval '3 days', 'Nguyễn Văn An', '+84903123456',
  '{"text": "12 đường số 7, P. Linh Trung, TP. Thủ Đức"}', '12 đường số 7', '26794',
  'Phường Linh Xuân', '79', 'Thành phố Hồ Chí Minh', 10.87, 106.78, 'ward', false,
  'BD-THUDUC', 150, 1, 'citizen', 'online', 'unpaid', 0, now() + interval '2 days',
  now() - interval '3 days', now()
FROM generate_series(1, %(orders)d) AS g"""

EVENTS_SQL = """
INSERT INTO tracking_events (order_id, type, status, occurred_at, recorded_at, actor_role,
  post_office_code, ward_code)
SELECT o.id, s.status, s.status, o.created_at + s.n * interval '2 hours',
       o.created_at + s.n * interval '2 hours', 'courier', 'BD-THUDUC', '26794'
FROM orders AS o
CROSS JOIN (VALUES (0, 'created'), (1, 'collected'), (2, 'at_post_office'),
                   (3, 'out_for_delivery'), (4, 'delivered')) AS s(n, status)"""

LUA = r"""
local numbers = {%(numbers)s}
request = function()
  return wrk.format("GET", "%(path)s" .. numbers[math.random(#numbers)])
end
"""


def reuse(database: str) -> list[str]:
    env = {"POSTAL_DATABASE_URL": f"{PG_SERVER}/{database}", "POSTAL_LOG_LEVEL": "WARNING"}
    subprocess.run([str(BIN / "postal-svc"), "db", "upgrade"], env={**os.environ, **env},
                   check=True, stdout=subprocess.DEVNULL)
    return sample_numbers(database)


def build(database: str, orders: int) -> list[str]:
    env = {"POSTAL_DATABASE_URL": f"{PG_SERVER}/{database}", "POSTAL_LOG_LEVEL": "WARNING"}
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([str(BIN / "postal-svc"), *command], env={**os.environ, **env}, check=True,
                       stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    psql(S10_FUNCTION, database)
    psql(ORDERS_SQL % {"orders": orders}, database)
    psql(EVENTS_SQL, database)
    for table in ("orders", "tracking_events"):
        psql(f"VACUUM ANALYZE {table}", database)
    print(f"built {orders:,} orders and {orders * 5:,} events in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    return sample_numbers(database)


def sample_numbers(database: str) -> list[str]:
    """5,000 tracking numbers spread over the table (a 2% block sample)."""
    out = subprocess.run(["psql", "-At", "-h", "127.0.0.1", "-U", "postgres", "-d", database,
                          "-c", "SELECT tracking_number FROM orders TABLESAMPLE SYSTEM (2) LIMIT 5000"],
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="DATABASE",
                        help="measure on a database kept by an earlier --keep run (migrated to "
                             "the head first) instead of building one")
    args = parser.parse_args()

    database = args.reuse or f"bench_tracking_{uuid.uuid4().hex[:8]}"
    if not args.reuse:
        psql(f"CREATE DATABASE {database}")
    procs = []
    try:
        numbers = reuse(database) if args.reuse else build(database, args.orders)
        url = f"{PG_SERVER}/{database}"
        postal_port, baseline_port = free_port(), free_port()
        procs.append(gunicorn("wsgi:app", postal_port,
                              {"POSTAL_DATABASE_URL": url, "POSTAL_LOG_LEVEL": "WARNING",
                               "POSTAL_TRACKING_RATE_PER_MINUTE": "0"},
                              args.workers, args.threads))
        procs.append(gunicorn("bench.baseline_tracking:app", baseline_port,
                              {"BASELINE_DATABASE_URL": url}, args.workers, args.threads))
        wait_http(f"http://127.0.0.1:{postal_port}/healthz")
        wait_http(f"http://127.0.0.1:{baseline_port}/t/{numbers[0]}")
        targets = {"baseline": (baseline_port, "/t/"),
                   "postal-svc": (postal_port, "/api/v1/tracking/")}
        results: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        quoted = ",".join(f'"{n}"' for n in numbers)
        with tempfile.TemporaryDirectory() as tmp:
            for round_no in range(args.rounds + 1):  # round 0 warms caches and workers
                for name, (port, path) in targets.items():
                    script = Path(tmp) / f"{name}.lua"
                    script.write_text(LUA % {"numbers": quoted, "path": path})
                    seconds = 5 if round_no == 0 else args.seconds
                    outcome = run_wrk(f"http://127.0.0.1:{port}", script, seconds,
                                      args.connections)
                    if round_no:
                        results[name].append(outcome)
    finally:
        for proc in procs:
            stop(proc)
        if not (args.keep or args.reuse):
            psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        elif not args.reuse:
            print(f"kept the database {database} (--reuse {database} next time)", file=sys.stderr)

    summary = {name: {k: statistics.mean(r[k] for r in rows) for k in rows[0]}
               for name, rows in results.items()}
    base, ours = summary["baseline"], summary["postal-svc"]
    print(f"# Public tracking benchmark, {utc_stamp()}")
    print(f"machine: {machine_line()}")
    print(f"data: {args.orders:,} orders, {args.orders * 5:,} tracking events in PostgreSQL; "
          f"wrk {args.connections} connections, {args.rounds} x {args.seconds}s per server; "
          f"gunicorn gthread {args.workers} workers x {args.threads} threads\n")
    print_table(summary, "lookups")
    print(f"\nthroughput ratio postal-svc / baseline: {ours['rps'] / base['rps']:.2f} "
          f"(target >= 0.70); postal-svc p99 {ours['p99_ms']:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()

"""Route planning end to end through the API, solved in the real worker process pool.

    .venv/bin/python bench/plan_api.py                    # SQLite file in a temp dir
    POSTAL_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/plan_api.py                # a fresh database on that server

One post office, 25 couriers (60 items / 30 kg, trips 07:30-11:30 and 13:00-17:00), 1,000
generated orders of that office within ~8 km: 70% results to deliver (some re-attempts), 15%
results to collect at an agency first, 15% dossiers to pick up. The orders are inserted
directly (setup, not measured); then POST /route-plans with a 10 s limit, and GET is polled
until ready. Reports the wall time from POST to ready and the first-feasible time the worker
wrote into the plan's progress.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from postal_svc import create_app  # noqa: E402
from postal_svc.access.service import create_client  # noqa: E402
from postal_svc.config import Settings  # noqa: E402
from postal_svc.db import make_engine  # noqa: E402
from postal_svc.directory.couriers import create_courier  # noqa: E402
from postal_svc.directory.service import create_agency, create_post_office  # noqa: E402
from postal_svc.migrate import upgrade  # noqa: E402
from postal_svc.shipments.models import Order  # noqa: E402

DEPOT = (10.8500, 106.7720)
AGENCIES = {"AG-A": (10.870, 106.778), "AG-B": (10.815, 106.820), "AG-C": (10.840, 106.740)}


def database_url() -> tuple[str, callable]:
    server = os.environ.get("POSTAL_BENCH_DATABASE_URL")
    if not server:
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        return f"sqlite:///{path}", lambda: None
    name = f"postal_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return make_url(server).set(database=name).render_as_string(hide_password=False), drop


def seed(engine, orders: int, couriers: int, rng: random.Random) -> str:
    now = datetime.now(UTC)
    with Session(engine) as s:
        create_post_office(s, {"code": "BD-BENCH", "name": "Bưu điện bench", "lat": DEPOT[0],
                               "lon": DEPOT[1], "served_ward_codes": ["26794"]}, now=now)
        for code, (lat, lon) in AGENCIES.items():
            agency = create_agency(s, {"code": code, "name": f"UBND {code}",
                                       "post_office_code": "BD-BENCH"}, now=now)
            agency.lat, agency.lon = lat, lon
        for n in range(1, couriers + 1):
            create_courier(s, {"code": f"BENCH-C{n:02d}", "name": f"Bưu tá {n}",
                               "post_office_code": "BD-BENCH", "capacity_items": 60,
                               "capacity_kg": 30}, now=now)
        _, key = create_client(s, name="bench dispatcher", role="dispatcher", scope=["BD-BENCH"], now=now)
        for n in range(orders):
            r = rng.random()
            kind, status = (("result_delivery", "at_post_office") if r < 0.62 else
                            ("result_delivery", "delivery_failed") if r < 0.70 else
                            ("result_delivery", "created") if r < 0.85 else
                            ("dossier_pickup", "created"))
            dist, angle = 8_000 * rng.random() ** 0.5, rng.uniform(0, 6.283)
            import math
            lat = DEPOT[0] + dist * math.cos(angle) / 111_000
            lon = DEPOT[1] + dist * math.sin(angle) / (111_000 * math.cos(math.radians(DEPOT[0])))
            s.add(Order(public_id=f"ord_bench{n:06d}", tracking_number=f"RR{n:08d}9VN", kind=kind,
                        status=status, agency_code=rng.choice(list(AGENCIES)),
                        dossier_code=f"HS-{n}", channel="online_public_service",
                        registered_at=now, citizen_name="Nguyễn Văn An",
                        citizen_phone="+84903123456", address_input={}, address_line=f"{n} Đường số 7",
                        ward_code="26794", ward_name="Phường Linh Xuân", lat=round(lat, 6),
                        lon=round(lon, 6), address_precision="street", post_office_code="BD-BENCH",
                        weight_g=rng.choice([150, 200, 300, 500]), pieces=1, payer="citizen",
                        payment_method="online", payment_status="paid",
                        attempt_count=1 if status == "delivery_failed" else 0,
                        due_at=now + timedelta(days=rng.choice([0, 1, 2, 3])),
                        created_at=now, updated_at=now))
        s.commit()
    return key


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--couriers", type=int, default=25)
    parser.add_argument("--time-limit", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url, drop = database_url()
    engine = make_engine(url)
    try:
        upgrade(engine)
        key = seed(engine, args.orders, args.couriers, random.Random(args.seed))
        settings = Settings(database_url=url, environment="test", log_json=False, log_level="WARNING")
        client = create_app({"settings": settings, "db_bind": engine}).test_client()
        headers = {"Authorization": f"Bearer {key}"}
        t0 = time.perf_counter()
        response = client.post("/api/v1/post-offices/BD-BENCH/route-plans",
                               json={"time_limit_s": args.time_limit}, headers=headers)
        post_s = time.perf_counter() - t0
        assert response.status_code == 202, response.get_json()
        plan_id = response.get_json()["id"]
        first_seen_feasible = None
        while True:
            plan = client.get(f"/api/v1/route-plans/{plan_id}", headers=headers).get_json()
            elapsed = time.perf_counter() - t0
            if first_seen_feasible is None and (plan.get("progress") or {}).get("feasible"):
                first_seen_feasible = elapsed
            if plan["status"] in ("ready", "failed") or elapsed > 120:
                break
            time.sleep(0.1)
        print(f"database: {make_url(url).get_backend_name()}")
        print(f"orders: {args.orders}, couriers: {args.couriers}, time limit: {args.time_limit} s")
        print(f"POST answered in {post_s * 1000:.0f} ms (202 {response.get_json()['status']})")
        print(f"status: {plan['status']} after {elapsed:.2f} s from POST (target < 15 s)")
        if plan["status"] == "failed":
            print("error:", plan["error"])
            return
        progress = plan["progress"]
        print(f"first feasible: {progress.get('first_feasible_s')} s into the solve "
              f"(seen by the poller {first_seen_feasible:.2f} s after POST)")
        print(f"solve wall (worker): {progress['elapsed_s']} s; routes: {plan['totals']['routes']}; "
              f"orders planned: {plan['totals']['orders_planned']}, unassigned: "
              f"{plan['totals']['orders_unassigned']}; distance {plan['totals']['distance_m'] / 1000:.1f} km")
        reasons: dict[str, int] = {}
        for u in plan["unassigned"]:
            reasons[u["reason"]] = reasons.get(u["reason"], 0) + 1
        print("unassigned by reason:", reasons or "none")
    finally:
        engine.dispose()
        drop()


if __name__ == "__main__":
    main()

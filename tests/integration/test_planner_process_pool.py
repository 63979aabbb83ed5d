"""The real planner: the API hands the plan to a spawned worker process, which solves it on the
committed database while the web process answers GETs."""
from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from postal_svc import create_app
from postal_svc.access.service import create_client
from postal_svc.directory.couriers import create_courier
from postal_svc.directory.models import PostOffice
from postal_svc.directory.service import create_agency, create_post_office
from postal_svc.shipments.models import Order
from tests.conftest import order_body, test_settings


def test_a_plan_is_solved_in_a_separate_worker_process_until_ready(committed_engine, database_url):
    now = datetime.now(UTC)
    with Session(committed_engine) as session:
        create_post_office(session, {"code": "PO-POOL", "name": "Pool office",
                                     "served_ward_codes": ["26794"]}, now=now)
        session.execute(update(PostOffice).where(PostOffice.code == "PO-POOL").values(lat=10.85, lon=106.772))
        create_agency(session, {"code": "AG-POOL", "name": "UBND phường Linh Trung",
                                "post_office_code": "PO-POOL"}, now=now)
        create_courier(session, {"code": "POOL-C1", "name": "Bưu tá", "post_office_code": "PO-POOL",
                                 "capacity_items": 40, "capacity_kg": 20}, now=now)
        _, agency_key = create_client(session, name="agency", role="agency_system", scope=["AG-POOL"], now=now)
        _, dispatcher_key = create_client(session, name="disp", role="dispatcher", scope=["PO-POOL"], now=now)
        session.commit()
    app = create_app({"settings": test_settings(database_url), "db_bind": committed_engine,
                      "TESTING": True})
    client = app.test_client()
    ids = []
    for n in range(3):
        response = client.post("/api/v1/orders", json=order_body(agency_code="AG-POOL"),
                               headers={"Authorization": f"Bearer {agency_key}"})
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    with committed_engine.begin() as conn:
        for n, order_id in enumerate(ids):
            conn.execute(update(Order).where(Order.public_id == order_id).values(
                status="at_post_office", lat=10.85 + 0.01 * n, lon=106.78, post_office_code="PO-POOL"))
    headers = {"Authorization": f"Bearer {dispatcher_key}"}
    started = time.monotonic()
    response = client.post("/api/v1/post-offices/PO-POOL/route-plans", json={"time_limit_s": 1},
                           headers=headers)
    assert response.status_code == 202 and response.get_json()["status"] == "queued"
    assert time.monotonic() - started < 5, "the request must not wait for the solve"
    plan_id = response.get_json()["id"]
    deadline = time.monotonic() + 120
    seen = set()
    while True:
        plan = client.get(f"/api/v1/route-plans/{plan_id}", headers=headers).get_json()
        seen.add(plan["status"])
        if plan["status"] in ("ready", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert plan["status"] == "ready", (plan["status"], plan.get("error"))
    assert {oid for r in plan["routes"] for s in r["stops"] for oid in s["order_ids"]} == set(ids)
    assert plan["started_at"] and plan["finished_at"] and plan["progress"]["feasible"]
    assert seen <= {"queued", "solving", "ready"}

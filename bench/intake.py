"""Order intake over HTTP: postal-svc (gunicorn + PostgreSQL) against a bare Flask baseline.

Both servers run under the same gunicorn settings against fresh databases on the local
PostgreSQL; `wrk` drives 16 concurrent connections with the same JSON bodies (a unique
dossier code per request). Rounds alternate baseline / postal-svc to spread machine noise.

    .venv/bin/python bench/intake.py [--seconds 20] [--rounds 2] [--connections 16]

Needs wrk (`apt-get install wrk`) and PostgreSQL on 127.0.0.1:5432 (trust auth).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import (  # noqa: E402
    BIN, PG_SERVER, ROOT, free_port, gunicorn, machine_line, print_table, psql, run_wrk, stop,
    utc_stamp, wait_http)

LUA = r"""
local counter = 0
local prefix = "%(prefix)s"
-- Citizens of many wards, old (pre-2025) and new names, each at their own house number.
local places = {
  {"Phường Linh Trung", "Thành phố Thủ Đức"}, {"Phường Linh Xuân", ""},
  {"Phường Trường Thạnh", "Thành phố Thủ Đức"}, {"Phường Hiệp Bình Chánh", "Thành phố Thủ Đức"},
  {"Phường Bến Nghé", "Quận 1"}, {"Phường Tân Định", "Quận 1"}, {"Phường Sài Gòn", ""},
  {"Phường 7", "Quận 3"}, {"Phường Võ Thị Sáu", "Quận 3"}, {"Phường 12", "Quận Gò Vấp"},
  {"Phường Bình Thạnh", ""}, {"Phường 25", "Quận Bình Thạnh"}, {"Phường Tân Sơn Nhất", ""},
  {"Phường 2", "Quận Tân Bình"}, {"Phường Thủ Dầu Một", ""}, {"Phường An Khánh", ""},
}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
function setup(thread)
  thread:set("tid", tostring(math.random(1, 1000000000)))
end
request = function()
  counter = counter + 1
  local place = places[(counter %% #places) + 1]
  local district = place[2] ~= "" and string.format([[,"district":"%%s"]], place[2]) or ""
  local body = string.format([[{"kind":"result_delivery","agency_code":"UBND-LINHTRUNG","dossier_code":"%%s-%%s-%%d","procedure_code":"1.001193","procedure_name":"Đăng ký khai sinh","channel":"online_public_service","citizen":{"name":"Nguyễn Văn An","phone":"0903123456","address":{"line":"%%d Đường số 7","ward":"%%s"%%s,"province":"Thành phố Hồ Chí Minh"}},"parcel":{"weight_grams":150,"pieces":1,"contents":"Giấy khai sinh"},"payer":"citizen","payment_method":"online"}]], prefix, tid, counter, counter %% 400 + 1, place[1], district)
  return wrk.format(nil, "%(path)s", nil, body)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    suffix = uuid.uuid4().hex[:8]
    postal_db, baseline_db = f"bench_postal_{suffix}", f"bench_baseline_{suffix}"
    psql(f"CREATE DATABASE {postal_db}")
    psql(f"CREATE DATABASE {baseline_db}")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        postal_env = {"POSTAL_DATABASE_URL": f"{PG_SERVER}/{postal_db}", "POSTAL_LOG_LEVEL": "WARNING"}
        for command in (["db", "upgrade"], ["demo", "load"]):
            subprocess.run([str(BIN / "postal-svc"), *command], env={**os.environ, **postal_env},
                           check=True, stdout=subprocess.DEVNULL)
        key = "psk_demo_agency_key"
        postal_port, baseline_port = free_port(), free_port()
        procs.append(gunicorn("wsgi:app", postal_port, postal_env, args.workers, args.threads))
        baseline_env = {"BASELINE_DATABASE_URL": f"{PG_SERVER}/{baseline_db}"}
        subprocess.run([sys.executable, "-c", "import bench.baseline_app"], cwd=ROOT, check=True,
                       env={**os.environ, **baseline_env, "BASELINE_CREATE_TABLES": "1"})
        procs.append(gunicorn("bench.baseline_app:app", baseline_port, baseline_env,
                              args.workers, args.threads))
        wait_http(f"http://127.0.0.1:{postal_port}/healthz")
        wait_http(f"http://127.0.0.1:{baseline_port}/healthz")
        time.sleep(1)
        targets = {"baseline": (baseline_port, "/orders"), "postal-svc": (postal_port, "/api/v1/orders")}
        results: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        with tempfile.TemporaryDirectory() as tmp:
            for round_no in range(args.rounds + 1):  # round 0 warms both servers up
                for name, (port, path) in targets.items():
                    script = Path(tmp) / f"{name}-{round_no}.lua"
                    script.write_text(LUA % {"prefix": f"{name}-{round_no}", "key": key, "path": path})
                    seconds = 3 if round_no == 0 else args.seconds
                    outcome = run_wrk(f"http://127.0.0.1:{port}", script, seconds, args.connections)
                    if round_no:
                        results[name].append(outcome)
    finally:
        for proc in procs:
            stop(proc)
        psql(f"DROP DATABASE IF EXISTS {postal_db} WITH (FORCE)")
        psql(f"DROP DATABASE IF EXISTS {baseline_db} WITH (FORCE)")

    summary = {name: {k: statistics.mean(r[k] for r in rows) for k in rows[0]}
               for name, rows in results.items()}
    base, ours = summary["baseline"], summary["postal-svc"]
    print(f"# Intake benchmark, {utc_stamp()}")
    print(f"machine: {machine_line()}")
    print(f"load: wrk, {args.connections} connections, {args.rounds} x {args.seconds}s per server; "
          f"gunicorn gthread {args.workers} workers x {args.threads} threads; PostgreSQL on the same machine\n")
    print_table(summary, "orders")
    # Round by round, to show how much the machine drifted during the run.
    rounds = ", ".join(f"{o['rps'] / b['rps']:.2f} ({o['p99_ms']:.0f} ms)"
                       for b, o in zip(results["baseline"], results["postal-svc"]))
    print(f"\nper round, ratio (postal-svc p99): {rounds}")
    print(f"throughput ratio postal-svc / baseline: {ours['rps'] / base['rps']:.2f} (target >= 0.60); "
          f"postal-svc p99 {ours['p99_ms']:.1f} ms (target < 100 ms)")


if __name__ == "__main__":
    main()

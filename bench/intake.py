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
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
BIN = Path(sys.executable).parent

LUA = r"""
local counter = 0
local prefix = "%(prefix)s"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
function setup(thread)
  thread:set("tid", tostring(math.random(1, 1000000000)))
end
request = function()
  counter = counter + 1
  local body = string.format([[{"kind":"result_delivery","agency_code":"UBND-LINHTRUNG","dossier_code":"%%s-%%s-%%d","procedure_code":"1.001193","procedure_name":"Đăng ký khai sinh","channel":"online_public_service","citizen":{"name":"Nguyễn Văn An","phone":"0903123456","address":{"line":"12 Đường số 7","ward":"Phường Linh Trung","district":"Thành phố Thủ Đức","province":"Thành phố Hồ Chí Minh"}},"parcel":{"weight_grams":150,"pieces":1,"contents":"Giấy khai sinh"},"payer":"citizen","payment_method":"online"}]], prefix, tid, counter)
  return wrk.format(nil, "%(path)s", nil, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(sql: str) -> None:
    subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not come up")


def gunicorn(app: str, port: int, env: dict[str, str], workers: int, threads: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", str(workers), "-k", "gthread",
         "--threads", str(threads), app], cwd=ROOT, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", str(script), url], check=True, capture_output=True, text=True).stdout
    def latency(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return float(m.group(1)) * scale
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50_ms": latency("50"), "p99_ms": latency("99"), "requests": requests,
            "errors": int(non2xx.group(1)) if non2xx else 0}


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
        procs.append(gunicorn("bench.baseline_app:app", baseline_port,
                              {"BASELINE_DATABASE_URL": f"{PG_SERVER}/{baseline_db}"},
                              args.workers, args.threads))
        wait_http(f"http://127.0.0.1:{postal_port}/healthz")
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
    print(f"# Intake benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.platform()}")
    print(f"load: wrk, {args.connections} connections, {args.rounds} x {args.seconds}s per server; "
          f"gunicorn gthread {args.workers} workers x {args.threads} threads; PostgreSQL on the same machine\n")
    print("| server | orders/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|")
    for name, row in summary.items():
        print(f"| {name} | {row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']:.0f} |")
    print(f"\nthroughput ratio postal-svc / baseline: {ours['rps'] / base['rps']:.2f} (target >= 0.60); "
          f"postal-svc p99 {ours['p99_ms']:.1f} ms (target < 100 ms)")


if __name__ == "__main__":
    main()

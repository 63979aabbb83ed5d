"""Shared plumbing for the HTTP benchmarks: fresh databases, gunicorn servers, wrk runs."""
from __future__ import annotations

import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_SERVER = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def psql(sql: str, database: str = "postgres") -> None:
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres",
                    "-d", database, "-c", sql], check=True, stdout=subprocess.DEVNULL)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not come up")


def gunicorn(app: str, port: int, env: dict[str, str], workers: int,
             threads: int) -> subprocess.Popen[bytes]:
    """Start `app` under gunicorn gthread on 127.0.0.1:`port`, in its own process group."""
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", str(workers), "-k", "gthread",
         "--threads", str(threads), app], cwd=ROOT, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    """One wrk run: requests/s, p50 and p99 latency in ms, non-2xx count."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", str(script), url], check=True, capture_output=True,
                         text=True).stdout

    def latency(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert rps, out
    return {"rps": float(rps.group(1)), "p50_ms": latency("50"), "p99_ms": latency("99"),
            "errors": int(non2xx.group(1)) if non2xx else 0}


def machine_line() -> str:
    return (f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, {platform.platform()}")


def utc_stamp() -> str:
    return f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"


def print_table(summary: dict[str, dict[str, float]], unit: str) -> None:
    print(f"| server | {unit}/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|")
    for name, row in summary.items():
        print(f"| {name} | {row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
              f"| {row['errors']:.0f} |")

"""Benchmark instances (Solomon, Gehring-Homberger, CVRPLIB X, Li & Lim) and their conversions.

Distance conventions (see /work/shared/benchmarks/vrp/README.md):
- Solomon, Homberger, Li & Lim: real-valued Euclidean distances; travel time = distance. Solvers
  get integers scaled x1000 (rounded), and reported distances are recomputed in floating point.
- CVRPLIB X: Euclidean distances rounded to the nearest integer (TSPLIB EUC_2D), scale 1.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(os.environ.get("VRP_BENCH_DIR", "/work/shared/benchmarks/vrp"))
SETS = {"solomon": "txt", "homberger": "txt", "cvrplib_x": "vrp", "li_lim": "txt"}


@dataclass
class Instance:
    name: str
    set: str
    coords: np.ndarray  # (n+1, 2); row 0 = depot
    demand: np.ndarray  # (n+1,), >= 0 (for Li & Lim: the pair's amount, sign dropped)
    capacity: int
    num_vehicles: int
    ready: np.ndarray | None = None
    due: np.ndarray | None = None
    service: np.ndarray | None = None
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (pickup node, delivery node)
    bks_vehicles: int | None = None
    bks_distance: float | None = None
    bks_distance_only: float | None = None

    @property
    def scale(self) -> int:
        return 1 if self.set == "cvrplib_x" else 1000

    @property
    def has_tw(self) -> bool:
        return self.ready is not None

    @property
    def hierarchical(self) -> bool:
        """Ranked by vehicles then distance (time-window sets) or distance only (CVRP)."""
        return self.set != "cvrplib_x"

    def int_matrix(self) -> np.ndarray:
        """The integer distance (= duration) matrix every solver gets."""
        d = np.sqrt(((self.coords[:, None, :] - self.coords[None, :, :]) ** 2).sum(-1))
        return np.rint(d * self.scale).astype(np.int64)

    def float_matrix(self) -> np.ndarray:
        d = np.sqrt(((self.coords[:, None, :] - self.coords[None, :, :]) ** 2).sum(-1))
        return np.rint(d) if self.set == "cvrplib_x" else d

    def route_distance(self, routes: list[list[int]]) -> float:
        """Distance of node-index routes in the instance's own convention."""
        m = self.float_matrix()
        total = 0.0
        for r in routes:
            path = [0, *r, 0]
            total += float(sum(m[a, b] for a, b in zip(path, path[1:])))
        return total


def names(set_name: str) -> list[str]:
    ext = SETS[set_name]
    return sorted(p.stem for p in (ROOT / set_name).glob(f"*.{ext}"))


def _bks(set_name: str) -> dict[str, tuple[float, int]]:
    out = {}
    with open(ROOT / set_name / "bks.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["instance"]] = (float(row["objective"]), int(row["vehicles"]))
    return out


def load(set_name: str, name: str) -> Instance:
    import vrplib

    path = ROOT / set_name / f"{name}.{SETS[set_name]}"
    bks = _bks(set_name)
    if set_name in ("solomon", "homberger"):
        d = vrplib.read_instance(str(path), instance_format="solomon")
        inst = Instance(
            name, set_name, np.asarray(d["node_coord"], float), np.asarray(d["demand"], int),
            int(d["capacity"]), int(d["vehicles"]),
            ready=np.asarray(d["time_window"][:, 0], float), due=np.asarray(d["time_window"][:, 1], float),
            service=np.asarray(d["service_time"], float),
        )
    elif set_name == "cvrplib_x":
        d = vrplib.read_instance(str(path))
        n = len(d["node_coord"])
        inst = Instance(name, set_name, np.asarray(d["node_coord"], float), np.asarray(d["demand"], int),
                        int(d["capacity"]), n - 1)
    elif set_name == "li_lim":
        rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
        vehicles, capacity = int(rows[0][0]), int(rows[0][1])
        body = np.array([[float(x) for x in r] for r in rows[1:]])
        body = body[np.argsort(body[:, 0])]
        inst = Instance(
            name, set_name, body[:, 1:3], np.abs(body[:, 3]).astype(int), capacity, vehicles,
            ready=body[:, 4], due=body[:, 5], service=body[:, 6],
        )
        for r in body:
            node, demand, delivery = int(r[0]), r[3], int(r[8])
            if demand > 0 and delivery > 0:
                inst.pairs.append((node, delivery))
    else:
        raise ValueError(set_name)
    if name in bks:
        inst.bks_distance, inst.bks_vehicles = bks[name]
    if f"{name}_distance" in bks:
        inst.bks_distance_only = bks[f"{name}_distance"][0]
    return inst


def fixed_vehicle_cost(inst: Instance) -> int:
    """A per-vehicle cost above any distance a vehicle can save: vehicles first, then distance."""
    if not inst.hierarchical:
        return 0
    m = inst.int_matrix()
    return int(2 * m[0].max() * len(m))

"""Distance and travel-time matrices: haversine x circuity with a speed profile, planar, or OSRM."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

Point = tuple[float, float]
"""(lat, lon) in degrees for geographic matrices; (x, y) for the planar one."""

EARTH_RADIUS_M = 6_371_008.8
UNREACHABLE = 10**9
"""Distance (m) and duration (s) used for pairs a routing engine cannot connect."""


@dataclass(frozen=True)
class TravelTable:
    """Square integer matrices between points, row = from, column = to."""

    distance_m: np.ndarray
    duration_s: np.ndarray

    def __post_init__(self) -> None:
        if self.distance_m.shape != self.duration_s.shape or self.distance_m.ndim != 2:
            raise ValueError("distance and duration matrices must be square and of one shape")


class DistanceMatrix(Protocol):
    """Source of road distances and travel durations between points.

    ``during`` is the span of the day (seconds since local midnight) in which the travel
    happens; a time-dependent source returns durations valid for the whole span (the slowest
    band it overlaps), so a plan made with them is never late when traffic is faster.
    """

    def table(self, points: Sequence[Point], *, during: tuple[int, int] | None = None) -> TravelTable:
        ...


@dataclass(frozen=True)
class SpeedBand:
    """Motorbike speeds in one part of the day, [start_s, end_s) seconds since midnight."""

    start_s: int
    end_s: int
    centre_kmh: float
    outer_kmh: float


@dataclass(frozen=True)
class CentreZone:
    """A disc where traffic is slower (the old inner districts)."""

    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class SpeedProfile:
    """Speeds by time band and area; outside every band the off-peak speeds apply."""

    offpeak_centre_kmh: float = 20.0
    offpeak_outer_kmh: float = 25.0
    bands: tuple[SpeedBand, ...] = ()
    centre: CentreZone | None = None

    @classmethod
    def hcmc_default(cls) -> SpeedProfile:
        """Illustrative HCMC motorbike speeds (DOMAIN.md): 15 km/h at peak in the centre, 20-25 otherwise."""
        return cls(
            offpeak_centre_kmh=20.0,
            offpeak_outer_kmh=25.0,
            bands=(
                SpeedBand(7 * 3600, 9 * 3600, centre_kmh=15.0, outer_kmh=20.0),
                SpeedBand(16 * 3600 + 1800, 18 * 3600 + 1800, centre_kmh=15.0, outer_kmh=20.0),
            ),
            # Ben Thanh market area (old District 1 / 3 / 5 core), 3.5 km radius.
            centre=CentreZone(lat=10.7725, lon=106.6980, radius_m=3_500.0),
        )

    def speeds_during(self, during: tuple[int, int] | None) -> tuple[float, float]:
        """(centre, outer) km/h valid for a whole span: the slowest band the span overlaps."""
        centre, outer = self.offpeak_centre_kmh, self.offpeak_outer_kmh
        if during is None:
            return centre, outer
        start, end = during
        for band in self.bands:
            if band.start_s < end and start < band.end_s:
                centre = min(centre, band.centre_kmh)
                outer = min(outer, band.outer_kmh)
        return centre, outer


    @classmethod
    def hcmc(cls, *, offpeak_centre_kmh: float, offpeak_outer_kmh: float, peak_centre_kmh: float,
             peak_outer_kmh: float) -> SpeedProfile:
        """Other speeds on the HCMC peak bands and centre zone of ``hcmc_default``."""
        base = cls.hcmc_default()
        return cls(offpeak_centre_kmh=offpeak_centre_kmh, offpeak_outer_kmh=offpeak_outer_kmh,
                   bands=tuple(SpeedBand(b.start_s, b.end_s, peak_centre_kmh, peak_outer_kmh)
                               for b in base.bands),
                   centre=base.centre)


def haversine_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in metres; broadcasts over numpy arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    h = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


@dataclass(frozen=True)
class HaversineMatrix:
    """Straight-line distance x circuity factor; duration from a speed profile.

    An arc's duration is half its length at the speed of its origin's area plus half at its
    destination's area, so an arc from the centre to the suburbs is partly slow. Values are
    rounded to whole metres and seconds.
    """

    circuity: float = 1.35
    speeds: SpeedProfile = field(default_factory=SpeedProfile.hcmc_default)

    def table(self, points: Sequence[Point], *, during: tuple[int, int] | None = None) -> TravelTable:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        lat, lon = pts[:, 0], pts[:, 1]
        # haversine through unit vectors: hav(d/R) = (1 - u_i . u_j) / 2, one small matmul
        # instead of trigonometry on every pair (same result to well under a millimetre)
        p, lam = np.radians(lat), np.radians(lon)
        unit = np.column_stack((np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)))
        h = np.clip((1.0 - unit @ unit.T) * 0.5, 0.0, 1.0)
        road_m = np.arcsin(np.sqrt(h, out=h), out=h)
        road_m *= 2.0 * EARTH_RADIUS_M * self.circuity
        centre_kmh, outer_kmh = self.speeds.speeds_during(during)
        # seconds per metre at each point, by its area
        pace = np.full(len(pts), 3.6 / outer_kmh)
        zone = self.speeds.centre
        if zone is not None:
            in_centre = haversine_m(lat, lon, zone.lat, zone.lon) <= zone.radius_m
            pace[in_centre] = 3.6 / centre_kmh
        duration = road_m * (0.5 * (pace[:, None] + pace[None, :]))
        distance = np.rint(road_m, out=road_m).astype(np.int64)
        np.fill_diagonal(distance, 0)
        seconds = np.rint(duration, out=duration).astype(np.int64)
        np.fill_diagonal(seconds, 0)
        return TravelTable(distance_m=distance, duration_s=seconds)


@dataclass(frozen=True)
class PlanarMatrix:
    """Euclidean distance on plane coordinates x ``scale``; duration = distance / ``speed``.

    For benchmark instances (Solomon, CVRPLIB) whose distances are Euclidean. ``rounding``
    is ``"round"`` (nearest integer, the CVRPLIB convention) or ``"trunc"``.
    """

    scale: float = 1.0
    speed: float = 1.0
    rounding: str = "round"

    def table(self, points: Sequence[Point], *, during: tuple[int, int] | None = None) -> TravelTable:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        diff = pts[:, None, :] - pts[None, :, :]
        dist = np.sqrt((diff**2).sum(axis=-1)) * self.scale
        rnd = np.rint if self.rounding == "round" else np.trunc
        return TravelTable(
            distance_m=rnd(dist).astype(np.int64),
            duration_s=rnd(dist / self.speed).astype(np.int64),
        )


@dataclass(frozen=True)
class ProfileMatrices:
    """One matrix per named speed profile (motorbike, bicycle, ...); a courier's profile picks
    the durations (and road distances) of its trips. ``None`` names the default profile."""

    matrices: Mapping[str, DistanceMatrix]
    default: str

    def __post_init__(self) -> None:
        if self.default not in self.matrices:
            raise ValueError(f"default profile {self.default!r} has no matrix")

    def for_profile(self, name: str | None) -> DistanceMatrix:
        """The profile's matrix; KeyError for a name it does not know."""
        return self.matrices[self.default if name is None else name]

    @classmethod
    def haversine(cls, figures: Mapping[str, Mapping[str, float]], default: str) -> ProfileMatrices:
        """Haversine matrices from figures per profile: ``circuity``, ``offpeak_centre_kmh``,
        ``offpeak_outer_kmh``, ``peak_centre_kmh``, ``peak_outer_kmh`` (HCMC bands and centre)."""
        return cls({name: HaversineMatrix(
            circuity=float(f["circuity"]),
            speeds=SpeedProfile.hcmc(
                offpeak_centre_kmh=float(f["offpeak_centre_kmh"]),
                offpeak_outer_kmh=float(f["offpeak_outer_kmh"]),
                peak_centre_kmh=float(f["peak_centre_kmh"]), peak_outer_kmh=float(f["peak_outer_kmh"])))
            for name, f in figures.items()}, default)


def matrix_for(matrix: DistanceMatrix | ProfileMatrices, profile: str | None) -> DistanceMatrix:
    """The matrix a courier of ``profile`` travels by: a plain matrix serves every profile."""
    if isinstance(matrix, ProfileMatrices):
        return matrix.for_profile(profile)
    return matrix


class OsrmError(RuntimeError):
    """The OSRM table service failed or answered something other than ``Ok``."""


@dataclass(frozen=True)
class OsrmTableMatrix:
    """OSRM ``/table/v1/driving`` adapter; large sets are fetched in blocks of ``block`` points.

    Points are (lat, lon); OSRM wants lon,lat. Unreachable pairs (null) become ``UNREACHABLE``.
    ``during`` is ignored: OSRM's table is not time-dependent.
    """

    base_url: str
    profile: str = "driving"
    block: int = 100
    timeout_s: float = 30.0

    def table(self, points: Sequence[Point], *, during: tuple[int, int] | None = None) -> TravelTable:
        import requests  # optional dependency, only for this adapter

        n = len(points)
        distance = np.zeros((n, n), dtype=np.int64)
        duration = np.zeros((n, n), dtype=np.int64)
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        base = f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coords}"
        blocks = [list(range(i, min(i + self.block, n))) for i in range(0, n, self.block)]
        with requests.Session() as session:
            for src in blocks:
                for dst in blocks:
                    params = {"annotations": "duration,distance"}
                    if len(blocks) > 1:
                        params["sources"] = ";".join(map(str, src))
                        params["destinations"] = ";".join(map(str, dst))
                    try:
                        resp = session.get(base, params=params, timeout=self.timeout_s)
                        body = resp.json()
                    except (requests.RequestException, ValueError) as exc:
                        raise OsrmError(f"OSRM table request failed: {type(exc).__name__}") from exc
                    if resp.status_code != 200 or body.get("code") != "Ok":
                        raise OsrmError(f"OSRM table answered {resp.status_code} {body.get('code')}")
                    distance[np.ix_(src, dst)] = _osrm_block(body.get("distances"), len(src), len(dst))
                    duration[np.ix_(src, dst)] = _osrm_block(body.get("durations"), len(src), len(dst))
        np.fill_diagonal(distance, 0)
        np.fill_diagonal(duration, 0)
        return TravelTable(distance_m=distance, duration_s=duration)


def _osrm_block(rows: Any, n_src: int, n_dst: int) -> np.ndarray:
    if rows is None or len(rows) != n_src or any(len(r) != n_dst for r in rows):
        raise OsrmError("OSRM table answer has the wrong shape or lacks an annotation")
    out = np.empty((n_src, n_dst), dtype=np.int64)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            out[i, j] = UNREACHABLE if value is None else round(value)
    return out

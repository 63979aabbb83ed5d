"""Distance matrices: hand-computed haversine values, the speed profile, OSRM against a local fake."""
from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from postal_svc.routing.matrix import (
    UNREACHABLE,
    CentreZone,
    HaversineMatrix,
    OsrmError,
    OsrmTableMatrix,
    PlanarMatrix,
    SpeedBand,
    SpeedProfile,
    haversine_m,
)

R = 6_371_008.8
ONE_DEGREE_M = R * math.pi / 180  # 111,195.08 m along a meridian


def test_one_degree_of_latitude_is_111_195_m_straight_and_1_35x_on_the_road() -> None:
    assert haversine_m(10.0, 106.0, 11.0, 106.0) == pytest.approx(ONE_DEGREE_M, abs=0.01)
    table = HaversineMatrix(circuity=1.35, speeds=SpeedProfile(offpeak_outer_kmh=25.0)).table([(10.0, 106.0), (11.0, 106.0)])
    assert table.distance_m[0, 1] == round(ONE_DEGREE_M * 1.35) == 150_113
    assert table.distance_m[1, 0] == table.distance_m[0, 1]
    assert table.distance_m[0, 0] == 0
    # 150,113.4 m at 25 km/h (6.944 m/s) = 21,616.3 s
    assert table.duration_s[0, 1] == round(ONE_DEGREE_M * 1.35 / (25 / 3.6)) == 21_616


def test_one_degree_of_longitude_at_latitude_10_is_shorter_by_cos_lat() -> None:
    # along a parallel the haversine of small spans is ~ R * dlon * cos(lat)
    d = haversine_m(10.0, 106.0, 10.0, 106.01)
    assert d == pytest.approx(R * math.radians(0.01) * math.cos(math.radians(10.0)), rel=1e-6)
    assert d == pytest.approx(1095.05, abs=0.05)


def test_peak_band_and_centre_zone_slow_the_courier_down() -> None:
    speeds = SpeedProfile(
        offpeak_centre_kmh=20.0,
        offpeak_outer_kmh=25.0,
        bands=(SpeedBand(7 * 3600, 9 * 3600, centre_kmh=15.0, outer_kmh=20.0),),
        centre=CentreZone(lat=10.0, lon=106.0, radius_m=2_000.0),
    )
    m = HaversineMatrix(circuity=1.0, speeds=speeds)
    centre, near, far = (10.0, 106.0), (10.009, 106.0), (10.0, 106.1)  # near: ~1 km, inside
    off = m.table([centre, near, far], during=(13 * 3600, 17 * 3600))
    peak = m.table([centre, near, far], during=(7 * 3600 + 1800, 11 * 3600 + 1800))
    d_near = haversine_m(10.0, 106.0, 10.009, 106.0)
    assert off.duration_s[0, 1] == round(d_near / (20 / 3.6))  # both ends in the centre
    assert peak.duration_s[0, 1] == round(d_near / (15 / 3.6))
    d_far = haversine_m(10.0, 106.0, 10.0, 106.1)
    # centre -> outside: half the way at each end's speed
    assert off.duration_s[0, 2] == round(d_far / 2 / (20 / 3.6) + d_far / 2 / (25 / 3.6))
    assert peak.duration_s[0, 2] == round(d_far / 2 / (15 / 3.6) + d_far / 2 / (20 / 3.6))
    assert (off.distance_m == peak.distance_m).all()  # traffic changes time, not distance


def test_a_1000_point_matrix_is_whole_symmetric_in_distance_and_zero_on_the_diagonal() -> None:
    # Its speed (well under 100 ms) is measured by bench/routing_day.py, not asserted here:
    # these machines are shared, so a timed test would only be noise.
    rng = np.random.default_rng(1)
    pts = list(zip(rng.uniform(10.6, 11.0, 1000), rng.uniform(106.5, 106.9, 1000)))
    table = HaversineMatrix().table(pts, during=(27_000, 41_400))
    assert table.distance_m.shape == table.duration_s.shape == (1000, 1000)
    assert table.distance_m.dtype == table.duration_s.dtype == np.int64
    assert (table.distance_m == table.distance_m.T).all()
    assert not table.distance_m.diagonal().any() and not table.duration_s.diagonal().any()
    assert (table.distance_m[~np.eye(1000, dtype=bool)] > 0).all()


def test_planar_matrix_rounds_euclidean_distances_like_tsplib() -> None:
    t = PlanarMatrix().table([(0, 0), (3, 4), (1, 1)])
    assert t.distance_m.tolist() == [[0, 5, 1], [5, 0, 4], [1, 4, 0]]  # sqrt(2)->1, sqrt(13)->4
    scaled = PlanarMatrix(scale=1000).table([(0, 0), (1, 1)])
    assert scaled.distance_m[0, 1] == 1414 and scaled.duration_s[0, 1] == 1414


# -- OSRM against a fake table service on 127.0.0.1 ------------------------------------------------

class _FakeOsrm(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []
    answer_code = "Ok"

    def do_GET(self) -> None:
        url = urlsplit(self.path)  # not urlparse: it cuts ";" path params
        type(self).requests.append(self.path)
        coords = url.path.split("/table/v1/driving/")[1].split(";")
        pts = [tuple(map(float, c.split(","))) for c in coords]  # lon,lat
        q = parse_qs(url.query)
        src = [int(i) for i in q["sources"][0].split(";")] if "sources" in q else list(range(len(pts)))
        dst = [int(i) for i in q["destinations"][0].split(";")] if "destinations" in q else list(range(len(pts)))
        # fake road: 1000 m per 0.01 degree of lon difference + lat difference, 10 m/s
        def dist(i: int, j: int) -> Any:
            if {i, j} == {0, 2}:
                return None  # unreachable pair
            return (abs(pts[i][0] - pts[j][0]) + abs(pts[i][1] - pts[j][1])) * 100_000

        body = {
            "code": type(self).answer_code,
            "distances": [[dist(i, j) for j in dst] for i in src],
            "durations": [[None if dist(i, j) is None else dist(i, j) / 10 for j in dst] for i in src],
        }
        raw = json.dumps(body).encode()
        self.send_response(200 if type(self).answer_code == "Ok" else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def osrm_url() -> Iterator[str]:
    _FakeOsrm.requests = []
    _FakeOsrm.answer_code = "Ok"
    server = HTTPServer(("127.0.0.1", 0), _FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_osrm_table_is_read_in_blocks_with_lon_lat_order_and_unreachable_pairs(osrm_url: str) -> None:
    points = [(10.00, 106.00), (10.01, 106.00), (10.00, 106.02)]  # (lat, lon)
    table = OsrmTableMatrix(osrm_url, block=2).table(points)
    assert len(_FakeOsrm.requests) == 4  # 2 source blocks x 2 destination blocks
    assert "annotations=duration%2Cdistance" in _FakeOsrm.requests[0]
    assert "106.000000,10.000000" in _FakeOsrm.requests[0]  # lon,lat
    assert table.distance_m[0, 1] == 1000 and table.duration_s[0, 1] == 100
    assert table.distance_m[1, 2] == 3000 and table.duration_s[2, 1] == 300
    assert table.distance_m[0, 2] == UNREACHABLE and table.duration_s[2, 0] == UNREACHABLE
    assert np.diag(table.distance_m).tolist() == [0, 0, 0]


def test_osrm_error_answer_raises_osrm_error(osrm_url: str) -> None:
    _FakeOsrm.answer_code = "InvalidQuery"
    with pytest.raises(OsrmError):
        OsrmTableMatrix(osrm_url).table([(10.0, 106.0), (10.01, 106.0)])


def test_osrm_unreachable_server_raises_osrm_error() -> None:
    with pytest.raises(OsrmError):
        OsrmTableMatrix("http://127.0.0.1:9", timeout_s=2).table([(10.0, 106.0), (10.01, 106.0)])

"""Look-ups by code and by point over the 2025 wards of the gazetteer."""
from __future__ import annotations

from postal_svc.geo.gazetteer import Gazetteer, Province, Ward, get_gazetteer
from postal_svc.geo.resolver import distance_m


def ward_by_code(code: str, gazetteer: Gazetteer | None = None) -> Ward | None:
    """The 2025 ward with this official code, if the gazetteer knows it."""
    return (gazetteer or get_gazetteer()).wards.get(code)


def province_by_code(code: str, gazetteer: Gazetteer | None = None) -> Province | None:
    """The 2025 province with this code (e.g. "79", Thành phố Hồ Chí Minh)."""
    return (gazetteer or get_gazetteer()).provinces.get(code)


def nearest_ward(lat: float, lon: float, *, province_code: str | None = None,
                 gazetteer: Gazetteer | None = None) -> tuple[Ward, float] | None:
    """The 2025 ward whose centre is nearest to the point, with the distance in metres.

    There are no ward outlines in the gazetteer, so this is the nearest centre: good enough
    to name the ward of a point a dispatcher picked on a map, and reported as such.
    """
    g = gazetteer or get_gazetteer()
    best: tuple[Ward, float] | None = None
    for ward in g.wards.values():
        if province_code is not None and ward.province_code != province_code:
            continue
        d = distance_m((lat, lon), (ward.lat, ward.lon))
        if best is None or d < best[1]:
            best = (ward, d)
    return best


def wards_of_province(province_code: str, gazetteer: Gazetteer | None = None) -> list[Ward]:
    """Every 2025 ward of a province, by code."""
    g = gazetteer or get_gazetteer()
    return sorted((w for w in g.wards.values() if w.province_code == province_code),
                  key=lambda w: w.code)

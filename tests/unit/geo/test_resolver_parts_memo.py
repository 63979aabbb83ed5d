"""The resolver remembers how it read address parts; the street line and the point still count."""
from __future__ import annotations

from postal_svc.geo.resolver import AddressResolver

PARTS = {"ward": "Phường Linh Trung", "district": "Thành phố Thủ Đức",
         "province": "Thành phố Hồ Chí Minh"}


def test_the_same_parts_are_read_once_and_each_answer_keeps_its_own_line_and_point():
    resolver = AddressResolver()
    first = resolver.resolve(line="12 Đường số 7", **PARTS)
    second = resolver.resolve(line="3 Hoàng Diệu 2", **PARTS)
    with_point = resolver.resolve(line="5 Kha Vạn Cân", lat=10.8702, lon=106.7785, **PARTS)
    assert resolver._read_parts.cache_info().hits == 2
    assert (first.line, second.line, with_point.line) == (
        "12 Đường số 7", "3 Hoàng Diệu 2", "5 Kha Vạn Cân")
    assert first.ward_code == second.ward_code == with_point.ward_code
    assert (first.precision, with_point.precision) == ("ward", "street")
    assert (with_point.lat, with_point.lon) == (10.8702, 106.7785)
    assert first == resolver.resolve(line="12 Đường số 7", **PARTS)


def test_a_fresh_resolver_gives_the_same_answers_as_a_remembering_one():
    warm, cold = AddressResolver(), AddressResolver()
    for ward in ("Phường 7", "Phường Bến Nghé", "Phường Linh Trung", "Phường 7"):
        parts = {**PARTS, "ward": ward, "district": "Quận 3" if ward == "Phường 7" else None}
        warm.resolve(line="1 A", **parts)
        assert warm.resolve(line="1 A", **parts) == AddressResolver().resolve(line="1 A", **parts)
    assert cold._read_parts.cache_info().hits == 0

"""Every unit of the gazetteer, written out with its official names, resolves to where the mapping says.

Expectations come from the gazetteer's own mapping tables (old ward -> default new ward), not from the
resolver: this checks that no name is unreachable or shadowed by another unit nationwide.
"""
from __future__ import annotations

from postal_svc.geo.gazetteer import get_gazetteer
from postal_svc.geo.resolver import AddressResolver


def test_every_old_ward_written_in_full_resolves_to_its_default_new_ward_and_never_confidently_elsewhere() -> None:
    g = get_gazetteer()
    resolver = AddressResolver()
    wrong, confident_wrong = [], []
    for ow in g.old_wards.values():
        district, province = g.old_districts[ow.district_code], g.old_provinces[ow.province_code]
        res = resolver.resolve(f"{ow.name}, {district.name}, {province.name}")
        if res.ward_code != ow.default_successor:
            wrong.append((ow.name, district.name, province.name, res.ward_code))
            if not res.ambiguous:
                confident_wrong.append(wrong[-1])
    assert confident_wrong == []
    assert len(wrong) / len(g.old_wards) < 0.005, wrong[:20]


def test_every_new_ward_written_with_its_province_resolves_to_itself_and_never_confidently_elsewhere() -> None:
    g = get_gazetteer()
    resolver = AddressResolver()
    wrong, confident_wrong = [], []
    for w in g.wards.values():
        res = resolver.resolve(f"{w.name}, {g.provinces[w.province_code].name}")
        if res.ward_code != w.code:
            wrong.append((w.name, w.province_code, res.ward_code))
            if not res.ambiguous:
                confident_wrong.append(wrong[-1])
    assert confident_wrong == []
    assert len(wrong) / len(g.wards) < 0.005, wrong[:20]

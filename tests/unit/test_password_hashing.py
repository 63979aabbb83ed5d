"""Console passwords: scrypt at a memory-hard cost, salted, checkable at any stored cost."""
from __future__ import annotations

from postal_svc.access import staff


def test_new_hashes_use_the_production_cost_32_mib_of_scrypt(monkeypatch):
    assert staff.SCRYPT_COST == (2 ** 15, 8, 1)
    monkeypatch.setattr(staff, "scrypt_cost", staff.SCRYPT_COST)
    stored = staff.hash_password("correct-horse-battery")
    assert stored.startswith("scrypt$32768$8$1$")
    assert staff.check_password(stored, "correct-horse-battery")
    assert not staff.check_password(stored, "correct-horse-batterz")


def test_a_hash_made_at_another_cost_still_checks(monkeypatch):
    monkeypatch.setattr(staff, "scrypt_cost", (2 ** 11, 8, 1))
    old = staff.hash_password("correct-horse-battery")
    monkeypatch.setattr(staff, "scrypt_cost", staff.SCRYPT_COST)
    assert old.startswith("scrypt$2048$")
    assert staff.check_password(old, "correct-horse-battery")


def test_a_malformed_stored_hash_never_checks():
    for stored in ("", "scrypt$", "bcrypt$1$2$3$x$y", "scrypt$x$8$1$AAAA$AAAA"):
        assert not staff.check_password(stored, "anything")

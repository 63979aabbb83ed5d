"""Masking on public pages and tracking-number spelling (pure functions)."""
from __future__ import annotations

import unicodedata

import pytest

from postal_svc.shipments.lifecycle import FailureReason, Kind, Status
from postal_svc.shipments.tracking import (
    FAILURE_REASON_LABELS, STATUS_LABELS, failure_reason_label, mask_name,
    normalize_tracking_number, status_label)


@pytest.mark.parametrize("name, masked", [
    ("Nguyễn Văn An", "N*** V*** A"),
    ("  Nguyễn   Văn\tAn ", "N*** V*** A"),
    ("Trần Thị Bích Ngọc", "T*** T*** B*** N"),
    ("Ánh", "Á"),
    ("Đỗ Đức", "Đ*** Đ"),
    ("", ""),
    ("   ", ""),
])
def test_a_name_is_masked_to_initials_with_the_given_name_reduced_to_its_first_letter(
        name, masked):
    assert mask_name(name) == masked


def test_a_decomposed_name_is_masked_like_the_composed_one():
    assert mask_name(unicodedata.normalize("NFD", "Ánh Đặng")) == "Á*** Đ"


def test_masking_never_keeps_more_than_one_letter_of_any_word():
    masked = mask_name("Nguyễn Văn An")
    assert "guy" not in masked and "ăn" not in masked


@pytest.mark.parametrize("typed", ["RR123456785VN", "rr123456785vn", " RR 1234 5678 5 VN ",
                                   "RR-1234-5678-5-VN", "rr.12345678.5.vn"])
def test_tracking_numbers_are_read_however_people_type_them(typed):
    assert normalize_tracking_number(typed) == "RR123456785VN"


@pytest.mark.parametrize("typed", ["", "RR123456784VN", "RR12345678VN", "RR1234567855VN",
                                   "x" * 500])
def test_malformed_tracking_numbers_are_refused(typed):
    assert normalize_tracking_number(typed) is None


def test_every_status_and_failure_reason_has_a_label_in_both_languages():
    assert set(STATUS_LABELS) == set(Status)
    assert set(FAILURE_REASON_LABELS) == set(FailureReason)
    for vi, en in [*STATUS_LABELS.values(), *FAILURE_REASON_LABELS.values()]:
        assert vi and en and vi != en


def test_out_for_delivery_reads_differently_for_a_dossier_going_to_the_agency():
    assert status_label("out_for_delivery", Kind.RESULT_DELIVERY.value).en == "Out for delivery"
    assert status_label("out_for_delivery", Kind.DOSSIER_PICKUP.value).en == \
        "On the way to the agency"


def test_an_unknown_failure_reason_reads_as_other():
    assert failure_reason_label("meteor_strike").en == "Other reason"

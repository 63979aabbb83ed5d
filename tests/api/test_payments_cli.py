"""The payment side of the `postal-svc` command: the reconciliation job by hand, and `serve`
starting localstripe when no Stripe key is configured."""
from __future__ import annotations

import os
import urllib.request

import pytest

from postal_svc import cli
from postal_svc.stripe_emulator import PUBLISHABLE_KEY, SECRET_KEY
from tests.api.test_cli import database_file, run, upgraded  # noqa: F401  (fixtures)

STRIPE_VARIABLES = ("POSTAL_STRIPE_SECRET_KEY", "POSTAL_STRIPE_PUBLISHABLE_KEY",
                    "POSTAL_STRIPE_API_BASE", "POSTAL_STRIPE_JS_URL",
                    "POSTAL_STRIPE_WEBHOOK_SECRET")


@pytest.fixture
def no_stripe_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No POSTAL_STRIPE_* now, and none left behind by the test."""
    for name in STRIPE_VARIABLES:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_reconciling_by_hand_needs_a_stripe_key(upgraded, no_stripe_env):  # noqa: F811
    result = upgraded("jobs", "reconcile-payments")
    assert result.exit_code != 0 and "POSTAL_STRIPE_SECRET_KEY" in result.output


def test_reconciling_by_hand_settles_nothing_when_nothing_is_open(
        upgraded, no_stripe_env, localstripe, monkeypatch):  # noqa: F811
    monkeypatch.setenv("POSTAL_STRIPE_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("POSTAL_STRIPE_API_BASE", localstripe.url)
    result = upgraded("jobs", "reconcile-payments")
    assert result.exit_code == 0, result.output
    assert "reconciled: 0 events, 0 payments, 0 refunds and cancellations" in result.output


def test_serve_without_a_stripe_key_starts_localstripe_and_points_the_app_at_it(no_stripe_env):
    emulator = cli._start_embedded_stripe("0.0.0.0", 8000)
    try:
        assert os.environ["POSTAL_STRIPE_SECRET_KEY"] == SECRET_KEY
        assert os.environ["POSTAL_STRIPE_PUBLISHABLE_KEY"] == PUBLISHABLE_KEY
        assert os.environ["POSTAL_STRIPE_API_BASE"] == emulator.url
        assert emulator.url.startswith("http://127.0.0.1:")
        assert os.environ["POSTAL_STRIPE_JS_URL"] == f"{emulator.url}/js.stripe.com/v3/"
        assert os.environ["POSTAL_STRIPE_WEBHOOK_SECRET"].startswith("whsec_")
        with urllib.request.urlopen(os.environ["POSTAL_STRIPE_JS_URL"], timeout=5) as answer:
            assert b"localstripe" in answer.read()
    finally:
        emulator.stop()
    assert emulator.process.poll() is not None

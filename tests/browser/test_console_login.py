"""The console's sign-in in real Chromium: a dispatcher signs in; five wrong passwords lock."""
from __future__ import annotations

import pytest

from tests.browser.conftest import console_sign_in, screenshot

pytestmark = pytest.mark.browser


def test_a_dispatcher_signs_in_and_a_guesser_is_locked_out(console_world, laptop):
    url = console_world["url"]
    console_sign_in(laptop, url, "dieuphoi")
    assert laptop.locator("h1").inner_text() == "Hôm nay"
    assert "dieuphoi" in laptop.locator("header .who").inner_text()
    screenshot(laptop, "console-today.png")
    laptop.click("header form button")  # sign out
    laptop.wait_for_url("**/console/login")

    for _ in range(5):
        laptop.fill("#username", "dieuphoi")
        laptop.fill("#password", "not-the-password")
        laptop.click("form.card button[type=submit]")
        laptop.wait_for_load_state()
    alert = laptop.locator("[role=alert]").inner_text()
    assert "bị khóa đến" in alert and "giờ Việt Nam" in alert
    laptop.fill("#username", "dieuphoi")
    laptop.fill("#password", console_world["password"])
    laptop.click("form.card button[type=submit]")
    laptop.wait_for_load_state()
    assert "/console/login" in laptop.url
    assert "bị khóa đến" in laptop.locator("[role=alert]").inner_text()
    screenshot(laptop, "console-locked-out.png")

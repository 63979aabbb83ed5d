"""The geo package is pure: no web or ORM framework, no build-time data package, no network at run time."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

_PROBE = textwrap.dedent(
    """
    import socket, sys

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    class NoNetworkSocket(socket.socket):
        connect = connect_ex = sendto = refuse

    socket.socket = NoNetworkSocket
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    from postal_svc.geo import resolve_address
    from postal_svc.geo.geocoders import GazetteerGeocoder, GeocoderChain

    assert resolve_address("12 duong so 7 phuong linh trung thu duc").ward_code == "26794"
    assert GeocoderChain().resolve("Phường Bến Nghé, Quận 1").ward_code == "26740"
    assert GazetteerGeocoder().geocode("Phường Bến Nghé, Quận 1") is not None
    forbidden = ("flask", "marshmallow", "sqlalchemy", "webargs", "vietnamadminunits")
    print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in forbidden)))
    """
)


def test_resolving_and_geocoding_import_no_framework_and_open_no_socket() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_every_geo_module_has_a_docstring() -> None:
    import ast

    for path in sorted((REPO / "postal_svc" / "geo").glob("*.py")):
        assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), path.name

"""The routing core is pure: it imports no web or ORM framework, and PyVRP only when solving."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

_PROBE = textwrap.dedent(
    """
    import sys
    from postal_svc.routing import checker, matrix, model, solver  # noqa: F401
    before = "pyvrp" in sys.modules
    forbidden = ("flask", "flask_smorest", "marshmallow", "sqlalchemy", "webargs")
    print(before, ",".join(sorted(m for m in sys.modules if m.split(".")[0] in forbidden)))
    """
)


def test_routing_modules_import_no_framework_and_defer_pyvrp() -> None:
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"

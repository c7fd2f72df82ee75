"""Cold start: importing the app loads only what every request needs.

Jinja (pages), PyJWT with cryptography (token verification) and qrcode (QR codes) load
with the first request that uses them, so a download redirect never pays for them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # imports the app in a subprocess

ROOT = Path(__file__).resolve().parent.parent
ROUTE_SPECIFIC = ("jinja2", "jwt", "cryptography", "qrcode", "png")
# Modules of packages every request loads, kept out of the cold start too: mail (and the stdlib's
# email.headerregistry with it) loads with the first mail, the tables of more_models with the first
# route that needs them; cookies are read without http.cookies.
ROUTE_SPECIFIC_MODULES = ("chalicelib.mail", "chalicelib.more_models", "email.headerregistry", "http.cookies")

_IMPORTED_AFTER = """
import json, sys
import app
before = sorted({name.split(".")[0] for name in sys.modules})
loaded = sorted(sys.modules)
from chalicelib import auth, pages, qr
pages.render("error.html", site="", status=404, title="t", message="m", hint=None, signed_in_as=None)
qr.svg("https://example.test/s/x")
auth._jwt()
after = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"before": before, "loaded": loaded, "after": after}))
"""


def _imported() -> dict[str, list[str]]:
    # A deployed stage: the local stage also loads the hosted-login stand-in, which signs tokens.
    env = {**os.environ, "HANDOVER_STAGE": "prod", "AWS_DEFAULT_REGION": "eu-west-1"}
    result = subprocess.run(
        [sys.executable, "-c", _IMPORTED_AFTER], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_importing_the_app_leaves_route_specific_libraries_unloaded() -> None:
    imported = _imported()

    assert not set(ROUTE_SPECIFIC) & set(imported["before"])
    assert not set(ROUTE_SPECIFIC_MODULES) & set(imported["loaded"])
    # The same probe sees them once a page, a QR code and a token check have used them.
    assert set(ROUTE_SPECIFIC) <= set(imported["after"])

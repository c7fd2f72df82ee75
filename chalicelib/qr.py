"""QR codes of link URLs, as SVG (no imaging library needed) and PNG (pure-Python pypng)."""

from __future__ import annotations

import io
from types import ModuleType
from typing import Any


def _qrcode() -> ModuleType:
    """The qrcode package: imported with the first QR code drawn, not at cold start."""
    import qrcode
    import qrcode.image.pure
    import qrcode.image.svg

    return qrcode


def _code(url: str) -> Any:
    qrcode = _qrcode()
    # Medium error correction survives a crease or a smudge on a printed code.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def svg(url: str) -> str:
    buffer = io.BytesIO()
    _code(url).make_image(image_factory=_qrcode().image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue().decode()


def png(url: str) -> bytes:
    buffer = io.BytesIO()
    _code(url).make_image(image_factory=_qrcode().image.pure.PyPNGImage).save(buffer)
    return buffer.getvalue()

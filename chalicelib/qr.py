"""QR codes of link URLs, as SVG (no imaging library needed) and PNG (pure-Python pypng)."""

from __future__ import annotations

import io

import qrcode
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage


def _code(url: str) -> qrcode.QRCode:
    # Medium error correction survives a crease or a smudge on a printed code.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def svg(url: str) -> str:
    buffer = io.BytesIO()
    _code(url).make_image(image_factory=SvgPathImage).save(buffer)
    return buffer.getvalue().decode()


def png(url: str) -> bytes:
    buffer = io.BytesIO()
    _code(url).make_image(image_factory=PyPNGImage).save(buffer)
    return buffer.getvalue()

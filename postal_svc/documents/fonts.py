"""Fonts for PDFs: Vietnamese needs a TrueType font with its glyphs (ạ, ế, ữ, đ...).

The first font found among `FONT_CANDIDATES` that covers them is embedded (DejaVu Sans, Debian's
fonts-dejavu-core, is the first). Without one, documents fall back to Helvetica and strip the
diacritics, so they stay readable, and say so.
"""
from __future__ import annotations

import logging
import os
import threading
import unicodedata
from typing import Sequence

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
             "/usr/local/share/fonts", "/Library/Fonts", "C:\\Windows\\Fonts")
# (regular, bold) file names, tried in every directory of FONT_DIRS.
FONT_CANDIDATES = (("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
                   ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
                   ("arial.ttf", "arialbd.ttf"))
FALLBACK_FONT = ("Helvetica", "Helvetica-Bold")
_VIETNAMESE_SAMPLE = "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĐ"


_fonts_lock = threading.Lock()
_fonts: tuple[str, str] | None = None


def _covers_vietnamese(font: TTFont) -> bool:
    char_to_glyph = getattr(font.face, "charToGlyph", {})
    return all(ord(char) in char_to_glyph for char in _VIETNAMESE_SAMPLE)


def find_fonts(dirs: Sequence[str] = FONT_DIRS) -> tuple[str, str]:
    """Register (once per process) and return the (regular, bold) font names to use."""
    global _fonts
    with _fonts_lock:
        if _fonts is not None and dirs == FONT_DIRS:
            return _fonts
        chosen = FALLBACK_FONT
        for regular, bold in FONT_CANDIDATES:
            paths = [next((os.path.join(d, name) for d in dirs
                           if os.path.isfile(os.path.join(d, name))), None)
                     for name in (regular, bold)]
            if paths[0] is None:
                continue
            try:
                face = TTFont("Statement-" + regular.rsplit(".", 1)[0], paths[0])
            except Exception:  # a broken font file must not break statements
                log.warning("cannot read font %s", paths[0])
                continue
            if not _covers_vietnamese(face):
                continue
            pdfmetrics.registerFont(face)
            bold_name = face.fontName
            if paths[1] is not None:
                try:
                    bold_face = TTFont(face.fontName + "-Bold", paths[1])
                    pdfmetrics.registerFont(bold_face)
                    bold_name = bold_face.fontName
                except Exception:
                    log.warning("cannot read font %s", paths[1])
            chosen = (face.fontName, bold_name)
            break
        else:
            log.warning("no font with Vietnamese glyphs found in %s; statements use Helvetica "
                        "without diacritics (install fonts-dejavu-core)", ", ".join(dirs))
        if dirs == FONT_DIRS:
            _fonts = chosen
        return chosen


def strip_diacritics(text: str) -> str:
    """Vietnamese text in ASCII letters, for a font without Vietnamese glyphs."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(c))


def format_vnd(amount: int) -> str:
    """Integer VND the Vietnamese way: 1234567 -> "1.234.567", -5200 -> "-5.200"."""
    return f"{amount:,}".replace(",", ".")



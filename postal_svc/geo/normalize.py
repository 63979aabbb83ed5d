"""Normalisation of Vietnamese address text: NFC, case-folding, diacritic-free keys, tokens, abbreviations."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "NUMBER_WORDS",
    "NUMBER_WORDS_FOLDED",
    "Level",
    "Marker",
    "Token",
    "accent_key",
    "compact_key",
    "fold",
    "has_diacritics",
    "nfc",
    "tokenize",
]


def _build_fold_table() -> dict[int, str | None]:
    """Map every precomposed Latin letter to its base letter and drop combining marks.

    str.translate with a prebuilt table is several times faster than NFD + filtering per
    call, which matters because every address goes through here.
    """
    table: dict[int, str | None] = {}
    for cp in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if base != ch and base.isascii():
            table[cp] = base
    for cp in range(0x0300, 0x0370):  # combining diacritical marks, for input that arrives decomposed
        table[cp] = None
    # đ/Đ have no decomposition in Unicode, so NFD alone would keep them.
    table[ord("đ")] = "d"
    table[ord("Đ")] = "D"
    return table


_FOLD_TABLE = _build_fold_table()
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


def nfc(text: str) -> str:
    """Return *text* in Unicode NFC with surrounding white space removed."""
    return unicodedata.normalize("NFC", text).strip()


def fold(text: str) -> str:
    """Case-fold and strip Vietnamese diacritics (đ -> d): ``"Phường Linh Trung"`` -> ``"phuong linh trung"``."""
    return unicodedata.normalize("NFC", text).casefold().translate(_FOLD_TABLE)


def has_diacritics(text: str) -> bool:
    """True when *text* carries any Vietnamese diacritic (so accents can be trusted to disambiguate)."""
    return not text.isascii() and text.translate(_FOLD_TABLE) != text


def compact_key(text: str) -> str:
    """Diacritic-free, space-free lookup key; numbers lose leading zeros (``"Phường 07"`` -> ``"phuong7"``)."""
    return _LEADING_ZEROS.sub("", _NON_ALNUM.sub("", fold(text)))


def accent_key(text: str) -> str:
    """Space-free key that keeps diacritics; used only to tell apart names that fold alike (Cẩm Giang/Cẩm Giàng)."""
    return "".join(ch for ch in unicodedata.normalize("NFC", text).casefold() if ch.isalnum())


class Level(Enum):
    """Administrative level a type word announces."""

    WARD = "ward"
    DISTRICT = "district"
    PROVINCE = "province"


@dataclass(frozen=True, slots=True)
class Marker:
    """A unit-type word ("Phường", "Q.", "TP.") found in the text, with the levels it can announce."""

    levels: frozenset[Level]
    unit_type: str | None  # official type word, e.g. "Phường"; None for "TP" (district or province)
    hard: bool  # False when the word may just as well be part of a name ("quan" in "Quan Hoa")


@dataclass(frozen=True, slots=True)
class Token:
    """One word of the input with its position, folded and accented forms and segment number."""

    fold: str  # diacritic-free, lower case, leading zeros removed from numbers
    accent: str  # lower case with diacritics, as written
    start: int  # character offsets into the NFC text
    end: int
    segment: int  # index of the comma-separated part the token belongs to
    marker: Marker | None = None  # set when this token (alone or as first of a pair) is a type word
    marker_len: int = 0  # number of tokens the marker spans (2 for "thị xã")
    street: bool = False  # a street word ("đường", "phố", "hẻm") that makes the next words a street name
    ignorable: bool = False  # "Việt Nam", a postcode: allowed after the province without penalty


_W = frozenset({Level.WARD})
_D = frozenset({Level.DISTRICT})
_P = frozenset({Level.PROVINCE})
_DP = frozenset({Level.DISTRICT, Level.PROVINCE})

# Full type words, keyed by their folded token sequence. The accented spelling tells a real
# type word ("quận") from a name syllable that folds alike ("Quán Thánh", "Phương Liệt").
_FULL_MARKERS: dict[tuple[str, ...], tuple[frozenset[Level], str | None, str]] = {
    ("phuong",): (_W, "Phường", "phường"),
    ("xa",): (_W, "Xã", "xã"),
    ("thi", "tran"): (_W, "Thị trấn", "thịtrấn"),
    ("dac", "khu"): (_W, "Đặc khu", "đặckhu"),
    ("quan",): (_D, "Quận", "quận"),
    ("huyen",): (_D, "Huyện", "huyện"),
    ("thi", "xa"): (_D, "Thị xã", "thịxã"),
    ("thanh", "pho"): (_DP, None, "thànhphố"),
    ("tinh",): (_P, "Tỉnh", "tỉnh"),
    # English forms seen on forms filled by foreigners and in data exports.
    ("ward",): (_W, "Phường", "ward"),
    ("commune",): (_W, "Xã", "commune"),
    ("district",): (_D, None, "district"),
    ("province",): (_P, "Tỉnh", "province"),
}

# Abbreviations are unambiguous type words once recognised as standalone tokens.
_ABBREVIATIONS: dict[str, tuple[frozenset[Level], str | None]] = {
    "p": (_W, "Phường"),
    "ph": (_W, "Phường"),
    "f": (_W, "Phường"),  # "F.7": an old typewriter habit for phường
    "x": (_W, "Xã"),
    "tt": (_W, "Thị trấn"),
    "q": (_D, "Quận"),
    "h": (_D, "Huyện"),
    "tx": (_D, "Thị xã"),
    "tp": (_DP, None),
}

# Spelt-out numbers ("Quận Nhất", "Phường Bảy"), read as numbers only right after a type word.
# Keys are the accented spellings; ASCII input is matched on the folded form.
NUMBER_WORDS: dict[str, str] = {
    "một": "1", "nhất": "1", "hai": "2", "nhì": "2", "ba": "3", "bốn": "4", "tư": "4", "năm": "5",
    "sáu": "6", "bảy": "7", "bẩy": "7", "tám": "8", "chín": "9", "mười": "10",
}
NUMBER_WORDS_FOLDED: dict[str, str] = {
    word.translate(_FOLD_TABLE): digit for word, digit in NUMBER_WORDS.items()
}

_STREET_WORDS = frozenset({"duong", "pho", "hem", "ngo", "ngach", "kiet", "hxh", "street", "st", "road"})
_STREET_ACCENTED = frozenset({"đường", "phố", "hẻm", "ngõ", "ngách", "kiệt"})
_IGNORABLE = frozenset({"viet", "nam", "vietnam", "vn", "city"})

# One token: a house number with slashes/dashes ("12/3A", "12-14") or a run of letters/digits.
# Apostrophes stay inside a word: "H'Leo", "M'Drắk" are one syllable each (and "H" is not Huyện).
_TOKEN_RE = re.compile(r"\d+(?:[/\-]\w+)+|[^\W_]+(?:['’/][^\W_]+)*")
# Hard boundaries between address parts. A dash is not one: "Bà Rịa - Vũng Tàu" is one name.
_SEGMENT_RE = re.compile(r"[,;\n\r|()\[\]]")
# "P7", "F.07" glued, "Q9": a ward/district abbreviation stuck to its number.
_GLUED_NUMBER_RE = re.compile(r"^(p|f|q|ph)(\d{1,2})$")


def _raw_tokens(text: str) -> list[tuple[str, int, int, int]]:
    """Split NFC text into (word, start, end, segment) tuples."""
    out: list[tuple[str, int, int, int]] = []
    boundaries = [m.start() for m in _SEGMENT_RE.finditer(text)]
    seg = 0
    b = 0
    for m in _TOKEN_RE.finditer(text):
        while b < len(boundaries) and boundaries[b] < m.start():
            seg += 1
            b += 1
        out.append((m.group(), m.start(), m.end(), seg))
    return out


def _fold_token(word: str) -> str:
    folded = word.casefold().translate(_FOLD_TABLE).replace("'", "").replace("’", "")
    if folded.isdigit():
        return str(int(folded))
    return folded


def tokenize(text: str) -> tuple[Token, ...]:
    """Tokenise NFC *text*, expanding abbreviations ("P.7", "TP.HCM", "Q9") and tagging type and street words.

    Offsets refer to *text*, so callers can cut the street line out of the original string.
    """
    raw = _raw_tokens(text)
    tokens: list[Token] = []
    for word, start, end, seg in raw:
        accent = word.casefold()
        folded = _fold_token(word)
        glued = _GLUED_NUMBER_RE.match(folded)
        if glued:
            # "P7" -> type word + number, both pointing at the same characters.
            levels, unit_type = _ABBREVIATIONS[glued.group(1)]
            marker = Marker(levels, unit_type, hard=True)
            tokens.append(Token(glued.group(1), glued.group(1), start, start + len(glued.group(1)), seg, marker, 1))
            tokens.append(Token(str(int(glued.group(2))), glued.group(2), start + len(glued.group(1)), end, seg))
            continue
        tokens.append(Token(folded, accent, start, end, seg))
    return _tag(tokens)


def _tag(tokens: list[Token]) -> tuple[Token, ...]:
    """Mark type words, street words and ignorable words in place."""
    n = len(tokens)
    out = list(tokens)
    i = 0
    while i < n:
        tok = out[i]
        if tok.marker is not None:
            i += 1
            continue
        # "T.P." splits into "t", "p": rejoin it as the abbreviation "tp".
        if tok.fold == "t" and i + 1 < n and out[i + 1].fold == "p" and out[i + 1].segment == tok.segment:
            levels, unit_type = _ABBREVIATIONS["tp"]
            out[i] = _with(tok, marker=Marker(levels, unit_type, True), marker_len=2)
            i += 2
            continue
        matched = False
        for length in (2, 1):
            if i + length > n:
                continue
            seq = tuple(t.fold for t in out[i:i + length])
            spec = _FULL_MARKERS.get(seq)
            if spec is None or any(t.segment != tok.segment for t in out[i:i + length]):
                continue
            levels, unit_type, accented = spec
            written = "".join(t.accent for t in out[i:i + length])
            if written == accented:
                hard = True
            elif has_diacritics(written):
                # Written with other accents: "Quán", "Phương" are name syllables, not type words.
                continue
            else:
                hard = False
            out[i] = _with(tok, marker=Marker(levels, unit_type, hard), marker_len=length)
            i += length
            matched = True
            break
        if matched:
            continue
        if tok.fold in _ABBREVIATIONS and i + 1 < n and out[i + 1].segment == tok.segment:
            # A lone "p", "q", "tp" only abbreviates a type word when a name follows it.
            levels, unit_type = _ABBREVIATIONS[tok.fold]
            out[i] = _with(tok, marker=Marker(levels, unit_type, True), marker_len=1)
        elif tok.fold in _STREET_WORDS and (tok.accent in _STREET_ACCENTED or tok.accent.isascii()):
            out[i] = _with(tok, street=True)
        elif tok.fold in _IGNORABLE or (tok.fold.isdigit() and len(tok.fold) >= 5):
            out[i] = _with(tok, ignorable=True)
        i += 1
    return tuple(out)


def _with(
    tok: Token,
    *,
    marker: Marker | None = None,
    marker_len: int = 0,
    street: bool = False,
    ignorable: bool = False,
) -> Token:
    # Spelled out rather than dataclasses.replace: this runs for every word of every address.
    return Token(tok.fold, tok.accent, tok.start, tok.end, tok.segment, marker, marker_len, street, ignorable)

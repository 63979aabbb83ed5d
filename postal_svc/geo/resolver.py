"""Resolve a Vietnamese address (free text or parts, old or new units) to a 2025 ward, honestly flagging ambiguity.

How it reads an address. The text is tokenised (``normalize.tokenize``), then every run of up to a few
words inside one comma-separated part is looked up as a unit name. Vietnamese addresses go from small
to large, so a reading is a choice of (ward, district, province) matches placed left to right, with the
street in front. Each reading is scored: found units, type words that agree ("P.", "Quận"), few
unexplained words between and after them, no typo correction. The best reading wins; readings that
score almost as well but point at other wards make the answer ambiguous rather than confidently wrong.
"""
from __future__ import annotations

import math
from functools import lru_cache
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from postal_svc.geo.gazetteer import Gazetteer, OldDistrict, OldProvince, OldWard, Ward, get_gazetteer
from postal_svc.geo.normalize import (
    NUMBER_WORDS,
    NUMBER_WORDS_FOLDED,
    Level,
    Marker,
    Token,
    accent_key,
    has_diacritics,
    nfc,
    tokenize,
)

__all__ = ["AddressResolution", "AddressResolver", "Precision", "distance_m", "resolve_address"]

Precision = Literal["street", "ward", "unresolved"]
Units = Literal["old", "new"]

DEFAULT_PROVINCE_CODE = "79"
DEFAULT_STREET_RADIUS_M = 3000.0

# Scores. Their ratios matter, not their scale: a ward outweighs anything the other parts add, a
# type word that agrees is worth more than one unexplained word, a typo costs more than a gap.
_W_WARD = 10.0
_W_DISTRICT = 4.0
_W_PROVINCE = 3.0
_W_SPAN_TOKEN = 0.1  # prefer "Tân Phú Trung" to "Phú Trung" when both are names
_W_MARKER_HARD = 2.0
_W_MARKER_SOFT = 1.0
_W_TYPE_AGREES = 0.5
_P_TYPE_DISAGREES = 0.5  # "Thị trấn Củ Chi" is the old town, not the new "Xã Củ Chi"
# Outweighs a ward's lead over a district: "Quận Ba Đình" names the old district even though
# Phường Ba Đình exists too.
_P_MARKER_WRONG_HARD = 7.0
_P_MARKER_WRONG_SOFT = 0.5
_P_STREET_WORD = 4.0  # "Đường Lê Lợi" names a street even when Lê Lợi is also a ward somewhere
_P_GAP = 1.0
_P_TYPO = 1.5
# Accents written but different from the name's ("Thanh An" for Xã Thạnh An): weaker evidence, not none,
# since Southern writers often confuse "Thanh" and "Thạnh".
_P_ACCENT_MISMATCH = 0.75
_P_WRONG_DISTRICT = 2.5
_P_NEW_WARD_OLD_DISTRICT_AGREES = 0.5
_P_NEW_WARD_OLD_DISTRICT_DISAGREES = 3.0
_P_OLD_PROVINCE_NOT_NAMED = 1.0
_P_INFERRED_PROVINCE = 2.0
# A district or province with its type word ("thị xã Thuận An") left in the street part means the
# reading skipped a unit: "thị xã Thuận An, Bình Dương" is not Phường Bình Dương.
_P_UNIT_IN_LINE = 3.0
_B_NEW_WARD_WITHOUT_DISTRICT = 0.5  # a 2-level address is how people write since 2025-07-01
# Readings within this many points of the best one that lead elsewhere make the answer ambiguous.
_AMBIGUITY_MARGIN = 1.0
# Real addresses have about 5-25 words; units sit at the end. Reading only the last words keeps
# the cost bounded for pasted paragraphs (the words before still go to the street line).
_MAX_TOKENS = 32
# Slack around an old ward's bounding box when deciding a point lies "in" it (about 300 m).
_BBOX_MARGIN_DEG = 0.003


@dataclass(frozen=True, slots=True)
class AddressResolution:
    """Where an address is, in 2025 units. ``candidates`` lists new ward codes when ``ambiguous``."""

    line: str | None
    ward_code: str | None
    ward_name: str | None
    province_code: str | None
    province_name: str | None
    old_ward_code: str | None
    old_ward_name: str | None
    old_district_name: str | None
    old_province_name: str | None
    lat: float | None
    lon: float | None
    precision: Precision
    ambiguous: bool
    candidates: tuple[str, ...]
    units: Units | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (candidates as a list)."""
        out = asdict(self)
        out["candidates"] = list(self.candidates)
        return out


# ---------------------------------------------------------------------------------------------
# Internal reading model
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Span:
    i: int  # first token
    j: int  # one past the last token
    key: str
    typos: int  # tokens replaced by a typo correction
    accent: str  # accent-keeping key of the words as written; "" when the whole text has no accents


@dataclass(frozen=True, slots=True)
class _Placed:
    """A span read at one level, with the type word in front of it (if any) already judged."""

    span: _Span
    start: int  # first token including the type word in front
    score: float
    # Where the unit before this one must end: before the type word, unless that word may be part
    # of the previous name ("xa son tinh quang ngai": "tinh" ends Sơn Tịnh and announces the province).
    boundary: int


@dataclass(slots=True)
class _Outcome:
    province_code: str
    candidates: tuple[str, ...] = ()
    default: str | None = None
    units: Units | None = None
    old_ward: OldWard | None = None
    old_district: OldDistrict | None = None
    old_province: OldProvince | None = None
    split: bool = False


@dataclass(slots=True)
class _Reading:
    score: float
    start: int  # first token of the leftmost part: the street line ends there
    outcome: _Outcome
    ward_span: _Span | None = None
    ward_marked: bool = False
    end: int = 0  # one past the last token of the rightmost part read
    province_at: int = -1  # first token of the written province, -1 when none was written


@dataclass(frozen=True, slots=True)
class _ProvinceChoice:
    new_code: str
    named_old: frozenset[str]  # old provinces the written name denotes (empty: none written)
    placed: _Placed | None
    inferred: bool = False
    names_new: bool = False  # the written name is that of the new province ("TP.HCM", not "Bình Dương")


# Address parts (ward, district, province) read recently, per resolver. A government system
# sends the same few spellings of its own wards again and again; only the street line differs,
# and the line plays no part in reading the units.
PARTS_CACHE_SIZE = 4096


class AddressResolver:
    """Resolves addresses against a gazetteer. Safe to share between threads: after
    construction its only state is a memo of readings of address parts, which never change."""

    def __init__(
        self,
        gazetteer: Gazetteer | None = None,
        *,
        default_province_code: str = DEFAULT_PROVINCE_CODE,
        street_radius_m: float = DEFAULT_STREET_RADIUS_M,
    ) -> None:
        self._g = gazetteer
        self.default_province_code = default_province_code
        self.street_radius_m = street_radius_m
        self._deletes: dict[str, tuple[str, ...]] | None = None
        self._read_parts = lru_cache(maxsize=PARTS_CACHE_SIZE)(self._read)

    @property
    def gazetteer(self) -> Gazetteer:
        if self._g is None:
            self._g = get_gazetteer()
        return self._g

    # -- public -------------------------------------------------------------------------------
    def resolve(
        self,
        text: str | None = None,
        *,
        line: str | None = None,
        ward: str | None = None,
        district: str | None = None,
        province: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        default_province_code: str | None = None,
    ) -> AddressResolution:
        """Resolve free text *or* address parts to a new (2025) ward.

        Never raises for an address it cannot read: it answers ``precision="unresolved"``. Raises
        ``ValueError`` for misuse: both text and parts given, an unknown default province, or a
        point with only one coordinate or outside WGS84 ranges.
        """
        g = self.gazetteer
        default_code = default_province_code or self.default_province_code
        if default_code not in g.provinces:
            raise ValueError(f"unknown default province code {default_code!r}")
        point = _check_point(lat, lon)
        structured = any(v is not None for v in (line, ward, district, province))
        if text is not None and structured:
            raise ValueError("give either the address text or its parts (line, ward, district, province), not both")

        if structured:
            parse_text, street_line = _compose(ward, district, province), (nfc(line) if line else None)
            tokens, readings = self._read_parts(parse_text, default_code)
        else:
            parse_text, street_line = nfc(text or ""), None
            tokens, readings = self._read(parse_text, default_code)
        # _decide sorts its list: each call gets its own (the readings themselves are not changed).
        return self._decide(list(readings), tokens, parse_text, street_line, structured, point)

    def _read(self, parse_text: str, default_code: str) -> tuple[Sequence[Token], tuple[_Reading, ...]]:
        tokens = tuple(tokenize(parse_text)[-_MAX_TOKENS:])
        return tokens, tuple(self._readings(tokens, default_code))

    # -- reading the text ---------------------------------------------------------------------
    def _readings(self, tokens: Sequence[Token], default_code: str) -> list[_Reading]:
        g = self.gazetteer
        n = len(tokens)
        spans = self._spans(tokens)
        markers = _markers_ending_at(tokens)
        # counted[k]: words before token k that need explaining ("Việt Nam", postcodes do not).
        counted = [0] * (n + 1)
        for k, t in enumerate(tokens):
            counted[k + 1] = counted[k] + (0 if t.ignorable else 1)

        def gap(a: int, b: int) -> int:
            return counted[b] - counted[a] if b > a else 0

        district_spans = [sp for sp in spans if sp.key in g.district_keys]
        ward_spans = [sp for sp in spans if sp.key in g.ward_keys]

        # Ends of spans that a hard district/province type word announces, for _P_UNIT_IN_LINE.
        unit_ends = [
            sp.j for sp in spans
            if (m := markers[sp.i]) is not None and m.hard and Level.WARD not in m.levels
            and (sp.key in g.district_national_index or sp.key in g.province_index)
        ]
        readings: list[_Reading] = []
        for pc in self._province_choices(spans, tokens, markers, default_code):
            first = len(readings)
            p_end = pc.placed.boundary if pc.placed else n
            p_score = (pc.placed.score if pc.placed else 0.0) - (_P_INFERRED_PROVINCE if pc.inferred else 0.0)
            trailing = gap(pc.placed.span.j, n) if pc.placed else 0
            old_scope = g.old_provinces_of.get(pc.new_code, ())
            named_old_province = g.old_provinces[next(iter(pc.named_old))] if len(pc.named_old) == 1 else None

            # District choices: none, or an old district of an old province in scope.
            districts: list[tuple[OldDistrict | None, _Placed | None]] = [(None, None)]
            for sp in district_spans:
                if sp.j > p_end:
                    continue
                for op in old_scope:
                    found = g.district_index.get((op, sp.key))
                    if not found:
                        continue
                    found, accent_penalty = _prefer_accent(found, sp, g, "d")
                    for d in found:
                        placed = self._place(sp, tokens, markers, Level.DISTRICT, d.unit_type, _W_DISTRICT)
                        if placed is None:
                            continue
                        penalty = 0.0 if not pc.named_old or op in pc.named_old else _P_OLD_PROVINCE_NOT_NAMED
                        score = placed.score - penalty - accent_penalty
                        districts.append((d, _Placed(placed.span, placed.start, score, placed.boundary)))

            for d, d_placed in districts:
                w_end = d_placed.boundary if d_placed else p_end
                base = p_score - _P_GAP * trailing
                if d_placed:
                    base += d_placed.score - _P_GAP * gap(d_placed.span.j, p_end)
                # Reading without a ward: district (or province) only.
                outcome = _Outcome(pc.new_code, old_district=d, old_province=named_old_province)
                if d is not None:
                    outcome.old_province = g.old_provinces[d.province_code]
                    outcome.units = "old"
                    if d.special_ward_code:  # island district: the district is the new unit
                        outcome.candidates = (d.special_ward_code,)
                        outcome.default = d.special_ward_code
                        base += _W_WARD / 2
                start = d_placed.start if d_placed else (pc.placed.start if pc.placed else n)
                readings.append(_Reading(base, start, outcome, end=d_placed.span.j if d_placed else 0))
                first_ward = len(readings)
                self._ward_readings(readings, ward_spans, tokens, markers, counted, pc, old_scope, d, w_end, base)
                for r in readings[first_ward:]:
                    r.end = d_placed.span.j if d_placed else (r.ward_span.j if r.ward_span else 0)
            for r in readings[first:]:
                if pc.placed is not None:
                    r.province_at = pc.placed.span.i
                    r.end = pc.placed.span.j
                skipped = sum(1 for end in unit_ends if end <= r.start)
                r.score -= _P_UNIT_IN_LINE * skipped
        return readings

    def _ward_readings(
        self,
        readings: list[_Reading],
        spans: Sequence[_Span],
        tokens: Sequence[Token],
        markers: Sequence[Marker | None],
        counted: Sequence[int],
        pc: _ProvinceChoice,
        old_scope: Sequence[str],
        district: OldDistrict | None,
        w_end: int,
        base: float,
    ) -> None:
        g = self.gazetteer
        for sp in spans:
            if sp.j > w_end:
                continue
            gap_after = counted[w_end] - counted[sp.j]
            # New wards of the (new) province.
            found_new = g.ward_index.get((pc.new_code, sp.key))
            if found_new:
                found_new, accent_penalty = _prefer_accent(found_new, sp, g, "n")
                for w in found_new:
                    placed = self._place(sp, tokens, markers, Level.WARD, w.unit_type, _W_WARD)
                    if placed is None:
                        continue
                    score = base + placed.score - _P_GAP * gap_after - accent_penalty
                    if pc.named_old and not pc.names_new:
                        # A new ward under a pre-2025 province name ("Phường Dĩ An, Bình Dương"):
                        # fine if the ward lies in that old province, suspicious if not.
                        if pc.named_old & g.new_ward_source_provinces.get(w.code, frozenset()):
                            score -= _P_NEW_WARD_OLD_DISTRICT_AGREES
                        else:
                            score -= _P_NEW_WARD_OLD_DISTRICT_DISAGREES
                    if district is None:
                        score += _B_NEW_WARD_WITHOUT_DISTRICT
                    elif district.code in g.new_ward_source_districts.get(w.code, ()):
                        score -= _P_NEW_WARD_OLD_DISTRICT_AGREES
                    else:
                        score -= _P_NEW_WARD_OLD_DISTRICT_DISAGREES
                    outcome = _Outcome(pc.new_code, (w.code,), w.code, "new")
                    readings.append(_Reading(score, placed.start, outcome, sp, _is_marked(markers, sp.i, Level.WARD)))
            # Old wards.
            if district is not None:
                in_district = g.old_ward_district_index.get((district.code, sp.key), ())
                if in_district:
                    in_district, accent_penalty = _prefer_accent(in_district, sp, g, "o")
                    for ow in in_district:
                        self._old_ward_reading(
                            readings, sp, tokens, markers, pc, (ow,), base, gap_after, accent_penalty
                        )
                    continue
                # Wrong district: accept the ward only if its name is unique in the district's own
                # old province ("Phường 7, Quận 1" is not old Vũng Tàu's one Phường 7).
                elsewhere = g.old_ward_province_index.get((district.province_code, sp.key), ())
                if len(elsewhere) == 1:
                    _, accent_penalty = _prefer_accent(elsewhere, sp, g, "o")
                    self._old_ward_reading(
                        readings, sp, tokens, markers, pc, elsewhere, base, gap_after,
                        _P_WRONG_DISTRICT + accent_penalty,
                    )
            else:
                found: list[OldWard] = []
                penalty = 0.0
                for op in old_scope:
                    hits = g.old_ward_province_index.get((op, sp.key))
                    if hits:
                        found.extend(hits)
                        if pc.named_old and op not in pc.named_old:
                            penalty = _P_OLD_PROVINCE_NOT_NAMED
                if found:
                    chosen, accent_penalty = _prefer_accent(tuple(found), sp, g, "o")
                    if pc.named_old and any(ow.province_code in pc.named_old for ow in chosen):
                        # "Phường Tân Định, TP.HCM": the named old province's ward, not Bình Dương's namesake.
                        chosen = tuple(ow for ow in chosen if ow.province_code in pc.named_old)
                        penalty = 0.0
                    self._old_ward_reading(
                        readings, sp, tokens, markers, pc, chosen, base, gap_after, penalty + accent_penalty
                    )

    def _old_ward_reading(
        self,
        readings: list[_Reading],
        sp: _Span,
        tokens: Sequence[Token],
        markers: Sequence[Marker | None],
        pc: _ProvinceChoice,
        old_wards: Sequence[OldWard],
        base: float,
        gap_after: int,
        penalty: float,
    ) -> None:
        g = self.gazetteer
        unit_type = old_wards[0].unit_type if len({ow.unit_type for ow in old_wards}) == 1 else None
        placed = self._place(sp, tokens, markers, Level.WARD, unit_type, _W_WARD)
        if placed is None:
            return
        score = base + placed.score - _P_GAP * gap_after - penalty
        codes = tuple(sorted({s.ward_code for ow in old_wards for s in ow.successors}))
        defaults = {ow.default_successor for ow in old_wards}
        outcome = _Outcome(pc.new_code, codes, next(iter(defaults)) if len(defaults) == 1 else None, "old")
        if len(old_wards) == 1:
            ow = old_wards[0]
            outcome.old_ward = ow
            outcome.old_district = g.old_districts[ow.district_code]
            outcome.old_province = g.old_provinces[ow.province_code]
            outcome.split = ow.is_split
        elif len({ow.province_code for ow in old_wards}) == 1:
            outcome.old_province = g.old_provinces[old_wards[0].province_code]
        readings.append(_Reading(score, placed.start, outcome, sp, _is_marked(markers, sp.i, Level.WARD)))

    def _province_choices(
        self,
        spans: Sequence[_Span],
        tokens: Sequence[Token],
        markers: Sequence[Marker | None],
        default_code: str,
    ) -> list[_ProvinceChoice]:
        g = self.gazetteer
        choices: list[_ProvinceChoice] = [_ProvinceChoice(default_code, frozenset(), None)]
        longest_ending: dict[int, int] = {}
        for sp in spans:
            if sp.key in g.province_index:
                longest_ending[sp.j] = min(longest_ending.get(sp.j, sp.i), sp.i)
        for sp in spans:
            hits = g.province_index.get(sp.key)
            if not hits or longest_ending[sp.j] != sp.i:
                # "Bà Rịa - Vũng Tàu" is one province, not Phường Bà Rịa followed by "Vũng Tàu".
                continue
            placed = self._place(sp, tokens, markers, Level.PROVINCE, None, _W_PROVINCE)
            if placed is None:
                continue
            by_new: dict[str, set[str]] = {}
            named_new: set[str] = set()
            for kind, code in hits:
                new_code = code if kind == "new" else g.old_provinces[code].new_province_code
                olds = by_new.setdefault(new_code, set())
                if kind == "old":
                    olds.add(code)
                else:
                    named_new.add(code)
            for new_code, olds in by_new.items():
                choices.append(_ProvinceChoice(new_code, frozenset(olds), placed, names_new=new_code in named_new))
        # No province written: a district or new ward whose name exists in one province only tells it.
        inferred: set[str] = set()
        for sp in spans:
            if sp.key.isdigit():
                continue
            ds = g.district_national_index.get(sp.key, ())
            provinces = {g.old_provinces[d.province_code].new_province_code for d in ds}
            if _is_marked(markers, sp.i, Level.WARD):
                provinces |= g.ward_key_provinces.get(sp.key, frozenset())
            if len(provinces) == 1:
                inferred |= provinces
        inferred.discard(default_code)
        for code in sorted(inferred):
            choices.append(_ProvinceChoice(code, frozenset(), None, inferred=True))
        return choices

    def _place(
        self,
        sp: _Span,
        tokens: Sequence[Token],
        markers: Sequence[Marker | None],
        level: Level,
        unit_type: str | None,
        weight: float,
    ) -> _Placed | None:
        """Score a span read at *level*, looking at the type word in front of it."""
        marker = markers[sp.i]
        numeric = sp.key.isdigit()
        score = weight + _W_SPAN_TOKEN * (sp.j - sp.i) - _P_TYPO * sp.typos
        start = sp.i
        if marker is not None:
            start = sp.i - _marker_len(tokens, sp.i)
            if level in marker.levels:
                score += _W_MARKER_HARD if marker.hard else _W_MARKER_SOFT
                if unit_type is not None and marker.unit_type is not None:
                    score += _W_TYPE_AGREES if marker.unit_type == unit_type else -_P_TYPE_DISAGREES
            elif marker.hard:
                if numeric:
                    return None  # "Quận 7" is never Phường 7
                score -= _P_MARKER_WRONG_HARD
            else:
                score -= _P_MARKER_WRONG_SOFT
                start = sp.i
        elif numeric:
            return None  # a bare number is a house number, not a ward
        if numeric and (marker is None or level not in marker.levels):
            return None
        if marker is None and sp.i > 0 and tokens[sp.i - 1].street and level is not Level.PROVINCE:
            score -= _P_STREET_WORD
        boundary = sp.i if marker is not None and not marker.hard else start
        return _Placed(sp, start, score, boundary)

    def _spans(self, tokens: Sequence[Token]) -> list[_Span]:
        """All runs of name words inside one comma part whose key the gazetteer knows (typos corrected once)."""
        g = self.gazetteer
        n = len(tokens)
        keys = g.all_keys
        max_len = g.max_span_tokens
        blocked = _hard_marker_tokens(tokens)
        markers = _markers_ending_at(tokens)
        # Accents count as evidence only in text written with accents: there "Thanh" means Thanh,
        # not Thạnh; in text typed without any, every name is a candidate.
        accented = any(has_diacritics(t.accent) for t in tokens)
        fixes = [self._corrections(t) if not blocked[k] else () for k, t in enumerate(tokens)]
        out: list[_Span] = []
        for i in range(n):
            if blocked[i]:
                continue
            seg = tokens[i].segment
            # Variants: (key so far, typo count). At most one corrected word per span keeps this linear.
            variants: list[tuple[str, int]] = [("", 0)]
            for j in range(i, min(n, i + max_len)):
                tok = tokens[j]
                if tok.segment != seg:
                    break
                if blocked[j] and (j == i or tok.marker is None or tok.marker_len != 1):
                    # A one-word type word may end a name ("Xã Tứ Quận", "Xã Tân Xã"), never start one.
                    break
                nxt = [(k + tok.fold, t) for k, t in variants]
                if fixes[j]:
                    nxt += [(k + fix, t + 1) for k, t in variants if t == 0 for fix in fixes[j]]
                variants = nxt
                for key, typos in variants:
                    if key in keys:
                        accent = ""
                        if accented and not typos:
                            accent = accent_key("".join(x.accent for x in tokens[i:j + 1]))
                        out.append(_Span(i, j + 1, key, typos, accent))
            number = _number_word(tokens[i], accented)
            if number is not None and (m := markers[i]) is not None and m.hard and number in keys:
                out.append(_Span(i, i + 1, number, 0, ""))  # "Quận Nhất" = Quận 1
        return out

    def _corrections(self, tok: Token) -> tuple[str, ...]:
        """Vocabulary words one edit (insert, delete, substitute, swap) away from an unknown word of >= 5 letters."""
        word = tok.fold
        if len(word) < 5 or not word.isalpha():
            return ()
        g = self.gazetteer
        if word in g.vocabulary:
            return ()
        deletes = self._delete_index()
        found: set[str] = set(deletes.get(word, ()))
        for k in range(len(word)):
            variant = word[:k] + word[k + 1:]
            if variant in g.vocabulary:
                found.add(variant)
            found.update(deletes.get(variant, ()))
        found = {f for f in found if _within_one_edit(word, f)}
        return tuple(sorted(found))[:4]

    def _delete_index(self) -> dict[str, tuple[str, ...]]:
        """Symmetric-delete index of the vocabulary: one-letter deletions -> words (built once)."""
        if self._deletes is None:
            index: dict[str, set[str]] = {}
            for word in self.gazetteer.vocabulary:
                if len(word) < 4 or not word.isalpha():
                    continue
                for k in range(len(word)):
                    index.setdefault(word[:k] + word[k + 1:], set()).add(word)
            self._deletes = {k: tuple(sorted(v)) for k, v in index.items()}
        return self._deletes

    # -- deciding -----------------------------------------------------------------------------
    def _decide(
        self,
        readings: list[_Reading],
        tokens: Sequence[Token],
        text: str,
        street_line: str | None,
        structured: bool,
        point: tuple[float, float] | None,
    ) -> AddressResolution:
        g = self.gazetteer
        readings.sort(key=lambda r: r.score, reverse=True)
        best = readings[0]
        line = street_line if structured else _line(text, tokens, best.start)

        if not best.outcome.candidates:
            district = best.outcome.old_district
            if district is not None:
                # An old district but no ward: the answer is one of the wards it became.
                wards = {s.ward_code for ow in g.old_wards_of_district.get(district.code, ()) for s in ow.successors}
                return self._unresolved(best.outcome, line, tuple(sorted(wards)), bool(wards))
            return self._unresolved(best.outcome, line, (), False)

        candidates = list(best.outcome.candidates)
        ambiguous = len(candidates) > 1
        tied_default: set[str] = {best.outcome.default} if best.outcome.default else set()
        for r in readings[1:]:
            if r.score < best.score - _AMBIGUITY_MARGIN:
                break
            if not r.outcome.candidates or set(r.outcome.candidates) == set(best.outcome.candidates):
                continue
            if r.ward_span is None and best.ward_span is not None:
                continue  # district-only readings do not compete with a found ward
            if r.outcome.default is not None and r.outcome.default == best.outcome.default:
                continue  # another reading, same answer: "Văn Miếu - Quốc Tử Giám" old or new
            ambiguous = True
            candidates += [c for c in r.outcome.candidates if c not in candidates]
            if r.score == best.score:
                # An exact tie with a reading that has another (or no) default: no sensible default.
                tied_default.add(r.outcome.default or "")
        # "Phú Nhuận, TP.HCM": a new ward or the old district of that name? Same words, no type word.
        if best.outcome.units == "new" and best.ward_span is not None and not best.ward_marked:
            for op in g.old_provinces_of.get(best.outcome.province_code, ()):
                for d in g.district_index.get((op, best.ward_span.key), ()):
                    became = g.old_wards_of_district.get(d.code, ())
                    extra = sorted({s.ward_code for ow in became for s in ow.successors})
                    if set(extra) - set(candidates):
                        ambiguous = True
                        candidates += [c for c in extra if c not in candidates]

        if best.province_at < 0 and any(r.province_at >= best.end for r in readings):
            # The text names a province the best reading could not use ("Bến Nghé, Quận 1, Hà Nội"):
            # contradictory, so the answer is a guess, not a fact.
            ambiguous = True

        outcome = best.outcome
        chosen: str | None = outcome.default if len(tied_default) == 1 else None
        point_chose = False
        if ambiguous and point is not None:
            picked = self._pick_by_point(candidates, point, outcome)
            if picked is not None:
                chosen, point_chose = picked, True
        if ambiguous and point_chose:
            ambiguous = False
        if chosen is None:
            return self._unresolved(outcome, line, tuple(sorted(candidates)), ambiguous)

        ward = g.wards[chosen]
        province = g.provinces[ward.province_code]
        precision: Precision = "ward"
        lat, lon = ward.lat, ward.lon
        if point is not None and self._point_fits(point, ward, outcome.old_ward):
            precision = "street"
            lat, lon = point
        old = outcome.old_ward
        old_district = outcome.old_district or (g.old_districts[old.district_code] if old else None)
        old_province = outcome.old_province if outcome.units == "old" else None
        return AddressResolution(
            line=line,
            ward_code=ward.code,
            ward_name=ward.name,
            province_code=province.code,
            province_name=province.name,
            old_ward_code=old.code if old else None,
            old_ward_name=old.name if old else None,
            old_district_name=old_district.name if old_district and outcome.units == "old" else None,
            old_province_name=old_province.name if old_province else None,
            lat=lat,
            lon=lon,
            precision=precision,
            ambiguous=ambiguous,
            candidates=tuple(sorted(candidates)) if ambiguous else (),
            units=outcome.units,
        )

    def _unresolved(
        self, outcome: _Outcome, line: str | None, candidates: tuple[str, ...], ambiguous: bool
    ) -> AddressResolution:
        g = self.gazetteer
        province = g.provinces.get(outcome.province_code)
        return AddressResolution(
            line=line,
            ward_code=None,
            ward_name=None,
            province_code=province.code if province else None,
            province_name=province.name if province else None,
            old_ward_code=None,
            old_ward_name=None,
            old_district_name=outcome.old_district.name if outcome.old_district else None,
            old_province_name=outcome.old_province.name if outcome.old_province and outcome.units == "old" else None,
            lat=None,
            lon=None,
            precision="unresolved",
            ambiguous=ambiguous,
            candidates=candidates if ambiguous else (),
            units=outcome.units,
        )

    def _pick_by_point(
        self, candidates: Sequence[str], point: tuple[float, float], outcome: _Outcome
    ) -> str | None:
        """The candidate whose centre is nearest the point, if the point is plausibly in the area at all.

        For a split old ward the point must lie in (or near) the old ward; otherwise within the street
        radius of the chosen centre. A point far from everything says nothing about which ward.
        """
        g = self.gazetteer
        dist = sorted((distance_m(point, (g.wards[c].lat, g.wards[c].lon)), c) for c in candidates)
        if len(dist) > 1 and math.isclose(dist[0][0], dist[1][0], abs_tol=1.0):
            return None
        best_d, best_code = dist[0]
        ow = outcome.old_ward
        if outcome.split and ow is not None and set(candidates) == {s.ward_code for s in ow.successors}:
            if _in_bbox(point, ow.bbox) or distance_m(point, (ow.lat, ow.lon)) <= self.street_radius_m:
                return best_code
            return None
        return best_code if best_d <= self.street_radius_m else None

    def _point_fits(self, point: tuple[float, float], ward: Ward, old_ward: OldWard | None) -> bool:
        if distance_m(point, (ward.lat, ward.lon)) <= self.street_radius_m:
            return True
        return old_ward is not None and _in_bbox(point, old_ward.bbox)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _compose(ward: str | None, district: str | None, province: str | None) -> str:
    """Join address parts into one text, one comma part each, so parts never run into each other.

    A bare number is a ward or district number ("7" in the ward field is Phường 7).
    """
    parts: list[str] = []
    if ward and ward.strip():
        w = nfc(ward)
        parts.append(f"Phường {w}" if w.isdigit() else w)
    if district and district.strip():
        d = nfc(district)
        parts.append(f"Quận {d}" if d.isdigit() else d)
    if province and province.strip():
        parts.append(nfc(province))
    return ", ".join(parts)


def _check_point(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise ValueError("give both lat and lon, or neither")
    lat_f, lon_f = float(lat), float(lon)
    if not (-90.0 <= lat_f <= 90.0 and -180.0 <= lon_f <= 180.0) or math.isnan(lat_f) or math.isnan(lon_f):
        raise ValueError(f"point out of range: {lat}, {lon}")
    return lat_f, lon_f


def _markers_ending_at(tokens: Sequence[Token]) -> list[Marker | None]:
    """markers[i]: the type word that ends right before token i, if any."""
    out: list[Marker | None] = [None] * (len(tokens) + 1)
    for k, t in enumerate(tokens):
        if t.marker is not None and k + t.marker_len <= len(tokens):
            out[k + t.marker_len] = t.marker
    return out


def _marker_len(tokens: Sequence[Token], i: int) -> int:
    for length in (1, 2):
        k = i - length
        if k >= 0 and tokens[k].marker is not None and tokens[k].marker_len == length:
            return length
    return 0


def _hard_marker_tokens(tokens: Sequence[Token]) -> list[bool]:
    """Tokens that are certainly type words ("phường", "P.") and so never part of a name."""
    blocked = [False] * len(tokens)
    for k, t in enumerate(tokens):
        if t.marker is not None and t.marker.hard:
            for m in range(k, min(len(tokens), k + t.marker_len)):
                blocked[m] = True
    return blocked


def _number_word(tok: Token, accented: bool) -> str | None:
    """The digits a spelt-out number stands for ("bảy" -> "7"); in accented text "Nam" is not "năm"."""
    if accented:
        return NUMBER_WORDS.get(tok.accent)
    return NUMBER_WORDS_FOLDED.get(tok.fold)


def _is_marked(markers: Sequence[Marker | None], i: int, level: Level) -> bool:
    m = markers[i]
    return m is not None and level in m.levels


def _prefer_accent(units: Sequence[Any], sp: _Span, g: Gazetteer, prefix: str) -> tuple[tuple[Any, ...], float]:
    """Keep the units spelt exactly as written, when the text is written with accents.

    Returns the units and a penalty: none when some unit matches the accents (or there are none to
    compare), ``_P_ACCENT_MISMATCH`` when the text's accents fit none of them.
    """
    if not sp.accent:
        return tuple(units), 0.0
    same = tuple(u for u in units if g.accent_keys.get(prefix + u.code) == sp.accent)
    return (same, 0.0) if same else (tuple(units), _P_ACCENT_MISMATCH)


def _line(text: str, tokens: Sequence[Token], start: int) -> str | None:
    """The street part: the text before the first recognised unit, without trailing separators."""
    if not tokens:
        return nfc(text) or None
    end = tokens[start].start if start < len(tokens) else len(text)
    line = text[:end].strip().rstrip(",;-–—|/ ").strip()
    return line or None


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (insert, delete, substitute, or swap two neighbours)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [k for k in range(la) if a[k] != b[k]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    k = 0
    while k < len(a) and a[k] == b[k]:
        k += 1
    return a[k:] == b[k + 1:]


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres (haversine; exact enough at ward scale, and fast)."""
    lat1, lon1 = math.radians(a[0]), math.radians(a[1])
    lat2, lon2 = math.radians(b[0]), math.radians(b[1])
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _in_bbox(point: tuple[float, float], bbox: tuple[float, float, float, float] | None) -> bool:
    if bbox is None:
        return False
    s, w, n, e = bbox
    m = _BBOX_MARGIN_DEG
    return s - m <= point[0] <= n + m and w - m <= point[1] <= e + m


_default_resolver: AddressResolver | None = None


def resolve_address(
    text: str | None = None,
    *,
    line: str | None = None,
    ward: str | None = None,
    district: str | None = None,
    province: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    default_province_code: str = DEFAULT_PROVINCE_CODE,
) -> AddressResolution:
    """Resolve an address with the packaged gazetteer (see ``AddressResolver.resolve``).

    ``default_province_code`` is assumed when the address names no province (HCMC by default).
    """
    global _default_resolver
    if _default_resolver is None:
        _default_resolver = AddressResolver()
    return _default_resolver.resolve(
        text, line=line, ward=ward, district=district, province=province, lat=lat, lon=lon,
        default_province_code=default_province_code,
    )


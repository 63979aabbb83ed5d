"""The English catalogue: complete, and its committed .mo compiled from the current .po."""
from __future__ import annotations

import gettext
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "postal_svc" / "translations" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def read_catalog():
    with open(MESSAGES / "messages.po", "rb") as f:
        return read_po(f, locale="en")


def marked_strings() -> set[str]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_committed_mo_is_compiled_from_the_current_po(tmp_path):
    compiled = tmp_path / "messages.mo"
    with open(compiled, "wb") as f:
        write_mo(f, read_catalog())
    with open(compiled, "rb") as fresh, open(MESSAGES / "messages.mo", "rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == \
            gettext.GNUTranslations(fresh)._catalog, \
            "run: pybabel compile -d postal_svc/translations (and commit the .mo)"


def test_every_marked_string_has_an_english_translation_and_no_stale_ones_remain():
    catalog = read_catalog()
    translated = {m.id: m.string for m in catalog if m.id}
    marked = marked_strings()
    assert marked, "babel.cfg found no marked strings"
    assert sorted(marked - set(translated)) == [], "strings missing from messages.po"
    assert sorted(set(translated) - marked) == [], "strings no page uses any more"
    assert all(translated[m] for m in marked), "empty translations"
    assert not any(m.fuzzy for m in catalog if m.id)


def test_translations_keep_every_placeholder():
    for message in read_catalog():
        if message.id:
            assert sorted(PLACEHOLDER.findall(message.id)) == \
                sorted(PLACEHOLDER.findall(message.string)), message.id

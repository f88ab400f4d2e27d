"""Every user-facing string in code and templates has a German translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.frontend import CommandLineInterface

from app.i18n import LOCALE_DIR, translations

ROOT = Path(__file__).resolve().parents[2]


def test_german_catalog_translates_every_extracted_message(tmp_path):
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(LOCALE_DIR / "babel.cfg"),
            "-k",
            "N_",
            "-k",
            "lazy",
            "-k",
            "ngettext:1,2",
            "--no-location",
            "-o",
            str(pot),
            str(ROOT),
        ]
    )
    from babel.messages.pofile import read_po

    with pot.open("rb") as handle:
        template = read_po(handle)
    with (LOCALE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        german = read_po(handle, locale="de")
    missing = [m.id for m in template if m.id and not (german.get(m.id) and german.get(m.id).string)]
    assert missing == []


def test_german_translation_is_used():
    assert translations("de").gettext("Services") == "Leistungen"
    assert translations("en").gettext("Services") == "Services"

"""Every UI string has an English translation, so switching language never shows a gap."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("webapp/**.py", "python"), ("webapp/templates/**.html", "jinja2")]
#: gettext names the web app uses; `_l` is flask_babel.lazy_gettext (module-level strings).
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}


def test_every_ui_string_is_translated_to_english() -> None:
    with open(ROOT / "webapp/translations/en/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    found = {msg[2] if isinstance(msg[2], str) else msg[2][0]
             for msg in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS)}
    missing = sorted(m for m in found if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"untranslated: {missing}"

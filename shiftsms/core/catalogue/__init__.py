"""Reply texts per language: one module per language, each a reviewed catalogue.

Each module (``en.py``, ``es.py``, ``pl.py``) declares ``CODE``, ``NAME``, ``GSM_ONLY``,
``plural(n)`` and ``TEXTS``, a dict from a key (the English constant's name in
:mod:`shiftsms.core.replies`) to the text. A text may hold ``{name}`` fields, filled in when it
is sent; a tuple holds the plural forms, chosen by ``plural(n)``.

``GSM_ONLY`` (the default) means the texts are written with their accents and sent
transliterated to GSM-7 (``ą`` -> ``a``, ``ł`` -> ``l``, ``ó`` -> ``o``): 160 characters a
segment. A catalogue with ``GSM_ONLY = False`` is sent as written, in UCS-2 when it needs it,
and every text must then fit 70 characters a segment. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from shiftsms.core.catalogue import en, es, pl
from shiftsms.core.gsm import (
    GSM7_PART,
    GSM7_SINGLE,
    UCS2_PART,
    UCS2_SINGLE,
    septets,
    to_gsm7,
    truncate_septets,
)
from shiftsms.errors import InvalidInput

DEFAULT_LANGUAGE = "en"

# Letters whose accent NFKD does not split off (see shiftsms.core.gsm.to_gsm7).
_SPELLED_OUT = str.maketrans({"ł": "l", "Ł": "L"})

Text = str | tuple[str, ...]


def transliterate(text: str) -> str:
    """``text`` in GSM-7 letters only: accents dropped, ``ł`` spelled ``l``."""
    return to_gsm7(text.translate(_SPELLED_OUT))


class UnknownLanguage(InvalidInput):
    """A language code no catalogue has."""


@dataclass(frozen=True)
class Catalogue:
    """One language's reply texts, as they are sent (transliterated when ``gsm_only``)."""

    code: str
    name: str
    gsm_only: bool
    texts: Mapping[str, Text]
    plural: Callable[[int], int]

    @classmethod
    def load(cls, module: ModuleType) -> Catalogue:
        """The catalogue a language module declares."""
        gsm_only = bool(getattr(module, "GSM_ONLY", True))

        def sent(text: str) -> str:
            return transliterate(text) if gsm_only else text

        texts: dict[str, Text] = {
            key: tuple(sent(t) for t in value) if isinstance(value, tuple) else sent(value)
            for key, value in module.TEXTS.items()
        }
        return cls(module.CODE, module.NAME, gsm_only, texts, module.plural)

    def text(self, key: str, **values: object) -> str:
        """The text under ``key`` with its ``{fields}`` filled in."""
        value = self.texts[key]
        template = value if isinstance(value, str) else value[0]
        return template.format(**values) if values else template

    def count(self, key: str, n: int, **values: object) -> str:
        """The plural form of ``key`` for ``n`` (its ``{n}`` field filled in)."""
        value = self.texts[key]
        forms = (value,) if isinstance(value, str) else value
        form = forms[min(self.plural(n), len(forms) - 1)]
        return form.format(n=n, **values)

    @property
    def single(self) -> int:
        """Characters in one segment: 160 for a GSM-7 catalogue, 70 for a UCS-2 one."""
        return GSM7_SINGLE if self.gsm_only else UCS2_SINGLE

    def budget(self, max_segments: int) -> int:
        """Characters available in ``max_segments`` segments."""
        if max_segments <= 1:
            return self.single
        return (GSM7_PART if self.gsm_only else UCS2_PART) * max_segments

    def units(self, text: str) -> int:
        """Length of ``text`` as this catalogue's encoding counts it."""
        if self.gsm_only:
            return septets(text)
        return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)

    def fit(self, text: str, limit: int, ellipsis: str = "..") -> str:
        """``text`` cut to at most ``limit`` units, the cut marked with ``ellipsis``."""
        if self.gsm_only:
            return truncate_septets(text, limit, ellipsis)
        if self.units(text) <= limit:
            return text
        out: list[str] = []
        room, used = limit - self.units(ellipsis), 0
        for ch in text:
            used += self.units(ch)
            if used > room:
                break
            out.append(ch)
        return "".join(out).rstrip() + ellipsis


# A new language: its module here, and one entry in this tuple.
LANGUAGE_MODULES: tuple[ModuleType, ...] = (en, es, pl)
CATALOGUES: dict[str, Catalogue] = {m.CODE: Catalogue.load(m) for m in LANGUAGE_MODULES}
ENGLISH = CATALOGUES[DEFAULT_LANGUAGE]


def check_language(code: str) -> str:
    """``code`` in lower case if a catalogue has it (``es``); else UnknownLanguage."""
    clean = (code or "").strip().lower()
    if clean not in CATALOGUES:
        known = ", ".join(sorted(CATALOGUES))
        raise UnknownLanguage(f"{code!r} is not a language shiftsms speaks ({known})")
    return clean


def catalogue(code: str | None) -> Catalogue:
    """The catalogue for ``code``; English for none or one no catalogue has."""
    return CATALOGUES.get((code or "").strip().lower(), ENGLISH)

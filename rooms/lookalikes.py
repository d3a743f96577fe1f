"""Names nobody can mistake for someone else's, and text that shows nothing.

Two pseudonyms are confusable when their skeletons match, as Unicode TR39 defines it: every
character replaced by one representative of the characters that look like it. The look-alike data
is Unicode's confusables.txt as the confusable_homoglyphs package ships it; upper and lower case
are folded together after the mapping. A skeleton is a key for comparing, never shown to anyone.
"""

import hashlib
import unicodedata
from functools import cache

from confusable_homoglyphs import categories, confusables

# Letters (and one symbol) that draw nothing: the Hangul fillers and the blank braille pattern.
# Unicode lists them as Default_Ignorable or blank, but they are category Lo/So, so \w accepts them.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Format characters (zero-width space, joiners, direction marks), controls, separators, combining marks.
INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me"})


def shows_something(char: str) -> bool:
    return char not in BLANK_LETTERS and unicodedata.category(char) not in INVISIBLE_CATEGORIES


def visible_length(text: str) -> int:
    return sum(shows_something(char) for char in text)


def _rank(text: str) -> tuple[bool, str]:
    return not text.isascii(), text  # an ASCII prototype when there is one


@cache
def _prototypes() -> dict[str, str]:
    """character -> the prototype it looks like (TR39's mapping). In the package's data a
    character that maps to a prototype lists only that prototype; a prototype lists every
    character that maps to it, and one with a single look-alike lists just that one, so such a
    pair is settled by _rank."""
    found = {}
    for char, entries in confusables.confusables_data.items():
        looks_like = {entry["c"].replace("\u200e", "").replace("\u200f", "") for entry in entries}
        if len(char) == 1 and len(looks_like) == 1:
            found[char] = looks_like.pop()  # direction marks around right-to-left glyphs dropped
    return {char: prototype for char, prototype in found.items()
            if found.get(prototype) != char or _rank(prototype) < _rank(char)}


def skeleton(name: str) -> str:
    """The key two look-alike names share: after NFKC, each character as its prototype, invisible
    ones dropped; then case folded and mapped again, so "Maple", "mapIe" (capital i) and "maple"
    share one key."""
    prototypes = _prototypes()

    def mapped(text: str) -> str:
        return "".join(prototypes.get(char, char) for char in text if shows_something(char)).casefold()

    return mapped(mapped(unicodedata.normalize("NFKC", name)))


def keys(name: str) -> tuple[str, str]:
    """What sign-up compares, short enough for an indexed column whatever the name: the
    skeleton's digest as written, and in capitals (a lower-case l reads as a capital I there, so
    "KlM" passes for "kim"; Cyrillic capitals and small letters map to different prototypes)."""
    return tuple(hashlib.sha256(skeleton(form).encode()).hexdigest() for form in (name, name.upper()))


# Scripts that are written together: TR39's "highly restrictive" sets (Japanese, Chinese, Korean).
WRITTEN_TOGETHER = [{"LATIN", "HAN", "HIRAGANA", "KATAKANA"}, {"LATIN", "HAN", "BOPOMOFO"}, {"LATIN", "HAN", "HANGUL"}]


def mixes_lookalike_scripts(name: str) -> bool:
    """Letters from scripts that are not written together, where one looks like another's
    ("mаple", Cyrillic а among Latin letters). 田中さん (Han and Hiragana) is one writing system."""
    scripts = categories.unique_aliases(name) - {"COMMON"}
    if any(scripts <= allowed for allowed in WRITTEN_TOGETHER):
        return False
    return bool(confusables.is_dangerous(name))

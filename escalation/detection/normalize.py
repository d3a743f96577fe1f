"""Text -> canonical words, each remembering the span of the original text it came from.

Canonical form: lower case, accents and look-alike letters folded, emoji that carry meaning
turned into words, text-speak and contractions expanded, leetspeak and punctuated or spaced
letters undone, and every run of a repeated letter squeezed to one ("diiiie" -> "die",
"kill" -> "kil"). Lexicon phrases go through the same squeeze, so both sides meet.
"""

import re
import unicodedata
from dataclasses import dataclass

BOUNDARY = "|"  # a clause break (. , ; ! ? and "but"); phrases never match across it
_REMOVE = "\x01"  # zero-width characters, removed inside words

_SQUEEZE = re.compile(r"([a-z])\1+")
_TOKEN = re.compile(r"[^\s.,;!?()\[\]{}\"“”:…]+(?:[.!*\-_][^\s.,;!?()\[\]{}\"“”:…]+)*|[.,;!?…]+")
_STRIP = "'\"*-_~`^"
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s", "!": "i", "|": "l", "€": "e"})
_LEET_INSIDE = re.compile(r"[a-z][0-9@$!|€]+[a-z]|^[@$5][a-z]{3,}|[a-z]{2,}[0-9@$!|€]+$")
_UNITS = re.compile(r"\d+(?:[a-z]{1,3})?|\d+(?:st|nd|rd|th)|[a-z]+\d{2,}")
_JOINERS = re.compile(r"[.*\-_!]+")
_SPACED_LETTERS = re.compile(rb" [a-z][ .,;!?]+[a-z](?![a-z0-9])")


def _has_spaced_letters(raw: bytes) -> bool:
    """Two single letters in a row ("d i e"); the leading space lets `re` jump between words."""
    return bool(_SPACED_LETTERS.search(b" " + raw))
# Plain text: ASCII letters, numbers, spaces and ordinary punctuation between words.
_PLAIN_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789 \t\n\r.,;!?'\"():-"
_LONE_TWO = re.compile(rb"(?:^|\s)2\s")  # "want 2 die": the token path looks at the word before
_INSIDE_WORD = re.compile(rb"[a-z0-9][.!][a-z0-9]")  # k.m.s, k!ll: punctuation inside a word
# Clause breaks become "|", other punctuation a space; a hyphen stays inside its word (self-harm).
_PLAIN_TABLE = bytes.maketrans(b".,;!?\"():\t\n\r", b"|||||" + b" " * 7)
_PLAIN_WORD = re.compile(rb"\||[^\s|]+")  # the words `_plain` splits, at their offsets


def _is_plain(raw: bytes) -> bool:
    if raw.translate(None, _PLAIN_BYTES):
        return False  # symbols, emoji, other scripts
    if b"2" in raw and _LONE_TWO.search(raw):
        return False
    if (b"." in raw or b"!" in raw) and _INSIDE_WORD.search(raw):
        return False
    return True


_DOUBLE_BOUNDARY = f"{BOUNDARY} {BOUNDARY}"
# After "rope's" these words say the 's is "is" ("the rope's up", "the car's running"): none of
# them can start the noun a possessive needs ("my nan's tablets").
_IS_AFTER_S = frozenset("""up ready running done tied set sorted gone in on not going getting starting
kicking finally already still over here there full empty open locked made written hanging coming
working all so really too very just almost nearly never always out off back""".split())
_S_BEFORE_IS = re.compile(r"'s (?:%s)(?![a-z])" % "|".join(sorted(_IS_AFTER_S)))
_S_BEFORE_IS_BYTES = re.compile(_S_BEFORE_IS.pattern.encode())


def _s_meaning_is(raw_words) -> list[int]:
    """Where an 's says "is": "the rope's up" (a contraction such as "it's" already says it)."""
    return [i for i, word in enumerate(raw_words[:-1]) if word.endswith("'s") and raw_words[i + 1] in _IS_AFTER_S]


def squeeze(word: str) -> str:
    return _SQUEEZE.sub(r"\1", word)


def word_keys(words) -> set[str]:
    """What a phrase's anchor can be: a whole word, or the first three letters for `kill*`."""
    return {*words, *(w[:3] + "*" for w in words)}


def _build_fold_table(emoji: dict[str, str]) -> dict[int, str]:
    """One character -> one character (or an emoji word), so str.translate does the work in C."""
    table: dict[int, str] = {}
    for code in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if len(base) == 1 and base != char:
            table[code] = base.lower()
    for code in range(0xFF01, 0xFF5F):  # full-width forms
        table[code] = chr(code - 0xFEE0).lower()
    for code in range(0x1D400, 0x1D7FF):  # mathematical bold/italic/script letters
        folded = unicodedata.normalize("NFKC", chr(code))
        if len(folded) == 1 and folded.isalnum():
            table[code] = folded.lower()
    confusables = {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
        "ɡ": "g", "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t",
        "υ": "u", "χ": "x", "ß": "ss"[0], "ø": "o", "ł": "l", "đ": "d", "ı": "i",
        "’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "–": "-", "—": " ", "＊": "*",
    }
    table.update({ord(k): v for k, v in confusables.items()})
    for code in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0xFE0F, 0xFE0E, 0x00AD):
        table[code] = _REMOVE
    for char, word in emoji.items():
        if len(char) == 1:
            table[ord(char)] = f" {word} "
    return table


class Normalized:
    """Canonical words of one message; the original spans are worked out only when asked."""

    def __init__(self, words: list[str], text: str, spans_of, keys: set[str] | None = None):
        self.words = words  # canonical words; BOUNDARY marks a clause break
        self.text = text  # the words joined by single spaces: what phrases are matched against
        # Each word and its first three letters: how the lexicon finds the phrases worth trying.
        self.keys = keys if keys is not None else word_keys(words)
        self._spans_of = spans_of
        self._spans = None

    @property
    def spans(self) -> list[tuple[int, int]]:
        """The original text's (start, end) for each word."""
        if self._spans is None:
            self._spans = self._spans_of()
        return self._spans


class Normalizer:
    def __init__(self, textspeak: dict[str, str], emoji: dict[str, str], misspellings: dict[str, str],
                 vocabulary: set[str], contractions: dict[str, str] | None = None):
        self.fold = _build_fold_table(emoji)
        # Contractions read only as typed with their apostrophe: without it "he'll" is "hell".
        self.contractions = {squeeze(key): tuple(squeeze(w) for w in value.split())
                             for key, value in (contractions or {}).items()}
        # Text-speak and misspellings, keyed by the squeezed word: "wannna" -> "wana" -> want to.
        self.rewrites: dict[str, tuple[str, ...]] = {}
        for table in (misspellings, textspeak):
            for key, value in table.items():
                key = key.replace("'", "")
                self.rewrites[squeeze(key)] = tuple(squeeze(w) for w in value.split())
        self.rewrites["but"] = (BOUNDARY,)
        self.vocabulary = vocabulary  # squeezed single words the lexicon uses
        self.to_after = {"want", "wana", "need", "going", "goin", "have", "got", "trying", "try", "how",
                         "ready", "plan", "planing"}
        # Chat reuses a small vocabulary, so nearly every token is a cache hit. Plain dict
        # reads and writes are atomic in CPython, which keeps this safe across threads.
        self._cache: dict[str, tuple[str, ...]] = {}
        # A plain word as typed -> its canonical words, and -> the lexicon keys among them (if any).
        # One tuple, replaced whole when full, so a thread never sees one dict without the other.
        self._plain_cache: tuple[dict[str, str], dict[str, set[str]]] = ({}, {})
        # Keys any phrase looks for; the lexicon sets them once its phrases are compiled.
        self.relevant_keys: frozenset[str] = frozenset()
        self.cache_limit = 100_000

    def __call__(self, text: str) -> Normalized:
        lowered = text.lower()
        if lowered.isascii() and len(lowered) == len(text):
            raw = lowered.encode("ascii")
            if _is_plain(raw):
                return self._plain(text, raw)
        return self._by_token(text)

    def _plain(self, text: str, raw: bytes) -> Normalized:
        """Ordinary words and punctuation: a byte table, then one cached lookup per word."""
        translated = raw.translate(_PLAIN_TABLE).replace(b"|", b" | ")
        raw_words = translated.decode("ascii").split()
        cache = self._plain_cache
        if len(cache[0]) > self.cache_limit:
            self._plain_cache = cache = ({}, {})
        known, with_keys = cache
        pieces = list(map(known.get, raw_words))  # map: the per-word loop stays in C
        if None in pieces:
            pieces = [piece if piece is not None else self._plain_word(w, cache) for piece, w in zip(pieces, raw_words)]
        s_is = b"'s " in raw and _S_BEFORE_IS_BYTES.search(raw)
        if s_is:
            for i in _s_meaning_is(raw_words):
                if not pieces[i].endswith(" is"):
                    pieces[i] += " is"
        split = " ".join(pieces).split()  # a piece may hold several words ("im" -> i am) or none
        canonical = " ".join(split)
        tidy = bool(split) and (split[0] == BOUNDARY or _DOUBLE_BOUNDARY in canonical)
        words = _single_boundaries(split) if tidy else split
        if tidy:
            canonical = " ".join(words)
        if len(words) > 1 and _has_spaced_letters(translated.replace(b"'", b"")):
            return self._by_token(text)  # rare; the token path joins "d i e"
        keys = set().union(*filter(None, map(with_keys.get, raw_words)))
        if s_is:
            keys |= word_keys(["is"])
        return Normalized(words, canonical, lambda: _plain_spans(raw, pieces, split, tidy), keys)

    def _plain_word(self, word: str, cache) -> str:
        """One plain word's canonical words (a space between several), remembered with its keys."""
        canonical = self._token_words(word)
        keys = word_keys(canonical) & self.relevant_keys
        if keys:
            cache[1][word] = keys
        cache[0][word] = joined = " ".join(canonical)
        return joined

    def _by_token(self, text: str) -> Normalized:
        folded = self._fold(text)
        matches = list(_TOKEN.finditer(folded.text))
        tokens = [m.group() for m in matches]
        produced = [self._words_of(token) for token in tokens]
        if "'s" in folded.text and _S_BEFORE_IS.search(folded.text):
            for i in _s_meaning_is(tokens):
                if produced[i][-1:] != ("is",):
                    produced[i] += ("is",)
        token_spans = [(folded.offsets[m.start()], folded.offsets[m.end() - 1] + 1) for m in matches]
        if "2" in tokens:  # "want 2 die": the only rule that looks at the word before
            for i, token in enumerate(tokens):
                if token == "2" and i and produced[i - 1] and produced[i - 1][-1] in self.to_after:
                    produced[i] = ("to",)
        self._join_spaced_letters(tokens, produced, token_spans)
        words, spans = [], []
        for group, span in zip(produced, token_spans):
            words += group
            spans += [span] * len(group)
        words, spans = _single_boundaries(words, spans)
        return Normalized(words, " ".join(words), lambda: spans)

    def _fold(self, text: str) -> "_Folded":
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters lower-case into two; keep offsets 1:1
            lowered = "".join(c.lower()[:1] or c for c in text)
        return self._translate_keeping_offsets(lowered)

    def _words_of(self, token: str) -> tuple[str, ...]:
        words = self._cache.get(token)
        if words is None:
            if token[0] in ".,;!?…":
                words = (BOUNDARY,)
            else:
                words = tuple(self._token_words(token))
            if len(self._cache) > self.cache_limit:
                self._cache.clear()
            self._cache[token] = words
        return words

    # --- steps ---------------------------------------------------------------------------
    def _translate_keeping_offsets(self, text: str) -> "_Folded":
        translated = text.translate(self.fold)
        if len(translated) == len(text):
            return _Folded(translated, range(len(text)))
        pieces, offsets = [], []  # an emoji became a word: map each new character back
        for index, char in enumerate(text):
            replacement = self.fold.get(ord(char), char)
            pieces.append(replacement)
            offsets.extend([index] * len(replacement))
        return _Folded("".join(pieces), offsets)

    def _token_words(self, token: str) -> list[str]:
        token = token.replace(_REMOVE, "").strip(_STRIP)
        if token.endswith("'s") and token[:-2].replace("'", "") + "s" not in self.rewrites:
            token = token[:-2]  # "tonight's" -> tonight; "what's" stays for the rewrite table
        if "'" in token:
            contraction = self.contractions.get(squeeze(token))
            if contraction:
                return list(contraction)
        token = token.replace("'", "")
        if not token:
            return []
        if not token.isalpha():
            expanded = self.rewrites.get(token)  # "2nite", "b4": before leet turns them into letters
            if expanded is not None:
                return list(expanded)
            token = self._deobfuscate(token)
            if " " in token:
                return [w for part in token.split() for w in self._rewrite(squeeze(part))]
        return self._rewrite(squeeze(token))

    def _rewrite(self, word: str) -> list[str]:
        return list(self.rewrites.get(word, (word,)))

    def _deobfuscate(self, token: str) -> str:
        if not _UNITS.fullmatch(token) and _LEET_INSIDE.search(token):
            token = token.translate(_LEET)
        if _JOINERS.search(token):
            parts = [p for p in _JOINERS.split(token) if p]
            joined = "".join(parts)
            if "*" in token:
                guess = self._wildcard(token)
                if guess:
                    return guess
            if all(len(p) == 1 for p in parts) or squeeze(joined) in self.vocabulary:
                return joined
            return " ".join(parts)
        return token

    def _wildcard(self, token: str) -> str | None:
        """'su*cide' -> 'suicide' when exactly one lexicon word fits the masked letters."""
        pattern = re.compile("".join(".{1,2}" if c == "*" else re.escape(c) for c in re.sub(r"\*+", "*", token)))
        fits = {w for w in self.vocabulary if pattern.fullmatch(w) or pattern.fullmatch(squeeze(w))}
        return fits.pop() if len(fits) == 1 else None

    def _join_spaced_letters(self, tokens, produced, spans) -> None:
        """'d i e' and 'k i l l m y s e l f' -> words the lexicon knows, spanning all the letters."""
        i = 0
        while i < len(tokens):
            j = i
            while j < len(tokens) and len(tokens[j]) == 1 and tokens[j].isalpha():
                j += 1
            if j - i >= 2:
                letters = squeeze("".join(tokens[i:j]))
                if j - i >= 3 or letters in self.vocabulary:
                    segmented = self._segment(letters)
                    if segmented:
                        produced[i:j] = [tuple(segmented)] + [()] * (j - i - 1)
                        spans[i] = (spans[i][0], spans[j - 1][1])
            i = max(j, i + 1)

    def _segment(self, letters: str) -> list[str] | None:
        """Split run-together letters into lexicon words, or None if they do not split."""
        best: list[list[str] | None] = [None] * (len(letters) + 1)
        best[0] = []
        for end in range(1, len(letters) + 1):
            for start in range(max(0, end - 16), end):
                if best[start] is not None and letters[start:end] in self.vocabulary:
                    best[end] = best[start] + [letters[start:end]]
                    break
        return best[-1]


def _plain_spans(raw: bytes, pieces: list[str], split: list[str], tidy: bool) -> list[tuple[int, int]]:
    """Spans for the plain path's words (`split` before `tidy`ing the clause breaks, as there):
    its byte table keeps every offset of the text, so each piece's span is its raw word's."""
    spans = [match.span() for match in _PLAIN_WORD.finditer(raw.translate(_PLAIN_TABLE))]
    if len(split) != len(pieces):
        spans = [span for piece, span in zip(pieces, spans) for _ in piece.split()]
    return _single_boundaries(split, spans)[1] if tidy else spans


@dataclass
class _Folded:
    text: str
    offsets: "range | list[int]"


def _single_boundaries(words, spans=None):
    """No leading, trailing-run or repeated clause breaks, so both paths give the same words."""
    keep, previous = [], BOUNDARY
    for i, word in enumerate(words):
        if word == BOUNDARY and previous == BOUNDARY:
            continue
        keep.append(i)
        previous = word
    kept_words = [words[i] for i in keep]
    if spans is None:
        return kept_words
    return kept_words, [spans[i] for i in keep]



"""assess(): lexicon matches, each weighed in its context, combined into one risk tier."""

from .levels import Assessment, Level, Signal
from .lexicon import Lexicon, Phrase
from .normalize import BOUNDARY

# Categories whose subject matters: "she wants to die" is a report about someone else.
PERSONAL = {"ideation", "self_harm", "attempt", "plan", "hopelessness", "worthlessness", "burden",
            "trapped", "panic", "distress"}
DISTRESS_FAMILY = {"hopelessness", "worthlessness", "burden", "trapped", "panic", "distress"}
RISK_CORE = {"ideation", "self_harm", "attempt", "harm_to_others", "danger", "third_person"}
RAISERS = {"method", "plan", "timing", "farewell"}
THIRD_REFLEXIVE = {"himself", "herself", "themselves", "themself"}
SECOND_REFLEXIVE = {"yourself", "yourselves"}
NEGATION_WINDOW = 3
SUBJECT_WINDOW = 4


class Detector:
    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self.cue = lexicon.cues
        self.past = _any_of(lexicon.cues["past"])
        # A goodbye beside the means is imminent with no other words; these keys spot the pair.
        self.farewell_keys = {k for p in lexicon.phrases if p.category == "farewell" for k in p.anchors}
        self.method_keys = {k for p in lexicon.phrases if p.category == "method" and "means" in p.flags
                            for k in p.anchors}
        self.present = _any_of(lexicon.cues["present"])

    def assess(self, text: str) -> Assessment:
        if not text or not text.strip():
            return Assessment(Level.NONE)
        lexicon = self.lexicon
        norm = lexicon.normalizer(text)
        joined = f" {norm.text} "  # phrases start with a space and look ahead to one
        matches = _matches(lexicon.candidates(norm.keys, lexicon.risk_index), joined)
        if not matches and not (norm.keys & self.farewell_keys and norm.keys & self.method_keys):
            return Assessment(Level.NONE)
        # Raisers ("tonight", "knife", "goodbye everyone") count only beside a risk phrase, and
        # ordinary chat is full of them: they are tried only now.
        matches += _matches(lexicon.candidates(norm.keys, lexicon.raiser_index), joined)
        allowed = [
            (m.start(), m.end())
            for phrase in lexicon.candidates(norm.keys, lexicon.allow_index)
            for m in phrase.regex.finditer(joined)
        ]
        laughing = bool(self.cue["laughter"] & set(norm.words))
        found: list[tuple[Phrase, int, int, str]] = []
        for phrase, match in matches:
            if any(a < match.end() and match.start() < b for a, b in allowed):
                continue
            # `joined` has one more space in front than norm.text: count the spaces before the words
            first = norm.text.count(" ", 0, match.start())
            last = norm.text.count(" ", 0, match.end() - 2)
            category = self._in_context(phrase, norm.words, first, last, laughing)
            if category:
                found.append((phrase, first, last, category))
        return self._combine(text, norm, found)

    # --- one match in its context ---------------------------------------------------------
    def _in_context(self, phrase: Phrase, words: list[str], first: int, last: int, laughing: bool) -> str | None:
        """The category this match counts as here, or None when the context cancels it."""
        category = phrase.category
        clause = _clause(words, first, last)
        if laughing and "joke" in phrase.flags:
            return None
        if self.cue["fiction"] & set(clause) and "real" not in phrase.flags:
            return None
        before = _before(words, first, NEGATION_WINDOW)
        if self.cue["negation"] & set(before) and "nonegate" not in phrase.flags:
            return None
        if self._is_past(clause) and "anytime" not in phrase.flags:
            return None
        if category in PERSONAL:
            person = self._subject(words, first, last)
            if person == "second":
                return None
            if person == "third":
                return None if category in DISTRESS_FAMILY else "third_person"
        return category

    def _is_past(self, clause: list[str]) -> bool:
        text = " ".join(clause)
        return bool(self.past.search(text)) and not self.present.search(text)

    def _subject(self, words: list[str], first: int, last: int) -> str:
        inside = set(words[first:last + 1])
        if inside & self.cue["first_person"]:
            return "first"
        if inside & THIRD_REFLEXIVE:  # "kill himself"; an object ("need them") says nothing
            return "third"
        if inside & SECOND_REFLEXIVE:
            return "second"
        for word in reversed(_before(words, first, SUBJECT_WINDOW)):
            for person in ("first", "second", "third"):
                if word in self.cue[f"{person}_person"]:
                    return person
        return "first"  # chat is elliptical: "want to die" means the writer

    # --- all matches together -------------------------------------------------------------
    def _combine(self, text: str, norm, found) -> Assessment:
        levels, categories = [], set()
        for phrase, _first, _last, category in found:
            categories.add(category)
            levels.append(min(max(phrase.level, Level.CRISIS), Level.CRISIS)
                          if category == "third_person" else phrase.level)
        level = max(levels, default=Level.NONE)
        raisable = {c for phrase, _f, _l, c in found if "passive" not in phrase.flags}
        if raisable & (RISK_CORE - {"third_person", "self_harm"}) and categories & RAISERS:
            level = Level.IMMINENT
        elif {"farewell", "method"} <= categories:  # a goodbye beside the means: "💊 goodbye all"
            level = Level.IMMINENT
        if level == Level.NONE:
            return Assessment(Level.NONE)  # a raiser alone ("goodbye everyone") says nothing
        signals = []
        for phrase, first, last, category in found:
            start, end = norm.spans[first][0], norm.spans[last][1]
            signals.append(Signal(category, (start, end), text[start:end], phrase.source))
        signals.sort(key=lambda s: (s.span, s.category))
        return Assessment(level, tuple(_dedupe(signals)))


def _matches(phrases, joined: str) -> list:
    return [
        (phrase, match)
        for phrase in phrases
        for match in phrase.regex.finditer(joined)
        if _numbers_reach(match, phrase.minimums)
    ]


def _any_of(cues: set[str]):
    import re

    alternatives = "|".join(sorted((re.escape(c) for c in cues), key=len, reverse=True))
    return re.compile(rf"(?<![^ ])(?:{alternatives})(?![^ ])")


def _numbers_reach(match, minimums: tuple[int, ...]) -> bool:
    return all(value is None or int(value) >= minimum for value, minimum in zip(match.groups(), minimums))


def _clause(words: list[str], first: int, last: int) -> list[str]:
    start = first
    while start > 0 and words[start - 1] != BOUNDARY:
        start -= 1
    end = last
    while end + 1 < len(words) and words[end + 1] != BOUNDARY:
        end += 1
    return words[start:end + 1]


def _before(words: list[str], first: int, window: int) -> list[str]:
    out = []
    for word in reversed(words[max(0, first - window):first]):
        if word == BOUNDARY:
            break
        out.append(word)
    return list(reversed(out))


def _dedupe(signals: list[Signal]) -> list[Signal]:
    """One signal per stretch of text and category: the widest of any that overlap."""
    kept: list[Signal] = []
    for signal in sorted(signals, key=lambda s: (s.span[0], -s.span[1])):
        if any(k.category == signal.category and k.span[0] <= signal.span[0] and signal.span[1] <= k.span[1]
               for k in kept):
            continue
        kept.append(signal)
    return kept

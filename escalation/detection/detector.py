"""assess(): lexicon matches, each weighed in its context, combined into one risk tier."""

import re

from .levels import Assessment, Level, Signal
from .lexicon import Lexicon, Phrase
from .normalize import BOUNDARY

# Categories whose subject matters: "she wants to die" is a report about someone else.
PERSONAL = {"ideation", "self_harm", "attempt", "plan", "hopelessness", "worthlessness", "burden",
            "trapped", "panic", "distress"}
DISTRESS_FAMILY = {"hopelessness", "worthlessness", "burden", "trapped", "panic", "distress"}
RAISERS = {"method", "plan", "timing", "farewell", "intent"}
# Beside despair (hopelessness, passive ideation, a distress message said earlier) only a goodbye
# raises: it makes a goodbye note ("i can't do this anymore. goodbye").
GOODBYE = {"farewell"}
# Which raisers make a risk imminent when they stand beside it. Ideation, an attempt, harm to
# others, danger: any of them ("end it tonight"). Someone else at risk is a crisis to act on ("my
# friend says she wants to die tonight"); with the means, a plan, their resolve or a goodbye beside
# them ("he sent a goodbye text and he's got a rope"), they are in danger now. Self-harm is raised
# by none ("i burned myself again today").
RAISED_BY = {
    **dict.fromkeys(("ideation", "attempt", "harm_to_others", "danger"), RAISERS),
    "third_person": {"method", "plan", "intent", "farewell"},
    **dict.fromkeys(DISTRESS_FAMILY, GOODBYE),
}
# Raisers that make a message imminent together, with no ideation phrase: a goodbye beside the
# means ("💊 goodbye all"), a resolve beside a method, plan or goodbye ("made up my mind, the
# pills are counted out"), the means beside a plan. Timing is not among them: "tonight" is
# everywhere in chat.
PAIRED = {"method", "plan", "farewell", "intent"}
THIRD_REFLEXIVE = {"himself", "herself", "themselves", "themself"}
SECOND_REFLEXIVE = {"yourself", "yourselves"}
NEGATION_WINDOW = 3
NEGATED_ELSEWHERE = {"i", "stop", "help"}  # the word right after a negation that it governs instead
SUBJECT_WINDOW = 4
# A past-tense cue counts when it starts this close to the match (words before, after): chat runs
# sentences together unpunctuated, and "i want to die my best friend moved away 3 weeks ago" is not
# about the past. A cue before reaches further ("years ago i tried to ..."); one after may run on
# past the window ("i overdosed a few years ago").
PAST_BEFORE, PAST_AFTER = 6, 3


class Detector:
    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self.cue = lexicon.cues
        self.past = _any_of(lexicon.cues["past"])
        self.present = _any_of(lexicon.cues["present"])
        # one regex for all sign-offs; each phrase's own starts with a space, as `joined` has
        self.sign_off = re.compile("|".join(p.regex.pattern for p in lexicon.sign_offs)) if lexicon.sign_offs else None
        # words a cue may run on past the window it starts in ("two years ago": "years" starts it)
        self.cue_run_on = max(len(c.split()) for c in lexicon.cues["past"] | lexicon.cues["present"]) - 1

    def assess(self, text: str, earlier: Level = Level.NONE) -> Assessment:
        """`earlier`: the risk the writer stated before and that still stands (an alert facilitators
        are working on, a distress message of a few minutes ago). This message is read in its
        light, as if said together: "im at the bridge rn" after "i want to die" is imminent, and
        so is "i've said my goodbyes" after "i can't do this anymore"."""
        if not text or not text.strip():
            return Assessment(Level.NONE)
        lexicon = self.lexicon
        norm = lexicon.normalizer(text)
        joined = f" {norm.text} "  # phrases start with a space and look ahead to one
        matches = _matches(lexicon.candidates(norm.keys, lexicon.risk_index), joined)
        # Raisers ("tonight", "knife", "goodbye everyone") count only beside a risk phrase or as a
        # pair, and ordinary chat is full of them: they are tried only now.
        raisers = lexicon.candidates(norm.keys, lexicon.raiser_index)
        if not matches:
            if not _may_raise({p.category for p in raisers}, earlier):
                return Assessment(Level.NONE)
            matches = _matches(raisers, joined)
            if not _may_raise({p.category for p, _m in matches}, earlier):
                return Assessment(Level.NONE)
        else:
            matches += _matches(raisers, joined)
        allowed = [
            (m.start(), m.end())
            for phrase in lexicon.candidates(norm.keys, lexicon.allow_index)
            for m in phrase.regex.finditer(joined)
        ]
        laughing = bool(self.cue["laughter"] & set(norm.words))
        signing_off = any(_said_in_farewell(p) for p, _m in matches) and self._signs_off(
            joined, [m.span() for p, m in matches if p.category not in RAISERS])
        found: list[tuple[Phrase, int, int, str]] = []
        for phrase, match in matches:
            if any(_cancels(allow, match.span()) for allow in allowed):
                continue
            # `joined` has one more space in front than norm.text: count the spaces before the words
            first = norm.text.count(" ", 0, match.start())
            last = norm.text.count(" ", 0, match.end() - 2)
            category = self._in_context(phrase, norm.words, first, last, laughing, signing_off)
            if category:
                found.append((phrase, first, last, category))
        return self._combine(text, norm, found, earlier)

    def _signs_off(self, joined: str, risk_spans: list[tuple[int, int]]) -> bool:
        """A sign-off ("see you tomorrow", "going to bed") that is not part of what a risk phrase
        says: "goodbye everyone, going to bed and never waking up" is a goodbye note. Both are
        matched in `joined`, each span starting at the space before its first word."""
        if self.sign_off is None:
            return False
        return any(not any(start < m.end() and m.start() < end for start, end in risk_spans)
                   for m in self.sign_off.finditer(joined))

    # --- one match in its context ---------------------------------------------------------
    def _in_context(self, phrase: Phrase, words: list[str], first: int, last: int, laughing: bool,
                    signing_off: bool) -> str | None:
        """The category this match counts as here, or None when the context cancels it."""
        category = phrase.category
        if signing_off and _said_in_farewell(phrase):  # "goodbye everyone, see you tomorrow"
            return None
        clause = _clause(words, first, last)
        if laughing and "joke" in phrase.flags:
            return None
        fiction = self.cue["fiction"].intersection(clause)
        # a word the phrase names itself is not its context: "level" is a game's, not a level crossing's
        if fiction and "real" not in phrase.flags and not fiction.issubset(words[first:last + 1]):
            return None
        before = _before(words, first, NEGATION_WINDOW)
        negated = self.cue["negation"] & set(before) and not _negation_elsewhere(before, self.cue["negation"])
        if negated and "nonegate" not in phrase.flags:
            return None
        if self._is_past(words, first, last) and "anytime" not in phrase.flags:
            return None
        if category in PERSONAL:
            person = self._subject(words, first, last)
            if person == "second":
                return None
            if person == "third":
                return None if category in DISTRESS_FAMILY else "third_person"
        return category

    def _is_past(self, words: list[str], first: int, last: int) -> bool:
        """A past cue that starts within PAST_BEFORE words before the match or PAST_AFTER after
        it, in its clause, and no present cue as near."""
        start, end = _window(words, first, last, PAST_BEFORE, PAST_AFTER + self.cue_run_on)
        text = " ".join(words[start:end + 1])
        latest = len(" ".join(words[start:min(end, last + PAST_AFTER) + 1]))  # where a cue may start

        def near(cues) -> bool:
            return any(m.start() < latest for m in cues.finditer(text))

        return near(self.past) and not near(self.present)

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
    def _combine(self, text: str, norm, found, earlier: Level) -> Assessment:
        levels, categories = [], set()
        for phrase, _first, _last, category in found:
            categories.add(category)
            if category == "third_person":  # someone else's attempt is an emergency; their words a crisis
                levels.append(Level.IMMINENT if phrase.category == "attempt" else Level.CRISIS)
            else:
                levels.append(phrase.level)
        level = max(levels, default=Level.NONE)
        # The means named inside a risk phrase, or running on from it, is part of what that phrase
        # says ("how many pills it takes", "thinking about crashing my car into a wall"), not a
        # second fact; a time inside one still is ("end it tonight").
        risk_spans = [(f, l) for _p, f, l, c in found if c not in RAISERS]
        raisers = [(phrase, f, l, c) for phrase, f, l, c in found if c in RAISERS and not (
            c == "method" and any(rf <= l and f <= rl for rf, rl in risk_spans))]
        beside = {c for *_, c in raisers}
        raised = any(_raised_by(phrase, c) & beside for phrase, _f, _l, c in found)
        if raised or _paired(raisers) or _beside_earlier(raisers, earlier):
            level = Level.IMMINENT
        if level == Level.NONE:
            return Assessment(Level.NONE)  # a raiser alone ("goodbye everyone") says nothing
        signals = []
        for phrase, first, last, category in found:
            start, end = norm.spans[first][0], norm.spans[last][1]
            signals.append(Signal(category, (start, end), text[start:end], phrase.source))
        # the phrase last, so two phrases that found the same words show the same one in every
        # process (the lexicon's indexes are sets, whose order follows the hash seed)
        signals.sort(key=lambda s: (s.span, s.category, s.phrase))
        return Assessment(level, tuple(_dedupe(signals)))


def _said_in_farewell(phrase: Phrase) -> bool:
    """A goodbye, or words a goodbye says ("i won't be around after tonight"), which a sign-off
    elsewhere in the message shows to be for the night: "..., catch you tomorrow"."""
    return phrase.category == "farewell" or "signoff" in phrase.flags


def _paired(raisers) -> bool:
    """Two raisers, neither inside the other, that together make a message imminent (see PAIRED)."""
    for i, (phrase_a, first_a, last_a, a) in enumerate(raisers):
        for phrase_b, first_b, last_b, b in raisers[i + 1:]:
            if a == b or (first_a <= first_b and last_b <= last_a) or (first_b <= first_a and last_a <= last_b):
                continue  # the same words read two ways ("bought a rope") are one fact
            pair = {a, b}
            if pair == {"farewell", "method"}:  # even the bare means: "💊 goodbye all"
                return True
            if "means" in phrase_a.flags or "means" in phrase_b.flags:
                continue
            if "intent" in pair and pair & {"method", "plan", "farewell"} or pair == {"plan", "method"}:
                return True
    return False


def _raised_by(phrase, category: str) -> set[str]:
    """Passive ideation ("i hope i never wake up") is not raised by a time word ("tomorrow") or
    the means, but a goodbye beside it is a goodbye note, as beside hopelessness."""
    return GOODBYE if "passive" in phrase.flags else RAISED_BY.get(category, set())


def _may_raise(categories: set[str], earlier: Level) -> bool:
    """Raisers alone can make a message imminent: a pair of them, or one beside an earlier risk."""
    if earlier >= Level.CRISIS:
        return bool(categories & PAIRED)
    if earlier == Level.DISTRESS:
        return bool(categories & GOODBYE) or len(categories & PAIRED) > 1
    return len(categories & PAIRED) > 1


def _beside_earlier(raisers, earlier: Level) -> bool:
    """Raisers read beside a risk stated before, by the rules for one message. Beside ideation one
    raiser is enough, but not a time word alone ("see you tonight") nor the bare name of a means
    ("my pills"); beside distress only a goodbye ("i can't do this anymore" ... "goodbye")."""
    if earlier >= Level.CRISIS:
        return any(c in PAIRED and "means" not in phrase.flags for phrase, _f, _l, c in raisers)
    if earlier == Level.DISTRESS:
        return any(c in GOODBYE for *_, c in raisers)
    return False


def _cancels(allow: tuple[int, int], span: tuple[int, int]) -> bool:
    """An idiom cancels a signal it overlaps, unless the signal holds the whole idiom and says
    more: "he said he'll kill me if i leave" is a threat, not "mum will kill me if i'm late"."""
    overlaps = allow[0] < span[1] and span[0] < allow[1]
    says_more = span[0] <= allow[0] and allow[1] <= span[1] and span != allow
    return overlaps and not says_more


def _matches(phrases, joined: str) -> list:
    return [
        (phrase, match)
        for phrase in phrases
        for match in phrase.regex.finditer(joined)
        if _numbers_reach(match, phrase.minimums)
    ]


def _any_of(cues: set[str]):
    alternatives = "|".join(sorted((re.escape(c) for c in cues), key=len, reverse=True))
    return re.compile(rf"(?<![^ ])(?:{alternatives})(?![^ ])")


def _numbers_reach(match, minimums: tuple[int, ...]) -> bool:
    return all(value is None or int(value) >= minimum for value, minimum in zip(match.groups(), minimums))


def _window(words: list[str], first: int, last: int, before: int, after: int) -> tuple[int, int]:
    """First and last index of the match with up to `before` and `after` words of its clause."""
    start = first
    while start > 0 and first - start < before and words[start - 1] != BOUNDARY:
        start -= 1
    end = last
    while end + 1 < len(words) and end - last < after and words[end + 1] != BOUNDARY:
        end += 1
    return start, end


def _clause(words: list[str], first: int, last: int) -> list[str]:
    start, end = _window(words, first, last, len(words), len(words))
    return words[start:end + 1]


def _before(words: list[str], first: int, window: int) -> list[str]:
    """Up to `window` words of the clause before the match."""
    return words[_window(words, first, first, window, 0)[0]:first]


def _negation_elsewhere(before: list[str], negations: set[str]) -> bool:
    """The last negation before the match governs something else: an unpunctuated new clause
    ("why i should not i am hopeless"; "not that i want to die" is still negated: the negation
    governs the that-clause), or stopping ("i can not stop thinking about dying", "never stop")."""
    last = max(i for i, word in enumerate(before) if word in negations)
    return last + 1 < len(before) and before[last + 1] in NEGATED_ELSEWHERE


def _dedupe(signals: list[Signal]) -> list[Signal]:
    """One signal per stretch of text and category: the widest of any that overlap."""
    kept: list[Signal] = []
    for signal in sorted(signals, key=lambda s: (s.span[0], -s.span[1])):
        if any(k.category == signal.category and k.span[0] <= signal.span[0] and signal.span[1] <= k.span[1]
               for k in kept):
            continue
        kept.append(signal)
    return kept

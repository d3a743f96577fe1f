"""Load a language's lexicon files and compile their phrases. Format: lexicon/README.md."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from .levels import Level
from .normalize import Normalizer, squeeze

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")
_TOKEN = re.compile(r"\[[^\]]+\]|\([^)]+\)|\S+")
_GAP = re.compile(r"~(\d+)")
_NUMBER = re.compile(r"#(\d+)")
_COMMENT = re.compile(r"\s*#(?!\d)")  # "# a note"; a line may start with a number slot: "#20 @pills"
# The commonest words of English chat, most frequent first: a phrase is anchored on its rarest
# words, because every message holding an anchor has its phrase tried.
_COMMON_BY_RANK = [squeeze(w) for w in (
    "i to the a and you it is my of that in me not do so be am have for this on just was what but "
    "can are like with at all no know get if go your we one up about out they will he she "
    "really want now how them feel think good time too when there would people going day today "
    "from back some any more because been then why here who much very need got make an or by as "
    "us our his her their off could should see say said tell told way right last first new little "
    "long great thanks thank still even well things thing night did does were has had being over "
    "into only other also after before never always every everyone everything something nothing "
    "someone anyone anything life love help work take "
    # common in support-room chat, measured on bench/data/ordinary_chat.txt traffic: anchoring on
    # them woke phrases in most messages ("better", "took", "trying" ...)
    "better took trying sleep hurt wish god helps care myself alone again anxious here keeps "
    "tonight taking room call today tomorrow morning end notice part goodbye".split())]
_RANK = {word: rank for rank, word in reversed(list(enumerate(_COMMON_BY_RANK)))}


class LexiconError(ValueError):
    pass


@dataclass(frozen=True, eq=False)
class Phrase:
    source: str  # as written in the file, for the facilitator: why it fired
    category: str
    level: Level
    flags: frozenset
    regex: re.Pattern
    minimums: tuple[int, ...]  # thresholds for the #N number slots, in order
    anchors: frozenset  # first three letters of words one of which must be present
    required: frozenset  # keys of required words that have one spelling: all must be present
    requirements: tuple  # for required words with several spellings: one key of each


@dataclass
class Lexicon:
    language: str
    phrases: list[Phrase]
    allow: list[Phrase]
    cues: dict[str, set[str]]  # negation, past, present, fiction, laughter, persons ...
    normalizer: Normalizer
    risk_index: dict[str, list[Phrase]] = field(default_factory=dict)  # phrases with a tier
    raiser_index: dict[str, list[Phrase]] = field(default_factory=dict)  # means, timing ...
    allow_index: dict[str, list[Phrase]] = field(default_factory=dict)
    sign_offs: list[Phrase] = field(default_factory=list)  # cues.txt [sign_off], in phrase syntax

    def __post_init__(self):
        for phrase in self.phrases:
            index = self.raiser_index if phrase.level == Level.NONE else self.risk_index
            for anchor in phrase.anchors:
                index.setdefault(anchor, []).append(phrase)
        for phrase in self.allow:
            for anchor in phrase.anchors:
                self.allow_index.setdefault(anchor, []).append(phrase)
        self.normalizer.relevant_keys = frozenset().union(
            *(phrase.anchors | phrase.required | frozenset().union(*phrase.requirements)
              for phrase in self.phrases + self.allow))

    def candidates(self, keys: set[str], index: dict[str, list[Phrase]]) -> list[Phrase]:
        """Phrases of `index` whose required words are all present: the only ones that can match."""
        found: dict[Phrase, None] = {}  # ordered and without repeats: a phrase may have several anchors
        for key in index.keys() & keys:  # the loop over the message's words stays in C
            for phrase in index[key]:
                if phrase not in found and phrase.required <= keys:
                    for options in phrase.requirements:
                        if options.isdisjoint(keys):
                            break
                    else:
                        found[phrase] = None
        return list(found)


def read_sections(path: Path) -> list[tuple[str, list[str]]]:
    sections: list[tuple[str, list[str]]] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = "" if _COMMENT.match(raw) else raw.strip()  # whole-line comments only: #N is a number slot
        if not line:
            continue
        header = _SECTION.match(line)
        if header:
            sections.append((header.group(1).strip(), []))
        elif not sections:
            raise LexiconError(f"{path.name}:{number}: a line before the first [section]")
        else:
            sections[-1][1].append(line)
    return sections


def _pairs(lines: list[str], path: Path) -> dict[str, str]:
    pairs = {}
    for line in lines:
        if "=" not in line:
            raise LexiconError(f"{path.name}: expected 'from = to', got {line!r}")
        key, value = (part.strip() for part in line.split("=", 1))
        pairs[key] = value
    return pairs


def load(language: str = "en", directory: Path = LEXICON_DIR) -> Lexicon:
    folder = directory / language
    norm = dict(read_sections(folder / "normalize.txt"))
    sets = {name: "|".join(squeeze(w.replace("_", " ")) for w in words) for name, words in _word_sets(folder)}
    cue_lines = dict(read_sections(folder / "cues.txt"))
    cues = {name: {squeeze(w) for w in lines} for name, lines in cue_lines.items() if name != "sign_off"}
    raw_signals = []
    for header, lines in read_sections(folder / "signals.txt"):
        category, level, *flags = header.split()
        try:
            level = Level(level)
        except ValueError:
            raise LexiconError(f"signals.txt: [{header}]: unknown level {level!r}") from None
        raw_signals += [(line, category, level, frozenset(flags)) for line in lines]

    vocabulary = set()
    for line, *_ in raw_signals:
        vocabulary |= set(re.findall(r"[a-z]+", _expand_sets(line, sets)))
    vocabulary = {squeeze(w) for w in vocabulary if len(w) > 1}
    normalizer = Normalizer(
        textspeak=_pairs(norm.get("textspeak", []), folder / "normalize.txt"),
        emoji=_pairs(norm.get("emoji", []), folder / "normalize.txt"),
        misspellings={k: squeeze(v) for k, v in _pairs(norm.get("misspellings", []), folder / "normalize.txt").items()},
        vocabulary=vocabulary,
        contractions=_pairs(norm.get("contractions", []), folder / "normalize.txt"),
    )
    filler = _filler(cues.get("fillers", set()))
    phrases = [compile_phrase(line, category, level, flags, sets, filler)
               for line, category, level, flags in raw_signals]
    allow = [compile_phrase(line, "allow", Level.NONE, frozenset(), sets, filler)
             for _, lines in read_sections(folder / "allow.txt") for line in lines]
    sign_offs = [compile_phrase(line, "sign_off", Level.NONE, frozenset(), sets)
                 for line in cue_lines.get("sign_off", [])]
    return Lexicon(language, phrases, allow, cues, normalizer, sign_offs=sign_offs)


def _word_sets(folder: Path):
    for name, lines in read_sections(folder / "sets.txt"):
        yield name, [w for line in lines for w in line.split()]


def _expand_sets(line: str, sets: dict[str, str]) -> str:
    """@name -> (a|b|c); inside a group, "my @family" becomes "my a|my b|my c" (no nesting)."""

    def words_of(name: str) -> list[str]:
        if name not in sets:
            raise LexiconError(f"unknown word set @{name} in {line!r}")
        return sets[name].split("|")

    def expand_group(match):
        options = []
        for option in match.group(1).split("|"):
            found = re.search(r"@([a-z_]+)", option)
            if found:
                options += [option[:found.start()] + w + option[found.end():] for w in words_of(found.group(1))]
            else:
                options.append(option)
        return "(" + "|".join(options) + ")"

    line = re.sub(r"\(([^()]*@[a-z_]+[^()]*)\)", expand_group, line)
    return re.sub(r"@([a-z_]+)", lambda m: "(" + "|".join(words_of(m.group(1))) + ")", line)


def _filler(words: set[str]) -> str:
    """A regex for up to two intensifiers ("want to actually fucking die"), allowed between a phrase's words."""
    if not words:
        return ""
    return "(?: (?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + ")){0,2}"


def compile_phrase(line: str, category: str, level: Level, flags: frozenset, sets: dict[str, str],
                   filler: str = "") -> Phrase:
    expanded = _expand_sets(line, sets)
    tokens = _TOKEN.findall(expanded)
    if not tokens or tokens[0].startswith(("[", "~")):
        raise LexiconError(f"{line!r}: a phrase starts with a required word")
    pieces, minimums, anchor_options = [], [], []
    for token in tokens:
        gap = _GAP.fullmatch(token)
        if gap:
            pieces.append(("gap", rf"(?: [^ |]+){{0,{gap.group(1)}}}"))
            continue
        optional = token.startswith("[")
        body = token[1:-1] if optional or token.startswith("(") else token
        regex, keys = _alternatives(body, minimums)
        pieces.append(("optional" if optional else "word", regex))
        if not optional and keys:
            anchor_options.append(keys)
    if not anchor_options:
        raise LexiconError(f"{line!r}: needs at least one required word of two or more letters")
    anchors = min(anchor_options, key=lambda keys: sum(_frequency(k) for k in keys))
    # Matched against " " + words + " ": a leading literal space lets `re` skip to word starts.
    body = " " + pieces[0][1]
    for kind, regex in pieces[1:]:
        body += {"gap": regex, "optional": f"(?:{filler} {regex})?", "word": f"{filler} {regex}"}[kind]
    pattern = re.compile(rf"{body}(?= )")
    required = frozenset(next(iter(keys)) for keys in anchor_options if len(keys) == 1)
    requirements = tuple(frozenset(keys) for keys in anchor_options if len(keys) > 1)
    return Phrase(line, category, level, flags, pattern, tuple(minimums), frozenset(anchors), required,
                  requirements)


def _alternatives(body: str, minimums: list[int]) -> tuple[str, set[str] | None]:
    """One token's regex, and its anchor keys (None when it cannot anchor).

    Each option needs all of its words, so one key per option is enough to find it: the rarest
    word, whole (or its first three letters when it is a prefix such as `kill*`).
    """
    regexes, keys = [], set()
    for option in body.split("|"):
        words, option_keys = [], []
        for word in option.split():
            number = _NUMBER.fullmatch(word)
            if number:
                minimums.append(int(number.group(1)))
                words.append(r"(\d+)")
                continue
            prefix = word.endswith("*")
            word = squeeze(word.rstrip("*").lower())
            words.append(re.escape(word) + ("[a-z]*" if prefix else ""))
            if not (prefix and len(word) < 3):
                option_keys.append(word[:3] + "*" if prefix else word)
        regexes.append(" ".join(words))
        if keys is not None and option_keys:
            keys.add(min(option_keys, key=_frequency))
        else:
            keys = None
    regex = regexes[0] if len(regexes) == 1 else "(?:" + "|".join(regexes) + ")"
    return regex, (keys or None)


def _frequency(key: str) -> float:
    """A rough share of messages holding the key: Zipf's law over the rank, small for rare words."""
    rank = _RANK.get(key)
    return 0.0002 if rank is None else 1 / (rank + 2)

"""escalation.detection: one test per behaviour, asserting the tier and why it fired."""

import shutil
import subprocess
import sys
import threading

import pytest

from escalation.detection import Level, LexiconError, assess, detector_for
from escalation.detection.detector import Detector
from escalation.detection.lexicon import LEXICON_DIR, load


def check(text, level, category=None):
    result = assess(text)
    assert result.level == level, (text, result)
    if category is not None:
        assert category in result.categories, (text, result.signals)
    return result


def test_levels_are_ordered_and_their_values_are_the_tier_names():
    assert Level.NONE < Level.DISTRESS < Level.CRISIS < Level.IMMINENT
    assert [level.value for level in Level] == ["none", "distress", "crisis", "imminent"]
    assert max(Level.CRISIS, Level.DISTRESS) is Level.CRISIS


# --- each tier ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, level, category", [
    ("what a lovely day, I went for a walk", Level.NONE, None),
    ("I feel so hopeless about everything", Level.DISTRESS, "hopelessness"),
    ("I feel worthless", Level.DISTRESS, "worthlessness"),
    ("I'm a burden to everyone", Level.DISTRESS, "burden"),
    ("I feel trapped in this life", Level.DISTRESS, "trapped"),
    ("having a panic attack right now and I can't breathe", Level.DISTRESS, "panic"),
    # session 9: despair in everyday words
    ("i'm drowning and nobody sees it", Level.DISTRESS, "distress"),
    ("i've been having panic attacks every day this week", Level.DISTRESS, "panic"),
    ("i don't know how much more of this i can take", Level.DISTRESS, "hopelessness"),
    ("life keeps getting worse and i can't see it ever changing", Level.DISTRESS, "hopelessness"),
    ("nothing i do matters, i'm invisible to everyone", Level.DISTRESS, "worthlessness"),
    ("i ruin every relationship i have, i'm toxic", Level.DISTRESS, "worthlessness"),
    ("why does everyone leave me, what's wrong with me", Level.DISTRESS, "worthlessness"),
    ("i'm sick of pretending to be ok all the time", Level.DISTRESS, "distress"),
    ("I want to die", Level.CRISIS, "ideation"),
    ("I wish I could go to sleep and never wake up", Level.CRISIS, "ideation"),
    ("I've been cutting again", Level.CRISIS, "self_harm"),
    ("I'm going to shoot up the school", Level.CRISIS, "harm_to_others"),
    ("my dad hits me when he's drunk", Level.CRISIS, "danger"),
    ("I took 30 pills", Level.IMMINENT, "attempt"),
    ("I'm going to kill myself tonight", Level.IMMINENT, "timing"),
    ("he's trying to break in, I'm scared", Level.IMMINENT, "danger"),
])
def test_each_tier(text, level, category):
    check(text, level, category)


# --- slang and euphemism --------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "kms", "ctb soon i think", "I want to unalive myself", "thinking about unaliving",
    "sewerslide is on my mind", "i want to self delete", "I just want to not wake up ever again",
    "I want to end it all", "I won't be a problem much longer", "I'll be gone soon",
    "im gonna off myself i swear", "i think about eating my gun most days",
    "my SI is really bad today", "i'm gonna rope fr", "thinking about necking myself ngl",
])
def test_slang_and_euphemism_are_ideation(text):
    check(text, Level.CRISIS, "ideation")


# --- obfuscation ----------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "k1ll mys3lf",  # leetspeak
    "i want to d i e",  # spaced letters
    "i want to d-i-e",  # punctuated letters
    "I want to k.m.s",
    "thinking about su*cide",  # masked letter
    "i want to diiiiie",  # stretched letters
    "I WANT TO DIE",  # case
    "і wаnt tо dіе",  # Cyrillic look-alikes
    "ｉ ｗａｎｔ ｔｏ ｄｉｅ",  # full-width
    "i want to d\u200bie",  # zero-width space
    "i wanna kil myslef",  # typos
    "i want 2 die",  # text-speak
    "im suicidal",
    "$uicidal",
    "i want to fucking die",  # an intensifier inside the phrase
    "i literally just want to end it fucking all",
])
def test_obfuscations_are_seen_through(text):
    check(text, Level.CRISIS, "ideation")


def test_contractions_that_spell_other_words_expand_only_with_their_apostrophe():
    normalize = detector_for("en").lexicon.normalizer
    assert normalize("he'll kill me").words[:2] == ["he", "wil"]
    assert normalize("what the hell").words[-1] == "hel"  # not "he will"
    assert normalize("we’ll see, well").text == "we wil se | wel"


def test_meaningful_emoji_raise_the_tier():
    check("💊💊 tonight. goodbye everyone", Level.IMMINENT)
    check("I have 💊 and I want to die", Level.IMMINENT, "method")


# --- means, plan, timing, farewell ----------------------------------------------------------
@pytest.mark.parametrize("text, category", [
    ("I've saved up 40 ibuprofen", "plan"),
    ("I've been stockpiling my meds for weeks", "plan"),
    ("I want to die, I'm standing on the bridge", "method"),
    ("I want to end it after everyone sleeps", "timing"),
    ("I wrote my suicide note", "plan"),
    ("I want to die. goodbye everyone", "farewell"),
    ("I've been giving away my things, I won't need them anymore", "farewell"),
    ("this is my goodbye, thank you for everything", "farewell"),
    # session 9: preparations and acts, often without a word for dying
    ("i've written my note", "plan"),
    ("ive left a note on my pillow for whoever finds me", "farewell"),
    ("i have the pills counted out on the bed and the note next to them", "farewell"),
    ("it'll all be over soon. bye everyone", "intent"),
    ("the note is in my desk drawer. i'm done fighting", "farewell"),
    ("my letters are written and ive given the cat to my neighbour. im so tired of being alive", "farewell"),
    ("standing on the wrong side of the railing on the bridge rn", "attempt"),
    ("im sat on the edge of the multistorey car park roof", "attempt"),
    ("bought paracetamol from three different shops today so i have enough", "plan"),
    ("my plan is to drive into a tree on the motorway on the way home", "method"),
    ("ive decided. saturday, after my shift, at the railway crossing", "intent"),
    ("i have my dads gun in my lap and its loaded", "plan"),
    ("wrote my goodbyes, turned my phone off after this, the bottle is open", "farewell"),
])
def test_means_plan_timing_and_farewell_make_it_imminent(text, category):
    check(text, Level.IMMINENT, category)


@pytest.mark.parametrize("text, pair", [
    ("my mind is made up, I have the rope in the shed", {"intent", "method"}),
    ("please don't look for me, I'm on top of the multi storey", {"intent", "method"}),
    ("wrote goodbyes to my mum and dad, now heading to the river", {"farewell", "method"}),
    ("I have 25 oxycodone and a bottle of vodka", {"plan", "method"}),
])
def test_two_raisers_together_are_imminent_without_an_ideation_phrase(text, pair):
    result = check(text, Level.IMMINENT)
    assert pair <= {s.category for s in result.signals}


@pytest.mark.parametrize("text", [
    "I bought a rope for my climbing course",  # one phrase read as a plan and as the means
    "I've made up my mind to stop taking my pills",  # a resolve beside the bare word for the means
    "heading to the river tonight for a picnic",  # a place and a time: chat is full of both
])
def test_raisers_that_are_one_fact_or_everyday_chat_are_not_imminent(text):
    check(text, Level.NONE)


def test_the_means_named_inside_a_risk_phrase_does_not_raise_it():
    check("how many pills would it take", Level.CRISIS, "ideation")
    check("I keep thinking about taking all my pills", Level.CRISIS, "ideation")


def test_a_count_of_pills_laid_out_is_a_plan():
    check("I have 30 pills lined up", Level.IMMINENT, "plan")  # a lexicon line may start with #30
    check("I have 3 pills lined up for the week", Level.NONE)


def test_danger_happening_now_is_imminent():
    check("someone is trying to get into my house and he has a knife", Level.IMMINENT, "danger")
    check("I'm afraid to go home, he said he'd hurt me if I told", Level.CRISIS, "danger")


def test_a_goodbye_beside_hopelessness_is_a_goodbye_note():
    check("sorry everyone, i can't do this anymore. goodbye", Level.IMMINENT, "farewell")
    check("goodbye everyone, have a good night", Level.NONE)


def test_a_threat_that_says_more_than_the_idiom_inside_it_is_danger():
    check("he said he'll kill me if i leave", Level.CRISIS, "danger")
    check("my mum will kill me if i'm late again", Level.NONE)
    check("she says she'll kill me if i eat her fries lol", Level.NONE)


def test_a_negation_does_not_reach_into_an_unpunctuated_new_clause():
    check("tell me why i shouldnt i am hopeless", Level.DISTRESS, "hopelessness")
    check("I'm not hopeless", Level.NONE)


def test_a_count_below_the_threshold_is_not_a_stockpile():
    check("I took 2 ibuprofen for my headache", Level.NONE)
    check("I took 30 ibuprofen", Level.IMMINENT, "attempt")


def test_passive_ideation_with_a_date_stays_crisis():
    check("I don't want to wake up tomorrow", Level.CRISIS, "ideation")


# --- what must not fire ---------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "I'm not suicidal", "I would never hurt myself", "I don't want to die, I want things to change",
    "not that I want to die or anything", "I'm not going to kill myself, I promise",
])
def test_negation_and_denial(text):
    check(text, Level.NONE)


@pytest.mark.parametrize("text", [
    "i cant stop thinking about overdosing", "i can not stop thinking about suicide",
    "i never stop thinking about dying", "i can't help thinking about ending it",
])
def test_not_being_able_to_stop_the_thoughts_is_not_a_denial(text):
    check(text, Level.CRISIS, "ideation")


@pytest.mark.parametrize("text", [
    "I used to want to die but now I'm doing okay",
    "five years ago I tried to kill myself, today I'm a peer supporter",
    "when I was 16 I self harmed, I've been clean for 8 years",
    "back then I thought everyone would be better off without me",
    "i tried to kill myself years ago and i am still here",  # the cue right after the words
    "i tried to kill myself a few years ago", "my friend overdosed two years ago and survived",
    "years ago i wanted to die every single day",
])
def test_past_tense_recovery_stories(text):
    check(text, Level.NONE)


@pytest.mark.parametrize("text", [
    "i want to die my best friend moved away 3 weeks ago and i have nobody",
    "i wanna kill myself everything went wrong since my dad left when i was a kid",
    "i feel like ending it all my mum died months ago and the pain never stops",
])
def test_a_past_cue_further_along_an_unpunctuated_message_does_not_cancel_it(text):
    check(text, Level.CRISIS, "ideation")


@pytest.mark.parametrize("text", [
    "this exam is killing me", "I'm dead 😂", "we killed it today", "that cake is to die for",
    "my phone is dying", "kms lol", "I'm dying to see the new season", "I want to die my hair blue",
    "my mom is going to kill me when she sees my grades", "I'm bored to death",
])
def test_idioms_and_jokes(text):
    check(text, Level.NONE)


@pytest.mark.parametrize("text", [
    "in the game I keep killing myself by jumping off the cliff lol",
    "that movie where he kills himself wrecked me",
    "the song I want to die is so good",
])
def test_games_films_and_lyrics(text):
    check(text, Level.NONE)


@pytest.mark.parametrize("text", [
    "I started sertraline 50mg last week", "my doctor upped my dose to 100mg of zoloft",
    "I take 2 ibuprofen when my back hurts",
])
def test_medication_talk_at_normal_doses(text):
    check(text, Level.NONE)


@pytest.mark.parametrize("text", [
    "if you ever feel like you want to die, please call 988",
    "you can always text 988 if it gets bad tonight",
    "you are not a burden, we are glad you're here",
    "the suicide prevention training was good",
])
def test_supportive_replies_and_topics(text):
    check(text, Level.NONE)


# --- third person ---------------------------------------------------------------------------
def test_someone_else_at_risk_now_is_a_crisis():
    result = check("my friend says she wants to die tonight", Level.CRISIS, "third_person")
    assert "ideation" not in result.categories
    check("my roommate said he's going to kill himself", Level.CRISIS, "third_person")
    check("my friend says he's going to shoot himself tonight", Level.CRISIS, "third_person")


@pytest.mark.parametrize("text, level", [
    ("my friend just told me she's taken a bunch of pills, what do i do", Level.IMMINENT),  # their attempt
    ("my friend has the pills ready and says she wants to die", Level.IMMINENT),  # the means beside them
    ("my friend says she wants to die and i don't know what to do", Level.CRISIS),
    # session 9: their resolve beside their plan
    ("my friend said she's saved up her tablets and is taking them all tonight", Level.IMMINENT),
])
def test_someone_else_in_danger_now_is_imminent(text, level):
    check(text, level, "third_person")


def test_someone_elses_act_told_without_a_word_for_dying_is_imminent():
    for text in ["my mum is locked in the bathroom and says she's got a knife",
                 "my boyfriend sent me a photo of a rope and said sorry",
                 "my daughter left a note saying goodbye and she's not in her room"]:
        assert assess(text).level == Level.IMMINENT, text
    for text in ["my mum left a note saying she's gone to the shops",
                 "my dad said the exam would kill me if i didn't revise lol"]:
        assert assess(text).level == Level.NONE, text


def test_someone_elses_attempt_long_ago_is_not_flagged():
    check("my friend took a bunch of pills years ago", Level.NONE)


def test_someone_else_feeling_low_is_not_flagged():
    check("she feels hopeless about her exams", Level.NONE)


# --- explanations ---------------------------------------------------------------------------
def test_signals_point_at_the_original_text():
    text = "ok so... I've saved up 40 ibuprofen and I'm doing it after everyone sleeps"
    result = assess(text)
    assert result.level == Level.IMMINENT
    for signal in result.signals:
        assert text[signal.span[0]:signal.span[1]] == signal.text
    assert any(s.text == "saved up 40 ibuprofen" and s.category == "plan" for s in result.signals)
    assert any(s.text == "after everyone sleeps" and s.category == "timing" for s in result.signals)


def test_spans_survive_obfuscation():
    text = "honestly... i wanna k i l l  m y s e l f"
    result = check(text, Level.CRISIS, "ideation")
    assert any("k i l l" in s.text for s in result.signals)


def test_none_carries_no_signals():
    assert assess("goodbye everyone, see you tomorrow").signals == ()
    assert assess("").level == Level.NONE


# --- read beside a risk already stated (an open alert) -------------------------------------
@pytest.mark.parametrize("text, category", [
    ("im at the bridge rn", "method"),
    ("i bought a rope today", "method"),
    ("i have a plan i just haven't done it yet", "plan"),
    ("my mind is made up", "intent"),
    ("please don't look for me", "intent"),
    ("i've said my goodbyes", "farewell"),
])
def test_after_a_stated_risk_one_raiser_is_imminent(text, category):
    assert assess(text).level < Level.CRISIS, "alone, from someone nobody is worried about, it says little"
    result = assess(text, earlier=Level.CRISIS)
    assert result.level == Level.IMMINENT, (text, result)
    assert category in result.categories


@pytest.mark.parametrize("text", [
    "see you all tonight",  # a time alone
    "i took my pills and i'm going to bed",  # the bare name of a means
    "i'm not going to the bridge",  # negated
    "i used to stand on the bridge and think about it",  # the past
    "goodbye everyone, see you tomorrow",  # a sign-off
    "thanks, i'm going to call the number",
])
def test_after_a_stated_risk_ordinary_words_stay_ordinary(text):
    assert assess(text, earlier=Level.CRISIS).level < Level.CRISIS, text


@pytest.mark.parametrize("text", [
    "i've said my goodbyes",
    "goodbye everyone. thank you for everything",
    "farewell everyone",
])
def test_after_distress_a_goodbye_is_a_goodbye_note(text):
    """As in one message ("i can't do this anymore. goodbye"): a goodbye beside distress."""
    assert assess(text).level < Level.CRISIS
    result = assess(text, earlier=Level.DISTRESS)
    assert result.level == Level.IMMINENT, (text, result)
    assert "farewell" in result.categories


@pytest.mark.parametrize("text", [
    "im at the bridge rn",  # the means or a place: imminent beside ideation, not beside distress
    "my mind is made up",  # a resolve: "made up my mind to quit my job" is everyday too
    "goodbye everyone, see you tomorrow",  # a sign-off
    "see you all tonight",
])
def test_after_distress_only_a_goodbye_raises(text):
    assert assess(text, earlier=Level.DISTRESS).level < Level.CRISIS, text


def test_a_farewell_that_signs_off_is_not_a_goodbye_note():
    assert assess("💊 goodbye everyone").level == Level.IMMINENT  # the means beside a goodbye
    assert assess("💊 goodbye everyone, see you tomorrow").level == Level.NONE
    assert assess("bye all, going to bed", earlier=Level.DISTRESS).level == Level.NONE


def test_a_sign_off_inside_what_a_risk_phrase_says_does_not_cancel_the_goodbye():
    result = assess("goodbye everyone. going to bed and never waking up")
    assert result.level == Level.IMMINENT and {"farewell", "ideation"} <= result.categories


def test_passive_ideation_is_raised_by_a_goodbye_but_not_by_a_time_word():
    assert assess("i hope i never wake up. goodbye everyone").level == Level.IMMINENT
    assert assess("i hope i never wake up tomorrow").level == Level.CRISIS


@pytest.mark.parametrize("text,level,category", [
    ("i can't cope anymore", Level.DISTRESS, "hopelessness"),
    ("everything feels pointless", Level.DISTRESS, "hopelessness"),
    ("see you on the other side", Level.CRISIS, "ideation"),
    ("goodbye everyone, see you on the other side", Level.IMMINENT, "farewell"),  # "see you on" is no sign-off here
])
def test_session_8_phrases(text, level, category):
    result = assess(text)
    assert (result.level, category in result.categories) == (level, True), result


def test_the_other_side_of_something_is_not_a_goodbye():
    assert assess("see you all on the other side of exam week").level == Level.NONE


@pytest.mark.parametrize("text", ["going to bed and not waking up till noon", "going to sleep and not waking up until 11"])
def test_a_lie_in_is_not_ideation(text):
    assert assess(text).level == Level.NONE


# --- engineering properties -----------------------------------------------------------------
def test_fast_and_careful_paths_agree_on_every_labelled_message():
    from bench.detection import ORDINARY_CHAT, PROJECT_SET, read_project_set

    normalizer = detector_for().lexicon.normalizer
    texts = [text for _, _, text in read_project_set(PROJECT_SET)]
    texts += ORDINARY_CHAT.read_text(encoding="utf-8").splitlines()
    texts += ["it's my mom's self-harm check-in at 10am, she's ok!!", "dont... i cant. 'quote' -- i'm fine",
              "Tonight's the night; I've 40 pills"]
    for text in texts:
        fast, careful = normalizer(text), normalizer._by_token(text)
        assert fast.words == careful.words, text
        # the same original text behind every word, and every key a phrase could look for
        assert [s for w, s in zip(fast.words, fast.spans) if w != "|"] == \
               [s for w, s in zip(careful.words, careful.spans) if w != "|"], text
        assert careful.keys & normalizer.relevant_keys <= fast.keys, text


def assess_in_threads(texts: list[str], threads: int = 4) -> list[list]:
    results: dict[int, list] = {}

    def run(n):
        results[n] = [assess(t) for t in texts]

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return list(results.values())


def test_deterministic_and_thread_safe():
    texts = ["I want to die tonight", "this exam is killing me", "k1ll mys3lf", "I feel hopeless"] * 50
    expected = [assess(t) for t in texts]
    assert all(r == expected for r in assess_in_threads(texts))


def test_every_process_gives_the_same_reasons_whatever_its_hash_seed():
    # Two phrases can find the same words ("want to hurt myself"); the facilitator must be shown
    # the same one by every Daphne process, and a restart must not change it.
    code = ("from bench.detection import PROJECT_SET, read_project_set; from escalation.detection import assess; "
            "print(repr([assess(text) for _, _, text in read_project_set(PROJECT_SET)]))")
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    outputs = {seed: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                    cwd=root, env={"PATH": "", "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert "phrase=" in outputs["1"] and outputs["1"] == outputs["2"]


def test_results_hold_while_threads_overflow_the_word_caches(monkeypatch):
    from bench.detection import PROJECT_SET, read_project_set

    texts = [text for _, _, text in read_project_set(PROJECT_SET)][:200]
    expected = [assess(t) for t in texts]
    monkeypatch.setattr(detector_for().lexicon.normalizer, "cache_limit", 5)  # emptied every few words
    results = assess_in_threads(texts)
    assert len(results) == 4 and all(r == expected for r in results)


def test_the_detector_warmed_at_startup_is_the_one_messages_use():
    from escalation.detection import _detector

    warmed = detector_for()  # what chatserver/asgi.py does at startup
    built = _detector.cache_info().misses
    assess("I want to die")  # the first message must not build (~0.3 s, in the database thread)
    assert detector_for("en") is warmed and _detector.cache_info().misses == built


def test_importable_without_django():
    code = "import sys; from escalation.detection import assess; print(assess('kms').level.value); " \
           "print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": ""},
                         cwd=__import__("pathlib").Path(__file__).resolve().parents[2], check=True).stdout
    assert out.split() == ["crisis", "False"]


def test_a_lexicon_can_be_extended_without_code(tmp_path):
    shutil.copytree(LEXICON_DIR / "en", tmp_path / "xx")
    with (tmp_path / "xx" / "signals.txt").open("a") as f:
        f.write("\n[ideation crisis]\nwant to become a ghost forever\n")
    detector = Detector(load("xx", tmp_path))
    assert detector.assess("I want to become a ghost forever").level == Level.CRISIS
    assert assess("I want to become a ghost forever").level == Level.NONE


def test_lexicon_errors_name_the_line(tmp_path):
    shutil.copytree(LEXICON_DIR / "en", tmp_path / "xx")
    with (tmp_path / "xx" / "signals.txt").open("a") as f:
        f.write("\n[ideation urgent]\nwhatever\n")
    with pytest.raises(LexiconError, match="unknown level 'urgent'"):
        load("xx", tmp_path)


# --- session 9: the same preparations in everyday life ------------------------------------
@pytest.mark.parametrize("text", [
    "finished my notes for the exam, wish me luck",
    "exams finish friday, it will all be over soon thank god",
    "i left a note for my flatmate about the bins",
    "wrote my will today since the baby arrived, feels very grown up",
    "gave my cat to my parents while i'm on placement, miss her already",
    "we tied the rope to the tree for the swing, kids loved it",
    "i've decided: saturday i'm finally telling my manager i'm quitting",
    "my plan is to study all weekend",
    "i almost drove into a tree on the ice this morning",
    "i'm drowning in coursework this week",
    "the dishwasher is loaded, can someone put it on",
    "i'm a failure at cooking, burnt the rice again haha",
    "my chest is tight from this cold, lemsip time",
    "i'm sick of this rain honestly",
])
def test_the_same_words_in_everyday_life_are_nothing(text):
    check(text, Level.NONE)


def test_a_negation_before_when_i_am_gone_belongs_to_another_verb():
    check("i gave my dog to my brother so he won't be alone when i'm gone", Level.IMMINENT, "farewell")


def test_a_note_written_in_the_mind_is_ideation():
    check("i keep drafting a suicide note in my head but i havent written anything", Level.CRISIS, "ideation")


# --- session 10 -------------------------------------------------------------------------------
def test_a_sign_off_shows_that_not_being_around_is_for_the_night():
    check("i won't be around after tonight", Level.IMMINENT, "ideation")
    check("my phone is on 2% so i won't be around after tonight, catch you tomorrow", Level.NONE)


@pytest.mark.parametrize("text", [
    "sitting on the edge of the pool with my feet in the water, bliss",
    "sat on the edge of my bed for an hour before work",
    "my phone is on 2% so i won't be around after tonight, catch you tomorrow",
    "took everything out of the cupboard to clean it, found a mouldy loaf lol",
    "my eczema is awful, been scratching my arms all night",
    "i'll take the lot, they're only a pound each",
    "bout to end it with my bf lol he's so annoying",
    "going 2 the gym when my mom leaves for work",
])
def test_session_10_everyday_look_alikes_are_nothing(text):
    check(text, Level.NONE)


@pytest.mark.parametrize("text,level,category", [
    ("i'm sitting on the edge of the multistorey car park roof", Level.IMMINENT, "attempt"),
    ("i'm sitting on the edge of the tub with a razor", Level.IMMINENT, "plan"),
    ("i have the belt round my neck", Level.IMMINENT, "attempt"),
    ("the tablets are next to me and i'm going to take the lot", Level.IMMINENT, "plan"),
    ("i've been scratching my arms with a compass again", Level.CRISIS, "self_harm"),
    ("honestly if i didnt wake up tomorrow i'd be relieved", Level.CRISIS, "ideation"),
    ("everybody would cope fine if i just disappeared for good", Level.CRISIS, "ideation"),
    ("i dont see myself still being here by christmas", Level.CRISIS, "ideation"),
    ("what's the least painful way to go", Level.CRISIS, "ideation"),
    ("been having thoughts of jumping in front of the tube", Level.CRISIS, "ideation"),
    ("death cant come for me fast enough", Level.CRISIS, "ideation"),
    ("if i go to sleep and dont wake up i wont have to deal with it", Level.CRISIS, "ideation"),
    ("you'd be better off without me", Level.DISTRESS, "burden"),
    ("i cant keep pretending i'm fine", Level.DISTRESS, "distress"),
    # the sixteenth batch
    ("thinking of downing all my insulin", Level.CRISIS, "ideation"),
    ("every night i lie awake planning how i would do it", Level.CRISIS, "ideation"),
    ("i'm scared that one of these days i'll just walk off the cliff path", Level.CRISIS, "ideation"),
    ("some days i wish the cancer would hurry up and finish me", Level.CRISIS, "ideation"),
    ("i want to go to sleep and have it all just stop", Level.CRISIS, "ideation"),
    ("would anyone actually notice if i stopped breathing", Level.CRISIS, "ideation"),
    ("i burned my hand on the hob on purpose", Level.CRISIS, "self_harm"),
    ("the hose is taped to the exhaust", Level.IMMINENT, "attempt"),
    ("i cut the wrong way this time and it's pouring", Level.IMMINENT, "attempt"),
    ("i swallowed a bottle of wine and a strip of co-codamol", Level.IMMINENT, "attempt"),
    ("im so sorry mum. by the time you wake up ill be gone", Level.IMMINENT, "ideation"),
    ("put the dog in the kennels and cancelled the milk. tomorrow it'll be done", Level.IMMINENT, "farewell"),
    ("you lot kept me going longer than i would have. it's my time now", Level.IMMINENT, "intent"),
    ("there's a rope in my car and i'm parked in the woods", Level.IMMINENT, "plan"),
    ("she's locked herself in the bathroom with my razors", Level.IMMINENT, "intent"),
    ("i'm just a waste of everyone's time", Level.DISTRESS, "worthlessness"),
    ("i feel like i'm being crushed", Level.DISTRESS, "trapped"),
    ("my heart won't slow down", Level.DISTRESS, "panic"),
    # the eighteenth batch
    ("my english not so good but i want to finish my life", Level.CRISIS, "ideation"),
    ("i want to just not be anymore", Level.CRISIS, "ideation"),
    ("i hold my breath in the bath and think about not coming up", Level.CRISIS, "ideation"),
    ("been looking at the bridge a lot on my walks lately", Level.CRISIS, "ideation"),
    ("if one more thing goes wrong i swear i'm done with living", Level.CRISIS, "ideation"),
    ("i keep making plans and then thinking i wont be around for them anyway", Level.CRISIS, "ideation"),
    ("i'm writing this from the car. the pipe is in and the windows are up", Level.IMMINENT, "attempt"),
    ("i've written a letter for each of my kids. sunday it ends", Level.IMMINENT, "plan"),
    ("i can't remember the last time i felt anything", Level.DISTRESS, "distress"),
    ("they'd be happier with a different kid", Level.DISTRESS, "burden"),
    ("i'm such a let down to my parents", Level.DISTRESS, "worthlessness"),
    ("my mind won't stop racing, i'm terrified all the time", Level.DISTRESS, "panic"),
    # the nineteenth batch: texting
    ("bout to end it for real this time", Level.IMMINENT, "ideation"),
    ("i'm about to hang myself", Level.IMMINENT, "ideation"),
    ("im in the bathtub with my dads razor blades rn", Level.IMMINENT, "plan"),
    ("going 2 overdose when my mom leaves for work", Level.IMMINENT, "timing"),
    ("sitting in the garage w the engine on", Level.IMMINENT, "attempt"),
    ("sometimes i stand near the edge of the platform n think about it", Level.CRISIS, "ideation"),
    ("thinking bout taking all my adderall at once", Level.CRISIS, "ideation"),
    ("been sh'ing every night this week", Level.CRISIS, "self_harm"),
    # session 11: the twenty-second and twenty-third batches
    ("already took half the box of my nan's tablets", Level.IMMINENT, "attempt"),
    ("just necked most of my sertraline", Level.IMMINENT, "attempt"),
    ("gonna take the rest of my pills tonight", Level.IMMINENT, "ideation"),
    ("i punched the mirror so i'd feel something", Level.CRISIS, "self_harm"),
    ("i slammed my hand in the door to feel something", Level.CRISIS, "self_harm"),
    ("my ex keeps saying he'll hurt me if i don't go back", Level.CRISIS, "danger"),
    ("every night i lie there hoping my heart just stops", Level.CRISIS, "ideation"),
    ("i keep hoping my heart will just give out", Level.CRISIS, "ideation"),
    ("i don't see a way through this except not being here", Level.CRISIS, "ideation"),
    ("i keep googling how much of my meds would be lethal", Level.CRISIS, "ideation"),
    ("what's the lethal dose of sertraline", Level.CRISIS, "ideation"),
    ("my son told his teacher he wants to be dead, he's nine", Level.CRISIS, "third_person"),
    ("i can't make myself care about anything anymore", Level.DISTRESS, None),
    ("everything feels grey. not sad exactly, just nothing", Level.DISTRESS, None),
    ("dad is standing on the bridge railing and won't come down", Level.IMMINENT, "third_person"),
    ("the chair's under the beam and i've checked it'll hold", Level.IMMINENT, "attempt"),
    ("just injected all my insulin. i'm so tired", Level.IMMINENT, "attempt"),
    ("i cut again last night and it was deeper than usual", Level.CRISIS, "self_harm"),
    ("i've stopped taking my meds and i'm saving them up instead", Level.IMMINENT, "plan"),
    ("my husband has been hitting me again and he said next time will be worse", Level.CRISIS, "danger"),
    ("my little brother keeps drawing pictures of himself dead", Level.CRISIS, "third_person"),
    ("i'm a danger to myself right now and i know it", Level.CRISIS, "ideation"),
    ("i'm at the top of the multi storey. i don't want to be talked down", Level.IMMINENT, "ideation"),
    ("been looking at the train times and thinking about how easy it would be", Level.CRISIS, "ideation"),
    ("sometimes when i'm on the balcony i think about just leaning too far", Level.CRISIS, "ideation"),
    ("i'm only still here because of my cat honestly", Level.CRISIS, "ideation"),
    ("nobody would care if i never came back from my walk", Level.CRISIS, "ideation"),
    ("i've ruined everything, as usual", Level.DISTRESS, "worthlessness"),
    ("my head is so loud tonight, i can't switch it off", Level.DISTRESS, "distress"),
    ("i don't think anyone actually likes me, they just put up with me", Level.DISTRESS, "distress"),
    ("haven't eaten properly in days, just can't face it", Level.DISTRESS, "distress"),
])
def test_phrases_the_batches_of_sessions_10_and_11_taught(text, level, category):
    check(text, level, category)


def test_a_routine_is_not_a_time_to_act():
    check("been having thoughts of jumping in front of the tube every morning", Level.CRISIS, "ideation")


def test_urges_to_cut_are_self_harm_not_an_attempt():
    check("urges to cut are really bad today", Level.CRISIS, "self_harm")
    assert "attempt" not in assess("urges to cut are really bad today").categories


def test_the_means_a_risk_phrase_runs_into_is_part_of_it():
    # "crashing my car into a wall" is what the thought is about, not a second fact beside it
    check("i keep thinking about crashing my car into a wall on the motorway", Level.CRISIS, "ideation")


# --- frames: a leaning beside an act (sets.txt [lean]/[leaning] x [act]/[acting]) --------------
@pytest.mark.parametrize("text", [
    "tempted to step off the platform when the train comes in",
    "im considering stabbing myself honestly",
    "i feel like setting myself on fire sometimes",
    "i keep picturing myself hanging from the banister",
    "i been wanting to throw myself down the stairs",
    "sometimes i think about driving off the road into the reservoir",
    "i could easily swallow everything in the medicine box",
    "my best friend told me she's been thinking about ending her life",
])
def test_any_leaning_beside_any_act_is_ideation(text):
    result = assess(text)
    assert result.level == Level.CRISIS and result.categories & {"ideation", "third_person"}, result


def test_a_new_act_in_the_sets_reaches_every_leaning(tmp_path):
    shutil.copytree(LEXICON_DIR / "en", tmp_path / "xx")
    sets = tmp_path / "xx" / "sets.txt"
    sets.write_text(sets.read_text().replace("[act]\n", "[act]\nbungee_without_a_rope\n"))
    detector = Detector(load("xx", tmp_path))
    for leaning in ("want to", "tempted to", "about to", "wish i could"):
        assert detector.assess(f"i {leaning} bungee without a rope").level >= Level.CRISIS, leaning
    assert assess("i want to bungee without a rope").level == Level.NONE  # the shipped lexicon


def test_thinking_about_an_act_is_not_a_plan_but_going_to_do_it_is():
    check("i feel like ending my life would be easier than facing tomorrow", Level.CRISIS, "ideation")
    check("i'm going to swallow all 40 paracetamol when my parents go out", Level.IMMINENT, "timing")


@pytest.mark.parametrize("text", [
    "i want to jump off the diving board this summer, so scared lol",
    "i'm going to drive into town as soon as it's dark to see the lights",
    "thinking about driving to the reservoir for a picnic tomorrow",
    "i could easily eat everything in the fridge right now",
])
def test_frames_want_the_act_not_the_verb(text):
    check(text, Level.NONE)


def test_a_word_the_phrase_names_is_not_its_context():
    # "level" is a game's word, but not in "level crossing"
    check("i'm walking to the level crossing now, goodbye", Level.IMMINENT, "farewell")
    check("stuck on this level for hours, goodbye sleep", Level.NONE)


def test_someone_elses_goodbye_beside_their_means_is_imminent():
    check("my brother just sent a goodbye text and he's got a rope, we can't find him", Level.IMMINENT, "third_person")


@pytest.mark.parametrize("text", [
    "she wants to kill herself and i don't know what to do",
    "my brother talks about hanging himself when he's drunk",
])
def test_someone_elses_leaning_towards_an_act_is_a_report(text):
    check(text, Level.CRISIS, "third_person")


@pytest.mark.parametrize("text", [
    "my mum wants to kill herself laughing at that video",
    "i'm going to kill myself laughing",
])
def test_killing_yourself_laughing_is_an_idiom(text):
    check(text, Level.NONE)


def test_enough_of_the_weather_is_nothing():
    check("at 74 i've had enough of this cold weather, roll on spring", Level.NONE)


def test_a_laugh_keeps_about_to_from_meaning_now():
    # still a crisis to look at: "want to die lol" is too
    check("about to end it all if this queue doesn't move lol", Level.CRISIS, "ideation")


# --- the distress frame: how someone feels beside a low state (sets.txt [feel] x [low]) --------
@pytest.mark.parametrize("text", [
    "i feel completely defeated, nothing i do works out",
    "honestly i'm not okay and haven't been for weeks",
    "i'm a wreck, i haven't slept or eaten properly in days",
    "i feel so unwanted, like i'm always the one left out",
    "i've been crying all morning and i can't stop",
    "there's this heavy weight on me every day and it never lifts",
])
def test_how_someone_feels_beside_a_low_state_is_distress(text):
    result = assess(text)
    assert result.level == Level.DISTRESS, result


@pytest.mark.parametrize("text", [
    "i'm not okay with pineapple on pizza, sorry",
    "i'm such a mess in the kitchen, flour everywhere lol",
    "i feel completely defeated by this crossword",
    "i'm a wreck after that spin class, legs are jelly",
    "everything hurts after the gym yesterday",
    "i'm so overwhelmed by all the lovely messages, thank you",
])
def test_a_low_state_with_a_small_cause_or_a_laugh_is_nothing(text):
    check(text, Level.NONE)


@pytest.mark.parametrize("text, category", [
    ("i feel so hopeless", "hopelessness"),
    ("i feel worthless", "worthlessness"),
    ("i feel like a burden", "burden"),
])
def test_the_distress_frame_leaves_the_specific_reason_alone(text, category):
    # the facilitator sees "hopelessness" once, not also a vaguer "distress" for the same words
    assert assess(text).categories == {category}


# --- session 11: rules from the twenty-second and twenty-third batches --------------------------
def test_asking_for_instructions_after_is_a_goodbye():
    check("i'll be gone before my shift ends", Level.CRISIS, "ideation")
    check("i'll be gone before my shift ends. don't let them blame themselves", Level.IMMINENT, "farewell")


def test_hoping_to_die_is_passive_so_a_time_word_is_not_a_plan():
    check("i hope i die in my sleep tonight", Level.CRISIS, "ideation")


@pytest.mark.parametrize("text", [
    "this is my last post before my holiday, see you all in two weeks!",
    "this is my last post, see you in a week",
])
def test_a_goodbye_with_a_return_date_is_a_sign_off(text):
    check(text, Level.NONE)


@pytest.mark.parametrize("text", [
    "took half a paracetamol for my headache",
    "took half the box of cereal to work lol",
    "took the rest of my antibiotics like the doctor said",
    "i hit the gym to feel something other than tired",
    "bit into a chilli to feel something, regret",
    "my coach keeps saying he'll hurt me in training if i slack off haha",
    "hoping my heart stops racing before the interview",
    "i wish my brain would stop overthinking everything",
    "hoping my body gives out before the marathon ends lol",
    "no way to get there except driving",
    "there's no option other than ending it with him, he cheated",
    "how much caffeine would be lethal lol",
    "how many paracetamol can i take in a day for a toothache",
    "the lethal dose of paracetamol is lower than people think, be careful with cold remedies",
    "don't let them blame themselves for the loss, the team played well",
    "i can't stop thinking about the match",
    "i'm doing it tomorrow, the ironing can wait",
    "standing on the bridge railing for a photo, mum nearly fainted",
    "she's standing on the roof edge fixing the gutter",
    "the chair's under the beam, we're painting the ceiling",
    "injected all my insulin doses on time this week, go me",
    "the hairdresser cut it deeper than usual this time, bit short",
    "i cut the hedge back deeper than last time",
    "my brother beating me at fifa again",
    "the only reason i'm still here is the free pizza lol",
    "don't try to talk me down from buying these boots",
    "i don't want to be talked down to by my manager",
    "he's got his gun out for the clay shoot in the morning",
    "i'm a danger to myself in the kitchen lol",
    "the tracks are so close to my house, i'm always thinking about how easy it would be to get to town",
    "stopped taking my antibiotics and i'm saving them for next time",
    "i feel like nobody would care if i was gone for a while",
    # two resolves with nothing at risk: a resolve pairs only with the means, a plan or a goodbye
    "i've decided, i'm ready to do this. signing up for the marathon",
    "made up my mind, i'm doing it tonight - asking her out",
    "my mind is made up, no turning back, i'm quitting my job",
    # the same preparations in everyday life
    "put the dog in the kennels and cancelled the milk, off to spain tomorrow morning!",
    "standing at the platform waiting for the fast train to london, delayed again",
    "there's a rope in my car for towing, anyone need a hand?",
    "i cut my fringe the wrong way this time and it looks awful",
])
def test_everyday_look_alikes_of_session_10_and_11_rules_are_not_a_crisis(text):
    assert assess(text).level < Level.CRISIS, text


@pytest.mark.parametrize("text", ["the rope's up in the garage", "the rope’s up in the garage"])
def test_an_s_before_a_word_no_noun_starts_with_is_is(text):
    result = check(text, Level.IMMINENT, "attempt")
    assert "rope’s up" in " ".join(s.text for s in result.signals).replace("'", "’")


def test_an_s_before_a_noun_is_whose():
    check("my nan's tablets are in the drawer", Level.NONE)
    check("my nan's up early, the tablets are in the drawer", Level.NONE)

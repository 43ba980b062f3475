"""The reflective engine, turn by turn, with concrete utterances."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from voice_companion.dialogue import DialogueEngine, PastThread, Reply, create_engine
from voice_companion.dialogue.engine import ReflectiveEngine
from voice_companion.dialogue.safety import crisis_reply
from voice_companion.dialogue.templates import WINDOW
from voice_companion.dialogue.text import content_words
from voice_companion.dialogue.wording import engine_wording

ROADBLOCKS = re.compile(
    r"\b(you should|you shouldn't|you must|you need to|you have to|have you tried|"
    r"why don't you|at least|don't worry|everything happens for a reason|calm down|"
    r"cheer up|look on the bright side|if i were you|my advice|it could be worse|"
    r"good job|well done|you're right|i agree|it'll be fine|why)\b",
    re.I,
)
REFLECTIONS = {"simple_reflection", "complex_reflection"}
QUESTIONS = {"open_question", "closed_question"}

CONVERSATION = [
    "My boss ignored me again in the meeting today.",
    "I stayed late every night for the launch and he thanked everyone except me",
    "I'm so tired of all of it",
    "yeah",
    "my sister says I should just quit",
    "I want to quit but I'm scared I won't find anything else",
    "the job interview on friday is the only thing I have lined up",
    "I don't know",
    "I guess I feel kind of invisible",
    "I tried to talk to my boss about it last week",
    "he just said everyone is busy",
    "it's not fair",
    "what should I do?",
    "are you a real person?",
    "i dont even know why im telling a computer this",
    "my mum always said I was too sensitive",
    "maybe she was right",
    "I'm not angry, I'm hurt",
    "yeah. hurt.",
    "I got a call back from the interview though",
    "I'm actually kind of excited about it",
    "part of me wants to stay and part of me is ready to go",
    "oh great my boss just emailed me about the weekend",
    "this fucking job",
    "sorry",
    "I don't know what I'd do without my sister",
    "she always listens",
    "ok",
    "thanks for listening",
    "I think that's enough for today",
]


def talk(lines: list[str], engine: ReflectiveEngine | None = None) -> list[Reply]:
    engine = engine or ReflectiveEngine()
    engine.greet()
    return [engine.respond(line) for line in lines]


def reply_to(text: str) -> Reply:
    return ReflectiveEngine().respond(text)


def test_create_engine_gives_a_reflective_engine() -> None:
    engine = create_engine("UK", [])
    assert isinstance(engine, ReflectiveEngine)
    assert isinstance(engine, DialogueEngine)


def test_pronouns_are_turned_around() -> None:
    text = reply_to("my boss ignores me").text.lower()
    assert "your boss" in text
    assert "my boss" not in text


def test_feelings_in_the_persons_own_words() -> None:
    reply = reply_to("I'm exhausted and my kids never stop")
    assert "exhausted" in reply.text
    reply = reply_to("I'm absolutely gutted")
    assert "gutted" in reply.text
    assert reply.emotions and reply.emotions[0].label == "sadness"


def test_inferred_feelings_are_named_tentatively() -> None:
    reply = reply_to("nobody at work even notices me anymore")
    assert reply.acts == ["complex_reflection"]
    tentative = r"\b(sounds like|maybe|wonder|might|imagine|seems|hearing|perhaps|guess\w*|could)\b"
    assert re.search(tentative, reply.text, re.I)



@pytest.mark.parametrize("text", ["My manager criticised my report in front of everyone.",
                                  "my dad laughed at me when I told him"])
def test_being_criticised_or_laughed_at_is_heard_as_a_hurt(text: str) -> None:
    reply = reply_to(text)
    assert reply.acts == ["complex_reflection"]
    assert re.search(r"\bhurt\b|feeling criticised", reply.text), reply.text
    assert not reply.text.startswith("Right now")  # no present-tense frame on a past event


@pytest.mark.parametrize(
    ("named_turn", "correction", "word"),
    [
        ("I guess I'm kind of angry", "No, not angry. Hurt.", "hurt"),
        ("I'm a bit angry about it", "I'm not angry, I'm hurt", "hurt"),
        ("I'm so angry at her", "it's not anger, it's more like disappointment", "disappointment"),
        ("nobody listens to me", "I'm not hurt, I'm furious", "furious"),
        ("I feel sad about it", "more lonely than sad", "lonely"),
        ("I'm anxious about the move", "not anxious, just done", "done"),
        ("I'm really frustrated", "frustrated isn't the right word, it's more that I feel let down",
         "let down"),
    ],
)
def test_a_correction_is_adopted_on_the_next_turn(named_turn: str, correction: str,
                                                  word: str) -> None:
    engine = ReflectiveEngine()
    engine.greet()
    engine.respond(named_turn)
    reply = engine.respond(correction)
    assert word in reply.text.lower()


def test_the_rejected_word_is_not_used_again() -> None:
    engine = ReflectiveEngine()
    engine.greet()
    engine.respond("I'm kind of angry")
    engine.respond("I'm not angry, I'm hurt")
    later = [engine.respond(t).text.lower() for t in ("yeah", "she forgot my birthday again",
                                                       "ok", "it just keeps happening")]
    assert not any(re.search(r"\bangry\b", t) for t in later)


def test_no_roadblocks_why_questions_or_double_questions() -> None:
    replies = talk(CONVERSATION)
    for reply in replies:
        if "safety" in reply.acts:
            continue
        assert not ROADBLOCKS.search(reply.text), reply.text
        assert reply.text.count("?") <= 1, reply.text
        assert sum(a in QUESTIONS for a in reply.acts) <= 1


def test_reflections_outnumber_questions_and_are_mostly_complex() -> None:
    replies = talk(CONVERSATION)
    acts = [a for r in replies for a in r.acts]
    reflections = sum(a in REFLECTIONS for a in acts)
    questions = sum(a in QUESTIONS for a in acts)
    assert reflections >= 2 * questions
    assert acts.count("complex_reflection") >= 0.5 * reflections
    assert acts.count("open_question") >= 0.9 * questions


def test_no_reply_is_said_twice_and_no_template_repeats_within_window() -> None:
    engine = ReflectiveEngine()
    engine.greet()
    seen: set[str] = set()
    used: dict[str, int] = {}
    for turn, line in enumerate(CONVERSATION + ["yeah"] * 10 + ["I don't know"] * 5):
        reply = engine.respond(line)
        assert reply.text not in seen, reply.text
        seen.add(reply.text)
        for template in engine.last_template_ids:
            if template in used:
                assert turn - used[template] >= WINDOW, template
            used[template] = turn


def test_what_should_i_do_reflects_the_wish_and_hands_the_choice_back() -> None:
    engine = ReflectiveEngine()
    engine.respond("my partner wants us to move to another city")
    reply = engine.respond("what should I do?")
    assert reply.acts == ["complex_reflection", "open_question"]
    assert reply.text.endswith("?")
    assert not ROADBLOCKS.search(reply.text)


def test_are_you_a_real_person_is_answered_honestly() -> None:
    reply = reply_to("are you a real person?")
    assert "program" in reply.text
    assert "computer" in reply.text
    reply = reply_to("am I talking to a robot")
    assert "program" in reply.text


def test_minimal_answers_get_space_then_a_carried_on_reflection() -> None:
    engine = ReflectiveEngine()
    engine.greet()
    engine.respond("my sister moved to Australia last month")
    first = engine.respond("yeah")
    second = engine.respond("yeah")
    third = engine.respond("yeah")
    assert first.acts == []  # a listening sound, no question
    assert not REFLECTIONS & set(second.acts)
    assert "complex_reflection" in third.acts
    assert "your sister" in third.text.lower()


def test_a_remembered_feeling_is_carried_on_sooner() -> None:
    engine = ReflectiveEngine()
    engine.greet()
    engine.respond("I'm so lonely since my sister moved away")
    engine.respond("yeah")
    second = engine.respond("mm")
    assert "complex_reflection" in second.acts
    assert "lonely" in second.text


def test_i_dont_know_is_met_without_pressure() -> None:
    reply = reply_to("I don't know")
    assert reply.acts[0] == "simple_reflection"
    assert "?" not in reply.text


def test_sarcasm_is_heard_as_frustration() -> None:
    reply = reply_to("oh great, my car broke down again")
    assert reply.acts == ["complex_reflection"]
    assert "oh great" not in reply.text.lower()
    assert not {e.label for e in reply.emotions} & {"joy", "admiration", "excitement"}
    assert "joy" not in [e.label for e in reply_to("yeah right, best day ever").emotions]


def test_swearing_is_reflected_without_being_echoed() -> None:
    reply = reply_to("I'm so fucking angry at my brother")
    assert "fuck" not in reply.text.lower()
    assert reply.emotions[0].label == "anger"


def test_off_topic_requests_get_an_honest_redirect() -> None:
    reply = reply_to("what's the weather like tomorrow")
    assert "listen" in reply.text
    assert reply.acts == ["open_question"]


def test_positive_news_gets_a_reflection() -> None:
    reply = reply_to("I got the job!")
    assert "the job" in reply.text
    assert reply.acts[0] == "complex_reflection"
    reply = reply_to("I'm so proud of myself, I ran my first 5k")
    assert reply.emotions[0].label == "pride"


def test_ambivalence_gets_a_double_sided_reflection() -> None:
    reply = reply_to("I want to tell her but I'm scared of how she'll react")
    assert "tell her" in reply.text and "scared" in reply.text
    assert reply.acts[0] == "complex_reflection"
    reply = reply_to("part of me wants to leave and part of me wants to stay")
    text = reply.text.lower()
    assert "part of you" in text and "leave" in text and "stay" in text


def test_affirmations_name_the_effort() -> None:
    reply = reply_to("I finally told my dad how I felt")
    assert "affirmation" in reply.acts
    assert "told your dad" in reply.text


def test_memory_brings_back_what_was_said_earlier() -> None:
    engine = ReflectiveEngine()
    engine.greet()
    engine.respond("my sister never calls me anymore")
    engine.respond("work has been really busy")
    engine.respond("I'm worried about the job interview on friday")
    reply = engine.respond("and my sister didn't even ask how I was")
    assert "earlier" in reply.text.lower() or "your sister" in reply.text


def test_summaries_come_every_few_turns_and_at_the_close() -> None:
    engine = ReflectiveEngine()
    engine.greet()
    lines = ["my sister never calls me anymore", "I feel so lonely",
             "I have the job interview on friday", "I'm nervous about it",
             "my boss keeps piling work on me", "I'm exhausted"]
    replies = [engine.respond(line) for line in lines]
    assert any("summary" in r.acts for r in replies)
    closing = engine.close()
    assert closing.acts == ["summary", "closing"]
    assert "your sister" in closing.text.lower()
    assert "the job interview" in closing.text.lower()
    assert "goodbye" in closing.text.lower()


def test_mid_conversation_summary_on_request() -> None:
    engine = ReflectiveEngine()
    engine.respond("my brother borrowed money again")
    engine.respond("I'm so frustrated with him")
    reply = engine.summary()
    assert reply.acts == ["summary"]
    assert "your brother" in reply.text.lower() and "frustrated" in reply.text


def test_empty_close_still_says_goodbye() -> None:
    reply = ReflectiveEngine().close()
    assert reply.acts == ["closing"]
    assert "goodbye" in reply.text.lower()


def test_greeting_without_and_with_a_check_in() -> None:
    plain = ReflectiveEngine().greet()
    assert plain.acts[0] == "greeting"
    thread = PastThread(id=3, kind="event", text="the interview on Friday", turn_id=9,
                        said_at=datetime.now() - timedelta(days=3),
                        due=datetime.now() - timedelta(days=1))
    reply = ReflectiveEngine().greet(thread)
    assert "the interview on Friday" in reply.text
    assert "How did it go?" in reply.text
    assert "something else" in reply.text
    upcoming = thread.model_copy(update={"due": datetime.now() + timedelta(days=2)})
    assert "How did it go?" not in ReflectiveEngine().greet(upcoming).text


def test_past_threads_come_back_only_from_the_journal_and_verbatim() -> None:
    thread = PastThread(id=1, kind="feeling", text="feeling invisible at work", turn_id=4,
                        said_at=datetime.now() - timedelta(days=7))
    engine = ReflectiveEngine(memory=[thread])
    engine.greet()
    texts = [engine.respond(t).text for t in ("work was rough again today",
                                               "nobody at work even looked up")]
    assert any("feeling invisible at work" in t for t in texts)
    assert sum("last time" in t.lower() for t in texts) == 1
    fresh = [ReflectiveEngine().respond("work was rough again today").text]
    assert not any("last time" in t.lower() for t in fresh)


def test_crisis_overrides_everything_and_later_turns_check_in() -> None:
    engine = ReflectiveEngine(locale="US")
    engine.greet()
    engine.respond("work has been hard")
    crisis = engine.respond("I want to kill myself")
    assert crisis.acts == ["safety"]
    assert crisis.safety is not None and crisis.safety.category == "suicide"
    assert crisis.text == crisis_reply("suicide", "US", True)
    later = engine.respond("my boss yelled at me")
    check_ins = engine_wording().hard.crisis_check_in
    assert any(line in later.text for line in check_ins)
    assert "affirmation" not in later.acts
    again = engine.respond("everyone would be better off without me")
    assert again.acts == ["safety"]
    assert again.text == crisis_reply(again.safety.category, "US", False)
    assert "help line" in engine.close().text.lower()


def test_idioms_are_not_crises() -> None:
    for text in ("this deadline is killing me", "I could murder a pizza"):
        assert "safety" not in reply_to(text).acts


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "...",
        "mm-hmm",
        "je suis très triste aujourd'hui",
        "i dont know why i even bother honestly its like nobody gets it and my mom keeps "
        "saying im fine but im not fine",
        "word " * 3000,
        "I I I I I I",
        "😢😢😢",
        "???!!!",
        "[laughs] yeah",
        "-so, learning how to paint cars and stuff.",
    ],
)
def test_never_raises_and_always_says_something(text: str) -> None:
    engine = ReflectiveEngine()
    reply = engine.respond(text)
    assert reply.text.strip()
    assert set(reply.acts) <= set(("simple_reflection", "complex_reflection", "open_question",
                                   "closed_question", "affirmation", "summary", "safety",
                                   "greeting", "closing", "silence_prompt", "command"))
    assert not re.search(r"[*#_`{}\[\]]", reply.text)


def test_non_english_is_not_parroted() -> None:
    reply = reply_to("je suis tres triste aujourd'hui")
    assert "triste" not in reply.text
    assert "English" in reply.text


def test_silence_prompt_never_nags() -> None:
    engine = ReflectiveEngine()
    prompts = [engine.silence_prompt() for _ in range(10)]
    assert all(p.acts == ["silence_prompt"] and "?" not in p.text for p in prompts)
    assert len({p.text for p in prompts}) == 10


def test_spoken_style() -> None:
    for reply in talk(CONVERSATION):
        if "safety" in reply.acts:
            continue
        sentences = [s for s in re.split(r"(?<=[.?!])\s+", reply.text) if s]
        assert all(len(s.split()) <= 32 for s in sentences), reply.text
        assert reply.text[0].isupper()


def test_repeated_crisis_turns_never_get_the_very_same_words():
    from voice_companion.dialogue import create_engine

    engine = create_engine(locale="US")
    engine.greet()
    replies = [engine.respond("i want to kill myself") for _ in range(8)]
    assert all(r.safety is not None and "nine eight eight" in r.text for r in replies)
    assert len({r.text for r in replies}) == len(replies)


@pytest.mark.parametrize(
    ("turns", "word"),
    [
        (["I had a rough day at work.", "I felt so small."], "small"),
        (["I feel so alone.", "Yeah."], "alone"),
        (["I feel broken."], "broken"),
        (["My husband was out again.", "I feel invisible at home.", "Mm."], "invisible"),
    ],
)
def test_a_felt_perception_is_never_said_back_as_a_fact(turns: list[str], word: str) -> None:
    # "I feel small" is how it feels, not who they are: never "You're small" or "Being small".
    stating = re.compile(
        r"\b(?:being|you're|you are|you were|left you|leaving you)\s+(?:\w+\s+)?" + word, re.I
    )
    said_back = 0
    for seed in range(30):
        engine = ReflectiveEngine(seed=seed)
        for turn in turns:
            text = engine.respond(turn).text
            assert not stating.search(text), text
            said_back += word in text.lower()
    assert said_back >= 20  # the word is still said back, as a feeling


@pytest.mark.parametrize(
    ("turns", "word", "doubt"),
    [
        (["I forgot my daughter's recital.", "I'm a terrible mother."], "terrible mother", False),
        (["I messed up the presentation.", "I'm such an idiot."], "idiot", False),
        (["I'm a bad friend, I forgot her birthday."], "bad friend", False),
        (["My partner never listens.", "Maybe I'm being dramatic."], "dramatic", True),
        (["I shouted at my son.", "I'm overreacting probably."], "overreacting", True),
        (["i think im being too sensitive"], "too sensitive", True),
    ],
)
def test_a_harsh_word_about_oneself_is_never_said_back_as_a_verdict(
    turns: list[str], word: str, doubt: bool
) -> None:
    # "I'm a terrible mother" must not come back as "You're a terrible mother." (it would agree
    # with the verdict): the reply names it as their own harsh word, or their worry.
    verdict = re.compile(r"\byou(?:'re| are| were)\s+(?:\w+\s+){0,3}?" + word, re.I)
    owned = re.compile(r"\b(?:calling (?:yourself|you)|calls you|word for yourself|you said)\b",
                       re.I)
    worried = re.compile(r"\b(?:worr(?:y|ies|ied)|doubting|second-guessing|questioning)\b", re.I)
    for seed in range(25):
        engine = ReflectiveEngine(seed=seed)
        for turn in turns:
            reply = engine.respond(turn)
        assert not verdict.search(reply.text), reply.text
        assert word in reply.text.lower(), reply.text
        assert (worried if doubt else owned).search(reply.text), reply.text
        assert reply.acts[0] == "complex_reflection"


def test_someone_elses_verdict_is_reflected_as_theirs() -> None:
    reply = ReflectiveEngine(seed=3).respond("My mum says I'm lazy.")
    assert "says you're lazy" in reply.text.lower()
    assert "calling yourself" not in reply.text.lower()


@pytest.mark.parametrize(
    "said",
    [
        "When I try to tell him something's bothering me he just goes on his phone.",
        "When I got home the kitchen was a mess again.",
        "Where I grew up nobody talked about feelings.",
    ],
)
def test_a_statement_opening_with_when_or_where_is_reflected_not_taken_as_a_question(
    said: str,
) -> None:
    engine = ReflectiveEngine(seed=4)
    assert "question" not in engine.analyser.analyse(said, []).flags
    reply = engine.respond(said)
    assert "reflection" in reply.acts[0], reply
    assert len(content_words(reply.text) & content_words(said)) >= 3, reply.text


def test_a_real_question_opening_with_when_is_still_a_question() -> None:
    engine = ReflectiveEngine(seed=4)
    assert "question" in engine.analyser.analyse("when will it get easier", []).flags
    assert "question" in engine.analyser.analyse("What do I do now", []).flags


def test_a_feeling_that_used_to_be_is_not_reflected_as_present() -> None:
    # "I used to be so happy" is a loss, not good news: never "I can hear that you're happy".
    for seed in range(15):
        reply = ReflectiveEngine(seed=seed).respond("I used to be so happy.")
        assert not re.search(r"\byou(?:'re| feel| are)\s+(?:\w+\s+)?happy", reply.text), reply
        assert "used to" in reply.text, reply.text


def test_the_persons_own_distinction_is_not_taken_for_a_correction_of_us() -> None:
    # The companion never said "angry": "I'm not angry, I'm hurt" is their distinction, so no
    # "Thank you for correcting me" or "I had it as angry", yet "hurt" is the word said back.
    for seed in range(15):
        reply = ReflectiveEngine(seed=seed).respond("I'm not angry, I'm hurt.")
        assert "hurt" in reply.text.lower()
        assert not re.search(r"correct|had it as|got that wrong|I was off", reply.text), reply


def test_a_change_for_the_better_is_not_taken_for_a_correction() -> None:
    said = "I used to be anxious all the time but now I feel calm."
    for seed in range(15):
        reply = ReflectiveEngine(seed=seed).respond(said)
        assert "calm" in reply.text and "anxious" in reply.text
        assert not re.search(r"correct|wrong|closer to it|not anxious", reply.text), reply.text
        # a change for the better is not mourned
        assert not re.search(r"miss|loss|not the same|hard to get used", reply.text), reply.text


@pytest.mark.parametrize(
    ("said", "word", "valence"),
    [
        ("My partner had made dinner which was lovely.", "lovely", "positive"),
        ("The party was great.", "great", "positive"),
        ("The meeting was awful.", "awful", "negative"),
    ],
)
def test_a_word_judging_a_thing_is_not_said_back_as_the_persons_feeling(
    said: str, word: str, valence: str
) -> None:
    engine = ReflectiveEngine(seed=2)
    turn = engine.analyser.analyse(said, [])
    assert turn.feel is None and turn.valence == valence  # it still colours the turn
    for seed in range(10):
        text = ReflectiveEngine(seed=seed).respond(said).text
        assert not re.search(r"\byou(?:'re| feel| are)\s+(?:\w+\s+)?" + word, text), text


def test_a_word_about_oneself_is_still_the_persons_feeling() -> None:
    engine = ReflectiveEngine(seed=2)
    assert engine.analyser.analyse("I feel awful.", []).feel is not None
    assert engine.analyser.analyse("Honestly? Great.", []).feel is not None


def test_what_followed_a_feeling_is_not_reflected_as_its_cause() -> None:
    # "I got defensive and we ended up shouting": the shouting did not cause the defensiveness.
    causal = re.compile(r"because|no wonder|comes from|makes sense|left you|leaves you|landed on")
    for seed in range(20):
        text = ReflectiveEngine(seed=seed).respond("I got defensive and we ended up shouting.").text
        assert "ended up shouting" in text and "defensive" in text, text
        assert not causal.search(text.lower()), text


def test_neutral_news_is_not_given_a_weight_the_person_did_not_give_it() -> None:
    # "I'm from down south" is not "a lot to take in" or something "you've been carrying".
    burden = re.compile(r"carrying|a lot to take in|not a small thing|taking up a lot of room|"
                        r"sitting with you|stayed with you|on your mind|turning it over")
    for said in ("I'm from down south.", "I've been up here since I was eighteen."):
        for seed in range(15):
            text = ReflectiveEngine(seed=seed).respond(said).text
            assert not burden.search(text), text
    weighed = [ReflectiveEngine(seed=seed).respond("She had a fall and broke her hip.").text
               for seed in range(15)]
    assert any(burden.search(t) or "more to it" in t for t in weighed), weighed


@pytest.mark.parametrize(
    ("said", "must"),
    [
        ("When will this end?", r"end|ease|lets up|lasted|over|stops"),
        ("Why does this always happen to me?", r"you|your"),
        ("What's wrong with me?", r"yourself|you|inside"),
        ("Why can't I just be happy for once?", r"be happy for once"),
        ("How am I supposed to cope with this?", r"cope with this"),
        ("What's the point?", r"point|worth|for"),
    ],
)
def test_a_question_asked_of_life_gets_a_reflection_not_a_nod(said: str, must: str) -> None:
    # "When will this end?" is pain, not a request for information: it is never met with only
    # "Mm-hm." and never answered with facts or advice.
    for seed in range(10):
        reply = ReflectiveEngine(seed=seed).respond(said)
        assert reply.acts[0] == "complex_reflection", reply
        assert re.search(must, reply.text), reply.text


@pytest.mark.parametrize(
    ("said", "doing"),
    [
        ("Do you think I overreacted?", "overreacting"),
        ("Did I overreact?", "overreacting"),
        ("Was I wrong to say that?", "being wrong"),
    ],
)
def test_asking_for_a_verdict_on_oneself_is_heard_as_self_doubt(said: str, doing: str) -> None:
    for seed in range(10):
        reply = ReflectiveEngine(seed=seed).respond(said)
        assert doing in reply.text, reply.text
        assert not re.search(r"\byou (?:overreacted|were wrong)\b", reply.text), reply.text


def test_a_short_pair_of_clauses_is_reflected_whole() -> None:
    # "I made dinner and he just scrolled his phone": the second half is the point.
    engine = ReflectiveEngine(seed=2)
    said = "I made dinner and he just scrolled his phone the whole time."
    assert "he scrolled his phone" in (engine.analyser.analyse(said, []).clause or "")
    assert "scrolled his phone" in engine.respond(said).text


def test_a_feeling_at_a_place_is_still_a_feeling() -> None:
    engine = ReflectiveEngine(seed=2)
    assert engine.analyser.analyse("I felt invisible at work today.", []).feel is not None
    assert engine.analyser.analyse("I was down at the pub.", []).feel is None


def test_politeness_is_not_turned_around() -> None:
    # "You're welcome." is not "I'm welcome."; "'cause" keeps its place in the sentence.
    assert "welcome" not in ReflectiveEngine(seed=1).respond("You're welcome.").text.lower()
    text = ReflectiveEngine(seed=1).respond(
        "I stayed home from school twice 'cause of the bullying.").text
    assert "Because" not in text


def test_check_ins_after_a_crisis_thin_out_but_never_stop() -> None:
    engine = ReflectiveEngine(locale="US", seed=5)
    engine.respond("I want to kill myself")
    check_ins = engine_wording().hard.crisis_check_in
    turns = ["my boss yelled at me", "I went home", "I made some tea", "my sister called",
             "we talked about mum", "I watched a film", "I tidied the kitchen", "I fed the cat",
             "I read for a bit"]
    replies = [engine.respond(t).text for t in turns]
    checked = [any(line in r for line in check_ins) for r in replies]
    assert all(checked[:3]), replies  # the next replies all check in
    assert 1 <= sum(checked[3:]) < len(checked[3:]), checked  # then now and then, not always
    assert "help line" in engine.close().text.lower()


def test_a_long_lead_in_does_not_hide_the_persons_own_clause() -> None:
    said = "Every time she brings something up I end up defending myself."
    reply = ReflectiveEngine(seed=3).respond(said)
    assert "you end up defending yourself" in reply.text, reply.text
    assert "Mm" not in reply.text


def test_a_verdict_reported_from_someone_else_or_felt_is_not_called_their_own() -> None:
    said = "And then he acted like I was being petty when I mentioned it."
    for seed in range(8):
        text = ReflectiveEngine(seed=seed).respond(said).text
        assert "he acted like you were being petty" in text.lower(), text
        assert "calling yourself" not in text
    said = "I always come home feeling like I'm not good enough."
    for seed in range(8):
        text = ReflectiveEngine(seed=seed).respond(said).text
        assert "not good enough" in text and "calling yourself" not in text, text
        assert "You've been not good" not in text


def test_a_need_is_reflected_as_theirs_not_as_a_lecture() -> None:
    # "I need some help" must not come back as "you need some help" (which tells them).
    for said in ("I need some help.", "I need to talk to him."):
        for seed in range(6):
            text = ReflectiveEngine(seed=seed).respond(said).text
            assert not re.search(r"\byou need\b", text, re.I), text
            assert "need" in text, text


@pytest.mark.parametrize("said", ["You don't understand me.", "Honestly, you're not listening!",
                                  "I think you're judging me.", "This isn't helping."])
def test_words_about_the_companion_are_owned_not_agreed_with(said: str) -> None:
    # "You don't understand me." once came back as "All right. I don't understand you."
    lines = engine_wording().hard.feedback
    for seed in range(4):
        reply = ReflectiveEngine(seed=seed).respond(said)
        assert reply.text in lines, reply.text
        assert reply.text.rstrip().endswith("?")
        assert "open_question" in reply.acts


def test_words_to_someone_else_are_not_about_the_companion() -> None:
    said = "I told my boss you don't understand what it's like."
    text = ReflectiveEngine(seed=1).respond(said).text
    assert text not in engine_wording().hard.feedback
    assert "you don't understand what it's like" in text, text


def test_an_obligation_reads_right_inside_a_relative_clause() -> None:
    said = "It's something I have to face on my own."
    for seed in range(4):
        text = ReflectiveEngine(seed=seed).respond(said).text
        assert "you're having to face" in text, text
        assert "it's on you" not in text.lower()
    text = ReflectiveEngine(seed=1).respond("There's something I should tell my sister.").text
    assert "you feel obliged to tell your sister" in text, text


@pytest.mark.parametrize(
    ("said", "reflected"),
    [
        ("My mum thinks I should move out.", "expects you to move out"),
        ("They said I ought to rest.", "wanted you to rest"),
        ("I thought I should call her.", "thought it was up to you to call her"),
    ],
)
def test_an_obligation_someone_else_holds_keeps_its_meaning(said: str, reflected: str) -> None:
    """'My mum thinks I should' is the mum's view: not 'your mum thinks you feel obliged to'."""
    texts = [ReflectiveEngine(seed=seed).respond(said).text for seed in range(4)]
    assert any(reflected in t for t in texts), texts
    assert not any("obliged" in t or "you should" in t.lower() for t in texts), texts


def test_a_feeling_expected_of_the_person_is_not_named_as_theirs() -> None:
    for said in ("My dad told me I should be grateful.",
                 "I'm supposed to feel excited about the wedding."):
        reply = ReflectiveEngine(seed=1).respond(said)
        assert not {"gratitude", "excitement"} & {e.label for e in reply.emotions}, reply
        assert "sound grateful" not in reply.text and "sound excited" not in reply.text, reply
    felt = ReflectiveEngine(seed=1).respond("I feel so grateful for my friends.")
    assert "gratitude" in {e.label for e in felt.emotions}


def test_a_turn_cut_off_at_the_end_keeps_its_last_word() -> None:
    # a transcript marks an interrupted speaker with a final dash: the word itself was said
    said = "Different tablets, I don't have the same problem every day-"
    text = ReflectiveEngine(seed=1).respond(said).text
    assert "the same problem every day" in text, text


def test_an_encourager_never_says_yes_to_a_no() -> None:
    # "Nope." got "Yes. I'm listening."
    for line in engine_wording().hard.encourager:
        assert not re.match(r"(?:yes|sure)\b", line, re.I), line


def test_a_summary_names_each_thread_once_and_no_interjection_as_a_person() -> None:
    from voice_companion.dialogue.summary import join_items

    assert join_items(["the weight", "weight", "work"]) == "the weight and work"
    engine = ReflectiveEngine(seed=1)
    turn = engine.analyser.analyse('So I just said, "Hey, I deserve some time too."', [])
    assert "Hey" not in turn.people


@pytest.mark.parametrize(("said", "pool"), [
    ("I'll give it a try next week.", "content_intention"),
    ("I want to go back to school next year.", "content_intention"),
    ("I usually have two sugars in my coffee.", "content_habit"),
])
def test_neutral_news_gets_a_meaning_that_fits_what_it_says(said: str, pool: str) -> None:
    # a plan is reflected as a direction the person is choosing, a habit as part of their days
    lines = getattr(engine_wording().reflections_complex, pool)
    stems = [line.replace("{clause}", "").strip(" ,.").lower() for line in lines]
    hits = 0
    for seed in range(6):
        text = ReflectiveEngine(seed=seed).respond(said).text.lower()
        hits += any(len(part.strip()) > 12 and part.strip() in text for stem in stems
                    for part in stem.split("."))
    assert hits >= 3, pool


def test_an_effort_kept_up_every_day_is_not_called_a_habit() -> None:
    habit = engine_wording().reflections_complex.content_habit
    stems = [line.replace("{clause}", "").strip(" ,.").lower() for line in habit]
    for seed in range(6):
        text = ReflectiveEngine(seed=seed).respond(
            "I've been practising every day for a month.").text.lower()
        assert not any(len(p.strip()) > 12 and p.strip() in text
                       for stem in stems for p in stem.split(".")), text


def test_an_effort_kept_up_is_affirmed_after_a_plain_reflection() -> None:
    neutral = engine_wording().reflections_complex.content_neutral
    tails = [line.split("{clause}")[-1].strip(" ,.") for line in neutral]
    for seed in range(5):
        reply = ReflectiveEngine(seed=seed).respond("I've been practising every day for a month.")
        assert "affirmation" in reply.acts, reply.text
        assert not any(len(t) > 12 and t in reply.text for t in tails), reply.text


def test_the_persons_own_part_is_reflected_before_what_someone_of_theirs_did() -> None:
    reply = reply_to("My sister handled everything and I just froze.")
    assert "froze" in reply.text, reply.text
    # one clause about someone of theirs is still reflected
    assert "your sister" in reply_to("My sister handled everything at the funeral.").text.lower()


def test_a_phrase_broken_off_is_not_said_back_as_a_statement() -> None:
    # an AnnoMI client turn: the reply "On a scale of 1 to 10, then." asks a scaling question
    reply = reply_to("Um, on a scale of 1 to 10-")
    assert "scale" not in reply.text.lower(), reply.text


@pytest.mark.parametrize(
    ("said", "never"),
    [
        # AnnoMI client turns whose replies said these back
        ("Okay, I'll make an appointment and I'll start dancing right away, doc.", "doc"),
        ("Um, I can't argue with a medical professional, Mark, because I know nothing.", "mark"),
        ("Well, he's-he thinks it's all in my head.", "he's-he"),
        ("I have a friend who, uh, does it and she just raves about it.", "who,"),
        ("I went to the shop, you know.", ", ."),
        ("-'cause-'cause like I found something in myself or something that was missing.",
         "cause cause"),
        ("Uh, I guess it's okay. I mean, I just I want her to be healthy and safe.", "you you"),
    ],
)
def test_what_is_said_back_leaves_out_names_called_stutters_and_fillers(said: str,
                                                                         never: str) -> None:
    for _ in range(5):  # templates are chosen at random
        reply = reply_to(said)
        assert never not in reply.text.lower(), reply.text


def test_a_habit_or_free_time_is_not_a_feeling() -> None:
    # "used to" and "free time" were said back as "You're really used, and free as well."
    for said in ("I had more free time than I have now, so I used to go to the gym.",
                 "I was used to it."):
        reply = reply_to(said)
        assert not reply.emotions, (reply.text, reply.emotions)
        assert "used," not in reply.text and "feeling used" not in reply.text, reply.text
        assert "free" not in reply.text or "free time" in reply.text, reply.text
    assert {e.label for e in reply_to("I feel used.").emotions} == {"anger"}
    assert {e.label for e in reply_to("I feel free.").emotions} == {"joy"}


def test_a_short_answer_is_not_taken_for_someone_named() -> None:
    # "Pretty good." was reflected as a clause with "Pretty" as its subject:
    # "It sounds like Pretty good, and you're glad about it."
    for _ in range(5):
        reply = reply_to("Pretty good.")
        assert not re.search(r"[a-z,] Pretty", reply.text), reply.text
        # "What stands out is that possibility to call." / "In your words, Possibility to call."
        reply = reply_to("Possibility to call yeah.")
        assert not re.search(r"[a-z,] Possibility|(that|is) possibility", reply.text), reply.text
    assert "Mark told you" in reply_to("Mark told me to leave.").text


def test_a_habit_ends_with_used_to() -> None:
    # "What stands out is that your wife used." dropped the "to"
    for _ in range(5):
        reply = reply_to("Yeah, like my wife used to. Yeah.")
        assert not re.search(r"\bused\.", reply.text), reply.text


def test_sick_of_something_is_remembered_as_fed_up_not_as_being_ill() -> None:
    # AnnoMI: after "I'm fucking sick of cafes." and a few "Yeah."s the engine said
    # "You're sick, and it's wearing on you."
    for _ in range(3):
        engine = ReflectiveEngine()
        replies = [engine.respond(said).text for said in (
            "I want that to be my job. I'm sick of cafes.", "Yeah.", "I'd like it to be, yeah.",
            "Yeah.", "Mm-hmm.", "Yeah.")]
        for text in replies[1:]:
            assert not re.search(r"\b(being|feeling|you're) sick\b", text, re.I), replies


def test_the_persons_normalising_is_not_said_back_as_if_the_companion_agreed() -> None:
    # AnnoMI session 7: a summary said "you're all university students so it's normal to have a
    # few drinks", which the coder (rightly) hears as the companion normalising the drinking
    said = ["It was a lot of fun but I didn't do any dancing after that.", "Yeah.",
            "Well, it's normal.",
            "Um, well, me and my friends kinda, uh, we party on the weekend and, you know, we're "
            "all university students and so it's just normal, um, to have a few drinks.", "No.",
            "It's normal for university students I feel."]
    for _ in range(3):
        engine = ReflectiveEngine()
        texts = [engine.respond(s).text for s in said] + [engine.close().text]
        assert not any(re.search(r"normal to|that's normal", t, re.I) for t in texts), texts

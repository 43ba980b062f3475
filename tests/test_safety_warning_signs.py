"""Warning signs of suicide that hold no danger word: giving prized things away with a sense of
finality, last goodbyes, letters to be found, affairs put in order "before i go", a will with a
pet rehomed, "i will not be here for her wedding", pills put by, lingering at a bridge or a
platform, calm after an unnamed decision. Each fires only with a cue of finality or departure;
the same acts for ordinary reasons (a trip, a move, a new one, a baby, an operation) do not.
The rules live in the "warning sign" frames of prompts/safety.toml."""

from __future__ import annotations

import pytest

from voice_companion.dialogue.safety import SafetyDetector, normalise


def rules_category(text: str) -> str | None:
    """The rule layer alone, on a fresh conversation."""
    hit = SafetyDetector(learned=False).assess(text)
    return hit.category if hit else None


WARNING_SIGNS = [
    # giving things away, with finality
    "I've handed my fishing gear over to my son-in-law. I won't be using any of it again.",
    "Gave my bass guitar to my cousin, won't need it where I'm headed.",
    "my sister has my car keys now i told her to keep the car i wont be driving it again",
    "I gave my mum's brooch to my niece so she has something to remember me by.",
    # last goodbyes
    "I phoned everyone in my address book tonight just to hear them one last time.",
    "I hugged my little boy at the school gate and I knew it was the last time.",
    "i went round saying bye to all my mates in my own way before i go",
    # letters and notes to be found
    "I've left letters for the girls in my bedside drawer for them to read after.",
    "there's an envelope on the hall table for whoever finds me",
    "i wrote my dad a note so he knows it wasnt his fault",
    # affairs in order, a will and a pet
    "I've cancelled my phone and closed my bank account, just tidying up loose ends before I go.",
    "I've written all my passwords on a sheet for my brother for after.",
    "My will is signed and the budgie's gone to my neighbour. I feel ready.",
    "um ive sorted my a fares so nobody is left picking up the pieces",
    # not here for a day to come
    "Don't get me anything for my fortieth. I won't be here for it.",
    "i wont be around for my nephews graduation or any of it",
    # pills put by
    "I've been keeping back two of my sleeping tablets every night and hiding them in a tin.",
    "i been saving my pils in a jar for when im ready",
    # lingering at a bridge, a platform, the water
    "I stood at the very end of the platform as the express went through and didn't step back.",
    "i was on the bride again tonight leaning over the rail for ages",
    "I sat on the edge of the quarrie with my legs dangling over for about an hour.",
    # calm after an unnamed decision, peace after talk of not going on
    "I feel calmer than I have in years. I know what I'm going to do.",
    "i cant go on and ive made my piece with it now",
    # not waking up, stopping for good, the insurance
    "If I didn't wake up tomorrow, honestly, that would be a win.",
    "I want everything to just switch off, permanently.",
    "The life insurance would clear everything we owe. That's worth more than I am.",
    # apologising to leave things clean, leaving work
    "I've been saying sorry to everyone I've let down. I don't want any loose ends when I'm gone.",
    "I told my manager I won't be in on Monday. Or ever.",
]


@pytest.mark.parametrize("text", WARNING_SIGNS)
def test_warning_signs_with_finality_fire(text: str) -> None:
    assert rules_category(text) == "suicide"


# Checking out a place or a way: filed under means, heard without earlier distress.
SCOUTING = [
    "I went back to the viaduct to see where the drop is highest.",
    "ive been looking up which bridges round here dont have fences",
    "which of my tablets would work fastest if i took them all",
]


@pytest.mark.parametrize("text", SCOUTING)
def test_checking_out_a_place_or_a_means_fires_as_means(text: str) -> None:
    assert rules_category(text) == "means"


# The same acts for ordinary reasons, and idioms with the same words.
NEAR_MISSES = [
    "I gave my old guitar to my nephew because I bought a new one.",
    "Took three bin bags of clothes to the charity shop, they were all too small.",
    "i gave my bike to my neighbour i wont be needing it in the city ill get the tram",
    "I said goodbye to everyone at the office, my new job starts on Monday.",
    "I hugged my mum at the station, I won't see her until Easter.",
    "I wrote a letter to my future self for the time capsule at work.",
    "I left a note on the fridge so my husband remembers to feed the cat.",
    "Before I go on holiday I always pay the bills and empty the fridge.",
    "I'm getting my affairs in order before my knee operation, the surgeon is very positive.",
    "We made our wills after the twins were born.",
    "We had to rehome our dog because the new flat doesn't allow pets.",
    "I won't be here for Christmas, we're at my in-laws in Devon.",
    "I won't be at my cousin's wedding, I'm on a course in Manchester that week.",
    "i wont be here for my birthday were going to florida",
    "I stocked up on my tablets before the trip in case the chemist there is shut.",
    "I keep my pills in a weekly organiser so I don't forget them.",
    "We stood on the bridge for ages watching the fireworks with the kids.",
    "I sat on the edge of the cliff path with my friends and ate our sandwiches.",
    "I stood on the platform for ages because the train was delayed.",
    "I've made my peace with the breakup, I'm happy for her.",
    "I feel calm now that I've decided to change jobs.",
    "I'd love to not wake up to an alarm tomorrow.",
    "I want the drilling next door to stop for good.",
    "I'm giving up smoking for good this time.",
    "I told my manager not to expect me back, I'm going travelling for a year.",
    "We'll take that to our graves, nobody will ever know we ate the whole cake.",
    "That's water under the bridge now, we get on fine.",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_the_same_acts_for_ordinary_reasons_do_not_fire(text: str) -> None:
    assert rules_category(text) is None


def test_speech_recognition_slips_of_warning_sign_words_are_fixed() -> None:
    assert normalise("i made my piece with it") == "i made my peace with it"
    assert normalise("sorted my a fares out") == "sorted my affairs out"
    assert normalise("the quarrie at night") == "the quarry at night"
    assert normalise("on the bride last night") == "on the bridge last night"
    assert normalise("the bride and groom were on the bride with us") == (
        "the bride and groom were on the bride with us"
    )
    assert normalise("the life in shorance would pay") == "the life insurance would pay"


@pytest.mark.parametrize(
    "text",
    ["I have the pills ready.", "I want to be with my mum again. I have the pills ready.",
     "ive got the tablets ready"],
)
def test_pills_made_ready_are_heard(text: str) -> None:
    assert SafetyDetector().check(text) is not None


@pytest.mark.parametrize(
    "text",
    ["I have the pills ready for mum's morning dose.", "I've got my tablets ready for the trip.",
     "I put my pills in the dosette box so they are ready."],
)
def test_pills_ready_for_ordinary_reasons_are_not_a_crisis(text: str) -> None:
    assert SafetyDetector().check(text) is None


@pytest.mark.parametrize(
    "text",
    ["That was the last time I saw her.",
     "He was proud of me. He told me that the last time I saw him.",
     "The last time we spoke he was laughing."],
)
def test_remembering_the_last_time_with_someone_is_grief_not_a_goodbye(text: str) -> None:
    assert SafetyDetector().check(text) is None

"""Turning the person's words around for a reflection."""

from __future__ import annotations

import pytest

from voice_companion.dialogue.pronouns import swap_text, third_person


@pytest.mark.parametrize(
    ("said", "reflected"),
    [
        ("my boss ignores me", "your boss ignores you"),
        ("I'm exhausted", "you're exhausted"),
        ("I was hurt by my sister", "you were hurt by your sister"),
        ("I am tired of it", "you are tired of it"),
        ("I wasn't ready", "you weren't ready"),
        ("that car is mine", "that car is yours"),
        ("I hate myself for it", "you hate yourself for it"),
        ("I've tried everything", "you've tried everything"),
        ("I'd rather stay home", "you'd rather stay home"),
        ("I'll call her tomorrow", "you'll call her tomorrow"),
        ("we had a fight and our kids heard us", "you had a fight and your kids heard you"),
        ("me and my sister argued", "you and your sister argued"),
        ("was I wrong", "were you wrong"),
        ("am I overreacting", "are you overreacting"),
    ],
)
def test_first_person_becomes_second_person(said: str, reflected: str) -> None:
    assert swap_text(said) == reflected


@pytest.mark.parametrize(
    ("said", "reflected"),
    [
        ("I don't think you get my situation", "you don't think I get your situation"),
        ("you're not listening to me", "I'm not listening to you"),
        ("I told you about your question", "you told me about my question"),
        ("are you even real", "am I even real"),
        ("you were right about me", "I was right about you"),
    ],
)
def test_words_for_the_companion_become_first_person(said: str, reflected: str) -> None:
    assert swap_text(said) == reflected


def test_other_people_stay_as_they_are() -> None:
    assert swap_text("she said he was late") == "she said he was late"


@pytest.mark.parametrize(
    ("phrase", "part"),
    [
        (["want", "to", "tell", "her"], "wants to tell her"),
        (["worry", "about", "it"], "worries about it"),
        (["am", "afraid"], "is afraid"),
        (["don't", "care"], "doesn't care"),
        (["can't", "decide"], "can't decide"),
        (["wish", "it", "were", "over"], "wishes it were over"),
    ],
)
def test_third_person_for_part_of_you(phrase: list[str], part: str) -> None:
    result = third_person(phrase)
    assert result is not None
    assert " ".join(result) == part


def test_third_person_refuses_what_it_cannot_conjugate() -> None:
    assert third_person([]) is None
    assert third_person(["going", "home"]) is None


@pytest.mark.parametrize(
    ("said", "reflected"),
    [
        # the generic "you" of someone describing a situation is not the companion
        ("it's when you're at the pub and your mates keep buying rounds",
         "it's when you're at the pub and your mates keep buying rounds"),
        ("I hate it if you lose your keys", "you hate it if you lose your keys"),
        ("my mum said you're too young for this", "your mum said you're too young for this"),
        ("I told my boss you don't understand", "you told your boss you don't understand"),
        # ... and it ends with its clause: the companion is still "I" after it
        ("when you're tired, you don't get me", "when you're tired, I don't get you"),
    ],
)
def test_a_generic_you_stays_you(said: str, reflected: str) -> None:
    assert swap_text(said) == reflected

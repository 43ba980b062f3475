"""The listener's wording file is data, checked when it is loaded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voice_companion.dialogue.templates import WINDOW, TemplateBook
from voice_companion.dialogue.wording import EngineWording, allowed_fields, engine_wording
from voice_companion.errors import PromptsError
from voice_companion.prompts import load_prompts

ROOT = Path(__file__).resolve().parent.parent
ENGINE_TOML = (ROOT / "prompts" / "engine.toml").read_text()


def broken(tmp_path: Path, old: str, new: str) -> PromptsError:
    assert old in ENGINE_TOML
    (tmp_path / "engine.toml").write_text(ENGINE_TOML.replace(old, new, 1))
    with pytest.raises(PromptsError) as err:
        load_prompts("engine", EngineWording, tmp_path)
    return err.value


def test_unknown_name_in_a_template_is_reported(tmp_path: Path) -> None:
    error = broken(tmp_path, '"You\'re {feel}.",', '"You\'re {feeling}.",')
    assert "reflections.feeling" in str(error) and "feeling" in str(error)


def test_a_reflection_may_not_ask(tmp_path: Path) -> None:
    error = broken(tmp_path, '"You\'re {feel}.",', '"You\'re {feel}, aren\'t you?",')
    assert "must not ask" in str(error)


def test_why_questions_are_refused(tmp_path: Path) -> None:
    error = broken(tmp_path, '"What\'s the hardest part?",', '"Why is that hard?",')
    assert "why" in str(error).lower()


def test_unspoken_characters_are_refused(tmp_path: Path) -> None:
    error = broken(tmp_path, '"I\'m here.",', '"I\'m *here*.",')
    assert "not spoken" in str(error)


def test_busy_pools_are_big_enough_for_the_repeat_window() -> None:
    pools = engine_wording().pools()
    for name in ("reflections.feeling", "reflections.content", "reflections.fragment",
                 "reflections_complex.feeling_content", "reflections_complex.inferred",
                 "reflections_complex.meaning_negative", "reflections_complex.continue_topic",
                 "hard.encourager", "silence.prompts", "questions.general"):
        assert len(pools[name]) >= WINDOW, name
    for name, templates in pools.items():
        assert len(set(templates)) == len(templates), f"{name} repeats a template"


def test_every_template_uses_only_its_allowed_names() -> None:
    for name, templates in engine_wording().pools().items():
        for template in templates:
            used = set(re.findall(r"{(\w+)}", template))
            assert used <= allowed_fields(name), (name, template)


def test_banned_phrases_never_get_through() -> None:
    book = TemplateBook({"p": ["You should rest, {x}.", "Rest, {x}."]}, ["you should"], seed=1)
    picks = {book.pick("p", {"x": "then"}, 0).text for _ in range(5)}
    assert picks == {"Rest, then."}


def test_templates_are_not_reused_within_the_window() -> None:
    book = TemplateBook({"p": ["a {x}", "b {x}"]}, ["never said"], seed=1)
    first = book.pick("p", {"x": "1"}, 0)
    book.commit([first.template_id], 0)
    second = book.pick("p", {"x": "1"}, 1)
    book.commit([second.template_id], 1)
    assert first.template_id != second.template_id
    assert book.pick("p", {"x": "1"}, 2) is None
    assert book.pick("p", {"x": "1"}, 2, stale_ok=True) is not None
    assert book.pick("p", {"x": "1"}, WINDOW).template_id == first.template_id


def test_every_question_template_is_heard_as_open_by_the_coder() -> None:
    """MITI counts "How long has it been like this?" as closed (it asks for one fact): the
    engine's questions must be open to the independent coder too, whatever fills them."""
    from collections import defaultdict

    from voice_companion.dialogue.coder import code_utterance

    fill = defaultdict(lambda: "the move", feel="low", clause="you feel stuck",
                       person="your sister", earlier="you felt stuck")
    for name, templates in engine_wording().pools().items():
        if name.startswith("questions."):
            for template in templates:
                text = template.format_map(fill)
                assert code_utterance(text).question == "open", (name, text)


def test_a_you_frame_is_not_put_before_a_you_clause() -> None:
    book = TemplateBook({"p": ["For you, {clause}.", "So for you, {clause}.", "So {clause}."]},
                        engine_wording().vocab.banned, seed=3)
    picks = {book.pick("p", {"clause": "you froze"}, 0).text for _ in range(6)}
    assert picks == {"So you froze."}
    assert book.pick("p", {"clause": "it was hard"}, 0) is not None

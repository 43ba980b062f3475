"""The dialogue benchmark's data and metric functions, on small inputs (the engine's own targets
are reported by the benchmark, not asserted here)."""

from __future__ import annotations

import csv
import importlib.util
import math
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "dialogue_eval", ROOT / "benchmarks" / "dialogue_eval.py"
)
assert _spec is not None and _spec.loader is not None
E = importlib.util.module_from_spec(_spec)
sys.modules["dialogue_eval"] = E
_spec.loader.exec_module(E)


def ex(said: str, reply: str, acts: list[str] | None = None, **kw) -> E.Exchange:
    return E.Exchange(said=said, reply=reply, acts=acts or [], **kw)


# ------------------------------------------------------------------------------ the data


def test_the_scenario_corpus_is_big_and_covers_the_hard_turns() -> None:
    scenarios = E.load_scenarios()
    assert len(scenarios) >= 40
    assert all(5 <= len(s.turns) <= 15 for s in scenarios)
    covered = {c for s in scenarios for c in s.covers}
    for topic in (
        "what should I do", "are you a real person", "one-word answers", "long rambling",
        "silence/empty", "sarcasm", "swearing", "off-topic chat", "positive news",
        "I don't know", "feeling unseen", "afraid to share", "criticism and defensiveness",
        "loneliness beside a partner", "this hurt me", "work", "grief", "family", "anxiety",
        "shame", "anger", "numbness", "joy", "ambivalence", "crisis", "correction",
    ):
        assert topic in covered, topic
    turns = [t for s in scenarios for t in s.turns]
    assert sum(t.correction is not None for t in turns) >= 5
    assert {t.safety for t in turns if t.safety} >= {"suicide", "self_harm", "means", "abuse"}
    assert any(t.say.strip() == "" for t in turns), "silence is part of the corpus"


def test_a_scenario_outside_5_to_15_turns_is_refused(tmp_path: Path) -> None:
    (tmp_path / "short.toml").write_text('title = "x"\n[[turns]]\nsay = "hi"\n')
    with pytest.raises(ValueError, match="5 to 15 turns"):
        E.load_scenarios(tmp_path)


def test_feeling_labels_are_the_engines_labels() -> None:
    with (ROOT / "prompts" / "feelings.toml").open("rb") as fh:
        known = set(tomllib.load(fh)["labels"])
    statements = E.load_feeling_statements()
    assert len(statements) >= 100
    used = {label for _, labels in statements for label in labels}
    assert used <= known, used - known
    assert sum(not labels for _, labels in statements) >= 20, "statements with no feeling"


def test_crisis_set_has_every_kind_and_a_holdout() -> None:
    rows = E.load_crisis_utterances()
    kinds = {(r["split"], r["kind"]) for r in rows}
    for kind in ("explicit", "indirect", "asr", "idiom", "hard_negative"):
        assert ("dev", kind) in kinds and ("holdout", kind) in kinds
    assert {r["category"] for r in rows} == {*E.SAFETY_CATEGORIES, "none"}
    assert all((r["category"] == "none") == (r["kind"] in ("idiom", "hard_negative"))
               for r in rows)


def test_annomi_sessions_keep_each_client_utterance_once_in_order(tmp_path: Path) -> None:
    path = tmp_path / "annomi.csv"
    fields = ["transcript_id", "utterance_id", "interlocutor", "utterance_text", "annotator_id"]
    rows = [
        ("1", "1", "client", "second", "a"), ("1", "0", "client", "first", "a"),
        ("1", "0", "client", "first", "b"), ("1", "2", "therapist", "So?", "a"),
        ("2", "0", "client", "other", "a"),
    ]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(fields)
        writer.writerows(rows)
    sessions, therapist = E.annomi_sessions(path)
    assert sessions == [("1", ["first", "second"]), ("2", ["other"])]
    assert len(therapist) == 1


# ------------------------------------------------------------------------------ metrics


def test_act_tally_ratio_and_shares() -> None:
    replies = [
        ex("a", "r1", ["complex_reflection", "open_question"]),
        ex("b", "r2", ["simple_reflection"]),
        ex("c", "r3", ["complex_reflection"]),
        ex("d", "r4", ["closed_question"]),
    ]
    tally = E.act_tally(replies)
    assert E.reflection_question_ratio(tally) == 1.5
    assert E.complex_share(tally) == pytest.approx(2 / 3)
    assert E.open_share(tally) == 0.5
    assert E.reflection_question_ratio(E.act_tally([ex("a", "r", ["simple_reflection"])])) == (
        math.inf
    )
    assert E.reflection_question_ratio(E.act_tally([])) is None


def test_the_coder_source_uses_coded_acts() -> None:
    one = ex("a", "r", ["complex_reflection"])
    one.coded_acts = ["open_question"]
    assert E.act_tally([one], "coder") == {"open_question": 1}


def test_listening_leaves_out_safety_and_closing_replies() -> None:
    conv = E.Conversation("c", [
        ex("a", "r1"), ex("b", "help", safety="suicide"), ex("", "bye", kind="close"),
    ])
    assert [e.reply for e in E.listening([conv])] == ["r1"]


def test_roadblocks_per_100() -> None:
    a, b = ex("x", "Don't worry."), ex("y", "You're tired.")
    a.roadblocks = ["ordering", "reassuring"]
    per100, found = E.roadblocks_per_100([a, b])
    assert per100 == 100.0
    assert found == [("ordering", "Don't worry."), ("reassuring", "Don't worry.")]
    assert E.roadblocks_per_100([])[0] is None


def test_repeated_replies_are_counted_within_a_conversation_only() -> None:
    c1 = E.Conversation("c1", [ex("a", "Hm."), ex("b", "You're tired."), ex("c", "hm.")])
    c2 = E.Conversation("c2", [ex("a", "You're tired.")])
    assert E.repeated_replies([c1, c2]) == [("c1", "hm.")]


def test_template_reuse_by_template_id() -> None:
    replies = [ex(str(i), f"r{i}", template_ids=[f"pool.{i % 3}"]) for i in range(4)]
    assert E.template_reuse([E.Conversation("c", replies)], window=20) == [("c", "pool.0", 3)]
    assert E.template_reuse([E.Conversation("c", replies)], window=3) == []


def test_template_reuse_by_masked_text_when_ids_are_missing() -> None:
    conv = E.Conversation("c", [
        ex("my sister called", "You're thinking about your sister."),
        ex("and my boss too", "You're thinking about your boss."),
        ex("yes", "Tell me more."),
    ])
    reuses = E.template_reuse([conv])
    assert reuses == [("c", "masked:you're thinking about your _", 1)]


def test_mask_person_words() -> None:
    assert E.mask_person_words("So your boss yelled.", {"boss", "yelled"}) == "so your _ _"


def test_reflection_reuse_counts_words_and_feelings() -> None:
    conv = E.Conversation("c", [
        ex("I'm worried about the interview", "You're worried.", ["simple_reflection"]),
        ex("it's on friday", "That's a lot to hold.", ["complex_reflection"]),
        ex("and my mum", "Your mum is part of it, and the worry is there.",
           ["complex_reflection"]),
        ex("yes", "What else?", ["open_question"]),
    ])
    share, misses = E.reflection_reuse([conv])
    assert share == pytest.approx(2 / 3)
    assert misses == ["That's a lot to hold."]


def test_feeling_precision_allows_abstaining_and_punishes_naming_nothing_as_something() -> None:
    results = [
        E.FeelingResult("I'm sad", frozenset({"sadness"}), "sadness"),
        E.FeelingResult("I'm scared", frozenset({"fear", "nervousness"}), None),
        E.FeelingResult("The bus was late", frozenset(), "annoyance"),
        E.FeelingResult("I'm furious", frozenset({"anger"}), "anger"),
    ]
    out = E.feeling_precision(results)
    assert out["precision"] == pytest.approx(2 / 3)
    assert out["coverage"] == 0.75
    assert out["wrong"] == [("The bus was late", "annoyance", [])]


def test_correction_adoption() -> None:
    conv = E.Conversation("c", [
        ex("I'm not angry, I'm hurt", "Hurt, then.", expected_correction="hurt"),
        ex("not sad, tired", "You're sad.", expected_correction="tired"),
        ex("ok", "Mm."),
    ])
    adopted, total, misses = E.correction_adoption([conv])
    assert (adopted, total) == (1, 2)
    assert "tired" in misses[0]


def test_scenario_safety() -> None:
    conv = E.Conversation("c", [
        ex("I want to die", "help", safety="suicide", expected_safety="suicide"),
        ex("I've been cutting", "hm", expected_safety="self_harm"),
        ex("my feet are killing me", "help", safety="suicide"),
        ex("", "bye", kind="close", safety="suicide"),
    ])
    out = E.scenario_safety([conv])
    assert (out["caught"], out["marked"], out["false_alarms"]) == (1, 2, 1)


def test_crisis_rates() -> None:
    rows = [
        {"split": "dev", "kind": "explicit", "category": "suicide", "text": "kill myself"},
        {"split": "dev", "kind": "explicit", "category": "abuse", "text": "he hits me"},
        {"split": "holdout", "kind": "idiom", "category": "none", "text": "killing me"},
        {"split": "holdout", "kind": "idiom", "category": "none", "text": "dead tired"},
    ]
    answers = {"kill myself": "suicide", "killing me": "suicide"}
    out = E.crisis_rates(rows, answers.get)
    assert out["dev/explicit"]["recall"] == 0.5
    assert out["dev/explicit"]["missed"] == ["he hits me"]
    assert out["all/idiom"]["false_alarm"] == 0.5
    assert out["holdout/idiom"]["alarms"] == ["killing me"]


def test_percentile() -> None:
    assert E.percentile([1, 2, 3, 4, 5], 50) == 3
    assert E.percentile([1, 2, 3, 4, 5], 100) == 5
    assert E.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert E.percentile([], 95) is None


def test_cohen_kappa() -> None:
    # The textbook example: 50 items, agreement 0.7, chance 0.5 -> kappa 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert E.cohen_kappa(a, b) == pytest.approx(0.4)
    assert E.cohen_kappa([True, False], [True, False]) == 1.0
    assert E.cohen_kappa([], []) is None


def test_coder_agreement_on_a_tiny_annotated_set() -> None:
    def row(tid: str, uid: str, who: str, text: str, refl: str, q: str, rsub: str = "n/a",
            qsub: str = "n/a", annotator: str = "1") -> dict:
        return {"transcript_id": tid, "utterance_id": uid, "interlocutor": who,
                "utterance_text": text, "reflection_exists": refl, "question_exists": q,
                "reflection_subtype": rsub, "question_subtype": qsub, "annotator_id": annotator}

    rows = [
        row("0", "0", "client", "I'm so tired of my job.", "n/a", "n/a"),
        row("0", "1", "therapist", "You're tired of your job.", "True", "False", "simple"),
        row("0", "2", "client", "Yes.", "n/a", "n/a"),
        row("0", "3", "therapist", "What would you like to change?", "False", "True",
            qsub="open"),
        row("0", "4", "therapist", "Did you tell her?", "False", "True", qsub="closed"),
        row("0", "5", "therapist", "Mm-hmm.", "False", "False"),
    ]
    out = E.coder_agreement(rows)
    assert out["utterances"] == 4
    assert out["reflection_kappa"] == 1.0
    assert out["question_kappa"] == 1.0
    assert out["question_subtype_agreement"] == 1.0


def test_the_coder_check_says_which_reflection_model_coded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from voice_companion.dialogue import embedding

    rows = [
        {"transcript_id": "1", "utterance_id": "0", "interlocutor": "client",
         "utterance_text": "I'm so tired of my job.", "reflection_exists": "n/a",
         "question_exists": "n/a", "reflection_subtype": "n/a", "question_subtype": "n/a",
         "annotator_id": "1"},
        {"transcript_id": "1", "utterance_id": "1", "interlocutor": "therapist",
         "utterance_text": "You're tired of your job.", "reflection_exists": "True",
         "question_exists": "False", "reflection_subtype": "simple",
         "question_subtype": "n/a", "annotator_id": "1"},
    ]
    monkeypatch.setattr(embedding, "encoder", lambda: None)
    out = E.coder_agreement(rows)
    assert out["reflection_model"].startswith("hand features only")
    assert out["utterances"] == out["heldout"]["utterances"] == 1


def test_a_fitted_embedding_model_is_written_as_toml_the_coder_reads() -> None:
    from voice_companion.dialogue.coder import FEATURES, CoderFile

    data = tomllib.loads((ROOT / "prompts" / "coder.toml").read_text())
    model = {
        "threshold": 0.5, "bias": -0.1, "weights": dict.fromkeys(FEATURES, 0.25),
        "no_context": data["model"]["no_context"],
        "embedding_model": {
            "threshold": 0.45, "bias": 0.2, "encoder": 'all-MiniLM-L6-v2 ("test")',
            "fitted_on": "a test", "out_of_fold_kappa": 0.5,
            "weights": dict.fromkeys(FEATURES, -0.5),
            "embedding": [round(i / 1000, 4) for i in range(384)],
        },
    }
    written = tomllib.loads(E.reflection_model_toml(model))
    data.update(written)
    loaded = CoderFile.model_validate(data)
    assert loaded.embedding_model is not None
    assert loaded.embedding_model.embedding[383] == pytest.approx(0.383)
    assert loaded.embedding_model.encoder == 'all-MiniLM-L6-v2 ("test")'
    assert loaded.model.weights["hedge"] == 0.25
    # Without an embedding model only the [model] tables are written.
    model["embedding_model"] = None
    assert "embedding_model" not in tomllib.loads(E.reflection_model_toml(model))


class _StubReply:
    def __init__(self, text: str) -> None:
        self.text, self.acts, self.emotions, self.safety = text, ["simple_reflection"], [], None


class _StubEngine:
    """Records what it is given; a test double for the runner, not for the engine."""

    def __init__(self) -> None:
        self.heard: list[str] = []
        self.last_template_ids = ["t.0"]

    def respond(self, text: str) -> _StubReply:
        self.heard.append(text)
        self.last_template_ids = [f"t.{len(self.heard)}"]
        return _StubReply(f"reply {len(self.heard)}")

    def close(self) -> _StubReply:
        self.last_template_ids = ["close.0"]
        return _StubReply("goodbye")


def test_run_conversation_feeds_every_turn_then_closes() -> None:
    engines: list[_StubEngine] = []

    def make() -> _StubEngine:
        engines.append(_StubEngine())
        return engines[-1]

    turns = [E.ScenarioTurn("a"), E.ScenarioTurn("b", correction="hurt"), E.ScenarioTurn("c")]
    conv = E.run_conversation("x", turns, make)
    assert engines[0].heard == ["a", "b", "c"]
    assert [e.reply for e in conv.exchanges] == ["reply 1", "reply 2", "reply 3", "goodbye"]
    assert conv.exchanges[1].expected_correction == "hurt"
    assert conv.exchanges[-1].kind == "close" and conv.exchanges[-1].template_ids == ["close.0"]
    assert all(e.seconds >= 0 for e in conv.exchanges)


def test_rows_say_pass_and_fail() -> None:
    metrics = {
        "rq_engine": 2.5, "rq_coder": 1.5, "complex_engine": 0.6, "complex_coder": 0.4,
        "open_engine": 1.0, "open_coder": 0.95, "roadblocks_per_100": 0.0,
        "repeated_replies": [], "template_reuse": [("c", "t", 3)], "reflection_reuse": 0.9,
        "p95_ms": 4.0,
    }
    result = {"scenarios": metrics, "crisis": {
        "all/explicit": {"recall": 1.0, "n": 40}, "holdout/indirect": {"recall": 0.5, "n": 20},
        "all/idiom": {"false_alarm": 0.01, "n": 100},
    }}
    rows = {m.name: m for m in E.build_rows(result)}
    assert rows["reflections : questions (engine acts)"].passed("scenarios") is True
    assert rows["reflections : questions (coder)"].passed("scenarios") is False
    assert rows["template reused within 20 turns"].passed("scenarios") is False
    assert rows["crisis recall, indirect (holdout, never tuned on)"].passed("scenarios") is False
    assert rows["false alarms on idioms (all rows)"].passed("scenarios") is True
    assert rows["reflections : questions (engine acts)"].passed("annomi") is None
    assert E.format_value(rows["complex share of reflections (engine)"], "scenarios") == "60.0%"
    table = E.to_json({**result, "rows": list(rows.values()), "notes": []})["table"]
    assert table[0]["scenarios"]["pass"] is True

"""The labelled corpus of messages as officials write them (tests/data/intent_corpus.tsv).

The rule of issue 12: no message that is not an unmistakable decision may decide. Run with
``pytest -s`` to see precision and recall per intent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from bot.understanding import Certainty, Intent, understand
from tests.support.paths import DATA_DIR

CORPUS = DATA_DIR / "intent_corpus.tsv"
FLOWS = [("PK", "Penyusunan Perjanjian Kinerja"), ("PDK", "Pengumpulan Data Kinerja")]
DECISIONS = {Intent.APPROVE, Intent.COMPLETE, Intent.REVISE}


@dataclass(frozen=True)
class Example:
    line: int
    text: str
    intent: Intent
    certainty: Certainty
    reason: str | None
    flow: str | None
    year: int | None


def load() -> list[Example]:
    examples = []
    for no, raw in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cols = (raw.split("\t") + [""] * 6)[:6]
        text, intent, certainty, reason, flow, year = (c.replace("\\n", "\n") for c in cols)
        examples.append(Example(no, text, Intent(intent), Certainty(certainty), reason or None,
                                flow or None, int(year) if year else None))
    return examples


EXAMPLES = load()


def test_corpus_is_large_and_varied() -> None:
    assert len(EXAMPLES) >= 220
    kinds = Counter(e.intent for e in EXAMPLES)
    for intent in (*DECISIONS, Intent.STATUS, Intent.START, Intent.UNCLEAR, Intent.WITHDRAW):
        assert kinds[intent] >= 8 or intent in (Intent.START, Intent.WITHDRAW), intent
    texts = [e.text for e in EXAMPLES]
    assert len(texts) == len(set(texts)), "duplicate messages in the corpus"


def test_no_message_decides_unless_it_is_an_unmistakable_decision() -> None:
    """Zero false decisions: a hedge, a question or a decision in other words never decides,
    and a decision never decides as another decision."""
    wrong = []
    for e in EXAMPLES:
        got = understand(e.text, FLOWS)
        if got.intent in DECISIONS and got.certainty is Certainty.DECIDE and (
                e.intent is not got.intent or e.certainty is not Certainty.DECIDE):
            wrong.append(f"line {e.line}: {e.text!r} decided {got.intent}")
    assert not wrong, "\n".join(wrong)


def test_hedged_messages_never_decide_anything() -> None:
    for e in EXAMPLES:
        if e.intent is Intent.UNCLEAR:
            got = understand(e.text, FLOWS)
            assert got.certainty is not Certainty.DECIDE, (e.line, e.text, got)


def _label(intent: Intent, certainty: Certainty) -> str:
    return "unclear" if certainty is Certainty.NONE else f"{intent}/{certainty}"


def test_precision_and_recall_per_intent() -> None:
    pairs = [(_label(e.intent, e.certainty), _label(*_read(e))) for e in EXAMPLES]
    labels = sorted({want for want, _got in pairs} | {got for _want, got in pairs})
    print(f"\n{'intent/certainty':<20} {'n':>4} {'precision':>9} {'recall':>7}")
    scores = {}
    for label in labels:
        tp = sum(w == g == label for w, g in pairs)
        predicted = sum(g == label for _w, g in pairs)
        actual = sum(w == label for w, _g in pairs)
        precision = tp / predicted if predicted else 1.0
        recall = tp / actual if actual else 1.0
        scores[label] = (precision, recall)
        print(f"{label:<20} {actual:>4} {precision:>9.2f} {recall:>7.2f}")
    accuracy = sum(w == g for w, g in pairs) / len(pairs)
    print(f"{'accuracy':<20} {len(pairs):>4} {accuracy:>9.2f}")
    decide = [label for label in labels if label.endswith("/decide")]
    for label in decide:
        assert scores[label][0] >= 0.9, (label, scores[label])
    assert scores["unclear"][1] >= 0.9
    assert accuracy >= 0.85


def _read(e: Example) -> tuple[Intent, Certainty]:
    got = understand(e.text, FLOWS)
    return got.intent, got.certainty


@pytest.mark.parametrize("e", [e for e in EXAMPLES if e.certainty is Certainty.DECIDE
                               and (e.reason or e.flow or e.year)],
                         ids=lambda e: f"line{e.line}")
def test_carried_values(e: Example) -> None:
    """What a direct act carries: the reason a revision sends, the flow and year a query names."""
    got = understand(e.text, FLOWS)
    assert (got.intent, got.reason, got.flow, got.year) == (e.intent, e.reason, e.flow, e.year)


def test_reasons_shown_in_questions() -> None:
    """A revision in other words is asked about, showing the reason it would send."""
    rows = [e for e in EXAMPLES if e.certainty is Certainty.ASK and e.reason]
    right = sum((understand(e.text, FLOWS).intent, understand(e.text, FLOWS).reason)
                == (e.intent, e.reason) for e in rows)
    print(f"\nrevision questions with the expected reason: {right}/{len(rows)}")
    assert right >= 0.9 * len(rows)


def test_commands_are_never_taken_for_a_reason() -> None:
    for e in EXAMPLES:
        if e.intent in (Intent.STATUS, Intent.START, Intent.TASKS, Intent.HELP, Intent.CANCEL,
                        Intent.COMMAND):
            assert understand(e.text, FLOWS).is_command, (e.line, e.text)

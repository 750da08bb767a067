"""Focused tests of bot.understanding: the cases of issue 12, one behaviour each."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.understanding import (
    Certainty,
    Intent,
    Understanding,
    is_acknowledgement,
    is_thanks,
    match_flow,
    understand,
)
from bot.understanding.lexicon import FUZZY_TARGETS
from bot.understanding.words import canonical, stem, tokens

FLOWS = [("PK", "Penyusunan Perjanjian Kinerja"), ("PDK", "Pengumpulan Data Kinerja")]
D, A, N = Certainty.DECIDE, Certainty.ASK, Certainty.NONE


def read(text: str) -> tuple[Intent, Certainty]:
    got = understand(text, FLOWS)
    return got.intent, got.certainty


@pytest.mark.parametrize("text", [
    "Sudah saya terima, tapi belum saya periksa. Besok ya.",
    "Ok, nanti saya pelajari dulu",
    "Sudah saya baca, tapi belum setuju",
])
def test_the_replies_that_were_taken_as_approval_no_longer_decide(text: str) -> None:
    assert read(text) == (Intent.UNCLEAR, N)


@pytest.mark.parametrize("word", ["belum", "tapi", "nanti", "besok", "dulu", "tidak", "jangan",
                                  "kalau", "sebentar", "dereng", "mengke", "teu acan", "engké",
                                  "not yet", "later", "mungkin"])
@pytest.mark.parametrize("decision", ["setuju", "acc pak", "selesai", "sudah", "lanjutkan",
                                      "approved", "done"])
def test_a_hedge_anywhere_keeps_a_decision_from_deciding(word: str, decision: str) -> None:
    for text in (f"{decision} {word}", f"{word} {decision}", f"{decision}, {word} ya pak"):
        assert understand(text, FLOWS).certainty is not D, text


@pytest.mark.parametrize("text", ["setuju?", "acc?", "sudah selesai?", "Approved?"])
def test_a_question_never_decides(text: str) -> None:
    assert read(text) == (Intent.UNCLEAR, N)


@pytest.mark.parametrize(("text", "intent"), [
    ("acc pak", Intent.APPROVE), ("setuju bu", Intent.APPROVE),
    ("siap, lanjutkan", Intent.APPROVE), ("mangga", Intent.APPROVE), ("muhun", Intent.APPROVE),
    ("sudah selesai pak 🙏", Intent.COMPLETE), ("nggih, sampun", Intent.COMPLETE),
    ("Approved", Intent.APPROVE), ("done", Intent.COMPLETE),
])
def test_courtesies_around_a_decision_still_decide(text: str, intent: Intent) -> None:
    assert read(text) == (intent, D)


@pytest.mark.parametrize("text", ["stetuju", "setjuu", "Setujuuu", "di-acc"])
def test_typos_and_stretched_words(text: str) -> None:
    assert read(text) == (Intent.APPROVE, D)


def test_a_decision_with_more_content_asks() -> None:
    assert read("Setuju, lanjutkan ke Kasubbag Program") == (Intent.APPROVE, A)
    assert read("siap pak") == (Intent.APPROVE, A)  # "siap" alone only acknowledges
    assert read("👍") == (Intent.APPROVE, A)


@pytest.mark.parametrize(("text", "reason"), [
    ("Mohon direvisi: target IKU 2 belum sesuai Renstra", "target IKU 2 belum sesuai Renstra"),
    ("revisi: lampiran kurang", "lampiran kurang"),
    ("tolong diperbaiki tabel IKU-nya", "tabel IKU-nya"),
    ("dikembalikan, format salah", "format salah"),
    ("Revise: add the baseline", "add the baseline"),
])
def test_a_direct_revision_decides_with_its_reason(text: str, reason: str) -> None:
    assert understand(text, FLOWS) == Understanding(Intent.REVISE, D, reason)


def test_a_revision_without_reason_decides_so_the_chat_asks_for_the_reason() -> None:
    assert understand("revisi pak") == Understanding(Intent.REVISE, D, None)


def test_a_revision_in_other_words_asks_showing_the_whole_message() -> None:
    got = understand("belum sesuai, angka target beda dengan Renja")
    assert (got.intent, got.certainty) == (Intent.REVISE, A)
    assert got.reason == "belum sesuai, angka target beda dengan Renja"


@pytest.mark.parametrize("text", ["jangan direvisi dulu", "revisi?", "Revisi nanti saja",
                                  "nanti saya revisi", "Mungkin perlu direvisi"])
def test_a_put_off_or_questioned_revision_does_nothing(text: str) -> None:
    assert understand(text).certainty is N


def test_a_revision_already_made_is_a_completion_to_confirm() -> None:
    assert read("Sudah direvisi pak") == (Intent.COMPLETE, A)


@pytest.mark.parametrize("text", ["Status PK 2026?", "cek status pk 2026", "posisi PK 2026",
                                  "PK 2026 sudah sampai mana?", "status perjanjian kinerja 2026",
                                  "STAUTS pk 2026!!", "/status PK 2026", "status pk2026",
                                  "/status PK2026", "PK2026 sudah sampai mana?"])
def test_status_in_the_forms_people_type(text: str) -> None:
    got = understand(text, FLOWS)
    assert (got.intent, got.certainty, got.flow, got.year) == (Intent.STATUS, D, "PK", 2026)
    assert got.is_command and got.query_words == "PK 2026"


def test_status_keeps_the_unit_words_and_status_alone_is_the_overview() -> None:
    got = understand("status PK 2026 Kecamatan Sooko", FLOWS)
    assert (got.flow, got.year, got.unit) == ("PK", 2026, "Kecamatan Sooko")
    assert got.query_words == "PK 2026 Kecamatan Sooko"
    assert understand("status") == Understanding(Intent.STATUS, D)


def test_an_unknown_flow_is_still_a_status_query_with_the_words_typed() -> None:
    got = understand("status XYZ 2026", FLOWS)
    assert (got.intent, got.flow, got.flow_words, got.year) == (Intent.STATUS, None, "XYZ", 2026)
    assert got.query_words == "XYZ 2026"


def test_start() -> None:
    got = understand("mulai PK 2027", FLOWS)
    assert (got.intent, got.certainty, got.flow, got.year) == (Intent.START, D, "PK", 2027)
    assert read("Buat PK 2027") == (Intent.START, A)
    for greeted in ("pagi, mulai PK 2027 ya", "Selamat siang pak, mulai PK 2027"):
        got = understand(greeted, FLOWS)  # a greeting first
        assert (got.intent, got.certainty, got.year) == (Intent.START, D, 2027), greeted
    assert read("assalamualaikum, status PK 2027?")[0] is Intent.STATUS
    glued = understand("mulai pk2027", FLOWS)  # the year run into the alias
    assert (glued.intent, glued.certainty, glued.flow, glued.year) == (Intent.START, D, "PK", 2027)


@pytest.mark.parametrize(("text", "intent"), [
    ("status PK 2025", Intent.STATUS), ("mulai PK 2026", Intent.START), ("tugas", Intent.TASKS),
    ("/tugas@sopbot", Intent.TASKS), ("/bahasa", Intent.COMMAND), ("batal", Intent.CANCEL),
    ("bantuan", Intent.HELP), ("/start abc", Intent.COMMAND),
])
def test_commands_are_recognised_so_they_are_never_a_revision_reason(text: str,
                                                                     intent: Intent) -> None:
    got = understand(text, FLOWS)
    assert got.intent is intent and got.is_command and not got.is_decision


def test_withdraw_and_cancel() -> None:
    assert read("Tarik kembali") == (Intent.WITHDRAW, D)
    assert read("Batalkan persetujuan") == (Intent.WITHDRAW, D)
    assert read("tidak jadi") == (Intent.CANCEL, D)


def test_flow_matching_by_alias_and_name_words() -> None:
    assert match_flow(tokens("pk"), FLOWS) == "PK"
    assert match_flow(tokens("perjanjian kinerja"), FLOWS) == "PK"
    assert match_flow(tokens("perjanjan kinerja"), FLOWS) == "PK"  # a typo
    assert match_flow(tokens("kinerja"), FLOWS) is None  # both flows: ambiguous
    assert match_flow(tokens("pengumpulan data"), FLOWS) == "PDK"


def test_stemming_and_regional_suffixes() -> None:
    assert stem("direvisi") == "revisi"
    assert canonical("dikembalikan") == ("kembalikan", False)
    assert canonical("dilanjutkeun") == ("lanjut", False)
    assert canonical("stauts") == ("status", True)
    assert canonical("selasa") == ("selasa", False)  # a real word, never "selesai"


@given(st.text(max_size=200))
def test_any_text_is_read_without_error(text: str) -> None:
    got = understand(text, FLOWS)
    assert isinstance(got.intent, Intent)
    if got.certainty is D and got.intent in (Intent.APPROVE, Intent.COMPLETE):
        assert "?" not in text


def test_every_fuzzy_target_typed_as_it_is_is_read() -> None:
    """ "terimakasih pak" (one word, as many write it) was a target of the typo correction
    that was neither known nor an abbreviation: reading it recursed until Python gave up."""
    for target in FUZZY_TARGETS:
        assert canonical(target) == (canonical(target)[0], False), target
    assert canonical("terimakasih") == ("terimakasih", False)
    assert canonical("terimaksih") == ("terimakasih", True)
    for one, two in [("terimakasih pak", "terima kasih pak"),
                     ("Terimakasih bu, sudah saya terima", "Terima kasih bu, sudah saya terima"),
                     ("ok terimakasih", "ok terima kasih")]:
        assert read(one) == read(two), one  # as written in two words
    assert read("terimakasih pak")[0] is Intent.UNCLEAR  # thanks alone: no decision


def test_sampai_as_typed_on_a_phone_asks_for_the_status() -> None:
    """ "smp", "smpe", "sampe": "sampai", and "mn", "dmn", "gmn": "mana", "dimana",
    "gimana" as officials type them; "PK 2026 sdh smpe mn?" asks where PK 2026 stands, as
    it does written in full (it was not understood, or read as a completion to confirm)."""
    full = read("PK 2026 sudah sampai mana?")
    assert full == (Intent.STATUS, D)
    for short in ("PK 2026 sdh smpe mana?", "pk 2026 smp mana ya pak", "PK2026 sampe mana bu?",
                  "PK 2026 udah nyampe mana?", "pk 2026 udh smpe mn?", "PK 2026 sdh sampai mn",
                  "pk 2026 dmn skrg?", "PK 2026 gmn pak"):
        assert read(short) == full, short
    assert read("sdh smpe mana ya") != full  # no flow named: not a status of one


def test_sy_is_saya_so_a_question_for_ones_tasks_is_one() -> None:
    """ "sy" is how officials write "saya" on a phone: read as the word it stands for, a
    question for one's tasks lists them, and a sentence means what it means in full."""
    assert read("tugas sy apa aja ya?") == (Intent.TASKS, D)
    assert read("tugas sy apa aj bu?") == (Intent.TASKS, D)  # ("aj": "aja", the help before)
    for short, full in [("sy setuju pak", "saya setuju pak"),
                        ("nanti sy setujui", "nanti saya setujui"),
                        ("sy blm setuju", "saya belum setuju"),
                        ("sdh sy kerjakan bu", "sudah saya kerjakan bu")]:
        assert read(short) == read(full), short


def test_a_task_taken_on_is_an_acknowledgement_never_a_completion() -> None:
    """"siap bu, sy kerjakan dl ya" (typed outside a step message) takes the task on: it is
    answered briefly, not with the whole help, and nothing in it may read as done."""
    for taken in ("siap bu, sy kerjakan dl ya", "noted pak, segera sy proses",
                  "sy kerjakan dl", "siap, nanti saya laksanakan bu", "Siap bu 🙏 sy garap dulu",
                  # without "dulu" too: the work promised, not done (was asked "done?")
                  "siap bu sy kerjakan", "siap laksanakan pak", "siap pak segera diproses",
                  "otw bu, sy kirim sore ini", "siap, segera sy siapkan",
                  # naming the task in a word of its own (the demo: the whole help text)
                  "siap pak, sy susun formatnya dl"):
        assert is_acknowledgement(taken), taken
        assert read(taken)[0] is Intent.UNCLEAR, taken  # and never a decision
    for other in ("siap, sdh selesai bu", "sudah sy kerjakan bu", "siap bu tapi blm bisa",
                  "sdh sy kirim pk nya bu", "sudah dikirim",
                  "halo apa kabar", "sy kerjakan PK 2026 dl", "", "🙏",
                  "siap pak, formatnya", "siap, sy susun formatnya tapi blm bisa"):
        assert not is_acknowledgement(other), other
    assert read("siap, sdh selesai bu")[0] is Intent.COMPLETE  # done: a decision, asked first
    # a superior's go-ahead keeps being asked as an approval, not taken as an acknowledgement
    assert read("ok laksanakan") == (Intent.APPROVE, Certainty.ASK)
    assert read("setuju, laksanakan") == (Intent.APPROVE, Certainty.ASK)


def test_thanks_alone_is_told_from_a_decision_and_from_anything_else() -> None:
    for thanks in ("terima kasih pak", "terimakasih bu 🙏", "matur nuwun pak", "hatur nuhun",
                   "makasih ya pak", "Thanks!", "siap, terima kasih bu"):
        assert is_thanks(thanks), thanks
        assert read(thanks)[0] is Intent.UNCLEAR, thanks  # and never a decision
    for other in ("terima kasih, sudah saya terima tapi belum saya periksa",
                  "terima kasih, revisi ya", "pagi bu", "", "🙏"):
        assert not is_thanks(other), other

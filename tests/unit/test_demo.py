"""`sopbot demo`: the real bot against the fake Bot API, played by simulated officials."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import bot.demo.harness
import bot.demo.session
from bot.cli import main
from bot.demo import official_names, play_demo, revision_reason, short_title, tiny_pdf
from bot.engine.loader import load_flows
from bot.engine.model import Flow
from bot.i18n import Translator
from tests.support.paths import FLOWS_DIR, ROOT


def run_demo(tmp_path: Path, *args: str, stdin: str | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m bot demo ARGS` in the repository, with its own (checked) TMPDIR."""
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SOPBOT_"))}
    env.update(SOPBOT_LANGUAGE="en", TMPDIR=str(tmp))
    result = subprocess.run([sys.executable, "-m", "bot", "demo", *args], cwd=ROOT, env=env,
                            input=stdin, capture_output=True, text=True, timeout=timeout)
    assert list(tmp.iterdir()) == [], "the demo left files in TMPDIR"
    return result


def blocks(transcript: str) -> list[str]:
    """Each bot message of the transcript: its header line with the lines under it."""
    found: list[list[str]] = []
    for line in transcript.splitlines():
        if "🤖 →" in line:
            found.append([line])
        elif found and line.lstrip().startswith("│"):
            found[-1].append(line)
        elif found and found[-1] and not line.lstrip().startswith("│"):
            found.append([])
    return ["\n".join(b) for b in found if b]


def to(name: str, transcript: str) -> list[str]:
    """The bot's messages to one official."""
    return [b for b in blocks(transcript) if re.search(rf"🤖 → {re.escape(name)} #\d+", b)]


def test_the_default_demo_plays_a_whole_pk_run(tmp_path: Path,
                                              all_flows: dict[str, Flow]) -> None:
    started = time.monotonic()
    result = run_demo(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert time.monotonic() - started < 60
    out = result.stdout
    # the officials joined with invitation codes, then the Camat started the flow
    assert re.search(r"👤 Bu Camat: /start \S+", out)
    assert "👤 Bu Camat: mulai PK 2025" in out
    # every step of the Neglasari PK reached someone, in Indonesian (the officials' language)
    for n in range(1, 10):
        assert f"Langkah {n} dari 9" in out, n
    # the Camat sent the draft back (step 4 -> 3): the reason reached the Kasubag Perenkeu
    reason = revision_reason(all_flows["pk-kec-neglasari"].step(4))
    flat = " ".join(out.split())  # long lines are wrapped
    assert re.search(rf"👤 Bu Camat replies to #\d+: revisi: {re.escape(reason)}", flat)
    revised = [b for b in to("Pak Kasubag Perenkeu", out) if "🔁" in b and reason[:40] in b]
    assert revised and "Langkah 3 dari 9" in revised[0], out
    # the corrected draft went as a PDF with "selesai" and travelled on to the Camat
    assert "👤 Pak Kasubag Perenkeu sends PK-2025-draf-revisi.pdf as a reply to #" in flat
    assert "with the caption “selesai”" in flat
    assert any("📎 PK-2025-draf-revisi.pdf" in b for b in to("Bu Camat", out))
    # the fan-out step 7 was done by both of its holders
    assert "👤 Bu Kasi presses" in out and "👤 Pak Lurah presses" in out
    # buttons are shown and pressed by label
    assert "[1] ✅ Setujui   [2] 🔁 Revisi" in out and "presses “✅ Setujui” on #" in out
    # the final status, asked by the Sekcam (a starter of this flow), is printed whole
    status = [b for b in to("Pak Sekcam", out) if "📊" in b]
    assert status and "PK 2025" in status[-1] and "Kecamatan Neglasari" in status[-1]
    assert out.index("👤 Pak Sekcam: status PK 2025") < out.index("📊")
    assert "Steps in the order they were acted on: 1 → 2 → 3 → 4 → 3 → 4 → 5" in out
    # deadlines are real dates in the unit's zone, from the demo's Monday morning
    assert "Batas waktu: Senin, 5 Januari 2026 pukul" in out and "WIB" in out
    # at step 8 the Sekcam sends back only Bu Kasi's PK: she redoes it, Pak Lurah does not
    assert "presses “🔁 Bu Kasi” on #" in out
    assert "Steps in the order they were acted on: 1 → 2 → 3 → 4 → 3 → 4 → 5 → 6 → 7 → 8 " \
        "→ 7 → 8 → 9" in out
    assert ("Partial revision: at step 8 only the part of Bu Kasi went back to step 7; "
            "redone by Bu Kasi, the other parts stayed done.") in out
    assert len([b for b in to("Pak Lurah", out) if "Langkah 7 dari 9" in b]) == 1
    # and where to see a document waiting outside the office
    assert "sopbot demo --flow pk-inspektorat-nganjuk" in out

    # it ends with the rekap across units, asked by the oversight unit, and mentions /grafik
    rekap = to("Bu Inspektur", out)[-1]
    assert out.index("👤 Bu Inspektur: rekap PK 2025") > out.index("📊")
    assert "Rekap PK 2025" in rekap and "4. ✅ Kecamatan Neglasari: selesai" in rekap
    assert "1. ⚪" in rekap and "belum dimulai" in rekap
    assert "/grafik PK 2025" in out.split("━" * 20)[-1]


def test_the_inspektorat_demo_waits_on_the_bupati(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--flow", "pk-inspektorat-nganjuk")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    out = result.stdout
    flat = " ".join(out.split())
    assert "👤 Bupati" not in out  # external roles are never invited
    waiting = [b for b in to("Pak Sekretaris", out) if "📊" in b and "Menunggu" in b]
    assert waiting and "Menunggu Bagian Organisasi Setda dan Bupati sejak" in " ".join(
        waiting[0].split()), out
    assert "presses “📥 Sudah kembali” on #" in out
    assert not [b for b in blocks(out) if "⏰" in b or "Terlambat" in b]
    assert ("Outside the office: after step 13 the document waited two weeks at the "
            "Bupati's office, with no reminders; Bu Pejabat Fungsional recorded its "
            "return.") in flat
    assert "→ 13 → 14 → 15" in out


def test_the_per_official_dprd_flow(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--flow", "PDK")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    out = result.stdout
    assert "👤 Bu Kasubag TU: mulai PDK 2025" in out
    for name in ("Bu Sekwan", "Pak Kabag", "Bu Kasubag", "Pak Staf", "Bu Kasubag TU"):
        assert f"👤 {name}: /start " in out
    for n in range(1, 8):  # steps 8-14 are the recurring duties, in the cycles
        assert f"Langkah {n} dari 7" in out, n
    # the Staf's own procedure, with his atasan (the Kasubag): the revision reached him
    revised = [b for b in to("Pak Staf", out) if "🔁" in b and "IKI belum sesuai" in b]
    assert revised, out
    assert any("📎 PDK-2025-draf-revisi.pdf" in b for b in to("Bu Kasubag", out))
    status = [b for b in to("Bu Sekwan", out) if "📊" in b]
    assert status and "PDK 2025" in status[-1]
    assert "Selesai: 1" in status[-1] or "Done: 1" in status[-1]


def test_unknown_and_shared_flow_names_are_refused(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--flow", "XYZ")
    assert result.returncode == 2
    assert "XYZ" in result.stderr
    for flow in load_flows(FLOWS_DIR):
        assert flow.id in result.stderr
    shared = run_demo(tmp_path, "--flow", "PK")
    assert shared.returncode == 2
    assert "several units" in shared.stderr
    assert "--flow pk-kec-neglasari" in shared.stderr and "--flow pk-kec-sooko" in shared.stderr
    assert "PDK" not in shared.stderr


def test_an_interactive_session_from_stdin(tmp_path: Path) -> None:
    draft = tmp_path / "draf-PK-2025.pdf"
    draft.write_bytes(tiny_pdf("Draf PK 2025"))
    script = "\n".join([
        "help",
        "as 1",
        "mulai PK 2025",
        "press",  # the newest buttons: step 1
        "as 4",  # the Kasubag Perencanaan dan Keuangan
        "press 2 1",  # step 2
        "reply 3 selesai",  # step 3, by a reply
        "as 1",
        "press 4 2",  # Revisi on step 4 ...
        "Target IKU belum sesuai Renstra",  # ... and the reason as the next message
        "as 4",
        "show",
        f"send 5 {draft} selesai",  # the corrected draft, attached
        "as 1",
        "press 7 1",
        "press 99",
        "wait 2h",
        "status PK 2025",
        "quit",
        "this line is never read",
    ]) + "\n"
    result = run_demo(tmp_path, "--interactive", stdin=script, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    out = result.stdout
    assert "1. Bu Camat" in out and "4. Pak Kasubag Perenkeu" in out
    assert "» mulai PK 2025" in out and "Langkah 1 dari 9" in out
    assert "You are now Pak Kasubag Perenkeu" in out
    revised = [b for b in to("Pak Kasubag Perenkeu", out)
               if "🔁" in b and "Target IKU belum sesuai Renstra" in b]
    assert revised, out
    assert any("📎 draf-PK-2025.pdf" in b for b in to("Bu Camat", out))
    assert "presses “✅ Setujui” on #7" in out and "Langkah 5 dari 9" in out
    assert "Bu Camat has no bot message #99." in out
    assert "It is now " in out
    assert any("📊" in b and "Langkah 5 dari 9" in b for b in to("Bu Camat", out))
    assert "this line is never read" not in out
    # the official's own /start shows no invitation code
    assert "/start <invitation code>" in out
    assert {m.split()[0] for m in re.findall(r"/start (\S+)", out)} == {"<invitation"}
    assert out.rstrip().endswith("Bye: the bot and the local server are stopped.")


def test_end_of_input_ends_the_interactive_session(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "-i", "--flow", "pk-kec-sooko", stdin="who\n", timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "You are " in result.stdout and "Bye:" in result.stdout


async def test_play_demo_in_process_returns_transcript_and_summary(tmp_path: Path) -> None:
    flows = load_flows(FLOWS_DIR)
    # (the Inspektorat's PK now waits on the Bupati after step 13, which the demo cannot
    # record yet; Kesbangpol has fan-out steps and a revision loop too)
    flow = next(f for f in flows if f.id == "pk-kesbangpol-jateng")
    before = {t.name for t in threading.enumerate()}
    data = tmp_path / "kept"
    result = await play_demo(flows, flow, year=2026, t=Translator("en"), language="en",
                             data_dir=data)
    s = result.summary
    assert s.completed and s.flow_id == flow.id and s.year == 2026
    assert s.steps_played[:11] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 8, 9]
    assert set(s.steps_played) == {st.no for st in flow.sequence}
    # fan-out steps 3 and 6: both holders of Kepala Bidang did their part
    assert sorted(who for no, _r, who, _h in s.actions if no == 3) == [
        "Bu Kabid 1", "Pak Kabid 2"]
    assert s.revision_seen_by and s.attachment_forwarded_to
    assert "📊" in s.status_text and "PK 2026" in s.status_text
    text = "\n".join(result.lines)
    n = len(flow.sequence)
    assert f"Step 1 of {n}" in text and f"Step {n} of {n}" in text
    assert any(data.iterdir())  # a data directory given by the caller is kept
    left = {t.name for t in threading.enumerate()} - before
    assert not [name for name in left if name.startswith("fakeapi")], left


def test_official_names_follow_role_titles(all_flows: dict[str, Flow]) -> None:
    names = official_names(all_flows["pk-kec-neglasari"], {"pejabat_unit_kerja": 2})
    assert names == [("camat", "Bu Camat"), ("sekcam", "Pak Sekcam"),
                     ("kasubag_umpeg", "Bu Kasubag Umpeg"),
                     ("kasubag_perenkeu", "Pak Kasubag Perenkeu"),
                     ("pejabat_unit_kerja", "Bu Kasi"), ("pejabat_unit_kerja", "Pak Lurah")]
    assert short_title("Sekretaris DPRD (Sekwan)") == "Sekwan"
    assert short_title("Kasubag TU dan Kepegawaian") == "Kasubag TU"
    assert short_title("Tim Penyusun Perjanjian Kinerja") == "Ketua Tim Penyusun PK"
    every = [n for f in all_flows.values() for r, n in official_names(f, {})
             if not f.is_external(r)]  # Bupati, Bagian Organisasi: never officials here
    assert all(len(n) <= 26 for n in every), every


def test_tiny_pdf_is_a_pdf() -> None:
    pdf = tiny_pdf("Draf (PK) 2025")
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref:].startswith(b"xref")


@pytest.mark.parametrize("flow_id", ["pk-kec-sooko", "pk-kesbangpol-jateng"])
async def test_other_pk_flows_play_too(flow_id: str, all_flows: dict[str, Flow]) -> None:
    flows = list(all_flows.values())
    result = await play_demo(flows, all_flows[flow_id], t=Translator("en"))
    s = result.summary
    assert s.completed and s.revision_seen_by and s.attachment_forwarded_to
    assert set(s.steps_played) == {st.no for st in all_flows[flow_id].sequence}


def test_a_bot_that_does_not_answer_fails_with_the_servers_dump(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    @contextlib.asynccontextmanager
    async def deaf(app, **_kwargs):  # the bot never polls: nobody answers /start
        yield app

    monkeypatch.setattr(bot.demo.harness, "running", deaf)
    monkeypatch.setattr(bot.demo.session, "REACTION_TIMEOUT", 1.0)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("SOPBOT_LANGUAGE", "en")
    assert main(["demo", "--dir", str(FLOWS_DIR)]) == 1
    err = capsys.readouterr().err
    assert "The demo failed: no answer from the bot" in err
    assert "--- recent Bot API calls" in err and "/start" in err
    assert list(tmp_path.iterdir()) == []

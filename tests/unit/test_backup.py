"""Backup while the bot runs; restore refused while it runs, validated, and then complete."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
from pathlib import Path

from bot.storage import Store
from bot.storage.migrations import upgrade
from tests.support.bot import running_bot
from tests.support.chatdriver import is_step
from tests.support.cli import env_for, run_sopbot
from tests.support.offices import UNIT, kesbangpol


def sopbot(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return run_sopbot(*args, env=env_for(SOPBOT_DATA_DIR=str(data_dir)))


async def test_backup_while_running_and_restore_after(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    async with running_bot(tmp_path) as h:
        o = await kesbangpol(h)
        await h.say(o["kepala"], "mulai PK 2025", expect="Started")
        m = await o["sekretaris"].await_message(is_step(1, 1))
        await h.press(o["sekretaris"], m, "✔️ Selesai")
        result = await asyncio.to_thread(sopbot, "backup", str(backup), data_dir=h.data_dir)
        assert result.returncode == 0, result.stderr
        assert "Backed up 1 file" in result.stdout
        refused = await asyncio.to_thread(sopbot, "restore", str(backup), data_dir=h.data_dir)
        assert refused.returncode == 3 and "running" in refused.stderr
        # more happens after the backup
        m2 = await o["kasubbag"].await_message(is_step(2, 1))
        await h.press(o["kasubbag"], m2, "✔️ Selesai")
        data_dir = h.data_dir
    assert Store(data_dir).read().instances(unit=UNIT)[0].current.no == 3
    result = sopbot("restore", str(backup), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    repo = Store(data_dir).read()
    (inst,) = repo.instances(unit=UNIT)
    assert inst.current.no == 2  # as it was when the backup was taken
    assert len(repo.members()) == 6  # the Kesbangpol office of tests/e2e/test_chat.py
    mode = stat.S_IMODE(os.stat(data_dir / "sopbot.json").st_mode)
    assert mode == 0o600  # readable by the bot's user only


def test_restore_validates_before_touching_anything(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data)
    with store.transaction() as repo:
        repo.db.table("members").insert({"v": 1, "id": "1", "chat_id": 1, "name": "Ani",
                                         "joined_at": "2026-01-05T08:00:00+07:00"})
    before = (data / "sopbot.json").read_bytes()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "sopbot.json").write_text('{"instances": {"1": {"id": "x"}}}')
    result = sopbot("restore", str(bad), data_dir=data)
    assert result.returncode == 1 and "Nothing was restored" in result.stderr
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / "sopbot.json").write_text(json.dumps({"members": {"1": {"v": 99, "id": "1"}}}))
    result = sopbot("restore", str(newer), data_dir=data)
    assert result.returncode == 1 and "upgrade sopbot" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert sopbot("restore", str(empty), data_dir=data).returncode == 1
    assert (data / "sopbot.json").read_bytes() == before


def test_old_documents_are_upgraded_when_loaded(tmp_path: Path) -> None:
    """A file written before versions were recorded still loads, upgraded."""
    old = {"dispositions": {"1": {"instance_id": "i", "step_no": 2, "action": "approve",
                                  "member": "7", "role": "camat",
                                  "at": "2026-01-05T08:00:00+07:00"}},
           "processed_updates": {"1": {"update_id": 5}}}
    (tmp_path / "sopbot.json").write_text(json.dumps(old))
    repo = Store(tmp_path).read()
    (d,) = repo.dispositions("i")
    assert (d.step_no, d.round) == (2, 1)
    assert repo.update_seen(5)
    assert upgrade("processed_updates", {"update_id": 1}) == {"update_id": 1, "v": 1}


def test_leftovers_of_an_interrupted_write_are_cleaned(tmp_path: Path) -> None:
    (tmp_path / ".tmp-sopbot.json.123.abcd").write_text("{half")
    Store(tmp_path)
    assert not list(tmp_path.glob(".tmp-*"))

"""Start-up time and memory: ``sopbot run`` with 10,000 instances stored, and over many presses.

1. A data directory with 10,000 finished instances (200,000 dispositions, in archives) and
   100 running, then the same with 1,000 running. For each, the real ``sopbot run`` (a child
   process, against the fake Bot API in this one): seconds from the process start to its
   first getUpdates, its resident memory once idle and its peak (VmHWM).
2. Presses: the bot (built as ``sopbot run`` builds it, without Telegram's pace, so that
   the presses are not paced a second apart per chat; a child process) on the 1,000-running
   directory; five officials press the button of every step message they get, each
   instance through its 13 steps. The child's clock starts a minute after the instances
   started, so that no reminder is overdue: with the real clock the bot first collapses the
   21,000 reminders missed since then, one store write each (minutes, under the store's
   lock; a cost of the reminder store, measured by bench_planning.py, not here). Resident
   memory after each checkpoint of presses (the bot idle, the outbox drained); with
   ``--tracemalloc`` the child traces allocations and prints what the memory is spent on
   (the top lines) and what grew between the first and the last checkpoint.

Usage::

    python bench/bench_startup_memory.py [--presses 1000 10000] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.bench_storage as storage_bench  # noqa: E402
from bot.storage.store import Store  # noqa: E402
from fakeapi import FakeBotApi, FakeUser  # noqa: E402

FLOWS_DIR = ROOT / "flows"
ROLES = storage_bench.ROLES
OFFICIALS = 5  # bench_storage's members, Telegram ids 1..5 (the fifth holds `bidang`)

#: The child for the presses: the bot as `sopbot run` builds it, unpaced; SIGUSR1 writes its
#: memory (and, when tracing, the top allocations and the growth since the first dump).
CHILD = """
import asyncio, os, signal, sys, time, tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path
sys.path.insert(0, {root!r})
from bot.bootstrap import build_bot, running
from bot.config import Settings
from bot.engine.loader import load_flows
from bot.cli.run import serve_until_stopped
from bot.holiday_tables import install_holiday_tables

class NoClaim:  # running() claims and releases the data directory itself
    def release_running(self):
        pass

report, first = Path({report!r}), []

def dump(*_):
    lines = [l for l in Path("/proc/self/status").read_text().splitlines()
             if l.startswith(("VmRSS", "VmHWM"))]
    if tracemalloc.is_tracing():
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)])
        lines.append("top allocations (by line):")
        lines += ["  " + str(s) for s in snap.statistics("lineno")[:15]]
        if first:
            lines.append("grown since the first checkpoint:")
            lines += ["  " + str(s) for s in snap.compare_to(first[0], "lineno")[:12]]
        else:
            first.append(snap)
    with report.open("a") as fh:
        fh.write("\\n".join(lines) + "\\n--\\n")

async def main():
    settings = Settings(token={token!r}, api_url={api_url!r}, data_dir=Path({data!r}),
                        flows_dir=Path({flows!r}))
    began = time.monotonic()  # the clock: from the moment the instances started
    clock = lambda: {t0} + timedelta(seconds=60 + time.monotonic() - began)
    install_holiday_tables(settings.data_dir, ({t0}).year)  # as `sopbot run` does
    bot = build_bot(settings, load_flows(settings.flows_dir), rate_limit=False, clock=clock)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, dump)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with running(bot, poll_timeout=1):
        await stop.wait()
    return 0

if os.environ.get("BENCH_TRACEMALLOC"):
    tracemalloc.start(8)
serve_until_stopped(main(), NoClaim())  # stops as `sopbot run` stops
"""


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 30 s (said, since a bot should stop within that)."""
    began = time.time()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
        print(f"  stopped {time.time() - began:.1f} s after SIGTERM (target ≤ 30 s)")
    except subprocess.TimeoutExpired:
        print("  (the bot did not stop within 30 s of SIGTERM: killed)")
        proc.kill()
        proc.wait(10)


def status_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])
    return out


def build(data: Path, running: int) -> None:
    """bench_storage's directory (10,000 finished instances, 200,000 dispositions) with one
    instance started through the services, then copied to `running` (its documents with a
    new id and year each: starting them one by one reads every archive each time)."""
    t = time.perf_counter()
    storage_bench.ACTIVE = 1
    # a holder of `bidang` too (steps 3 and 6 fan out to it): without one every instance
    # stopped at step 3, and the presses ran out after two a running instance
    storage_bench.ROLES = (*ROLES, "bidang")
    storage_bench.build(data, 200_000, 10_000)
    Store(data).compact()  # (the working set's journal folded into the file)
    path = data / "sopbot.json"
    tables = json.loads(path.read_text())
    [(_key, template)] = tables["instances"].items()
    tid = template["id"]
    copies: dict[str, list[dict[str, Any]]] = {
        name: [d for d in tables.get(name, {}).values() if tid in json.dumps(d)]
        for name in ("dispositions", "outbox", "step_messages")}
    for n in range(1, running):
        new_id = f"c{n:07d}"  # 8 hex digits like the services' ids
        year = template["year"] + n
        tables["instances"][str(len(tables["instances"]) + 1)] = json.loads(
            json.dumps(template).replace(tid, new_id)) | {"year": year}
        for name, docs in copies.items():
            for doc in docs:
                clone = json.loads(json.dumps(doc).replace(tid, new_id))
                if name == "outbox":
                    clone["id"] = secrets.token_hex(8)
                    clone["payload"]["year"] = year
                tables[name][str(len(tables[name]) + 1)] = clone
    path.write_text(json.dumps(tables))
    print(f"  built: 10,000 instances stored, 200,000 dispositions, {running} running "
          f"({time.perf_counter() - t:.0f} s)")


async def first_poll(api: FakeBotApi, proc: subprocess.Popen[bytes], timeout: float) -> float:
    """The wall-clock time of the child's first getUpdates."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        polls = api.calls("getUpdates")
        if polls:
            return polls[0].time
        if proc.poll() is not None:
            raise RuntimeError(f"the bot exited with {proc.returncode}")
        await asyncio.sleep(0.01)
    raise TimeoutError("no getUpdates")


async def startup(data: Path, running: int) -> None:
    """`sopbot run`: start-up seconds and memory."""
    with FakeBotApi() as api:
        officials(api)  # the chats exist before the bot writes to them
        env = dict(os.environ, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_URL=api.api_root,
                   SOPBOT_DATA_DIR=str(data), SOPBOT_FLOWS_DIR=str(FLOWS_DIR),
                   SOPBOT_LOG_LEVEL="WARNING")
        began = time.time()
        proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            polled = await first_poll(api, proc, 120)
            at_poll = status_kb(proc.pid)
            await asyncio.sleep(5)  # the start-up sync and the outbox settle
            idle = status_kb(proc.pid)
        finally:
            stop(proc)
    print(f"  {running:>5} running: start-up (process start → first getUpdates) "
          f"{polled - began:.2f} s   (target ≤ 2 s); RSS at the first poll "
          f"{at_poll['VmRSS'] / 1024:.0f} MB, 5 s later {idle['VmRSS'] / 1024:.0f} MB, "
          f"peak {idle['VmHWM'] / 1024:.0f} MB   (target ≤ 100 MB); {load()}")


def officials(api: FakeBotApi) -> list[FakeUser]:
    return [api.user(i, f"Pejabat {i}", language_code="en") for i in range(1, OFFICIALS + 1)]


def decide_label(message: dict[str, Any]) -> str | None:
    """The label of a step message's advancing button (callback data s:…:d)."""
    rows = ((message.get("reply_markup") or {}).get("inline_keyboard")) or []
    for row in rows:
        for button in row:
            data = button.get("callback_data") or ""
            if data.startswith("s:") and data.endswith(":d"):
                return str(button["text"])
    return None


class Presser:
    """The officials press every step button they get, a few at once."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self.users = officials(api)
        self.seen = {u.id: 0 for u in self.users}
        self.pressed: set[tuple[int, int]] = set()
        self.count = 0

    def press_new(self, limit: int) -> int:
        done = 0
        for user in self.users:
            messages = user.messages()
            for message in messages[self.seen[user.id]:]:
                if self.count >= limit:  # the rest waits for the next checkpoint (it was
                    return done  # skipped for good before: the presses ran out at 114)
                self.seen[user.id] += 1
                key = (user.id, message["message_id"])
                label = decide_label(message)
                if label and key not in self.pressed:
                    self.pressed.add(key)
                    user.press_button(message, label)
                    self.count += 1
                    done += 1
        return done

    def last_messages(self) -> str:
        out = []
        for user in self.users:
            for message in user.messages()[-2:]:
                rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
                out.append(f"{user.id}: {message.get('text', '')[:100]!r} "
                           f"{[(b['text'], b.get('callback_data')) for r in rows for b in r]}")
        return "\n".join(out)

    async def until(self, presses: int, timeout: float) -> None:
        """Press until `presses` were made and the bot is idle (nothing new for 2 s)."""
        deadline = time.time() + timeout
        quiet_since = time.time()
        last_calls = 0
        while time.time() < deadline:
            self.press_new(presses)
            calls = sum(1 for c in self.api.calls() if c.method != "getUpdates")
            if calls != last_calls:
                last_calls, quiet_since = calls, time.time()
            elif self.count >= presses and time.time() - quiet_since > 2:
                return
            elif self.count < presses and time.time() - quiet_since > 600:
                raise RuntimeError(f"stuck after {self.count} presses (nothing left to press?); "
                                   f"the officials' last messages: {self.last_messages()}")
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.count} of {presses} presses in {timeout} s")


async def presses(data: Path, checkpoints: list[int], trace: bool) -> None:
    with FakeBotApi() as api, tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "memory.txt"
        script = Path(tmp) / "child.py"
        t0 = storage_bench.T0.replace(tzinfo=None)
        script.write_text(CHILD.format(root=str(ROOT), report=str(report), token=api.token,
                                       t0=f"datetime.fromisoformat({t0.isoformat()!r})"
                                          ".replace(tzinfo=timezone.utc)",
                                       api_url=api.api_root, data=str(data),
                                       flows=str(FLOWS_DIR)))
        env = dict(os.environ, BENCH_TRACEMALLOC="1" if trace else "",
                   SOPBOT_LOG_LEVEL="WARNING")
        presser = Presser(api)
        proc = subprocess.Popen([sys.executable, str(script)], env=env, cwd=ROOT)
        try:
            await first_poll(api, proc, 120)
            began = time.time()
            for n, target in enumerate(checkpoints):
                await presser.until(target, timeout=3600)
                proc.send_signal(signal.SIGUSR1)
                await asyncio.sleep(2 if trace else 0.5)
                rss = status_kb(proc.pid)
                print(f"  after {presser.count:>6} presses ({time.time() - began:.0f} s): RSS "
                      f"{rss['VmRSS'] / 1024:.0f} MB, peak {rss['VmHWM'] / 1024:.0f} MB"
                      + ("" if n else "   (the reference)") + f"; {load()}")
                if n == 0:
                    reference = rss["VmRSS"]
            growth = (rss["VmRSS"] - reference) / reference * 100
            print(f"  growth from {checkpoints[0]} to {presser.count} presses: "
                  f"{growth:+.1f}%   (target within 10%)")
        finally:
            stop(proc)
        if trace and report.exists():
            print("  what the memory is spent on (tracemalloc in the bot, the last checkpoint):")
            last = report.read_text().split("--\n")[-2]
            print("\n".join("    " + line for line in last.splitlines()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--running", type=int, default=1000,
                        help="running instances for the presses (each takes about 13)")
    args = parser.parse_args()
    print(f"$ python bench/bench_startup_memory.py --presses "
          f"{' '.join(map(str, args.presses))} --running {args.running}"
          f"{' --tracemalloc' if args.tracemalloc else ''}"
          f"{' --skip-startup' if args.skip_startup else ''}")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_startup:
            print("start-up and memory of `sopbot run`:")
            build(Path(tmp) / "stored", 100)
            asyncio.run(startup(Path(tmp) / "stored", 100))
        build(Path(tmp) / "running", args.running)
        shutil.copytree(Path(tmp) / "running", Path(tmp) / "pressed")  # as built
        if not args.skip_startup and args.running == 1000:
            asyncio.run(startup(Path(tmp) / "running", 1000))
        print(f"presses on the {args.running} running instances (the bot unpaced, a child "
              f"process):")
        asyncio.run(presses(Path(tmp) / "pressed", sorted(args.presses), args.tracemalloc))


if __name__ == "__main__":
    main()

"""Hostile soak: normal officials at work while a hostile client and faults hit the bot.

    python bench/hostile_soak.py [--disk-fault 5] [--api-outage 10] [--full] [--seed N]

The real bot (polling the fake Bot API, TinyDB in a temporary directory) also serves its
webhook port, which the hostile client attacks the whole time: hundreds of idle and
half-sent connections, oversized bodies, wrong secrets, deeply nested JSON. Meanwhile a
stranger who blocked the bot writes ten times, the disk fails for ``--disk-fault`` seconds
(every store write raises ENOSPC) and the Bot API answers 502 to everything for
``--api-outage`` seconds. ``--full`` uses the lengths of the issue: 15 s and 300 s.

Normal officials keep deciding the steps of PK flows (Kesbangpol) and asking ``/tugas``
(three officials of another unit). Printed at the end: updates lost (a press never
answered, a ``/tugas`` never replied to), decisions doubled (the same decision stored
twice), and the longest delay a normal official saw, overall and outside the fault windows.
Exit status 1 when an update was lost or a decision doubled. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bot.storage.store as store_module
from bot.demo.harness import Harness, live_bot, step_buttons
from bot.engine.loader import load_flows
from bot.tg.webhook import WebhookConfig, WebhookServer

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
UNIT = "kesbangpol-jateng"
SECRET = "soak_secret_0123456789"


@dataclass
class Figures:
    presses: dict[str, float] = field(default_factory=dict)  # query id -> pressed at
    pressed: dict[str, tuple[str, Any]] = field(default_factory=dict)  # query -> who, button
    answered: dict[str, float] = field(default_factory=dict)  # query id -> delay
    probes: list[tuple[float, float | None]] = field(default_factory=list)  # (sent, delay)
    faults: list[tuple[float, float]] = field(default_factory=list)  # fault windows
    health: list[float] = field(default_factory=list)  # /health latencies under attack
    attack: Counter[str] = field(default_factory=Counter)


# -- the hostile client (threads: it is another program on the network) ----------------------


def _hostile(port: int, stop: threading.Event, figures: Figures, idle_target: int) -> None:
    idle: list[socket.socket] = []
    rng = random.Random(1)
    while not stop.is_set():
        try:
            while len(idle) < idle_target:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2)
                if rng.random() < 0.5:
                    sock.sendall(b"POST /telegram HTTP/1.1\r\nHost: x\r\n")  # never finished
                idle.append(sock)
                figures.attack["idle connections opened"] += 1
            _one_attack(port, rng.choice(["big", "secret", "nested"]), figures)
            start = time.monotonic()
            _request(port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            figures.health.append(time.monotonic() - start)
        except OSError:
            figures.attack["attack requests that failed (closed by the server)"] += 1
        for sock in [s for s in idle if rng.random() < 0.1]:
            sock.close()
            idle.remove(sock)
        stop.wait(0.05)
    for sock in idle:
        sock.close()


def _request(port: int, raw: bytes, body: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        if body:
            with contextlib.suppress(OSError):  # refused before the body was read: good
                sock.sendall(body)
        return sock.recv(200)


def _one_attack(port: int, kind: str, figures: Figures) -> None:
    if kind == "big":
        head = (b"POST /telegram HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: "
                + SECRET.encode() + b"\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n")
        answer = _request(port, head)
    elif kind == "secret":
        body = b"x" * 1_000_000
        head = (b"POST /telegram HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: no"
                b"\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n")
        answer = _request(port, head, body)
    else:
        body = b"[" * 100_000
        head = (b"POST /telegram HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: "
                + SECRET.encode() + b"\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n")
        answer = _request(port, head, body)
    figures.attack[f"{kind}: {answer[:12].decode('latin-1', 'replace').strip()}"] += 1


# -- normal officials ----------------------------------------------------------------------


async def _decider(h: Harness, officials: list[Any], stop: asyncio.Event,
                   figures: Figures) -> None:
    """Press the first button of every step message an official gets; start the next year."""
    by_chat = {u.id: u for u in officials}
    pressed: set[tuple[int, int]] = set()
    year = 2025
    while not stop.is_set():
        for chat, message, _button in h.open_steps(list(by_chat)):
            key = (chat, message["message_id"])
            if key in pressed:
                continue
            pressed.add(key)
            button = step_buttons(message)[0]
            qid = by_chat[chat].press(message, button.encode())
            figures.presses[qid] = time.monotonic()
            figures.pressed[qid] = (str(chat), button)
        for qid, at in figures.presses.items():
            if qid not in figures.answered and h.api.callback_answer(qid):
                figures.answered[qid] = time.monotonic() - at
        if not h.open_steps(list(by_chat)) and all(q in figures.answered
                                                   for q in figures.presses):
            repo = await asyncio.to_thread(h.store.read)
            if all(i.status.value != "active" for i in repo.instances(unit=UNIT)) and \
                    year < 2040:
                officials[0].send_text(f"mulai PK {year}")
                year += 1
        await asyncio.sleep(0.1)


async def _prober(h: Harness, user: Any, stop: asyncio.Event, figures: Figures) -> None:
    """Ask /tugas, wait for the reply (however long), ask again."""
    while not stop.is_set():
        seen = {m["message_id"] for m in h.api.messages(user.id)}
        sent = time.monotonic()
        user.send_text("/tugas")
        index = len(figures.probes)
        figures.probes.append((sent, None))

        def reply(seen: set[int] = seen) -> dict | None:
            return next((m for m in h.api.messages(user.id) if m["message_id"] not in seen
                         and not (m.get("text") or "").startswith("⏳")), None)

        try:
            await h.api.await_for(reply, timeout=600, what="a reply to /tugas")
        except AssertionError:
            continue
        figures.probes[index] = (sent, time.monotonic() - sent)
        await asyncio.sleep(random.uniform(0.3, 1.0))


# -- faults --------------------------------------------------------------------------------


async def _disk_fault(seconds: float, figures: Figures) -> None:
    real = store_module.atomic_write

    def full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    store_module.atomic_write = full  # type: ignore[assignment]
    start = time.monotonic()
    try:
        await asyncio.sleep(seconds)
    finally:
        store_module.atomic_write = real
    figures.faults.append((start, time.monotonic()))


async def _api_outage(h: Harness, seconds: float, figures: Figures) -> None:
    start = time.monotonic()
    h.api.fail_next("*", status=502, count=10**7)
    h.api.fail_next("getUpdates", status=502, count=10**7)
    try:
        await asyncio.sleep(seconds)
    finally:
        h.api.clear_faults()
    figures.faults.append((start, time.monotonic()))


async def _blocked_stranger(h: Harness) -> None:
    stranger = h.api.user(5999, "Tamu", language_code="en")
    for n in range(10):
        stranger.send_text(f"halo {n}")
        stranger.block_bot()
        await asyncio.sleep(0.05)


# -- the run -------------------------------------------------------------------------------


async def soak(data_dir: Path, *, disk_fault: float, api_outage: float, calm: float,
               idle_target: int) -> Figures:
    figures = Figures()
    async with live_bot(load_flows(FLOWS), data_dir, flows_dir=FLOWS, http_timeout=3.0,
                        reminder_sync_interval=300.0) as h:
        h.app.bot_data["poller"].retry_base = 0.5
        server = WebhookServer(h.app, WebhookConfig("https://soak.example", SECRET,
                                                    "127.0.0.1", 0, max_connections=100),
                               read_timeout=5.0)
        await server.start()
        server.ready = True
        people = [await h.join(n, UNIT, r) for n, r in (
            ("Haerudin", "kepala"), ("Sekar", "sekretaris"), ("Sri", "kasubbag_program"),
            ("Putu", "pelaksana"), ("Pandu", "pelaksana"), ("Bima", "bidang"))]
        probes = [await h.join(f"Staf {n}", "kec-sooko", "staf") for n in range(3)]
        stop = asyncio.Event()
        hostile_stop = threading.Event()
        workers = [asyncio.create_task(_decider(h, people, stop, figures))]
        workers += [asyncio.create_task(_prober(h, p, stop, figures)) for p in probes]
        hostile = threading.Thread(target=_hostile, daemon=True,
                                   args=(server.port, hostile_stop, figures, idle_target))
        await asyncio.sleep(calm)
        hostile.start()
        await asyncio.sleep(calm)
        await _blocked_stranger(h)
        await asyncio.sleep(calm)
        await _disk_fault(disk_fault, figures)
        await asyncio.sleep(calm)
        await _api_outage(h, api_outage, figures)
        await asyncio.sleep(calm * 2)
        hostile_stop.set()
        stop.set()
        await asyncio.to_thread(hostile.join, 30)
        await asyncio.wait(workers, timeout=120)
        deadline = time.monotonic() + 120  # everything owed is answered once faults clear
        while time.monotonic() < deadline and (
                any(q not in figures.answered for q in figures.presses)):
            for qid, at in figures.presses.items():
                if qid not in figures.answered and h.api.callback_answer(qid):
                    figures.answered[qid] = time.monotonic() - at
            await asyncio.sleep(0.2)
        figures.attack["connections evicted"] = server.evicted
        figures.attack["slow connections timed out"] = server.timed_out
        figures.attack["connections refused (all busy)"] = server.refused
        await server.stop()
        repo = await asyncio.to_thread(h.store.read)
        figures.attack["doubled"] = _doubled(repo)
        stored = {(d.instance_id, d.step_no, d.round, d.member)
                  for i in repo.instances(unit=UNIT) for d in repo.dispositions(i.id)}
        for qid, (member, button) in figures.pressed.items():
            if qid in figures.answered:
                continue
            key = (button.instance_id, button.step_no, button.round, member)
            figures.attack["unanswered presses whose decision is stored" if key in stored
                           else "unanswered presses not stored"] += 1
        figures.attack["instances"] = len(repo.instances(unit=UNIT))
        figures.attack["given up (recorded)"] = len(repo.failed_updates())
        for failed in repo.failed_updates():
            print("given up:", failed["update_id"], failed["reason"][:100])
    return figures


def _doubled(repo: Any) -> int:
    doubled = 0
    for inst in repo.instances(unit=UNIT):
        keys = Counter((d.step_no, d.round, d.member, d.action.value)
                       for d in repo.dispositions(inst.id) if d.action.value != "start")
        doubled += sum(n - 1 for n in keys.values() if n > 1)
    return doubled


def _in_fault(at: float, figures: Figures, slack: float = 5.0) -> bool:
    return any(start - 1.0 <= at <= end + slack for start, end in figures.faults)


def report(figures: Figures, args: argparse.Namespace) -> int:
    lost_presses = figures.attack["unanswered presses not stored"]
    lost_probes = sum(delay is None for _sent, delay in figures.probes)
    delays = [d for _s, d in figures.probes if d is not None] + list(figures.answered.values())
    calm = [d for s, d in figures.probes if d is not None and not _in_fault(s, figures)]
    calm += [figures.answered[q] for q, at in figures.presses.items()
             if q in figures.answered and not _in_fault(at, figures)]
    print(f"disk fault {args.disk_fault:.0f}s, API outage {args.api_outage:.0f}s, "
          f"idle connections held {args.idle}")
    print(f"decisions pressed        {len(figures.presses)} "
          f"(PK instances {figures.attack['instances']})")
    print(f"/tugas asked             {len(figures.probes)}")
    print(f"updates lost             {lost_presses + lost_probes} "
          f"(decisions neither stored nor answered {lost_presses}, /tugas never replied "
          f"{lost_probes})")
    print(f"decisions doubled        {figures.attack['doubled']}")
    print(f"longest delay            {max(delays, default=0):.1f}s (a fault window included)")
    print(f"longest delay, no fault  {max(calm, default=0):.1f}s")
    print(f"/health under attack     max {max(figures.health, default=0):.2f}s over "
          f"{len(figures.health)} checks")
    for key, value in sorted(figures.attack.items()):
        if key not in ("doubled", "instances"):
            print(f"  {key}: {value}")
    return 1 if lost_presses or lost_probes or figures.attack["doubled"] else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disk-fault", type=float, default=5.0)
    parser.add_argument("--api-outage", type=float, default=10.0)
    parser.add_argument("--calm", type=float, default=5.0, help="seconds between phases")
    parser.add_argument("--idle", type=int, default=300, help="idle connections to hold")
    parser.add_argument("--full", action="store_true", help="15 s disk fault, 5 min outage")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.full:
        args.disk_fault, args.api_outage = 15.0, 300.0
    random.seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(soak(Path(tmp) / "data", disk_fault=args.disk_fault,
                                   api_outage=args.api_outage, calm=args.calm,
                                   idle_target=args.idle))
    return report(figures, args)


if __name__ == "__main__":
    raise SystemExit(main())

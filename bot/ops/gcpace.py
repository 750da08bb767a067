"""CPython's cyclic garbage collector, paced so that it never stops the event loop for long.

A full (generation 2) collection walks every object the collector tracks, and the running
bot keeps many alive: its modules, the flows, the parsed working set, the reminder plan (57,000
planned points with 1,000 instances running). Such a pass holds the GIL from start to end:
with 1,000 instances running it stopped the event loop for 190–430 ms every ten seconds or
so, and in a burst of 200 presses for 136–282 ms (issue 15, measured with ``gc.callbacks``).

What lives long is *frozen* (:func:`gc.freeze`: moved to a generation the collector never
walks), so that the collector's passes walk only what was made since:

- :func:`freeze` once the bot has started — no pass, no pause;
- :func:`settle` after the first reminder plan, after any re-plan of many sources (an
  official joined: every instance is planned anew, 57,000 new objects with 1,000 running),
  and every few minutes: a pass over the young generations (a few milliseconds; after a
  plan, over the youngest only, the plan's own objects being in the next), then freeze what
  survived. The collector's own passes in between walk only what was made since;
- :func:`renew` once a day at a quiet hour: everything unfrozen and collected in one full
  pass (the pause of old, at night), then frozen again. An object frozen while alive but
  caught in a reference cycle when it dies later is only reclaimed there (an object without
  cycles is freed by its reference count whenever it dies, frozen or not).

Pure CPython calls; the bot's wiring runs them (:mod:`bot.tg.gc_jobs`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

__all__ = ["collector_paused", "fix_mmap_threshold", "fix_trim_threshold", "freeze",
           "limit_malloc_arenas", "release_free_memory", "renew", "settle", "unfreeze_all"]


#: whether the collector is paced (:func:`freeze` called, :func:`unfreeze_all` not since)
_pacing = False


def freeze() -> None:
    """Move every object the collector tracks out of its passes (no pass, no pause)."""
    global _pacing
    _pacing = True
    gc.freeze()


def settle(generation: int = 1) -> float:
    """Collect the young generations (up to `generation`), then freeze what survived, and
    give the C allocator's free pages back to the system; returns the seconds it took (the
    pass walks only the young objects, never the old or frozen ones).

    Right after a big plan, pass 0: the plan's objects (57,000 with 1,000 instances
    running) were moved to generation 1 by the passes made while it was built, and a pass
    over generation 1 walked them all: 41 ms with the event loop stopped (issue 15, the
    start-up of ``bench_latency.py --running 1000``). Frozen unwalked, a cycle among them
    that is already dead waits for the nightly :func:`renew`."""
    started = time.perf_counter()
    found = gc.collect(generation)
    gc.freeze()
    release_free_memory()
    took = time.perf_counter() - started
    log.debug("gc settle: %d unreachable, %d frozen, %.1f ms", found, gc.get_freeze_count(),
              took * 1000)
    return took


def renew() -> float:
    """One full pass over everything (frozen objects included), then freeze again; returns
    the seconds it took. Reclaims frozen objects that died in reference cycles."""
    started = time.perf_counter()
    gc.unfreeze()
    found = gc.collect()
    gc.freeze()
    release_free_memory()
    took = time.perf_counter() - started
    log.info("garbage collector: the daily full pass took %.0f ms (%d unreachable objects "
             "freed, %d kept frozen)", took * 1000, found, gc.get_freeze_count())
    return took


_pause_lock = threading.Lock()
_pauses = 0  #: collector_paused blocks under way, in every thread
_enabled_before = True  #: whether the collector ran before the first of them


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No collection while the block runs: for a big graph of objects built at once in one
    C call (a data file parsed by :func:`json.loads`).

    Each dict the parser makes counts towards the collector's thresholds, so a parse of
    a few MB triggers passes from inside the call, and a pass over the older generation
    walks every unfrozen object, the new graph included: with 10,000 finished instances
    in 25 archives, the first ``mulai`` after a start (which reads each archive's instance
    ids once) stopped the event loop for 259 ms, the parse holding the GIL throughout
    (issue 15, ``bench_latency.py --history``). What the block builds and keeps is
    frozen or collected at the next :func:`settle`; what it drops is freed by its
    reference counts. Blocks may overlap across threads: the collector runs again when
    the last one ends (as it was before the first).

    Deferred, the passes would still come, once the block ends, over everything it made:
    a parsed archive is about 100,000 objects, and the first passes after it took 14–40 ms
    each. So while the collector is paced (:func:`freeze`), what was made meanwhile is
    frozen when the last block ends, as :func:`settle` does: a parse leaves no cycles,
    and what it drops is freed by its reference counts, frozen or not."""
    global _pauses, _enabled_before
    with _pause_lock:
        if not _pauses:
            _enabled_before = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if not _pauses:
                if _pacing:
                    gc.freeze()
                if _enabled_before:
                    gc.enable()


def _glibc(name: str) -> Callable[..., int] | None:
    """The C library's function `name` (None where it has none: musl, macOS)."""
    try:
        function: Callable[..., int] = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    return function


_TRIM = _glibc("malloc_trim")
_MALLOPT = _glibc("mallopt")


def release_free_memory() -> bool:
    """Return the free pages of the C heap to the system (glibc's ``malloc_trim``); whether
    the platform has it.

    Memory freed in the middle of glibc's heap stays in the process: the working set's
    rewrite (megabytes of JSON), the journal's lines and a re-plan's transient objects are
    freed between objects that live on, and once a large block was freed glibc serves the
    next ones from the heap rather than mapping them apart. Over 4,000 presses with 1,000
    instances running about 5 MB of free heap pages stayed resident (issue 15). The call
    takes well under a millisecond."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


#: glibc's mallopt parameter for the number of malloc arenas (malloc.h: M_ARENA_MAX).
_M_ARENA_MAX = -8
#: The C heap's arenas the bot's threads share (glibc's default: up to 8 per core).
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Let the process's threads share `arenas` glibc malloc arenas; whether it was set.

    Each thread that allocates gets an arena of its own by default: the worker threads that
    run transactions and re-plans allocate their large blocks in arenas apart, each one
    fragmenting on its own. Side by side over 10,000 presses with 1,000 instances running
    (``bench_startup_memory.py``): resident memory grew 71% with the default, 43% with two
    arenas. An administrator's ``MALLOC_ARENA_MAX`` is left as it is. Call it before the
    threads start allocating (arenas made before it stay)."""
    if "MALLOC_ARENA_MAX" in os.environ or _MALLOPT is None:
        return False
    return bool(_MALLOPT(_M_ARENA_MAX, arenas))


#: glibc's mallopt parameter for the size from which a block is mapped apart (M_MMAP_THRESHOLD).
_M_MMAP_THRESHOLD = -3
#: Blocks of this size and more are mapped apart and handed back when freed (glibc's
#: default start; fixed, it no longer rises).
MMAP_THRESHOLD = 128 * 1024


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Keep glibc's mmap threshold at `threshold` bytes; whether it was set.

    By default the threshold rises to the size of each mapped block freed (up to 32 MiB):
    after the first whole-file encode or table resize of a few MB, blocks of that size come
    from the heap, where they stay as holes among long-lived blocks when freed. Fixed, a
    big transient block is mapped apart and handed back whole (unless a free chunk in the
    heap is big enough: glibc looks there first). Over 10,000 presses with
    1,000 instances running (``bench_startup_memory.py``, one run each): 105 → 132 MB
    (+26.6%) with the rising threshold, 100 → 118 MB (+17.6%) fixed at 128 KiB. Called
    once the start-up's first plan is done (:class:`bot.tg.gc_jobs.GcPacer`): fixed from
    the process start, each of the start-up's many big transient blocks was mapped and
    faulted in afresh (1,000 running: 2.3 s to the first poll instead of 1.8–1.9 s). An
    administrator's ``MALLOC_MMAP_THRESHOLD_`` is left as it is."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or _MALLOPT is None:
        return False
    return bool(_MALLOPT(_M_MMAP_THRESHOLD, threshold))


#: glibc's mallopt parameter for the free space at the top of a heap from which it is handed
#: back when a block is freed (M_TRIM_THRESHOLD).
_M_TRIM_THRESHOLD = -1
#: glibc's default start (fixed, it no longer rises with the mmap threshold).
TRIM_THRESHOLD = 128 * 1024


def fix_trim_threshold(threshold: int = TRIM_THRESHOLD) -> bool:
    """Keep glibc's trim threshold at `threshold` bytes; whether it was set.

    The free space at the top of a worker thread's arena is handed back only when a big
    block freed there leaves more than the threshold, and ``malloc_trim``
    (:func:`release_free_memory`) hands back the main heap's top and the free chunks inside
    every arena, never another arena's top. By default the threshold rises to twice the
    mmap threshold, which rises with each big block freed: at start-up, after the working
    set's file was read (a few MB), the blocks a worker thread then encoded (the first
    reminder sync's marks written: a journal line and the whole file, about 10 MB with
    1,000 instances running) stayed resident at the top of its arena, 2 or 14 MB as the
    threads happened to share the arenas: the ±5 MB of the start-up's memory from run to
    run (issue 15, malloc_info). Setting it keeps the mmap threshold where it is (glibc
    stops moving either); :func:`fix_mmap_threshold` lowers that one once the start-up's
    big blocks are behind it. An administrator's ``MALLOC_TRIM_THRESHOLD_`` is left as it
    is."""
    if "MALLOC_TRIM_THRESHOLD_" in os.environ or _MALLOPT is None:
        return False
    return bool(_MALLOPT(_M_TRIM_THRESHOLD, threshold))


def unfreeze_all() -> None:
    """Give every frozen object back to the collector (the bot stops: an embedding process
    or a test run keeps collecting as before)."""
    global _pacing
    _pacing = False
    gc.unfreeze()

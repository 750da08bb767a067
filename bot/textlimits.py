"""Telegram's length limits, counted as Telegram counts them: in UTF-16 code units.

A message may hold 4,096 units, a caption 1,024, a callback answer (the button toast) 200.
An emoji outside the Basic Multilingual Plane is one Python character but two units, so
``len()`` undercounts: 1,900 emoji (3,800 units) plus a header already overflow.
Parts are cut between grapheme clusters (the `regex` module's ``\\X``, Unicode UAX #29), so a
family emoji, a flag or a skin-toned thumb is never torn apart.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

import regex

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
ELLIPSIS = "…"

_GRAPHEME = regex.compile(r"\X")
# Where a part may end, best first: after a blank line, after a line break, after a space.
_BREAKS = ("\n\n", "\n", " ")


def utf16_len(text: str) -> int:
    """The length of `text` as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def fits(text: str, limit: int = MESSAGE_LIMIT) -> bool:
    return utf16_len(text) <= limit


def _graphemes(text: str) -> list[str]:
    return _GRAPHEME.findall(text)


def _cut(clusters: list[str], start: int, end: int, ends: list[int], limit: int) -> int:
    """Where the part from cluster `start` (at most up to `end`) should end: after a paragraph,
    a line, or a word when one ends in the second half of the part, else the last such break,
    else at `end` itself (between two clusters)."""
    half = ends[start] + limit // 2 if start < len(ends) else 0
    window = range(end, start, -1)  # candidate cut points, latest first
    for brk in _BREAKS:
        for cut in window:
            before = "".join(clusters[max(start, cut - len(brk)):cut])
            if before.endswith(brk) and (ends[cut - 1] >= half):
                return cut
    for cut in window:
        if clusters[cut - 1].isspace() and cut - 1 > start:
            # A "word" longer than a whole part (4,000 emoji) is cut anyway: do it here rather
            # than send a part that is only the text before it.
            after = next((i for i in range(end, len(clusters)) if clusters[i].isspace()),
                         len(clusters))
            return end if ends[after - 1] - ends[cut - 1] > limit else cut
    return end


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split `text` into parts of at most `limit` UTF-16 units, at a paragraph, line or word
    boundary where possible, never inside a grapheme cluster.

    Nothing is lost: the parts joined are the text (each break stays at the end of the part it
    ends; Telegram trims it on display). A part made only of white space, which Telegram would
    refuse as empty, is left out.
    """
    if utf16_len(text) <= limit:
        return [text]
    clusters = _graphemes(text)
    # ends[i]: units from the start of the text to the end of cluster i
    ends = list(accumulate(utf16_len(c) for c in clusters))
    parts: list[str] = []
    start, offset = 0, 0
    while start < len(clusters):
        end = bisect_right(ends, offset + limit)  # clusters[start:end] fit
        if end == start:  # one cluster longer than a message (pathological): cut it by units
            parts.extend(_split_cluster(clusters[start], limit))
            start, offset = start + 1, ends[start]
            continue
        cut = len(clusters) if end == len(clusters) else _cut(clusters, start, end, ends, limit)
        parts.append("".join(clusters[start:cut]))
        start, offset = cut, ends[cut - 1]
    return [p for p in parts if not p.isspace()] or [text[:1]]


def _split_cluster(cluster: str, limit: int) -> list[str]:
    parts, current = [], ""
    for char in cluster:
        if utf16_len(current + char) > limit:
            parts.append(current)
            current = ""
        current += char
    return [*parts, current]


def shorten(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` itself when it fits in `limit` UTF-16 units, else its beginning cut at a word
    boundary (never inside a word, unless a single word is longer than the whole limit) and
    ended with `ellipsis`. For captions (1,024) and callback answers (200)."""
    if utf16_len(text) <= limit:
        return text
    budget = limit - utf16_len(ellipsis)
    if budget <= 0:
        return ellipsis[: max(limit, 0)]
    clusters = _graphemes(text)
    ends = list(accumulate(utf16_len(c) for c in clusters))
    end = bisect_right(ends, budget)
    cut = end
    while cut > 0 and not clusters[cut].isspace() and not clusters[cut - 1].isspace():
        cut -= 1  # back to the start of the word that does not fit
    if cut == 0:
        cut = end  # one word longer than the limit: cut between clusters
    head = "".join(clusters[:cut]).rstrip()
    head = head.rstrip(",;:–—-").rstrip()
    return head + ellipsis

"""Text formatting like the Bot API: parse_mode parsing, entity auto-detection, trimming.

Telegram turns ``text`` + ``parse_mode`` into plain text plus ``entities`` (offsets and
lengths in UTF-16 code units) and rejects malformed markup with
``400 Bad Request: can't parse entities: ...``.  This module reproduces the common cases so
that a bot that sends broken HTML/MarkdownV2 (e.g. unescaped user input) fails in tests the
way it would fail in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ._errors import ApiError, bad_request

__all__ = [
    "auto_entities",
    "format_text",
    "u16len",
]

# Entity types that auto-detected entities (urls, commands, ...) must not overlap.
_OPAQUE_TYPES = frozenset({"code", "pre", "text_link", "url", "custom_emoji", "text_mention"})


def u16len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (the unit of Telegram entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _parse_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


@dataclass
class _Builder:
    """Accumulates plain text and keeps track of its UTF-16 length."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.length += u16len(chunk)

    def entity(self, type_: str, start: int, **extra: Any) -> None:
        if self.length > start:
            entity = {"type": type_, "offset": start, "length": self.length - start}
            entity.update({k: v for k, v in extra.items() if v is not None})
            self.entities.append(entity)

    def text(self) -> str:
        return "".join(self.parts)


# --------------------------------------------------------------------------- HTML

_HTML_TAGS: dict[str, str | None] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTR_SRC = r"""[^\s=>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']*))?"""
_START_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)((?:\s+" + _ATTR_SRC + r")*)\s*/?>")
_END_TAG = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)\s*>")
_ATTR = re.compile(r"([^\s=>]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']*))?")
_HTML_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_unescape(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _NAMED:
            return _NAMED[name]
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        return chr(code) if 0 < code <= 0x10FFFF else match.group(0)

    return _HTML_ENTITY.sub(repl, text)


@dataclass
class _OpenTag:
    name: str
    type: str | None
    start: int
    extra: dict[str, Any]


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    stack: list[_OpenTag] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "&":
            match = _HTML_ENTITY.match(text, i)
            if match:
                out.add(_html_unescape(match.group(0)))
                i = match.end()
            else:
                out.add(c)
                i += 1
            continue
        if c != "<":
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            out.add(text[i:j])
            i = j
            continue
        offset = _byte_offset(text, i)
        if text.startswith("</", i):
            end = _END_TAG.match(text, i)
            if end is None or not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {offset}")
            name = end.group(1).lower()
            top = stack[-1]
            if name != top.name:
                raise _parse_error(
                    f'Unmatched end tag at byte offset {offset}, expected "</{top.name}>", '
                    f'found "</{name}>"'
                )
            stack.pop()
            if top.type is not None:
                out.entity(top.type, top.start, **top.extra)
            i = end.end()
            continue
        start = _START_TAG.match(text, i)
        if start is None:
            guess = re.match(r"<([^\s>]*)", text[i:])
            name = guess.group(1) if guess else ""
            raise _parse_error(f'Unsupported start tag "{name}" at byte offset {offset}')
        name = start.group(1).lower()
        if name not in _HTML_TAGS:
            raise _parse_error(f'Unsupported start tag "{name}" at byte offset {offset}')
        attrs = {
            m.group(1).lower(): _html_unescape((m.group(2) or "").strip("\"'"))
            for m in _ATTR.finditer(start.group(2))
        }
        type_ = _HTML_TAGS[name]
        extra: dict[str, Any] = {}
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _parse_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "a":
            href = attrs.get("href")
            if href and href.startswith("tg://user?id="):
                type_ = "text_mention"
                extra["user"] = {
                    "id": int(href.split("=", 1)[1] or 0),
                    "is_bot": False,
                    "first_name": "",
                }
            elif href:
                extra["url"] = href
            else:
                type_ = None
        elif name == "tg-emoji":
            extra["custom_emoji_id"] = attrs.get("emoji-id", "")
        elif name == "blockquote" and "expandable" in attrs:
            type_ = "expandable_blockquote"
        elif name == "code" and stack and stack[-1].name == "pre":
            language = attrs.get("class", "")
            if language.startswith("language-"):
                stack[-1].extra["language"] = language[len("language-") :]
            type_ = None
        stack.append(_OpenTag(name, type_, out.length, extra))
        i = start.end()
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.text(), out.entities


# --------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def _read_link_target(text: str, i: int) -> tuple[str | None, int]:
    """Read ``(url)`` starting at ``text[i] == '('``; returns (url, index after ')')."""
    if i >= len(text) or text[i] != "(":
        return None, i
    j = i + 1
    chars: list[str] = []
    while j < len(text) and text[j] != ")":
        if text[j] == "\\" and j + 1 < len(text) and 0 < ord(text[j + 1]) <= 126:
            j += 1
        chars.append(text[j])
        j += 1
    if j >= len(text):
        return None, i
    return "".join(chars), j + 1


def _parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    stack: list[tuple[str, int, int, dict[str, Any]]] = []  # type, start, byte offset, extra
    quote_start: int | None = None
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        if at_line_start and quote_start is not None and c != ">":
            end = out.length - 1 if out.parts and out.parts[-1].endswith("\n") else out.length
            if end > quote_start:
                out.entities.append(
                    {"type": "blockquote", "offset": quote_start, "length": end - quote_start}
                )
            quote_start = None
        top = stack[-1][0] if stack else None
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        if c not in _MDV2_RESERVED:
            out.add(c)
            i += 1
            continue
        if top in ("code", "pre") and c != "`":
            out.add(c)
            i += 1
            continue
        closes = {
            "bold": c == "*",
            "italic": c == "_" and not text.startswith("__", i),
            "underline": text.startswith("__", i),
            "strikethrough": c == "~",
            "spoiler": text.startswith("||", i),
            "code": c == "`",
            "pre": text.startswith("```", i),
            "text_link": c == "]",
            "custom_emoji": c == "]",
            None: False,
        }[top]
        if closes:
            type_, start, _offset, extra = stack.pop()
            if type_ in ("text_link", "custom_emoji"):
                url, after = _read_link_target(text, i + 1)
                if type_ == "custom_emoji":
                    if url is None or "id=" not in url:
                        raise _parse_error("Custom emoji entity must contain a tg://emoji URL")
                    extra["custom_emoji_id"] = url.split("id=", 1)[1]
                else:
                    extra["url"] = url if url is not None else "".join(out.parts)[start:]
                out.entity(type_, start, **extra)
                i = after if url is not None else i + 1
                continue
            out.entity(type_, start, **extra)
            i += {"underline": 2, "spoiler": 2, "pre": 3}.get(type_, 1)
            continue
        offset = _byte_offset(text, i)
        if c == ">" and at_line_start:
            if quote_start is None:
                quote_start = out.length
            i += 1
            continue
        if c == "_":
            if text.startswith("__", i):
                stack.append(("underline", out.length, offset, {}))
                i += 2
            else:
                stack.append(("italic", out.length, offset, {}))
                i += 1
        elif c == "*":
            stack.append(("bold", out.length, offset, {}))
            i += 1
        elif c == "~":
            stack.append(("strikethrough", out.length, offset, {}))
            i += 1
        elif c == "|" and text.startswith("||", i):
            stack.append(("spoiler", out.length, offset, {}))
            i += 2
        elif c == "[":
            stack.append(("text_link", out.length, offset, {}))
            i += 1
        elif c == "!" and text.startswith("![", i):
            stack.append(("custom_emoji", out.length, offset, {}))
            i += 2
        elif c == "`" and text.startswith("```", i):
            i += 3
            language_end = i
            while language_end < n and text[language_end] not in "\n`":
                language_end += 1
            extra: dict[str, Any] = {}
            if language_end < n and text[language_end] == "\n":
                if language_end > i:
                    extra["language"] = text[i:language_end]
                i = language_end + 1
            stack.append(("pre", out.length, offset, extra))
        elif c == "`":
            stack.append(("code", out.length, offset, {}))
            i += 1
        else:
            raise _parse_error(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
    if stack:
        type_, _start, offset, _extra = stack[-1]
        raise _parse_error(f"Can't find end of {_MDV2_NAMES[type_]} entity at byte offset {offset}")
    if quote_start is not None and out.length > quote_start:
        out.entities.append(
            {"type": "blockquote", "offset": quote_start, "length": out.length - quote_start}
        )
    return out.text(), out.entities


# ---------------------------------------------------------------- legacy Markdown

_MD_TYPES = {"_": "italic", "*": "bold", "`": "code", "[": "text_link"}
_MD_END = {"_": "_", "*": "*", "`": "`", "[": "]"}


def _parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if c not in _MD_TYPES:
            out.add(c)
            i += 1
            continue
        offset = _byte_offset(text, i)
        start = out.length
        if text.startswith("```", i):
            close = text.find("```", i + 3)
            if close < 0:
                raise _parse_error(f"Can't find end of the entity starting at byte offset {offset}")
            body = text[i + 3 : close]
            language = None
            first, sep, rest = body.partition("\n")
            if sep and first and " " not in first:
                language, body = first, rest
            out.add(body)
            out.entity("pre", start, language=language)
            i = close + 3
            continue
        close = text.find(_MD_END[c], i + 1)
        if close < 0:
            raise _parse_error(f"Can't find end of the entity starting at byte offset {offset}")
        out.add(text[i + 1 : close])
        i = close + 1
        if c == "[":
            url, after = _read_link_target(text, i)
            if url is None:
                out.entity("url", start)
            else:
                out.entity("text_link", start, url=url)
                i = after
        else:
            out.entity(_MD_TYPES[c], start)
    return out.text(), out.entities


# ------------------------------------------------------------------ public helpers

_AUTO_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]']")),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b")),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}\b")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)


def auto_entities(text: str, existing: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Entities Telegram detects by itself (urls, emails, /commands, @mentions, #hashtags).

    Returns ``existing`` plus the detected entities that do not overlap an opaque entity
    (code, pre, links), sorted like Telegram sorts them.
    """
    result = list(existing or [])
    taken: list[tuple[int, int]] = [
        (e["offset"], e["offset"] + e["length"]) for e in result if e["type"] in _OPAQUE_TYPES
    ]
    for type_, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            offset = u16len(text[: match.start()])
            length = u16len(match.group(0))
            if any(offset < end and start < offset + length for start, end in taken):
                continue
            taken.append((offset, offset + length))
            result.append({"type": type_, "offset": offset, "length": length})
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return result


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace like Telegram and clip the entities accordingly."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = u16len(text[: len(text) - len(text.lstrip())])
    total = u16len(stripped)
    clipped: list[dict[str, Any]] = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            clipped.append({**entity, "offset": start, "length": end - start})
    return stripped, clipped


def _check_entities(text: str, entities: Any) -> list[dict[str, Any]]:
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    total = u16len(text)
    checked: list[dict[str, Any]] = []
    for entity in entities:
        if (
            not isinstance(entity, dict)
            or not isinstance(entity.get("type"), str)
            or not isinstance(entity.get("offset"), int)
            or not isinstance(entity.get("length"), int)
        ):
            raise bad_request('can\'t parse MessageEntity: field "type" must be of type String')
        if entity["offset"] < 0 or entity["length"] <= 0 or entity["offset"] > total:
            continue
        checked.append(dict(entity))
    return checked


def format_text(
    text: str, parse_mode: str | None, entities: Any = None
) -> tuple[str, list[dict[str, Any]]]:
    """Turn a bot's ``text``/``caption`` into what Telegram stores: plain text and entities.

    ``entities`` (explicit entities) win over ``parse_mode`` like in the Bot API.  Raises
    :class:`ApiError` (400) for malformed markup or an unknown parse mode.
    """
    if entities is not None:
        plain, parsed = text, _check_entities(text, entities)
    elif not parse_mode:
        plain, parsed = text, []
    else:
        mode = parse_mode.lower()
        if mode == "html":
            plain, parsed = _parse_html(text)
        elif mode == "markdownv2":
            plain, parsed = _parse_markdown_v2(text)
        elif mode == "markdown":
            plain, parsed = _parse_markdown(text)
        else:
            raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    plain, parsed = _strip(plain, parsed)
    return plain, auto_entities(plain, parsed)

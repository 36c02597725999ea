"""Telegram's HTML parse mode: the allowed tag set, balanced tags, its few named entities.

``parse_html`` returns the visible text and the message entities (offsets in UTF-16 code units,
as Telegram counts them) or raises ``HtmlError`` with a message close to Telegram's own.
One deliberate difference: an unknown named entity such as ``&nbsp;`` is refused here, while
Telegram shows it literally; it is nearly always a bug in the bot's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

JsonDict = dict[str, object]

TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_ENTITY = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z][a-zA-Z0-9]*);")
_TAG_NAME = re.compile(r"</?([^\s>/]*)")
_ATTR = re.compile(r"""\s*([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")


class HtmlError(ValueError):
    pass


@dataclass
class _Open:
    tag: str
    offset: int
    attrs: dict[str, str]
    language: str | None = None


@dataclass
class _Parser:
    source: str
    pos: int = 0
    out: list[str] = field(default_factory=list)
    length: int = 0  # UTF-16 code units emitted so far
    stack: list[_Open] = field(default_factory=list)
    entities: list[JsonDict] = field(default_factory=list)

    def byte_offset(self, index: int | None = None) -> int:
        return len(self.source[: self.pos if index is None else index].encode())

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[JsonDict]]:
    parser = _Parser(source)
    while parser.pos < len(source):
        char = source[parser.pos]
        if char == "&":
            _entity(parser)
        elif char == "<" and source.startswith("</", parser.pos):
            _end_tag(parser)
        elif char == "<":
            _start_tag(parser)
        else:
            parser.emit(char)
            parser.pos += 1
    if parser.stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1].tag}"')
    parser.entities.sort(key=lambda e: (e["offset"], -int(str(e["length"]))))
    return "".join(parser.out), parser.entities


def decode_entities(text: str, parser: _Parser | None = None) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("#"):
            number = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
            return chr(number) if 0 < number <= 0x10FFFF else match.group(0)
        if name.lower() in NAMED_ENTITIES:
            return NAMED_ENTITIES[name.lower()]
        where = f" at byte offset {parser.byte_offset()}" if parser else ""
        raise HtmlError(f'Unsupported HTML entity "&{name};"{where}')

    return _ENTITY.sub(replace, text)


def _entity(parser: _Parser) -> None:
    match = _ENTITY.match(parser.source, parser.pos)
    if match is None:  # a bare "&" is shown as is
        parser.emit("&")
        parser.pos += 1
        return
    parser.emit(decode_entities(match.group(0), parser))
    parser.pos = match.end()


def _start_tag(parser: _Parser) -> None:
    source, start = parser.source, parser.pos
    name_match = _TAG_NAME.match(source, start)
    name = name_match.group(1).lower() if name_match else ""
    if name not in TAG_TYPES:
        raise HtmlError(f'Unsupported start tag "{name}" at byte offset {parser.byte_offset()}')
    close = source.find(">", start)
    if close < 0:
        raise HtmlError(f"Unclosed start tag at byte offset {parser.byte_offset()}")
    body = source[start + 1 + len(name) : close].rstrip("/")
    attrs = _attributes(body, name, parser)
    _check_attributes(name, attrs, parser)
    parser.stack.append(_Open(name, parser.length, attrs))
    parser.pos = close + 1


def _attributes(body: str, tag: str, parser: _Parser) -> dict[str, str]:
    attrs: dict[str, str] = {}
    index = 0
    while body[index:].strip():
        match = _ATTR.match(body, index)
        if match is None or match.end() == index:
            offset = parser.byte_offset()
            raise HtmlError(f'Can\'t parse attributes of tag "{tag}" at byte offset {offset}')
        value = match.group(2) or ""
        if value[:1] in "\"'" and value:
            value = value[1:-1]
        attrs[match.group(1).lower()] = decode_entities(value, parser)
        index = match.end()
    return attrs


def _check_attributes(tag: str, attrs: dict[str, str], parser: _Parser) -> None:
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlError('Tag "span" must have class "tg-spoiler"')
    if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        offset = parser.byte_offset()
        raise HtmlError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}')


def _end_tag(parser: _Parser) -> None:
    source, start = parser.source, parser.pos
    close = source.find(">", start)
    if close < 0:
        raise HtmlError(f"Unclosed end tag at byte offset {parser.byte_offset()}")
    name = source[start + 2 : close].strip().lower()
    if not parser.stack:
        raise HtmlError(f"Unexpected end tag at byte offset {parser.byte_offset()}")
    opened = parser.stack.pop()
    if name != opened.tag:
        raise HtmlError(
            f"Unmatched end tag at byte offset {parser.byte_offset()}, "
            f'expected "</{opened.tag}>", found "</{name}>"'
        )
    parser.pos = close + 1
    _add_entity(parser, opened)


def _add_entity(parser: _Parser, opened: _Open) -> None:
    length = parser.length - opened.offset
    parent = parser.stack[-1] if parser.stack else None
    language = opened.attrs.get("class", "")
    if opened.tag == "code" and parent and parent.tag == "pre" and language.startswith("language-"):
        parent.language = language.removeprefix("language-")
        return
    if length == 0 or (opened.tag == "a" and not opened.attrs.get("href")):
        return
    entity: JsonDict = {"type": TAG_TYPES[opened.tag], "offset": opened.offset, "length": length}
    if opened.tag == "a":
        entity["url"] = opened.attrs["href"]
    elif opened.tag == "tg-emoji":
        entity["custom_emoji_id"] = opened.attrs["emoji-id"]
    elif opened.tag == "pre" and opened.language:
        entity["language"] = opened.language
    elif opened.tag == "blockquote" and "expandable" in opened.attrs:
        entity["type"] = "expandable_blockquote"
    parser.entities.append(entity)

"""Email text in and out: headers, addresses, bodies, HTML, quoting, raw RFC 822.

Everything here is pure and tolerant: it takes whatever a sender (or an attacker)
put in a message and returns text plus human-readable warnings; it never raises
on bad input and never touches the network or the disk (HTML is read with
`html.parser`, which fetches nothing; images, styles and links stay text).

The text returned is *decoded, not sanitized*: it may hold escape sequences or
bidi controls. Display it only through `triage.text.sanitize` (one boundary, in the
UI). For text going into an outgoing header, use `header_safe`.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.errors import MessageDefect
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html import unescape
from html.parser import HTMLParser

DAMAGED = "this message is truncated or damaged; showing what could be read"
HEADER_MAX = 998  # RFC 5322 line limit; a cap, the email library folds long values

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_MSG_ID = re.compile(r"<[^<>\s]+>")


def _decode_bytes(data: bytes, charset: str, field: str, warnings: list[str]) -> str:
    """Bytes in a declared charset to text, never raising; problems become warnings."""
    name = charset.split("*")[0].strip().lower() or "us-ascii"
    try:
        return data.decode(name)
    except LookupError:  # unknown, or not a text codec ("rot13", "zlib")
        warnings.append(
            f"{field}: unknown charset {name[:40]!r}, shown with replacement characters"
        )
        return data.decode("utf-8", "replace")
    except ValueError:
        pass
    if name in ("us-ascii", "ascii"):
        try:  # mislabelled UTF-8 is the common case, not an error worth a warning
            return data.decode("utf-8")
        except ValueError:
            name = "utf-8"
    warnings.append(
        f"{field}: some characters are not valid {name[:40]!r}, shown with replacement characters"
    )
    return data.decode(name, "replace")


def _undo_surrogates(text: str) -> str:
    """Raw 8-bit header bytes (kept by `email` as surrogate escapes) read as UTF-8."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:  # lone surrogates that are not escapes: sanitize shows them
        return text


def _decode_word(match: re.Match[str], field: str, warnings: list[str]) -> str:
    charset, encoding, payload = match.groups()
    try:
        if encoding in "bB":
            data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
        else:
            data = binascii.a2b_qp(payload.encode("utf-8"), header=True)
    except (binascii.Error, ValueError):
        warnings.append(f"{field}: a damaged encoded word is shown as it was sent")
        return match.group()
    return _decode_bytes(data, charset, field, warnings)


def decode_header_value(raw: str, field: str = "header") -> tuple[str, list[str]]:
    """Decode RFC 2047 encoded words; return the text and warnings. Never raises.

    The result may hold CR, LF or escape sequences that an encoded word carried:
    display it through `sanitize_line`, put it in a header through `header_safe`.
    """
    warnings: list[str] = []
    text = _FOLD.sub("", _undo_surrogates(raw))
    parts: list[str] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[pos : match.start()]
        # RFC 2047 6.2: whitespace between two encoded words is not part of the text.
        if not (pos and gap.isspace()):
            parts.append(gap)
        parts.append(_decode_word(match, field, warnings))
        pos = match.end()
    parts.append(text[pos:])
    return "".join(parts), warnings


def header_safe(value: str) -> str:
    """Text made safe to put into an outgoing header (a reply's Subject, a name).

    CR, LF and every other control or invisible formatting character becomes a
    space (so nothing can start a new header line), runs of whitespace collapse
    to one space, and the result is capped at 998 characters. Pass decoded text,
    not sanitized text (placeholders would be sent to the client).
    """
    spaced = "".join(" " if _header_unsafe(ch) else ch for ch in value)
    return " ".join(spaced.split())[:HEADER_MAX]


def _header_unsafe(ch: str) -> bool:
    return (unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")) or ch.isspace()


def _claimed_addresses(name: str) -> list[str]:
    """Address-like words in a display name (full-width "＠" counts as "@")."""
    folded = unicodedata.normalize("NFKC", name)
    return [w.strip("\"'<>()[],;:") for w in folded.split() if "@" in w]


def address_display(name: str, email: str) -> str:
    """A sender as shown to the user, the real address always visible.

    `Name <addr>` normally, `addr` when there is no name or the name is the
    address. A name that holds another address ("support@bank.com" sent from
    x@evil.example) shows as `x@evil.example ⚠ "support@bank.com"`: the real
    address first, so it survives a cut table cell. Not sanitized: pass the
    result through `sanitize_line` like any other email text.
    """
    name = name.strip()
    if not name or name.lower() == email.lower():
        return email
    if any(claimed.lower() != email.lower() for claimed in _claimed_addresses(name)):
        return f'{email} ⚠ "{name}"'
    return f"{name} <{email}>"


_SKIP = frozenset({"script", "style", "title", "template", "noscript", "svg", "iframe", "object"})
_BLOCK = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "ul", "ol", "dl", "dt", "dd"}
    | {"blockquote", "pre", "hr", "section", "article", "header", "footer", "nav", "aside"}
    | {"main", "address", "form", "fieldset", "figure", "figcaption", "center", "caption"}
)
_HIDDEN_HREF = ("#", "javascript:", "data:", "vbscript:")


class _TextExtractor(HTMLParser):
    """Collects the readable text of an HTML body; nothing is ever fetched."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[tuple[str, bool]] = []  # (text, verbatim inside <pre>)
        self._skip = 0
        self._pre = 0
        self._links: list[tuple[str, int]] = []  # (href, index of first chunk)

    def _emit(self, text: str, verbatim: bool = False) -> None:
        self.chunks.append((text, verbatim))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skip = 0  # an unclosed <title> or <style> in the head must not hide the body
        elif tag in _SKIP:
            self._skip += 1
        if self._skip:
            return
        attr = {k: (v or "").strip() for k, v in attrs}
        if tag == "br":
            self._emit("\n")
        elif tag == "li":
            self._emit("\n- ")
        elif tag in ("td", "th"):
            self._emit("  ")
        elif tag == "img":
            self._image(attr)
        elif tag == "a":
            self._links.append((attr.get("href", ""), len(self.chunks)))
        elif tag in _BLOCK:
            self._emit("\n")
        if tag == "pre":
            self._pre += 1

    def _image(self, attr: dict[str, str]) -> None:
        if attr.get("alt"):
            self._emit(f"[image: {attr['alt']}]")
        elif attr.get("width") not in ("0", "1") and attr.get("height") not in ("0", "1"):
            self._emit("[image]")  # a 1x1 tracking pixel says nothing to the reader

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(text for text, _ in self.chunks[start:]).strip()
            shown = href and not href.lower().startswith(_HIDDEN_HREF)
            if shown and href not in (label, f"mailto:{label}"):
                self._emit(f" ({href})" if label else href)
        elif tag in _BLOCK:
            self._emit("\n")
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            self._emit(data, verbatim=True)
        else:  # source line breaks and indentation mean nothing in HTML
            self._emit(re.sub(r"[ \t\r\n\f\v]+", " ", data))


def _tidy(text: str) -> str:
    """Collapse HTML whitespace: runs of spaces, spaces around line breaks, blank runs."""
    text = re.sub(r"[ \t\r\f\v]+", " ", text.replace("\r\n", "\n"))
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: blocks on their own lines, links as
    "text (href)", images as "[image: alt]"; scripts, styles and titles dropped.
    """
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):
        # html.parser can give up on broken markup ("<![;"): fall back to dropping
        # tags, which still never fetches anything and never raises.
        return _tidy(unescape(re.sub(r"<[^>]*>?", " ", html))).strip()
    pieces: list[str] = []
    plain: list[str] = []
    for text, verbatim in parser.chunks:
        if verbatim:
            pieces.extend((_tidy("".join(plain)), text))
            plain = []
        else:
            plain.append(text)
    pieces.append(_tidy("".join(plain)))
    return "".join(pieces).strip()


def body_text(text_body: str | None, html_body: str | None) -> str:
    """The body to show: the plain text part when it has content, else the HTML as text."""
    if text_body and text_body.strip():
        return text_body.replace("\r\n", "\n")
    return html_to_text(html_body) if html_body else ""


def quote(text: str, who: str, when: str) -> str:
    """The quoted original for a reply: an attribution line, then "> " lines."""
    lines = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    # Already-quoted lines get a bare ">" so nested quotes stay compact (">> x").
    body = "\n".join(
        (">" + line) if line.startswith(">") else ("> " + line if line else ">") for line in lines
    )
    return f"On {when}, {who} wrote:\n{body}\n"


@dataclass(frozen=True)
class ParsedMail:
    """A raw message as the demo mailbox and tests need it. Text is not sanitized."""

    subject: str = ""
    from_name: str = ""
    from_email: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    date: datetime | None = None
    message_id: str = ""
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    text: str = ""
    warnings: tuple[str, ...] = ()


def parse_rfc822(raw: bytes) -> ParsedMail:
    """Parse a raw message; damage becomes warnings and the readable rest is kept."""
    try:
        return _parse(raw)
    except Exception as exc:  # the contract is "never raises": one bad mail must not stop a sync
        text = raw.decode("utf-8", "replace")
        return ParsedMail(text=text, warnings=(f"{DAMAGED} ({type(exc).__name__})",))


def _parse(raw: bytes) -> ParsedMail:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    warnings: list[str] = []
    headers: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        headers.setdefault(name.lower(), []).append(_FOLD.sub("", str(value)))

    def first(name: str) -> str:
        return headers.get(name, [""])[0]

    subject, found = decode_header_value(first("subject"), "subject")
    warnings += found
    from_name, from_email = _sender(first("from"), warnings)
    date = _date(first("date"), warnings)
    text = _body(msg, warnings)
    if any(_defects(msg)):
        warnings.append(DAMAGED)
    ids = {key: tuple(_MSG_ID.findall(first(key))) for key in ("in-reply-to", "references")}
    return ParsedMail(
        subject=subject,
        from_name=from_name,
        from_email=from_email,
        to=_emails(headers.get("to", [])),
        cc=_emails(headers.get("cc", [])),
        date=date,
        message_id=(_MSG_ID.findall(first("message-id")) or [first("message-id").strip()])[0],
        in_reply_to=ids["in-reply-to"],
        references=ids["references"],
        text=text,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(raw name, address) pairs of address headers.

    Encoded words are hidden from the address parser behind "=EWn=" atoms, so
    a "<", "," or "@" inside one can never change which address it is.
    """
    values = [_undo_surrogates(value) for value in values]
    marker = "=EW"
    while any(marker in value for value in values):  # a look-alike in the input
        marker += "X"
    words: list[str] = []

    def hide(match: re.Match[str]) -> str:
        words.append(match.group())
        return f"{marker}{len(words) - 1}="

    def unhide(text: str) -> str:
        return re.sub(re.escape(marker) + r"(\d+)=", lambda m: words[int(m.group(1))], text)

    hidden = [_ENCODED_WORD.sub(hide, value) for value in values]
    return [(unhide(name), unhide(addr)) for name, addr in getaddresses(hidden) if addr]


def _sender(value: str, warnings: list[str]) -> tuple[str, str]:
    """The first address of a From header; its name decoded after parsing."""
    for name, addr in _addresses([value]):
        if addr:
            decoded, found = decode_header_value(name, "from")
            warnings.extend(found)
            return decoded, addr
    if value.strip():
        warnings.append("from: the sender's address could not be read")
    return decode_header_value(value, "from")[0].strip(), ""


def _emails(values: list[str]) -> tuple[str, ...]:
    return tuple(addr for _, addr in _addresses(values) if addr)


def _date(value: str, warnings: list[str]) -> datetime | None:
    if not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        warnings.append(f"date: could not read {value.strip()[:60]!r}")
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # "-0000": zone unknown


def _body(msg: Message, warnings: list[str]) -> str:
    """The first inline text/plain part, else the first text/html part, as text."""
    found: dict[str, str] = {}
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if part.get_content_maintype() == "multipart":
            kind = "text/plain"  # its boundary never came: show what is there
        if kind in ("text/plain", "text/html") and kind not in found:
            found[kind] = _part_text(part, warnings)
    return body_text(found.get("text/plain"), found.get("text/html"))


def _part_text(part: Message, warnings: list[str]) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "us-ascii"
    return _decode_bytes(data, charset, "body", warnings).replace("\r\n", "\n")


def _defects(msg: Message) -> list[MessageDefect]:
    """Structural and encoding defects of every part (found while parsing and decoding)."""
    return [defect for part in msg.walk() for defect in part.defects]

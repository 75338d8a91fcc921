"""What a stored value may hold: the sizes of the text columns (ledger.models) and the
characters no record keeps. The API schemas and the importers refuse what does not fit,
so the database never has to (SQLite would store it all; PostgreSQL refuses NUL, a lone
surrogate or an over-long string with an error, not a reason)."""

from __future__ import annotations

import re

#: String(64) columns: authority and division codes, service slugs.
CODE = 64
#: String(255) columns: references, names, the other short texts.
LINE = 255
#: document_url is String(2048).
URL = 2048
#: Text columns (notes, reasons, triggers) have no size; a request still has a limit.
PROSE = 10_000
#: Integer columns are 32-bit on PostgreSQL.
INT32_MAX = 2**31 - 1

# Control characters (C0, DEL, C1) and lone surrogates, which a JSON "\ud800" escape makes.
_NOT_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Free text may break lines and indent: tab, line feed and carriage return (browsers send
# a textarea's line breaks as CR LF).
_NOT_IN_PROSE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def unprintable(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be stored as it is, or None: the first control character (any,
    or any but tab and line breaks when ``multiline``) or lone surrogate, by code point."""
    found = (_NOT_IN_PROSE if multiline else _NOT_IN_A_LINE).search(text)
    if found is None:
        return None
    what = "a lone surrogate" if "\ud800" <= found.group() <= "\udfff" else "a control character"
    return f"must not contain {what} (U+{ord(found.group()):04X} at position {found.start() + 1})"


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` with each character ``unprintable`` objects to written as its escape
    (``\\x00``, ``\\x1b``, ``\\ud800``): what was sent stays visible, and either engine
    stores it (the audit log keeps refused requests, whatever they held)."""
    return (_NOT_IN_PROSE if multiline else _NOT_IN_A_LINE).sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text_problem(text: str, *, max_length: int, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be stored in a column of ``max_length`` characters, or None."""
    if len(text) > max_length:
        return f"must be at most {max_length} characters long, not {len(text)}"
    return unprintable(text, multiline=multiline)

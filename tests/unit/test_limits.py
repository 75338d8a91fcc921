"""What text a column keeps (ledger.domain.limits): what is refused, and how text that must be
kept anyway (the audit log's record of a refused request) is made storable."""

from __future__ import annotations

import pytest

from ledger.domain import limits


@pytest.mark.parametrize(("text", "line", "prose"), [
    ("a\x00b", r"a\x00b", r"a\x00b"),
    ("\ud800", r"\ud800", r"\ud800"),
    ("\udfff\ud83d", r"\udfff\ud83d", r"\udfff\ud83d"),
    ("\x1b[2J", r"\x1b[2J", r"\x1b[2J"),
    ("\x7f\x85\x9f", r"\x7f\x85\x9f", r"\x7f\x85\x9f"),
    ("one\ttwo\r\nthree", r"one\x09two\x0d\x0athree", "one\ttwo\r\nthree"),
    ("\x0b\x0c", r"\x0b\x0c", r"\x0b\x0c"),
], ids=["nul", "lone-surrogate", "surrogates-out-of-order", "escape", "del-and-c1", "tab-and-line-breaks",
        "vertical-tab-form-feed"])
def test_printable_writes_what_no_column_keeps_as_escapes(text: str, line: str, prose: str) -> None:
    assert limits.printable(text) == line
    assert limits.printable(text, multiline=True) == prose
    for kept, multiline in ((line, False), (prose, True)):
        assert limits.unprintable(kept, multiline=multiline) is None
        kept.encode()  # a lone surrogate would raise here


@pytest.mark.parametrize("text", ["", "plain", "£1,200.50 — Ashford “central”", "\u00a0non-breaking", "😀", "\ufffd"])
def test_printable_leaves_printable_text_as_it_is(text: str) -> None:
    assert limits.printable(text) == text and limits.printable(text, multiline=True) == text

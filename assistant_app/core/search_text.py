"""Turning what a user types into a safe FTS5 query, and snippets for substring matches; no Qt."""

from __future__ import annotations

import re
import unicodedata

# Marks around matched words in snippets shown by the window (control characters: never typed, never
# in the Markdown we keep), turned into bold by the sidebar.
MATCH_START, MATCH_END = "\x02", "\x03"


def _is_token_char(ch: str) -> bool:
    # Mirrors FTS5's unicode61 tokenizer: letters, numbers and private-use characters form tokens.
    cat = unicodedata.category(ch)
    return cat[0] in "LN" or cat == "Co"


def fts_query(text: str) -> str:
    """Turn free text into a safe FTS5 query: each word becomes a quoted prefix term.

    ``foo "bar`` -> ``"foo"* "bar"*``. Quotes are doubled inside the string, so operators
    (AND, OR, NEAR, ``*``, ``^``, ``:``, parentheses) lose their meaning. Chunks without any
    indexable character (pure punctuation, emoji) are dropped; an empty result means "no terms".
    """
    terms = []
    for chunk in text.split():
        if any(_is_token_char(ch) for ch in chunk):
            terms.append('"' + chunk.replace('"', '""') + '"*')
    return " ".join(terms)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def snippet_around(text: str, needle: str, marks: tuple[str, str], width: int = 60) -> str:
    pos = text.lower().find(needle.lower())
    if pos < 0:
        return text[: width * 2]
    start = max(0, pos - width)
    end = min(len(text), pos + len(needle) + width)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return (
        prefix
        + text[start:pos]
        + marks[0]
        + text[pos : pos + len(needle)]
        + marks[1]
        + text[pos + len(needle) : end]
        + suffix
    )


_FENCE = re.compile(r"(```|~~~)[\w+#.-]*")
_TABLE_RULE = re.compile(r"(\|\s*:?-{2,}:?\s*)+\|?")  # |---|:--:| rows under a table header
_PIPES = re.compile(r"\s*\|\s*")
_HEADING = re.compile(r"(^|\s)#{1,6}(?=\s)")
_EMPHASIS = re.compile(r"\*\*|__|~~|`")
_DOTS = re.compile(r"(\s*·\s*)+")


def readable_snippet(snippet: str) -> str:
    """A search snippet without the Markdown that makes it hard to read in a list (fences, table
    rules and pipes, backticks, emphasis, heading hashes), on one line. Match marks are kept."""
    text = _FENCE.sub(" ", snippet)
    text = _TABLE_RULE.sub(" · ", text)
    text = _PIPES.sub(" · ", text)
    text = _HEADING.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    text = " ".join(text.split())
    text = _DOTS.sub(" · ", text)
    return text.strip(" ·")


# --------------------------------------------------------------------------------------------
# Row mapping
# --------------------------------------------------------------------------------------------

"""Markdown for the chat transcript: block splitting for streaming, and Markdown -> Qt rich-text HTML.

No Qt here, so everything is unit-testable with plain pytest.

Qt's rich text engine understands only a subset of HTML 4 / CSS 2 (no classes, no ``border-left``, no
``<del>``), so the HTML produced here uses inline styles and attributes Qt knows, and fenced code is
coloured by Pygments with inline styles (``noclasses=True``).
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from assistant_app.ui.palette import (
    CODE_BG,
    INLINE_CODE_BG,
    LINK_COLOR,
    MONO_FAMILY,
    MUTED_COLOR,
    PYGMENTS_STYLE,
    TABLE_BORDER,
    TABLE_HEADER_BG,
)

if TYPE_CHECKING:  # markdown-it and Pygments load on first render, not at start-up (~40 ms)
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# --------------------------------------------------------------------------------------------------
# Block splitting

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$")


@dataclass(frozen=True, slots=True)
class _Fence:
    char: str
    length: int
    indent: int
    start: int  # offset of the opening line in the scanned text


def _lines(text: str) -> list[str]:
    """Split on ``\\n`` keeping the ends (``\\r`` stays with the line; ``str.splitlines`` splits on too much)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _open_fence(line: str, offset: int) -> _Fence | None:
    m = _FENCE_OPEN.match(line.rstrip("\r\n"))
    if m is None:
        return None
    fence = m.group("fence")
    # CommonMark: the info string of a backtick fence may not contain backticks ("```a```" is inline code).
    if fence[0] == "`" and "`" in m.group("info"):
        return None
    indent = len(m.group("indent").expandtabs(4))
    return _Fence(fence[0], len(fence), indent, offset)


def _closes(line: str, fence: _Fence) -> bool:
    body = line.strip()
    return len(body) >= fence.length and body == fence.char * len(body)


def split_blocks(text: str) -> tuple[list[str], str]:
    """Split a growing reply into finished blocks and the unfinished tail.

    ``"".join(blocks) + tail == text`` always holds. Boundaries:

    * a run of blank lines outside a fenced code block, once the next non-blank line has begun and is
      not indented (an indented line continues a list item or an indented code block, so the blank
      lines belong to the block before it). Blank lines stay with the block they follow.
    * the end of the (complete) closing line of a fence opened at column 0 ("a closed fence ends a
      block"); fences indented under list items close inside their item and do not end it.

    Text inside a fence (```` ``` ```` or ``~~~``, any length >= 3, closed only by the same character
    at least as long) never splits, so a reply ending mid-fence keeps the whole fence in the tail.
    Because every boundary lies outside any fence, splitting the tail again later gives the same
    result as splitting the whole text: callers may keep only the tail and re-split it.
    """
    blocks: list[str] = []
    start = 0
    pos = 0
    fence: _Fence | None = None
    pending: int | None = None  # boundary candidate after a blank run, awaiting the next line
    for line in _lines(text):
        end = pos + len(line)
        complete = line.endswith("\n")
        if fence is not None:
            if complete and _closes(line, fence):
                if fence.indent == 0:
                    blocks.append(text[start:end])
                    start = end
                fence = None
            pos = end
            continue
        if not line.strip():
            if complete and text[start:end].strip():
                pending = end
            pos = end
            continue
        if pending is not None:
            if line[0] not in " \t":
                blocks.append(text[start:pending])
                start = pending
            pending = None
        fence = _open_fence(line, pos)
        pos = end
    return blocks, text[start:]


@dataclass(frozen=True, slots=True)
class OpenFence:
    """The unfinished fenced code block at the end of a streaming tail."""

    before: str  # the tail's text before the opening fence line
    info: str  # language / info string (may still be growing)
    code: str  # code received so far, de-indented; a trailing newline is held back


def split_open_fence(tail: str) -> OpenFence | None:
    """If ``tail`` ends inside a fenced code block, split it into the text before and the code so far.

    Used to show a streaming code block as code (monospace, no wrap) before its closing fence arrives.
    The code only ever grows by appending as the tail grows, so a view can append the difference.
    """
    fence: _Fence | None = None
    pos = 0
    for line in _lines(tail):
        end = pos + len(line)
        if fence is None:
            if line.strip():
                fence = _open_fence(line, pos)
        elif line.endswith("\n") and _closes(line, fence):
            fence = None
        pos = end
    if fence is None:
        return None
    first_nl = tail.find("\n", fence.start)
    opening = tail[fence.start : first_nl if first_nl >= 0 else len(tail)]
    info = opening.strip().lstrip(fence.char).strip()
    if first_nl < 0:
        return OpenFence(tail[: fence.start], info, "")
    code_lines = [_dedent(line, fence.indent) for line in _lines(tail[first_nl + 1 :])]
    code = "".join(code_lines).replace("\r\n", "\n")
    if code.endswith("\n"):
        code = code[:-1]
    return OpenFence(tail[: fence.start], info, code)


def prose_before_fence(block: str) -> str:
    """The text of a finished block before its first fence line (all of it if it has none)."""
    offset = 0
    for line in _lines(block):
        if _open_fence(line, offset) is not None:
            return block[:offset]
        offset += len(line)
    return block


def _dedent(line: str, indent: int) -> str:
    n = 0
    while n < indent and n < len(line) and line[n] == " ":
        n += 1
    return line[n:]


# --------------------------------------------------------------------------------------------------
# Rendering


@dataclass(frozen=True, slots=True)
class ProseSegment:
    """A run of top-level Markdown blocks rendered to Qt rich-text HTML."""

    html: str


@dataclass(frozen=True, slots=True)
class CodeSegment:
    """A top-level fenced (or indented) code block: raw code plus its highlighted HTML."""

    language: str
    code: str

    @property
    def html(self) -> str:
        return highlight_code(self.code, self.language)


Segment = ProseSegment | CodeSegment

_HEADING_SIZES = {"h1": "x-large", "h2": "large", "h3": "medium", "h4": "medium", "h5": "medium", "h6": "medium"}


def _language(info: str) -> str:
    return info.strip().split(maxsplit=1)[0] if info.strip() else ""


class _HighlightCache:
    """Highlighted code by (code, language, wrap), shared by the GUI thread and the highlighter thread."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str, bool], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, bool]) -> str | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[str, str, bool], value: str) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_HIGHLIGHTS = _HighlightCache()
_PER_THREAD = threading.local()  # Pygments formatter and lexers, built once per thread and reused
_HIGHLIGHTER: ThreadPoolExecutor | None = None


def _lexer(language: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.lexers.special import TextLexer
    from pygments.util import ClassNotFound

    lexers = getattr(_PER_THREAD, "lexers", None)
    if lexers is None:
        lexers = _PER_THREAD.lexers = {}
    lexer = lexers.get(language)
    if lexer is None:
        try:
            lexer = get_lexer_by_name(language, stripnl=False, ensurenl=False) if language else TextLexer()
        except ClassNotFound:
            lexer = TextLexer()
        lexers[language] = lexer
    return lexer


def _formatter() -> Any:
    formatter = getattr(_PER_THREAD, "formatter", None)
    if formatter is None:
        from pygments.formatters import HtmlFormatter

        formatter = _PER_THREAD.formatter = HtmlFormatter(noclasses=True, nowrap=True, style=PYGMENTS_STYLE)
    return formatter


def highlight_code(code: str, language: str = "", *, wrap: bool = False) -> str:
    """Highlighted code as a ``<pre>`` with inline colours (Qt rich text has no CSS classes)."""
    key = (code, language, wrap)
    cached = _HIGHLIGHTS.get(key)
    if cached is not None:
        return cached
    from pygments import highlight

    body = highlight(code, _lexer(language), _formatter())
    if body.endswith("\n"):
        body = body[:-1]
    white_space = "pre-wrap" if wrap else "pre"
    result = f'<pre style="margin:0; white-space:{white_space}; font-family:{MONO_FAMILY};">{body}</pre>'
    _HIGHLIGHTS.put(key, result)
    return result


def is_highlighted(code: str, language: str = "") -> bool:
    """True when ``highlight_code(code, language)`` would answer from the cache (no Pygments work)."""
    return _HIGHLIGHTS.get((code, language, False)) is not None


def highlight_in_background(code: str, language: str = "") -> Future[str]:
    """Highlight on the highlighter thread (Pygments is pure Python: a 30-line block takes a few ms,
    which is a dropped frame when it lands on the GUI thread during a stream). The result is cached,
    so the GUI thread's later ``highlight_code`` call returns at once."""
    global _HIGHLIGHTER
    if _HIGHLIGHTER is None:
        _HIGHLIGHTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="highlight")
    return _HIGHLIGHTER.submit(highlight_code, code, language)


def _render_fence(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """Code nested in lists/quotes stays inside the prose HTML (top-level code gets its own widget)."""
    token = tokens[idx]
    code_html = highlight_code(token.content.rstrip("\n"), _language(token.info), wrap=True)
    return (
        f'<table width="100%" cellspacing="0" cellpadding="8" style="background-color:{CODE_BG};'
        f' margin-top:4px; margin-bottom:8px;"><tr><td>{code_html}</td></tr></table>\n'
    )


def _render_image(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """Images become links: QLabel would otherwise load local files named by the model."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or "image"
    src = html.escape(token.attrGet("src") or "", quote=True)
    return f'<a href="{src}">[image: {html.escape(alt)}]</a>'


def _render_blockquote_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """Qt has no ``border-left``: draw the quote bar as a thin coloured table cell."""
    return (
        '<table cellspacing="0" cellpadding="0" style="margin-top:8px; margin-bottom:8px;"><tr>'
        f'<td width="3" style="background-color:{TABLE_BORDER};"></td>'
        f'<td style="padding-left:10px; color:{MUTED_COLOR};">\n'
    )


def _render_blockquote_close(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return "</td></tr></table>\n"


def _style_tokens(tokens: list[Token]) -> None:
    """Add the inline styles and attributes Qt needs, in place."""
    for token in tokens:
        kind = token.type
        if kind == "inline" and token.children:
            _style_tokens(token.children)
        elif kind == "code_inline":
            token.attrSet("style", f"background-color:{INLINE_CODE_BG}; font-family:{MONO_FAMILY}; font-size:90%;")
        elif kind == "link_open":
            token.attrSet("style", f"color:{LINK_COLOR}; text-decoration:none;")
        elif kind == "heading_open":
            token.attrSet(
                "style", f"font-size:{_HEADING_SIZES.get(token.tag, 'medium')}; margin-top:10px; margin-bottom:6px;"
            )
        elif kind == "table_open":
            token.attrSet("border", "1")
            token.attrSet("cellspacing", "0")
            token.attrSet("cellpadding", "6")
            token.attrSet(
                "style",
                f"border-collapse:collapse; border-style:solid; border-color:{TABLE_BORDER};"
                " margin-top:4px; margin-bottom:10px;",
            )
        elif kind in ("th_open", "td_open"):
            style = token.attrGet("style") or ""
            if style.startswith("text-align:"):
                token.attrSet("align", style.split(":", 1)[1])
            if kind == "th_open":
                token.attrSet("style", f"background-color:{TABLE_HEADER_BG};")
            else:
                token.attrs.pop("style", None)
        elif kind in ("bullet_list_open", "ordered_list_open") or kind == "paragraph_open":
            token.attrSet("style", "margin-top:0px; margin-bottom:8px;")


def _make_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(["table", "strikethrough"])
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("code_block", _render_fence)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("blockquote_open", _render_blockquote_open)
    md.add_render_rule("blockquote_close", _render_blockquote_close)
    return md


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return _make_parser()


def _is_top_level_code(token: Token) -> bool:
    return token.level == 0 and token.type in ("fence", "code_block")


@lru_cache(maxsize=256)
def render_segments(text: str) -> tuple[Segment, ...]:
    """Render Markdown into prose runs (HTML) and top-level code blocks (raw code + language).

    Parsing the whole text at once (not block by block) keeps reference links and loose lists exact;
    this is the pass used for history and for the final render of a streamed reply.
    """
    md = _parser()
    tokens = md.parse(text.replace("\r\n", "\n"))
    _style_tokens(tokens)
    segments: list[Segment] = []
    run: list[Token] = []

    def close_run() -> None:
        if run:
            rendered = md.renderer.render(run, md.options, {}).strip()
            if rendered:
                segments.append(ProseSegment(rendered))
            run.clear()

    for token in tokens:
        if _is_top_level_code(token):
            close_run()
            segments.append(CodeSegment(_language(token.info), token.content.rstrip("\n")))
        else:
            run.append(token)
    close_run()
    return tuple(segments)


def markdown_to_html(text: str) -> str:
    """The whole message as one Qt rich-text HTML string (code blocks inline). Handy for export/tests."""
    parts = []
    for seg in render_segments(text):
        if isinstance(seg, CodeSegment):
            parts.append(
                f'<table width="100%" cellspacing="0" cellpadding="8" style="background-color:{CODE_BG};">'
                f"<tr><td>{seg.html}</td></tr></table>"
            )
        else:
            parts.append(seg.html)
    return "\n".join(parts)


# A short reply using what replies use (MessageView.warm_up draws it once, off screen).
WARM_UP_TEXT = (
    "## Warm-up\n\nSome **bold**, *italic* and `inline code` with a [link](https://example.com).\n\n"
    "- a list item\n- another one\n\n> a quote\n\n```python\nx = 1\n```\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n"
)


def warm_up() -> None:
    """Load markdown-it and Pygments and build the parser and a common lexer ahead of the first
    render (~100 ms of imports and regex compiles), and highlight the warm-up text's code. Pure
    Python, so it can run on a worker thread while the window sits idle after start-up."""
    for segment in render_segments(WARM_UP_TEXT):
        if isinstance(segment, CodeSegment):
            segment.html  # noqa: B018  (into the highlight cache)

"""Qt-free tests for the transcript's Markdown helpers: block splitting, open fences, rendering."""

from __future__ import annotations

import random

import pytest

from assistant_app.ui.markdown import (
    CodeSegment,
    ProseSegment,
    highlight_code,
    markdown_to_html,
    render_segments,
    split_blocks,
    split_open_fence,
)
from assistant_app.ui.message_model import StreamBuffer

RICH_REPLY = """Intro paragraph with **bold** and `code`.

## Heading

- item one
- item two

  continued inside item two

1. step

   ```python
   a = 1

   b = 2
   ```

2. next step

```js
const x = 1;

console.log(x);
```
Text right after a fence.

~~~
``` not a closing fence for tildes

~~~

| a | b |
|---|---|
| 1 | 2 |

> quoted

    indented code

    more indented code

Final words.
"""


# ---------------------------------------------------------------------------------------- split_blocks
def test_empty_text() -> None:
    assert split_blocks("") == ([], "")


def test_single_unfinished_paragraph_is_all_tail() -> None:
    assert split_blocks("Hello wor") == ([], "Hello wor")
    assert split_blocks("Hello\nworld\n") == ([], "Hello\nworld\n")


def test_blank_line_is_a_boundary_once_the_next_line_starts() -> None:
    assert split_blocks("a\n\nb") == (["a\n\n"], "b")
    # The next line has not begun: it might be an indented continuation, so nothing is finished yet.
    assert split_blocks("a\n\n") == ([], "a\n\n")


def test_blank_run_stays_with_the_block_before() -> None:
    assert split_blocks("a\n\n\n\nb\n\nc") == (["a\n\n\n\n", "b\n\n"], "c")


def test_leading_blank_lines_do_not_make_an_empty_block() -> None:
    assert split_blocks("\n\nHello\n\nWorld") == (["\n\nHello\n\n"], "World")


def test_indented_line_after_blank_continues_the_block() -> None:
    text = "- a\n\n  more of a\n\nNext"
    assert split_blocks(text) == (["- a\n\n  more of a\n\n"], "Next")


def test_blank_lines_inside_backtick_fence_do_not_split() -> None:
    text = "```py\nx = 1\n\ny = 2\n```\n\nafter"
    # The blank line after the fence has no block before it, so it joins the next block.
    assert split_blocks(text) == (["```py\nx = 1\n\ny = 2\n```\n"], "\nafter")


def test_closed_fence_ends_a_block_without_blank_line() -> None:
    assert split_blocks("```\nx\n```\nafter") == (["```\nx\n```\n"], "after")


def test_prose_before_a_fence_stays_in_the_same_block() -> None:
    text = "Here:\n```sh\nls\n```\nmore"
    assert split_blocks(text) == (["Here:\n```sh\nls\n```\n"], "more")


def test_tilde_fence_is_not_closed_by_backticks() -> None:
    text = "~~~\n```\n\ninside\n~~~\n"
    blocks, tail = split_blocks(text)
    assert blocks == [text]
    assert tail == ""


def test_fence_closes_only_with_a_fence_at_least_as_long() -> None:
    text = "````md\n```\n\nstill code\n````\nafter"
    assert split_blocks(text) == (["````md\n```\n\nstill code\n````\n"], "after")


def test_text_ending_mid_fence_keeps_the_fence_in_the_tail() -> None:
    text = "Intro\n\n```python\ndef f():\n\n    return 1\n"
    assert split_blocks(text) == (["Intro\n\n"], "```python\ndef f():\n\n    return 1\n")


def test_unterminated_closing_fence_line_does_not_close() -> None:
    # "```" without its newline could still grow into "````" or "```x" (which would not close).
    text = "```\ncode\n```"
    assert split_blocks(text) == ([], text)


def test_backtick_info_with_backticks_is_not_a_fence() -> None:
    text = "```inline``` code\n\nnext"
    assert split_blocks(text) == (["```inline``` code\n\n"], "next")


def test_fence_inside_list_item_stays_with_the_item() -> None:
    text = "1. step\n\n   ```py\n   a\n\n   b\n   ```\n\n2. next\n"
    assert split_blocks(text) == (["1. step\n\n   ```py\n   a\n\n   b\n   ```\n\n"], "2. next\n")


def test_crlf_line_endings() -> None:
    assert split_blocks("a\r\n\r\nb") == (["a\r\n\r\n"], "b")
    text = "```\r\nx\r\n\r\ny\r\n```\r\nz"
    assert split_blocks(text) == (["```\r\nx\r\n\r\ny\r\n```\r\n"], "z")


def test_join_is_lossless_and_blocks_are_final_for_every_prefix() -> None:
    """Streaming property: a block once finished never changes as more text arrives."""
    full_blocks, _ = split_blocks(RICH_REPLY)
    assert len(full_blocks) >= 10
    for end in range(len(RICH_REPLY) + 1):
        prefix = RICH_REPLY[:end]
        blocks, tail = split_blocks(prefix)
        assert "".join(blocks) + tail == prefix
        assert blocks == full_blocks[: len(blocks)], f"prefix length {end}"


def test_expected_blocks_of_rich_reply() -> None:
    blocks, tail = split_blocks(RICH_REPLY)
    assert blocks[0] == "Intro paragraph with **bold** and `code`.\n\n"
    assert "2. next step\n\n" in blocks
    assert any(b.startswith("1. step\n\n   ```python") and b.endswith("   ```\n\n") for b in blocks)
    assert "```js\nconst x = 1;\n\nconsole.log(x);\n```\n" in blocks
    assert any(b.startswith("~~~\n``` not a closing") for b in blocks)
    # An indented line after a blank line may continue the block before it, so it stays attached.
    assert blocks[-1] == "> quoted\n\n    indented code\n\n    more indented code\n\n"
    assert tail == "Final words.\n"


# ---------------------------------------------------------------------------------------- StreamBuffer
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_stream_buffer_matches_split_of_whole_text(seed: int) -> None:
    rng = random.Random(seed)
    buffer = StreamBuffer()
    finished: list[str] = []
    pos = 0
    while pos < len(RICH_REPLY):
        step = rng.randint(1, 12)
        buffer.append(RICH_REPLY[pos : pos + step])
        pos += step
        if rng.random() < 0.5:
            finished.extend(buffer.take())
        assert buffer.text() == RICH_REPLY[:pos]
    finished.extend(buffer.take())
    expected_blocks, expected_tail = split_blocks(RICH_REPLY)
    assert finished == expected_blocks
    assert buffer.tail == expected_tail
    assert not buffer.dirty


def test_stream_buffer_initial_text_and_growth() -> None:
    buffer = StreamBuffer("para one\n\npara")
    assert buffer.dirty
    assert buffer.take() == ["para one\n\n"]
    assert buffer.tail == "para"
    buffer.append(" two")
    assert buffer.take() == []
    assert buffer.tail == "para two"
    assert buffer.text() == "para one\n\npara two"


# ---------------------------------------------------------------------------------------- split_open_fence
def test_open_fence_none_when_closed_or_absent() -> None:
    assert split_open_fence("just text") is None
    assert split_open_fence("```py\nx\n```\n") is None


def test_open_fence_splits_before_info_and_code() -> None:
    fence = split_open_fence("Here:\n```python\nx = 1\ny = 2\n")
    assert fence is not None
    assert fence.before == "Here:\n"
    assert fence.info == "python"
    assert fence.code == "x = 1\ny = 2"  # trailing newline held back


def test_open_fence_with_unfinished_opening_line() -> None:
    fence = split_open_fence("text\n```pyth")
    assert fence is not None
    assert (fence.before, fence.info, fence.code) == ("text\n", "pyth", "")


def test_open_fence_inside_list_is_dedented() -> None:
    fence = split_open_fence("1. do\n\n   ```sh\n   ls -l\n     indented\n")
    assert fence is not None
    assert fence.info == "sh"
    assert fence.code == "ls -l\n  indented"


def test_open_fence_code_only_grows_by_appending() -> None:
    text = "Intro\n\n```c\nint main(void) {\n    return 0;\n}\n\n// end\n"
    previous: str | None = None
    seen = 0
    for end in range(len(text) + 1):
        fence = split_open_fence(text[:end])
        if fence is None:
            previous = None
            continue
        seen += 1
        if previous is not None:
            assert fence.code.startswith(previous), end
        previous = fence.code
    assert seen > 30
    assert previous == "int main(void) {\n    return 0;\n}\n\n// end"


# ---------------------------------------------------------------------------------------- rendering
def test_raw_html_is_escaped() -> None:
    html = markdown_to_html('Hello <script>alert("x")</script> and <b>bold?</b>\n\n<div>block</div>')
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "<b>" not in html
    assert "&lt;div&gt;" in html


def test_basic_markdown_features() -> None:
    html = markdown_to_html("# Title\n\n**b** *i* ~~s~~ `c` [site](https://example.com)\n\n> quote\n")
    assert "<h1" in html and "Title</h1>" in html
    assert "<strong>b</strong>" in html and "<em>i</em>" in html
    assert "<s>s</s>" in html
    assert "<code" in html and ">c</code>" in html
    assert 'href="https://example.com"' in html
    assert "quote" in html


def test_table_has_borders_and_alignment() -> None:
    html = markdown_to_html("| a | b |\n|:--|--:|\n| 1 | 2 |\n")
    assert '<table border="1"' in html
    assert 'align="right"' in html and 'align="left"' in html
    assert "<th" in html and "<td" in html


def test_dangerous_links_are_not_linked() -> None:
    html = markdown_to_html("[x](javascript:alert(1)) [y](file:///etc/passwd)")
    assert "href=" not in html


def test_images_become_links_not_img_tags() -> None:
    html = markdown_to_html("![diagram](/etc/secret.png)")
    assert "<img" not in html
    assert "[image: diagram]" in html


def test_top_level_fences_become_code_segments() -> None:
    segments = render_segments("Before\n\n```python\nprint('<hi>')\n```\n\nAfter")
    assert [type(s) for s in segments] == [ProseSegment, CodeSegment, ProseSegment]
    code = segments[1]
    assert isinstance(code, CodeSegment)
    assert code.language == "python"
    assert code.code == "print('<hi>')"
    assert "&lt;hi&gt;" in code.html and "<hi>" not in code.html
    assert "<span" in code.html  # coloured


def test_indented_code_block_is_a_code_segment() -> None:
    segments = render_segments("Para\n\n    raw code\n")
    assert isinstance(segments[-1], CodeSegment)
    assert segments[-1].code == "raw code"
    assert segments[-1].language == ""


def test_nested_fence_stays_in_prose_and_is_highlighted() -> None:
    segments = render_segments("- item\n\n  ```python\n  x = 1\n  ```\n")
    assert len(segments) == 1
    assert isinstance(segments[0], ProseSegment)
    assert "<pre" in segments[0].html and "<span" in segments[0].html


def test_highlight_unknown_language_falls_back_to_plain() -> None:
    html = highlight_code("a < b", "no-such-language")
    assert "a &lt; b" in html
    assert html.startswith("<pre")


def test_reference_links_resolve_across_the_whole_text() -> None:
    segments = render_segments("See [docs][d].\n\n[d]: https://example.org/docs\n")
    assert 'href="https://example.org/docs"' in segments[0].html

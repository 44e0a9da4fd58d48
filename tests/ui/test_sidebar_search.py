"""Search results in the sidebar: readable snippets with the matched words in bold."""

from __future__ import annotations

from assistant_app.core.search_text import MATCH_END, MATCH_START
from assistant_app.ui.conversation_list import HIT_ROLE, ConversationList, SearchRow
from assistant_app.ui.search_hits import hit_html


def test_hits_show_bold_matches_and_read_plainly(qtbot) -> None:
    sidebar = ConversationList()
    qtbot.addWidget(sidebar)
    sidebar.resize(260, 500)
    sidebar.show()
    snippet = f"call {MATCH_START}Counter{MATCH_END} <now> & then"
    title = f"{MATCH_START}Counter{MATCH_END} tips"
    rows = [SearchRow(1, 7, "Word counts", snippet), SearchRow(2, None, "Counter tips", title)]
    sidebar.set_search_results(rows, "counter")
    message_hit, title_hit = sidebar.list.item(0), sidebar.list.item(1)
    # What screen readers and tooltips get: plain text, no marks.
    assert message_hit.text() == "Word counts\ncall Counter <now> & then"
    assert title_hit.text() == "Counter tips"  # a title match is not repeated as its own snippet
    # What is drawn: the matches in bold, the text escaped.
    html = hit_html(*message_hit.data(HIT_ROLE))
    assert "<b>Counter</b>" in html and "&lt;now&gt; &amp; then" in html and MATCH_START not in html
    assert hit_html(*title_hit.data(HIT_ROLE)).count("Counter") == 1
    # Rows are tall enough for the title and the wrapped snippet.
    assert sidebar.list.visualItemRect(message_hit).height() > 2 * sidebar.list.fontMetrics().height()

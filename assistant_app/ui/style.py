"""The main window's stylesheet: a calm light theme that works with the platform's widgets."""

from __future__ import annotations

from assistant_app.ui.message_style import MESSAGE_VIEW_QSS
from assistant_app.ui.notice_bar import notice_bar_qss

STYLESHEET = """
QMainWindow, #chatPage { background: #ffffff; }
#sidebar { background: #f4f5f7; }
#sidebar QListWidget { background: transparent; border: none; font-size: 13px; }
#sidebar QListWidget::item { padding: 7px 8px; border-radius: 6px; margin: 1px 0; }
#sidebar QListWidget::item:selected { background: #dfe6f3; color: #111; }
#sidebar QListWidget::item:hover:!selected { background: #e9ecf1; }
#sidebar QLineEdit { padding: 6px 8px; border: 1px solid #d5d8de; border-radius: 6px; background: #fff; }
#newChatButton { padding: 7px 10px; border: 1px solid #d5d8de; border-radius: 6px; background: #fff; text-align: left; }
#newChatButton:hover { background: #eef1f6; }
#sidebarHint { color: #777; padding: 16px; }
#conversationTitle { font-size: 15px; font-weight: 600; color: #222; }
#composerPanel { background: #ffffff; border-top: 1px solid #e6e8eb; }
#composer { border: 1px solid #cfd3da; border-radius: 10px; padding: 6px; font-size: 14px; background: #fff; }
#composer:focus { border-color: #4c7bd9; }
#sendButton { background: #2f6fde; color: white; border: none; border-radius: 8px; padding: 8px 18px;
  font-weight: 600; }
#sendButton:disabled { background: #b8c6e3; }
#stopButton { background: #fff; color: #b3261e; border: 1px solid #e0b4b0; border-radius: 8px; padding: 7px 16px; }
#modelPicker { padding: 3px 6px; }
#conversationCost { color: #5f6368; background: #f1f3f4; border-radius: 9px; padding: 2px 9px; font-size: 12px; }
"""


def window_stylesheet(*notice_bars: str) -> str:
    """Everything the main window draws, as one sheet: its own rules, the transcript's (whose flat
    scroll bars then apply to every scroll bar in the window) and those of the named notice bars."""
    return STYLESHEET + MESSAGE_VIEW_QSS + "".join(notice_bar_qss(name) for name in notice_bars)

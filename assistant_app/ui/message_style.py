"""Stylesheet for the transcript (light palette). Applied once on the MessageView; children inherit it."""

from __future__ import annotations

from assistant_app.ui.palette import CODE_BG, LINK_COLOR, MUTED_COLOR, TABLE_BORDER, TEXT_COLOR

BACKGROUND = "#ffffff"
USER_BUBBLE = "#e9f1fe"
USER_BORDER = "#d3e3fb"
SYSTEM_BUBBLE = "#f6f8fa"
CODE_HEADER_BG = "#eef1f4"
ERROR_COLOR = "#cf222e"
WARNING_COLOR = "#9a6700"
HOVER_BG = "#eef1f4"
SCROLL_HANDLE = "#c4cad1"
SCROLL_HANDLE_HOVER = "#9aa3ad"

MESSAGE_VIEW_QSS = f"""
QWidget#messageView, QScrollArea#messageScroll, QWidget#messageContainer {{
    background: {BACKGROUND};
    border: none;
}}
QWidget#messageContainer QLabel {{
    color: {TEXT_COLOR};
}}
QFrame#messageBubble[role="user"] {{
    background: {USER_BUBBLE};
    border: 1px solid {USER_BORDER};
    border-radius: 16px;
}}
QFrame#messageBubble[role="assistant"] {{
    background: transparent;
    border: none;
}}
QFrame#messageBubble[role="system"] {{
    background: {SYSTEM_BUBBLE};
    border: 1px solid {TABLE_BORDER};
    border-radius: 10px;
}}
QWidget#messageContainer QLabel#systemCaption {{
    color: {MUTED_COLOR};
    font-weight: bold;
}}
QFrame#codeBlock, QFrame#liveCodeBlock {{
    background: {CODE_BG};
    border: 1px solid {TABLE_BORDER};
    border-radius: 8px;
}}
QWidget#codeHeader {{
    background: {CODE_HEADER_BG};
    border: none;
    border-bottom: 1px solid {TABLE_BORDER};
    border-top-left-radius: 8px;
    border-top-right-radius: 8px;
}}
QWidget#messageContainer QLabel#codeLanguage {{
    color: {MUTED_COLOR};
    background: transparent;
}}
QTextEdit#codeText, QPlainTextEdit#liveCodeText {{
    background: {CODE_BG};
    color: {TEXT_COLOR};
    border: none;
    border-bottom-left-radius: 8px;
    border-bottom-right-radius: 8px;
}}
QToolButton#copyCodeButton, QToolButton#messageAction {{
    color: {MUTED_COLOR};
    background: transparent;
    border: none;
    border-radius: 5px;
    padding: 2px 7px;
}}
QToolButton#copyCodeButton:hover, QToolButton#messageAction:hover,
QToolButton#copyCodeButton:focus, QToolButton#messageAction:focus {{
    background: {HOVER_BG};
    color: {TEXT_COLOR};
}}
QToolButton#messageAction:disabled {{
    color: #b0b7be;
}}
QWidget#messageContainer QLabel#branchLabel, QWidget#messageContainer QLabel#messageMeta {{
    color: {MUTED_COLOR};
}}
QWidget#messageContainer QLabel#messageStatus[kind="error"] {{
    color: {ERROR_COLOR};
}}
QWidget#messageContainer QLabel#messageStatus[kind="warning"] {{
    color: {WARNING_COLOR};
}}
QWidget#messageContainer QLabel#messageStatus[kind="info"] {{
    color: {MUTED_COLOR};
}}
QPushButton#recoverButton {{
    color: {LINK_COLOR};
    background: {BACKGROUND};
    border: 1px solid {TABLE_BORDER};
    border-radius: 6px;
    padding: 3px 12px;
}}
QPushButton#recoverButton:hover, QPushButton#recoverButton:focus {{
    background: {HOVER_BG};
}}
QPlainTextEdit#editBox {{
    background: {BACKGROUND};
    border: 1px solid {TABLE_BORDER};
    border-radius: 6px;
    padding: 4px;
}}
QWidget#messageContainer QLabel#messagePlaceholder {{
    color: {MUTED_COLOR};
    font-size: 13pt;
}}
QScrollBar:vertical {{
    background: {BACKGROUND};
    width: 12px;
    margin: 0px;
    border: none;
}}
QScrollBar:horizontal {{
    background: transparent;
    height: 10px;
    margin: 0px;
    border: none;
}}
QScrollBar::handle:vertical {{
    background: {SCROLL_HANDLE};
    min-height: 32px;
    margin: 2px 3px;
    border-radius: 3px;
}}
QScrollBar::handle:horizontal {{
    background: {SCROLL_HANDLE};
    min-width: 32px;
    margin: 2px 3px;
    border-radius: 3px;
}}
QScrollBar::handle:hover {{
    background: {SCROLL_HANDLE_HOVER};
}}
QScrollBar::add-line, QScrollBar::sub-line {{
    width: 0px;
    height: 0px;
    border: none;
}}
QScrollBar::add-page, QScrollBar::sub-page {{
    background: none;
}}
"""

"""Colours and fonts shared by the Markdown renderer and the transcript's stylesheet (light palette).

A module of its own so that the stylesheet can be built at start-up without loading the renderer.
"""

from __future__ import annotations

TEXT_COLOR = "#1f2328"
MUTED_COLOR = "#59636e"
LINK_COLOR = "#0969da"
INLINE_CODE_BG = "#eff1f3"
CODE_BG = "#f6f8fa"
TABLE_BORDER = "#d1d9e0"
TABLE_HEADER_BG = "#f6f8fa"
MONO_FAMILY = "'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace"
PYGMENTS_STYLE = "default"

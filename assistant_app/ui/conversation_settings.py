"""Per-conversation overrides of the app defaults: system prompt, model and sampling.

Every field has a "use default" state, reported as ``None`` by ``values()``, so a conversation
follows later changes to the app defaults unless the user pinned a value for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from assistant_app.core.settings import Settings
from assistant_app.ui.optional_fields import OptionalValue, double_spin, int_spin
from assistant_app.ui.provider_form import MUTED_COLOR

VALUE_KEYS = ("system_prompt", "model", "temperature", "top_p", "max_tokens")


def conversation_defaults(settings: Settings) -> dict[str, Any]:
    """The app-wide values a conversation falls back to, under the keys of ``values()``."""
    return {
        "system_prompt": settings.system_prompt,
        "model": settings.provider().default_model or settings.default_model,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "max_tokens": settings.max_tokens,
    }


def _describe(value: Any, unset: str = "the server decides") -> str:
    return unset if value is None else f"{value:g}" if isinstance(value, float) else str(value)


class ConversationSettingsDialog(QDialog):
    """``current`` holds the conversation's overrides (None = use default); ``defaults`` the app values.

    For ``max_tokens``, 0 means "no limit" (an explicit override), None means "use the default".
    """

    def __init__(
        self,
        current: Mapping[str, Any],
        defaults: Mapping[str, Any],
        models: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("conversationSettingsDialog")
        self.setWindowTitle("Conversation settings")
        self._defaults = {k: defaults.get(k) for k in VALUE_KEYS}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(12)
        intro = QLabel("These settings apply to this conversation only. Ticked boxes follow the app defaults.")
        intro.setWordWrap(True)
        intro.setStyleSheet(f"color: {MUTED_COLOR};")
        layout.addWidget(intro)

        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addLayout(form, 1)

        # Model.
        default_model = self._defaults["model"] or ""
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("conversationModelCombo")
        self.model_combo.setAccessibleName("Model")
        self.model_combo.setEditable(True)
        self.model_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_combo.addItems(sorted(dict.fromkeys(m for m in models if m)))
        self.model_combo.setMinimumContentsLength(18)
        self.model_default = QCheckBox(f"Use default ({default_model or 'provider default'})")
        self.model_default.setObjectName("conversationModelDefault")
        self.model_default.setAccessibleName("Use the default model")
        model_box = QWidget()
        model_row = QHBoxLayout(model_box)
        model_row.setContentsMargins(0, 0, 0, 0)
        model_row.setSpacing(12)
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.model_default)
        form.addRow("Model", model_box)
        model = current.get("model")
        self._custom_model = model if model is not None else default_model
        self.model_combo.setCurrentText(self._custom_model)
        self.model_default.toggled.connect(self._on_model_default)
        self.model_default.setChecked(model is None)
        self._on_model_default(model is None)

        # System prompt.
        self.prompt_default = QCheckBox("Use the default system prompt")
        self.prompt_default.setObjectName("conversationPromptDefault")
        self.prompt_default.setAccessibleName("Use the default system prompt")
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setObjectName("conversationSystemPromptEdit")
        self.prompt_edit.setAccessibleName("System prompt")
        self.prompt_edit.setPlaceholderText("No system prompt")
        self.prompt_edit.setMinimumHeight(110)
        self.prompt_edit.setTabChangesFocus(True)
        prompt_box = QWidget()
        prompt_col = QVBoxLayout(prompt_box)
        prompt_col.setContentsMargins(0, 0, 0, 0)
        prompt_col.setSpacing(6)
        prompt_col.addWidget(self.prompt_default)
        prompt_col.addWidget(self.prompt_edit)
        form.addRow("System prompt", prompt_box)
        prompt = current.get("system_prompt")
        self._custom_prompt = prompt if prompt is not None else (self._defaults["system_prompt"] or "")
        self.prompt_edit.setPlainText(self._custom_prompt)
        self.prompt_default.toggled.connect(self._on_prompt_default)
        self.prompt_default.setChecked(prompt is None)
        self._on_prompt_default(prompt is None)

        # Sampling.
        d = self._defaults
        self.temperature = OptionalValue(
            double_spin(0.0, 2.0, 0.1),
            f"Use default ({_describe(d['temperature'])})",
            name="Temperature",
            object_name="conversationTemperatureSpin",
        )
        self.temperature.set_value(current.get("temperature"), shown_when_unset=_number(d["temperature"], 1.0))
        form.addRow("Temperature", self.temperature)

        self.top_p = OptionalValue(
            double_spin(0.0, 1.0, 0.05),
            f"Use default ({_describe(d['top_p'])})",
            name="Top p",
            object_name="conversationTopPSpin",
        )
        self.top_p.set_value(current.get("top_p"), shown_when_unset=_number(d["top_p"], 1.0))
        form.addRow("Top p", self.top_p)

        tokens_spin = int_spin(0, 1_000_000, 256)
        tokens_spin.setSpecialValueText("No limit")
        tokens_spin.setMinimumWidth(130)
        self.max_tokens = OptionalValue(
            tokens_spin,
            f"Use default ({_describe(d['max_tokens'], 'no limit')})",
            name="Maximum output tokens",
            object_name="conversationMaxTokensSpin",
        )
        self.max_tokens.set_value(current.get("max_tokens"), shown_when_unset=_number(d["max_tokens"], 0))
        form.addRow("Max output tokens", self.max_tokens)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        restore = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.setText("Use all defaults")
        restore.setObjectName("useAllDefaultsButton")
        restore.setAutoDefault(False)
        restore.clicked.connect(self.use_all_defaults)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(620, 460)

    def values(self) -> dict[str, Any]:
        """The conversation's overrides; ``None`` means "use the default"."""
        model = None if self.model_default.isChecked() else (self.model_combo.currentText().strip() or None)
        prompt = None if self.prompt_default.isChecked() else self.prompt_edit.toPlainText()
        temperature, top_p = self.temperature.value(), self.top_p.value()
        max_tokens = self.max_tokens.value()
        return {
            "system_prompt": prompt,
            "model": model,
            "temperature": None if temperature is None else round(float(temperature), 2),
            "top_p": None if top_p is None else round(float(top_p), 2),
            "max_tokens": None if max_tokens is None else int(max_tokens),
        }

    def use_all_defaults(self) -> None:
        for box in (
            self.model_default,
            self.prompt_default,
            self.temperature.use_default,
            self.top_p.use_default,
            self.max_tokens.use_default,
        ):
            box.setChecked(True)

    def _on_model_default(self, use_default: bool) -> None:
        if use_default:
            if self.model_combo.isEnabled():
                self._custom_model = self.model_combo.currentText()
            self.model_combo.setCurrentText(self._defaults["model"] or "")
        else:
            self.model_combo.setCurrentText(self._custom_model)
        self.model_combo.setEnabled(not use_default)

    def _on_prompt_default(self, use_default: bool) -> None:
        if use_default:
            # Keep what the user typed, and show the default (read-only) so they know what applies.
            if self.prompt_edit.isEnabled():
                self._custom_prompt = self.prompt_edit.toPlainText()
            self.prompt_edit.setPlainText(self._defaults["system_prompt"] or "")
        else:
            self.prompt_edit.setPlainText(self._custom_prompt)
        self.prompt_edit.setEnabled(not use_default)


def _number(value: Any, fallback: float) -> float:
    return float(value) if isinstance(value, int | float) else fallback

"""Application settings: provider profiles and the defaults for new conversations.

The dialog works on a copy: nothing the user does is visible outside until they press Save, and
then the controller reads ``result_settings()``, ``changed_keys()`` and ``removed_providers()``.
Keys typed here are held only in this dialog's memory until the controller stores them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from assistant_app.core.settings import ProviderProfile, Settings
from assistant_app.ui.optional_fields import OptionalValue, double_spin, int_spin
from assistant_app.ui.provider_form import ERROR_COLOR, KIND_COMPATIBLE, MUTED_COLOR, ProviderForm, slugify


@dataclass
class _Entry:
    """One row of the provider list while the dialog is open."""

    profile: ProviderProfile
    original_id: str | None  # None for a provider added in this dialog
    key: str = ""
    session_only: bool = False
    touched: bool = False
    auto_id: bool = False  # added with "Add": the id follows the name until saved


class SettingsDialog(QDialog):
    """Tabs "Providers" and "Defaults". See the module docstring for how results are read."""

    testRequested = Signal(ProviderProfile, str)

    def __init__(
        self,
        settings: Settings,
        key_status: Callable[[str], bool],
        keyring_status: tuple[bool, str],
        parent: QWidget | None = None,
        *,
        env_key_present: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self._settings = copy.deepcopy(settings)
        self._key_status = key_status
        self._entries = [_Entry(replace(p), p.id) for p in self._settings.providers]
        active_id = self._settings.provider().id if self._entries else ""
        self._active: _Entry | None = next((e for e in self._entries if e.profile.id == active_id), None)
        self._removed: list[str] = []
        self._current = -1
        self._loading = False

        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        self.tabs.addTab(self._build_providers_tab(keyring_status, env_key_present), "Providers")
        self.tabs.addTab(self._build_defaults_tab(), "Defaults")
        self.tabs.addTab(self._build_dictation_tab(), "Dictation")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.setObjectName("settingsButtons")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 14, 14, 12)
        layout.setSpacing(12)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)

        self._refresh_list()
        if self._entries:
            start = self._entries.index(self._active) if self._active in self._entries else 0
            self.provider_list.setCurrentRow(start)
        self.resize(880, 600)

    # ---- construction ----

    def _build_providers_tab(self, keyring_status: tuple[bool, str], env_key_present: bool) -> QWidget:
        tab = QWidget()
        row = QHBoxLayout(tab)
        row.setContentsMargins(12, 12, 12, 12)
        row.setSpacing(16)

        left = QVBoxLayout()
        left.setSpacing(8)
        self.provider_list = QListWidget()
        self.provider_list.setObjectName("providerList")
        self.provider_list.setAccessibleName("Providers")
        self.provider_list.setMinimumWidth(200)
        self.provider_list.setMaximumWidth(260)
        self.provider_list.setStyleSheet("QListWidget::item { padding: 5px 4px; }")
        self.provider_list.currentRowChanged.connect(self._on_row_changed)
        left.addWidget(self.provider_list, 1)
        list_buttons = QHBoxLayout()
        list_buttons.setSpacing(6)
        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("addProviderButton")
        self.add_button.setAccessibleName("Add a provider")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self._on_add)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeProviderButton")
        self.remove_button.setAccessibleName("Remove the selected provider")
        self.remove_button.setAutoDefault(False)
        self.remove_button.clicked.connect(self._on_remove)
        list_buttons.addWidget(self.add_button)
        list_buttons.addWidget(self.remove_button)
        left.addLayout(list_buttons)
        self.make_active_button = QPushButton("Make active")
        self.make_active_button.setObjectName("makeActiveButton")
        self.make_active_button.setAccessibleName("Use the selected provider for new messages")
        self.make_active_button.setAutoDefault(False)
        self.make_active_button.clicked.connect(self._on_make_active)
        left.addWidget(self.make_active_button)
        row.addLayout(left)

        right = QVBoxLayout()
        right.setSpacing(8)
        self.form = ProviderForm(fill_on_detect=False)
        self.form.set_keyring_status(*keyring_status)
        self.form.set_environment_key(env_key_present)
        self.form.changed.connect(self._on_form_changed)
        self.form.testRequested.connect(self._on_test)
        self.form.detectedChosen.connect(self._on_detected)
        scroll = QScrollArea()
        scroll.setObjectName("providerFormScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()
        self.provider_error = QLabel()
        self.provider_error.setObjectName("providerError")
        self.provider_error.setAccessibleName("Problem with the provider settings")
        self.provider_error.setWordWrap(True)
        self.provider_error.setTextFormat(Qt.TextFormat.PlainText)
        self.provider_error.setStyleSheet(f"color: {ERROR_COLOR};")
        self.provider_error.hide()
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(0, 0, 6, 0)
        holder_layout.setSpacing(12)
        holder_layout.addWidget(self.form)
        holder_layout.addWidget(self.provider_error)
        holder_layout.addStretch(1)
        scroll.setWidget(holder)
        # Let the tab page's background show through (a scroll area paints its own, darker one).
        holder.setAutoFillBackground(False)
        scroll.viewport().setAutoFillBackground(False)
        right.addWidget(scroll, 1)
        row.addLayout(right, 1)
        return tab

    def _build_defaults_tab(self) -> QWidget:
        s = self._settings
        tab = QWidget()
        outer = QVBoxLayout(tab)
        outer.setContentsMargins(16, 14, 16, 14)
        outer.setSpacing(12)
        intro = QLabel("Used by new conversations. Each conversation can override them in its own settings.")
        intro.setWordWrap(True)
        intro.setStyleSheet(f"color: {MUTED_COLOR};")
        outer.addWidget(intro)

        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form, 1)

        self.model_combo = QComboBox()
        self.model_combo.setObjectName("defaultModelCombo")
        self.model_combo.setAccessibleName("Default model")
        self.model_combo.setEditable(True)
        self.model_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_combo.setCurrentText(s.default_model)
        self.model_combo.lineEdit().setPlaceholderText("e.g. gpt-4o-mini")
        form.addRow("Default model", self.model_combo)

        self.system_prompt_edit = QPlainTextEdit()
        self.system_prompt_edit.setObjectName("systemPromptEdit")
        self.system_prompt_edit.setAccessibleName("System prompt")
        self.system_prompt_edit.setPlaceholderText("Instructions sent at the start of every conversation (optional)")
        self.system_prompt_edit.setPlainText(s.system_prompt)
        self.system_prompt_edit.setMinimumHeight(90)
        self.system_prompt_edit.setTabChangesFocus(True)
        form.addRow("System prompt", self.system_prompt_edit)

        self.temperature = OptionalValue(
            double_spin(0.0, 2.0, 0.1), "Server default", name="Temperature", object_name="temperatureSpin"
        )
        self.temperature.set_value(s.temperature, shown_when_unset=1.0)
        form.addRow("Temperature", self.temperature)

        self.top_p = OptionalValue(double_spin(0.0, 1.0, 0.05), "Server default", name="Top p", object_name="topPSpin")
        self.top_p.set_value(s.top_p, shown_when_unset=1.0)
        form.addRow("Top p", self.top_p)

        self.max_tokens_spin = int_spin(0, 1_000_000, 256)
        self.max_tokens_spin.setObjectName("maxTokensSpin")
        self.max_tokens_spin.setAccessibleName("Maximum output tokens (0 means no limit)")
        self.max_tokens_spin.setSpecialValueText("No limit (server default)")
        self.max_tokens_spin.setValue(s.max_tokens or 0)
        self.max_tokens_spin.setMinimumWidth(200)
        form.addRow("Max output tokens", _left(self.max_tokens_spin))

        self.retries_spin = int_spin(0, 10)
        self.retries_spin.setObjectName("retriesSpin")
        self.retries_spin.setAccessibleName("Retries after a temporary failure")
        self.retries_spin.setValue(max(0, min(10, s.max_retries)))
        self.retries_spin.setMinimumWidth(110)
        form.addRow("Retries", _left(self.retries_spin))

        self.timeout_spin = double_spin(1.0, 3600.0, 5.0, decimals=0)
        self.timeout_spin.setObjectName("readTimeoutSpin")
        self.timeout_spin.setAccessibleName("Read timeout in seconds")
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setValue(s.read_timeout)
        self.timeout_spin.setMinimumWidth(110)
        self.timeout_spin.setToolTip("How long to wait for the server to send the next part of a reply")
        form.addRow("Read timeout", _left(self.timeout_spin))
        return tab

    def _build_dictation_tab(self) -> QWidget:
        """Dictation settings (Settings.extra["dictation"]); the dictation controller of the window that
        opened this dialog fills in the microphones (it owns the audio library)."""
        from assistant_app.ui.dictation_prefs import DictationPrefs
        from assistant_app.ui.dictation_settings import DictationSettingsPage

        self._dictation_loaded = DictationPrefs.from_settings(self._settings)
        self.dictation_page = DictationSettingsPage(self._dictation_loaded)
        owner = self.parent()
        source = owner.findChild(QObject, "dictationController") if owner is not None else None
        if source is not None and hasattr(source, "attach_settings_page"):
            source.attach_settings_page(self.dictation_page, self)
        else:
            self.dictation_page.set_devices([], "Open Settings from the main window to choose a microphone.")
        return self.dictation_page

    def _store_dictation(self, result: Settings) -> None:
        from assistant_app.ui.dictation_prefs import SECTION

        prefs = self.dictation_page.prefs()
        if prefs != self._dictation_loaded or SECTION in result.extra:  # an untouched default is not written
            prefs.store(result)

    # ---- public API ----

    def set_models(self, models: Sequence[str]) -> None:
        """Offer these model ids in the default-model combo, keeping what is typed."""
        current = self.model_combo.currentText()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItems(sorted(dict.fromkeys(m for m in models if m)))
        self.model_combo.setCurrentText(current)
        self.model_combo.blockSignals(False)

    def set_detected(self, servers: Sequence[tuple[str, str, str]]) -> None:
        self.form.set_detected(servers)

    def show_test_running(self) -> None:
        self.form.show_test_running()

    def show_test_result(self, ok: bool, message: str, models: Sequence[str]) -> None:
        self.form.show_test_result(ok, message, models)

    def result_settings(self) -> Settings:
        """A modified copy of the settings; the object passed in is never changed."""
        self._commit_current()
        result = copy.deepcopy(self._settings)
        result.providers = [replace(e.profile) for e in self._entries]
        if self._active in self._entries and self._active is not None:
            result.active_provider = self._active.profile.id
        elif self._entries:
            result.active_provider = self._entries[0].profile.id
        result.default_model = self.model_combo.currentText().strip()
        result.system_prompt = self.system_prompt_edit.toPlainText()
        temperature, top_p = self.temperature.value(), self.top_p.value()
        result.temperature = None if temperature is None else round(float(temperature), 2)
        result.top_p = None if top_p is None else round(float(top_p), 2)
        result.max_tokens = self.max_tokens_spin.value() or None
        result.max_retries = self.retries_spin.value()
        result.read_timeout = float(self.timeout_spin.value())
        self._store_dictation(result)
        return result

    def changed_keys(self) -> dict[str, tuple[str, bool]]:
        """provider_id -> (key typed in this dialog, session only) for each provider given a new key."""
        self._commit_current()
        return {e.profile.id: (e.key, e.session_only) for e in self._entries if e.key}

    def removed_providers(self) -> list[str]:
        """Ids of saved providers the user removed (their stored keys can be deleted)."""
        return list(self._removed)

    def accept(self) -> None:
        self._commit_current()
        problem = self._first_problem()
        if problem is not None:
            row, message = problem
            self.tabs.setCurrentIndex(0)
            self.provider_list.setCurrentRow(row)
            self._show_provider_error(f"{self._entries[row].profile.name}: {message}")
            self.form.focus_first_input()
            return
        if self.dictation_page.problem() is not None:
            self.tabs.setCurrentWidget(self.dictation_page)
            return
        super().accept()

    # ---- internals ----

    def _first_problem(self) -> tuple[int, str] | None:
        """Validate every new or edited provider (untouched ones are left as they were)."""
        keep = self._current
        found: tuple[int, str] | None = None
        for row, entry in enumerate(self._entries):
            if entry.original_id is not None and not entry.touched:
                continue
            if row != self._current:
                self._load(row)
            message = self.form.validate()
            if message:
                found = (row, message)
                break
        if found is None and keep != self._current and 0 <= keep < len(self._entries):
            self._load(keep)
        return found

    def _load(self, row: int) -> None:
        entry = self._entries[row]
        stored = bool(entry.original_id) and self._key_status(entry.original_id or "")
        self._loading = True
        try:
            self._current = row
            self.form.set_profile(entry.profile, has_stored_key=stored, pending_key=entry.key)
        finally:
            self._loading = False
        self._update_buttons()

    def _commit_current(self) -> None:
        if not 0 <= self._current < len(self._entries):
            return
        entry = self._entries[self._current]
        profile = self.form.profile()
        if entry.original_id is not None:
            # Keys live in the keyring under the id: an existing provider keeps its id whatever is edited.
            profile.id = entry.original_id
        elif entry.auto_id:
            profile.id = self._unique_id(slugify(profile.name), entry)
        else:
            profile.id = self._unique_id(profile.id, entry)
        entry.profile = profile
        entry.key = self.form.key()
        entry.session_only = self.form.session_only()

    def _unique_id(self, wanted: str, owner: _Entry) -> str:
        taken = {e.profile.id for e in self._entries if e is not owner} | set(self._removed)
        base = wanted or "provider"
        candidate, n = base, 2
        while candidate in taken:
            candidate = f"{base}-{n}"
            n += 1
        return candidate

    def _refresh_list(self) -> None:
        self.provider_list.blockSignals(True)
        current = self.provider_list.currentRow()
        self.provider_list.clear()
        for entry in self._entries:
            item = QListWidgetItem(self._item_text(entry))
            item.setToolTip(entry.profile.base_url)
            if entry is self._active:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.provider_list.addItem(item)
        if 0 <= current < len(self._entries):
            self.provider_list.setCurrentRow(current)
        self.provider_list.blockSignals(False)
        self._update_buttons()

    def _item_text(self, entry: _Entry) -> str:
        name = entry.profile.name or "New server"
        return f"{name}  (active)" if entry is self._active else name

    def _update_item(self, row: int) -> None:
        item = self.provider_list.item(row)
        if item is not None:
            entry = self._entries[row]
            item.setText(self._item_text(entry))
            item.setToolTip(entry.profile.base_url)

    def _update_buttons(self) -> None:
        has_current = 0 <= self._current < len(self._entries)
        self.remove_button.setEnabled(has_current and len(self._entries) > 1)
        is_active = has_current and self._entries[self._current] is self._active
        self.make_active_button.setEnabled(has_current and not is_active)
        self.make_active_button.setText("Active" if is_active else "Make active")
        self.form.setEnabled(has_current)

    def _show_provider_error(self, message: str) -> None:
        self.provider_error.setText(message)
        self.provider_error.setVisible(bool(message))

    def _add_entry(self, profile: ProviderProfile, *, auto_id: bool) -> None:
        self._commit_current()
        entry = _Entry(profile, None, touched=True, auto_id=auto_id)
        self._entries.append(entry)
        entry.profile.id = self._unique_id(slugify(profile.name) if auto_id else profile.id, entry)
        self._refresh_list()
        self.provider_list.setCurrentRow(len(self._entries) - 1)

    # ---- slots ----

    def _on_row_changed(self, row: int) -> None:
        if self._loading:
            return
        self._commit_current()
        self._show_provider_error("")
        if 0 <= row < len(self._entries):
            self._load(row)
        else:
            self._current = -1
            self._update_buttons()

    def _on_form_changed(self) -> None:
        if self._loading or not 0 <= self._current < len(self._entries):
            return
        self._entries[self._current].touched = True
        self._commit_current()
        self._update_item(self._current)
        self._show_provider_error("")

    def _on_add(self) -> None:
        self._add_entry(
            ProviderProfile(id="", name="", kind=KIND_COMPATIBLE, base_url="", needs_key=False), auto_id=True
        )
        self.form.focus_first_input()

    def _on_remove(self) -> None:
        row = self._current
        if not 0 <= row < len(self._entries) or len(self._entries) <= 1:
            return
        entry = self._entries.pop(row)
        if entry.original_id is not None:
            self._removed.append(entry.original_id)
        if entry is self._active:
            self._active = self._entries[0]
        self._current = -1  # the removed entry must not be committed again
        self._refresh_list()
        self.provider_list.setCurrentRow(min(row, len(self._entries) - 1))
        if self._current < 0:
            self._load(min(row, len(self._entries) - 1))

    def _on_make_active(self) -> None:
        if 0 <= self._current < len(self._entries):
            self._active = self._entries[self._current]
            self._refresh_list()

    def _on_test(self) -> None:
        if not 0 <= self._current < len(self._entries):
            return
        self._commit_current()
        entry = self._entries[self._current]
        self.testRequested.emit(replace(entry.profile), entry.key)

    def _on_detected(self, provider_id: str, name: str, base_url: str) -> None:
        for row, entry in enumerate(self._entries):
            if entry.profile.id == provider_id or entry.profile.base_url.rstrip("/") == base_url.rstrip("/"):
                self.provider_list.setCurrentRow(row)
                return
        self._add_entry(
            ProviderProfile(id=provider_id, name=name, kind=KIND_COMPATIBLE, base_url=base_url, needs_key=False),
            auto_id=False,
        )


def _left(widget: QWidget) -> QWidget:
    """Wrap a fixed-size field so it sits at the left of a growing form column."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(widget)
    row.addStretch(1)
    return box

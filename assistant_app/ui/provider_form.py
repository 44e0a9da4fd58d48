"""A form that edits one provider profile and its API key.

The form only renders and emits intents: it never talks to the network or the keyring. A stored key
is never shown; an empty key field on a profile that has one means "keep the stored key".

The rows depend on the kind of provider, and for OpenAI the base URL sits behind an "Advanced"
toggle *below* the key, so the form re-lays its rows on every kind change instead of just hiding
some (a hidden row cannot move).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant_app.core.settings import ProviderProfile

KIND_OPENAI = "openai"
KIND_AZURE = "azure"
KIND_COMPATIBLE = "compatible"
KIND_LABELS: list[tuple[str, str]] = [
    (KIND_OPENAI, "OpenAI"),
    (KIND_AZURE, "Azure OpenAI"),
    (KIND_COMPATIBLE, "OpenAI-compatible server (Ollama, LM Studio, vLLM, llama.cpp, OpenRouter…)"),
]
DEFAULT_OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_AZURE_API_VERSION = "2024-10-21"
COMPATIBLE_URL_EXAMPLE = "http://localhost:11434/v1"
AZURE_URL_EXAMPLE = "https://NAME.openai.azure.com"

OK_COLOR = "#1b7f3b"
ERROR_COLOR = "#b3261e"
MUTED_COLOR = "#6b6b6b"


# ---- pure helpers (no widgets) -------------------------------------------------------------------


def slugify(text: str) -> str:
    """``"LM Studio"`` -> ``"lm-studio"``; empty when nothing usable is left."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def is_http_url(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def url_host(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        return f"{host}:{parts.port}" if host and parts.port else host
    except ValueError:
        return ""


def split_azure_url(url: str) -> tuple[str, str, str]:
    """Split a pasted Azure request URL into (resource endpoint, deployment, api-version).

    People often copy the full "Target URI" from the Azure portal
    (``https://x.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21``);
    the form wants its three parts. Parts that are not present come back empty.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return url.strip(), "", ""
    endpoint = f"{parts.scheme}://{parts.netloc}"
    match = re.search(r"/openai/deployments/([^/?#]+)", parts.path)
    deployment = match.group(1) if match else ""
    version = (parse_qs(parts.query).get("api-version") or [""])[0]
    if not match and not parts.path.rstrip("/").startswith("/openai"):
        endpoint = f"{endpoint}{parts.path}".rstrip("/")
    return endpoint, deployment, version


def key_problem(key: str) -> str | None:
    """What is wrong with a (stripped) key, in words that never repeat the key itself."""
    if any(ch.isspace() for ch in key):
        return "The API key contains spaces or line breaks. Copy it again without them."
    if not all(33 <= ord(ch) < 127 for ch in key):
        return "The API key contains characters that cannot be part of a key. Copy it again."
    return None


# ---- the form ------------------------------------------------------------------------------------


class ProviderForm(QWidget):
    """Edits one ``ProviderProfile`` plus its key. See the module docstring for the key rules."""

    testRequested = Signal()
    #: Any user edit (after ``set_profile``); controllers use it to re-validate or mark dirty.
    changed = Signal()
    #: Return pressed in a text field (the welcome screen treats it as "Save and start").
    submitted = Signal()
    #: A "Use <server>" button was clicked: (provider_id, name, base_url).
    detectedChosen = Signal(str, str, str)

    def __init__(self, parent: QWidget | None = None, *, fill_on_detect: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("providerForm")
        self._fill_on_detect = fill_on_detect
        self._loaded: ProviderProfile | None = None
        self._has_stored_key = False
        self._detected_id = ""
        self._env_key = False
        self._keyring_usable = True
        self._advanced_open = False
        self._kind = KIND_OPENAI
        self._url_by_kind: dict[str, str] = {}
        self._tested_models: list[str] = []
        self._detected_buttons: list[QPushButton] = []
        self._build()
        self._reset_urls()
        self._apply_kind_texts()
        self._relayout()

    # ---- construction ----

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(14)

        # Detected local servers: one click fills the form.
        self._detected_frame = QFrame()
        self._detected_frame.setObjectName("detectedServers")
        self._detected_frame.setFrameShape(QFrame.Shape.StyledPanel)
        detected_layout = QVBoxLayout(self._detected_frame)
        detected_layout.setContentsMargins(12, 10, 12, 12)
        detected_layout.setSpacing(6)
        title = QLabel("Detected on this computer")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        detected_layout.addWidget(title)
        self._detected_list = QVBoxLayout()
        self._detected_list.setSpacing(4)
        detected_layout.addLayout(self._detected_list)
        self._detected_frame.hide()
        outer.addWidget(self._detected_frame)

        # Fields.
        self._form_host = QWidget()
        # A grid rather than a QFormLayout: rows are re-added on every kind change, and QFormLayout keeps
        # per-row height-for-width caches across that, giving a word-wrapped row another row's height.
        self._grid = QGridLayout(self._form_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(14)
        self._grid.setVerticalSpacing(10)
        self._grid.setColumnStretch(1, 1)
        outer.addWidget(self._form_host)

        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("providerKind")
        self.kind_combo.setAccessibleName("Provider kind")
        for kind, label in KIND_LABELS:
            self.kind_combo.addItem(label, kind)
        self.kind_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.kind_combo.setMinimumContentsLength(24)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)

        self.name_edit = self._line_edit("providerNameEdit", "Name", "e.g. Ollama on my desktop")

        self.url_edit = self._line_edit("baseUrlEdit", "Base URL", "")
        self.url_edit.editingFinished.connect(self._on_url_finished)

        self.deployment_edit = self._line_edit("azureDeploymentEdit", "Deployment", "e.g. gpt-4o-mini")
        self.api_version_edit = self._line_edit("azureApiVersionEdit", "API version", DEFAULT_AZURE_API_VERSION)

        self.needs_key_check = QCheckBox("This server needs an API key")
        self.needs_key_check.setObjectName("needsKeyCheck")
        self.needs_key_check.setAccessibleName("This server needs an API key")
        self.needs_key_check.toggled.connect(self._on_needs_key_toggled)

        self.key_edit = self._line_edit("apiKeyEdit", "API key", "")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setInputMethodHints(
            Qt.InputMethodHint.ImhHiddenText
            | Qt.InputMethodHint.ImhSensitiveData
            | Qt.InputMethodHint.ImhNoPredictiveText
        )
        self.show_key_button = QToolButton()
        self.show_key_button.setObjectName("showKeyButton")
        self.show_key_button.setCheckable(True)
        self.show_key_button.setText("Show")
        self.show_key_button.setAccessibleName("Show the API key")
        self.show_key_button.setToolTip("Show or hide the key you typed")
        self.show_key_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.show_key_button.toggled.connect(self._on_show_key)
        self._key_box = QWidget()
        key_row = QHBoxLayout(self._key_box)
        key_row.setContentsMargins(0, 0, 0, 0)
        key_row.setSpacing(6)
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.show_key_button)

        self.key_hint = QLabel()
        self.key_hint.setObjectName("keyHint")
        self.key_hint.setWordWrap(True)
        self.key_hint.setOpenExternalLinks(True)
        self.key_hint.setTextFormat(Qt.TextFormat.RichText)
        self.key_hint.setStyleSheet(f"color: {MUTED_COLOR};")

        self.keyring_warning = QLabel()
        self.keyring_warning.setObjectName("keyringWarning")
        self.keyring_warning.setAccessibleName("Keyring warning")
        self.keyring_warning.setWordWrap(True)
        self.keyring_warning.setTextFormat(Qt.TextFormat.PlainText)
        self.keyring_warning.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.keyring_warning.setStyleSheet(
            "QLabel { background: #fff4ce; color: #4d3a00; border: 1px solid #e0c36b;"
            " border-radius: 4px; padding: 6px 8px; }"
        )
        self.session_only_check = QCheckBox("Use this key for this session only (it will not be saved)")
        self.session_only_check.setObjectName("sessionOnlyCheck")
        self.session_only_check.setAccessibleName("Use this key for this session only")

        self.advanced_button = QToolButton()
        self.advanced_button.setObjectName("advancedToggle")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setAutoRaise(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setAccessibleName("Show advanced settings")
        self.advanced_button.toggled.connect(self._on_advanced_toggled)
        self._set_advanced_text()

        # (label, field) by row id; rows without a caption get an empty label so the field stays in its column.
        self._rows: dict[str, tuple[QLabel, QWidget]] = {
            "kind": (QLabel("Connect to"), self.kind_combo),
            "name": (QLabel("Name"), self.name_edit),
            "url": (QLabel("Base URL"), self.url_edit),
            "deployment": (QLabel("Deployment"), self.deployment_edit),
            "api_version": (QLabel("API version"), self.api_version_edit),
            "needs_key": (QLabel(""), self.needs_key_check),
            "key": (QLabel("API key"), self._key_box),
            "key_hint": (QLabel(""), self.key_hint),
            "keyring": (QLabel(""), self.keyring_warning),
            "session_only": (QLabel(""), self.session_only_check),
            "advanced": (QLabel(""), self.advanced_button),
        }
        # One label-column width for every kind, so the fields do not jump sideways when the kind changes.
        captions = ["Connect to", "Name", "Base URL", "Server URL", "Resource endpoint", "Deployment", "API version"]
        label_width = max(self.fontMetrics().horizontalAdvance(c) for c in captions) + 4
        for label, field in self._rows.values():
            label.setParent(self._form_host)
            label.setMinimumWidth(label_width)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            field.setParent(self._form_host)
            label.setBuddy(field if field is not self._key_box else self.key_edit)

        # Test connection.
        test_row = QHBoxLayout()
        test_row.setSpacing(10)
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("testConnectionButton")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.setAutoDefault(False)
        self.test_button.clicked.connect(self.testRequested)
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        outer.addLayout(test_row)
        self.test_result = QLabel()
        self.test_result.setObjectName("testResultLabel")
        self.test_result.setAccessibleName("Connection test result")
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_result.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.test_result.hide()
        outer.addWidget(self.test_result)

        for edit in (self.name_edit, self.url_edit, self.deployment_edit, self.api_version_edit, self.key_edit):
            edit.textEdited.connect(self._on_user_edit)
            edit.returnPressed.connect(self.submitted)

    def _line_edit(self, object_name: str, accessible: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(object_name)
        edit.setAccessibleName(accessible)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(object_name != "apiKeyEdit")
        return edit

    # ---- public API ----

    def kind(self) -> str:
        return self._kind

    def set_profile(self, profile: ProviderProfile, has_stored_key: bool, pending_key: str = "") -> None:
        """Load a profile. A stored key is never shown: the key field stays empty and means "keep it".

        ``pending_key`` is a key the user typed earlier in the same dialog and has not saved yet.
        """
        self._loaded = replace(profile)
        self._has_stored_key = has_stored_key
        self._detected_id = ""
        self._reset_urls()
        kind = profile.kind if profile.kind in {k for k, _ in KIND_LABELS} else KIND_COMPATIBLE
        self._url_by_kind[kind] = profile.base_url
        self._kind = kind
        widgets = (self.kind_combo, self.name_edit, self.url_edit, self.needs_key_check, self.advanced_button)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
            self.name_edit.setText(profile.name if kind == KIND_COMPATIBLE else "")
            self.url_edit.setText(profile.base_url)
            self.deployment_edit.setText(profile.azure_deployment)
            self.api_version_edit.setText(profile.azure_api_version or DEFAULT_AZURE_API_VERSION)
            self.needs_key_check.setChecked(profile.needs_key if kind == KIND_COMPATIBLE else False)
            self._advanced_open = kind == KIND_OPENAI and profile.base_url.strip().rstrip("/") != DEFAULT_OPENAI_URL
            self.advanced_button.setChecked(self._advanced_open)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self.key_edit.setText(pending_key)
        self.show_key_button.setChecked(False)
        self._set_advanced_text()
        self._apply_kind_texts()
        self.clear_test_result()
        self._tested_models = []
        self._relayout()

    def profile(self) -> ProviderProfile:
        """A new profile built from the fields. The loaded profile's id is kept while its kind is."""
        kind = self._kind
        loaded = self._loaded
        same_kind = loaded is not None and loaded.kind == kind
        url = self._url_text()
        if kind == KIND_OPENAI:
            name = loaded.name if same_kind and loaded and loaded.name else "OpenAI"
        elif kind == KIND_AZURE:
            name = loaded.name if same_kind and loaded and loaded.name else "Azure OpenAI"
        else:
            name = self.name_edit.text().strip() or url_host(url) or "New server"

        if kind == KIND_COMPATIBLE and self._detected_id:
            provider_id = self._detected_id
        elif same_kind and loaded and loaded.id:
            provider_id = loaded.id
        elif kind == KIND_COMPATIBLE:
            provider_id = slugify(name) or "custom"
        elif kind == KIND_AZURE:
            deployment = slugify(self.deployment_edit.text())
            provider_id = f"azure-{deployment}" if deployment else "azure"
        else:
            provider_id = "openai"

        keep_model = same_kind and loaded is not None and (not self._detected_id or self._detected_id == loaded.id)
        return ProviderProfile(
            id=provider_id,
            name=name,
            kind=kind,
            base_url=url,
            azure_deployment=self.deployment_edit.text().strip(),
            azure_api_version=self.api_version_edit.text().strip() or DEFAULT_AZURE_API_VERSION,
            needs_key=self._key_needed(),
            default_model=loaded.default_model if keep_model and loaded else "",
        )

    def key(self) -> str:
        """The key typed by the user, stripped; empty when none was typed or none is needed."""
        return self.key_edit.text().strip() if self._key_needed() else ""

    def validate(self) -> str | None:
        """A sentence saying what to fix, or None when the fields can be saved."""
        kind = self._kind
        url = self._url_text()
        if kind == KIND_COMPATIBLE and not url:
            return f"Enter the server address, for example {COMPATIBLE_URL_EXAMPLE}."
        if kind == KIND_AZURE and not url:
            return f"Enter the Azure resource endpoint, for example {AZURE_URL_EXAMPLE}."
        if not is_http_url(url):
            example = {KIND_AZURE: AZURE_URL_EXAMPLE, KIND_OPENAI: DEFAULT_OPENAI_URL}.get(kind, COMPATIBLE_URL_EXAMPLE)
            return f"The server address must start with http:// or https://, for example {example}."
        if kind == KIND_AZURE:
            if not self.deployment_edit.text().strip():
                return "Enter the deployment name (Azure portal → your resource → Deployments)."
            if not self.api_version_edit.text().strip():
                return f"Enter the Azure API version, for example {DEFAULT_AZURE_API_VERSION}."
        if self._key_needed():
            key = self.key()
            if key:
                return key_problem(key)
            if self._stored_key_applies() or (kind == KIND_OPENAI and self._env_key):
                return None
            if kind == KIND_OPENAI:
                return "Paste your OpenAI API key."
            if kind == KIND_AZURE:
                return "Paste the API key of your Azure OpenAI resource."
            return "Enter the server's API key, or untick “This server needs an API key”."
        return None

    def set_detected(self, servers: Sequence[tuple[str, str, str]]) -> None:
        """Show one button per local server found: (provider_id, name, base_url)."""
        for button in self._detected_buttons:
            self._detected_list.removeWidget(button)
            button.deleteLater()
        self._detected_buttons = []
        for provider_id, name, base_url in servers:
            text = f"Use {name} at {base_url}"
            button = QPushButton(text)
            button.setObjectName("detectedServerButton")
            button.setAccessibleName(text)
            button.setProperty("providerId", provider_id)
            button.setAutoDefault(False)
            button.setStyleSheet("text-align: left; padding: 4px 10px;")
            button.clicked.connect(
                lambda _=False, p=provider_id, n=name, u=base_url: self._on_detected_clicked(p, n, u)
            )
            self._detected_list.addWidget(button)
            self._detected_buttons.append(button)
        self._detected_frame.setVisible(bool(servers))

    def use_detected(self, provider_id: str, name: str, base_url: str) -> None:
        """Fill the form for a local server that needs no key."""
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(KIND_COMPATIBLE))
        self.name_edit.setText(name)
        self.url_edit.setText(base_url)
        self._url_by_kind[KIND_COMPATIBLE] = base_url
        self.needs_key_check.setChecked(False)
        self._detected_id = provider_id
        self._relayout()
        self._on_user_edit()

    def set_keyring_status(self, usable: bool, reason: str) -> None:
        """When the keyring cannot store secrets, say why and force a session-only key."""
        self._keyring_usable = usable
        if usable:
            self.keyring_warning.clear()
            self.session_only_check.setChecked(False)
            self.session_only_check.setEnabled(True)
        else:
            text = "The system keyring is not available, so the key cannot be saved."
            if reason.strip():
                text += f"\n{reason.strip()}"
            self.keyring_warning.setText(text)
            self.session_only_check.setChecked(True)
            self.session_only_check.setEnabled(False)
        self._relayout()

    def session_only(self) -> bool:
        return self.session_only_check.isChecked()

    def set_environment_key(self, present: bool) -> None:
        """Tell the form that OPENAI_API_KEY is set, so an empty key is acceptable for OpenAI."""
        self._env_key = present
        self._apply_kind_texts()

    def show_test_running(self) -> None:
        self.test_button.setEnabled(False)
        self._set_result("Testing the connection…", MUTED_COLOR)

    def show_test_result(self, ok: bool, message: str, models: Sequence[str]) -> None:
        self.test_button.setEnabled(True)
        if ok:
            self._tested_models = list(models)
            count = len(models)
            if count == 0:
                text = "✓ Connected — the server listed no models"
            else:
                text = f"✓ Connected — {count} model{'s' if count != 1 else ''} available"
            if message.strip():
                text += f"\n{message.strip()}"
            self._set_result(text, OK_COLOR)
        else:
            self._set_result(f"✗ {message.strip() or 'The connection failed.'}", ERROR_COLOR)

    def clear_test_result(self) -> None:
        self.test_button.setEnabled(True)
        self.test_result.clear()
        self.test_result.hide()

    def tested_models(self) -> list[str]:
        """Model ids from the last successful connection test (empty before one)."""
        return list(self._tested_models)

    def focus_first_input(self) -> None:
        order = {
            KIND_OPENAI: [self.key_edit],
            KIND_AZURE: [self.url_edit, self.deployment_edit, self.key_edit],
            KIND_COMPATIBLE: [self.url_edit, self.name_edit],
        }[self._kind]
        target = next((w for w in order if not w.text().strip() and w.isVisibleTo(self)), order[0])
        target.setFocus(Qt.FocusReason.OtherFocusReason)

    # ---- internals ----

    def _reset_urls(self) -> None:
        self._url_by_kind = {KIND_OPENAI: DEFAULT_OPENAI_URL, KIND_AZURE: "", KIND_COMPATIBLE: ""}

    def _url_text(self) -> str:
        url = self.url_edit.text().strip()
        if not url and self._kind == KIND_OPENAI:
            return DEFAULT_OPENAI_URL
        return url

    def _key_needed(self) -> bool:
        return self._kind != KIND_COMPATIBLE or self.needs_key_check.isChecked()

    def _stored_key_applies(self) -> bool:
        # A key stored for another kind of service (the user switched kind) is not the key for this one.
        return self._has_stored_key and self._loaded is not None and self._loaded.kind == self._kind

    def _row_order(self) -> list[str]:
        key_rows = ["key"]
        if self.key_hint.text():
            key_rows.append("key_hint")
        if not self._keyring_usable:
            key_rows += ["keyring", "session_only"]
        if self._kind == KIND_OPENAI:
            return ["kind", *key_rows, "advanced"] + (["url"] if self._advanced_open else [])
        if self._kind == KIND_AZURE:
            return ["kind", "url", "deployment", "api_version", *key_rows]
        return ["kind", "name", "url", "needs_key"] + (key_rows if self.needs_key_check.isChecked() else [])

    def _relayout(self) -> None:
        self._apply_key_hint()
        focused = self.focusWidget()
        for label, field in self._rows.values():
            self._grid.removeWidget(label)
            self._grid.removeWidget(field)
        order = self._row_order()
        for row_id, (label, field) in self._rows.items():
            if row_id not in order:
                label.hide()
                field.hide()
        for row, row_id in enumerate(order):
            label, field = self._rows[row_id]
            self._grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._grid.addWidget(field, row, 1)
            label.show()
            field.show()
        if focused is not None and focused.isVisibleTo(self):
            focused.setFocus()

    def _apply_kind_texts(self) -> None:
        label, _ = self._rows["url"]
        if self._kind == KIND_AZURE:
            label.setText("Resource endpoint")
            self.url_edit.setPlaceholderText(AZURE_URL_EXAMPLE)
            self.url_edit.setAccessibleName("Azure resource endpoint")
        elif self._kind == KIND_COMPATIBLE:
            label.setText("Server URL")
            self.url_edit.setPlaceholderText(COMPATIBLE_URL_EXAMPLE)
            self.url_edit.setAccessibleName("Server URL")
        else:
            label.setText("Base URL")
            self.url_edit.setPlaceholderText(DEFAULT_OPENAI_URL)
            self.url_edit.setAccessibleName("Base URL")
        self._apply_key_hint()

    def _apply_key_hint(self) -> None:
        if self._stored_key_applies():
            text = (
                "A key is stored in the system keyring. Leave this field empty to keep it, "
                "or type a new key to replace it."
            )
            self.key_edit.setPlaceholderText("Stored in the keyring (leave empty to keep)")
        else:
            self.key_edit.setPlaceholderText({KIND_OPENAI: "sk-…", KIND_AZURE: "Key 1 or Key 2"}.get(self._kind, ""))
            if self._kind == KIND_OPENAI and self._env_key:
                text = "OPENAI_API_KEY from your environment is used when this field is empty."
            elif self._kind == KIND_OPENAI:
                text = (
                    'Create a key at <a href="https://platform.openai.com/api-keys">platform.openai.com/api-keys</a>.'
                )
            elif self._kind == KIND_AZURE:
                text = "The key and endpoint are in the Azure portal under “Keys and Endpoint”."
            else:
                text = ""
        self.key_hint.setText(text)

    def _set_advanced_text(self) -> None:
        arrow = "▾" if self._advanced_open else "▸"
        self.advanced_button.setText(f"{arrow} Advanced: custom base URL")

    def _set_result(self, text: str, color: str) -> None:
        self.test_result.setText(text)
        self.test_result.setStyleSheet(f"color: {color};")
        self.test_result.show()

    # ---- slots ----

    def _on_kind_changed(self, _index: int) -> None:
        new_kind = self.kind_combo.currentData() or KIND_OPENAI
        self._url_by_kind[self._kind] = self.url_edit.text().strip()
        self._kind = new_kind
        self.url_edit.setText(self._url_by_kind.get(new_kind, ""))
        if new_kind != KIND_COMPATIBLE:
            self._detected_id = ""
        self._apply_kind_texts()
        self._relayout()
        self._on_user_edit()

    def _on_url_finished(self) -> None:
        if self._kind != KIND_AZURE:
            return
        endpoint, deployment, version = split_azure_url(self.url_edit.text())
        if endpoint != self.url_edit.text().strip():
            self.url_edit.setText(endpoint)
            if deployment and not self.deployment_edit.text().strip():
                self.deployment_edit.setText(deployment)
            if version:
                self.api_version_edit.setText(version)
            self._on_user_edit()

    def _on_needs_key_toggled(self, _checked: bool) -> None:
        self._relayout()
        self._on_user_edit()

    def _on_show_key(self, shown: bool) -> None:
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_key_button.setText("Hide" if shown else "Show")
        self.show_key_button.setAccessibleName("Hide the API key" if shown else "Show the API key")

    def _on_advanced_toggled(self, open_: bool) -> None:
        self._advanced_open = open_
        self._set_advanced_text()
        self._relayout()
        if open_:
            self.url_edit.setFocus()

    def _on_detected_clicked(self, provider_id: str, name: str, base_url: str) -> None:
        if self._fill_on_detect:
            self.use_detected(provider_id, name, base_url)
        self.detectedChosen.emit(provider_id, name, base_url)

    def _on_user_edit(self, *_args: object) -> None:
        # A result from before the edit describes other settings: drop it rather than mislead.
        if self.test_button.isEnabled():
            self.clear_test_result()
        self.changed.emit()

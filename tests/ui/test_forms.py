"""Provider form, welcome panel, settings dialog and conversation settings (pytest-qt, offscreen)."""

from __future__ import annotations

import copy

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from assistant_app.core.settings import ProviderProfile, Settings
from assistant_app.ui.conversation_settings import ConversationSettingsDialog, conversation_defaults
from assistant_app.ui.provider_form import ProviderForm, key_problem, slugify, split_azure_url
from assistant_app.ui.settings_dialog import SettingsDialog
from assistant_app.ui.welcome import WelcomePanel

SECRET = "sk-test-0123456789abcdef"
OLLAMA = ("ollama", "Ollama", "http://127.0.0.1:11434/v1")
LMSTUDIO = ("lmstudio", "LM Studio", "http://127.0.0.1:1234/v1")


@pytest.fixture
def form(qtbot) -> ProviderForm:
    widget = ProviderForm()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    return widget


def visible(form: ProviderForm, widget: QWidget) -> bool:
    return widget.isVisibleTo(form)


def set_kind(form: ProviderForm, kind: str) -> None:
    form.kind_combo.setCurrentIndex(form.kind_combo.findData(kind))


def type_into(qtbot, edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def assert_inputs_have_accessible_names(root: QWidget) -> None:
    kinds = (QLineEdit, QComboBox, QCheckBox, QAbstractSpinBox, QPlainTextEdit, QPushButton)
    missing = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, kinds):
            continue
        # Line edits that belong to a combo box or spin box are parts of that input, not inputs.
        if isinstance(widget, QLineEdit) and isinstance(widget.parent(), QComboBox | QAbstractSpinBox):
            continue
        if isinstance(widget, QPushButton) and widget.text():
            continue  # a button's text is its accessible name
        if not widget.accessibleName():
            missing.append(f"{type(widget).__name__}:{widget.objectName()}")
    assert missing == []


# ---- pure helpers --------------------------------------------------------------------------------


def test_split_azure_url_takes_apart_a_pasted_target_uri():
    url = "https://res1.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-06-01"
    assert split_azure_url(url) == ("https://res1.openai.azure.com", "gpt4o", "2024-06-01")
    assert split_azure_url("https://res1.openai.azure.com/") == ("https://res1.openai.azure.com", "", "")


def test_slugify_and_key_problem():
    assert slugify("LM Studio (desktop)") == "lm-studio-desktop"
    assert slugify("…") == ""
    assert key_problem("sk-abc") is None
    assert "spaces" in (key_problem("sk-a bc") or "")
    problem = key_problem("sk-ab\u00e9c") or ""
    assert "characters" in problem and "sk-ab" not in problem


# ---- ProviderForm --------------------------------------------------------------------------------


def test_kind_switching_shows_the_fields_of_each_kind(form):
    form.set_profile(ProviderProfile(id="openai", name="OpenAI"), has_stored_key=False)
    assert visible(form, form.key_edit)
    assert not visible(form, form.url_edit), "OpenAI's base URL is under Advanced"
    assert not visible(form, form.name_edit)
    assert not visible(form, form.deployment_edit)
    form.advanced_button.click()
    assert visible(form, form.url_edit)
    assert form.url_edit.text() == "https://api.openai.com/v1"

    set_kind(form, "azure")
    assert [visible(form, w) for w in (form.url_edit, form.deployment_edit, form.api_version_edit, form.key_edit)] == [
        True
    ] * 4
    assert not visible(form, form.name_edit)
    assert not visible(form, form.advanced_button)
    assert form.url_edit.placeholderText() == "https://NAME.openai.azure.com"
    assert form.url_edit.text() == "", "the OpenAI URL is not carried over to Azure"

    set_kind(form, "compatible")
    assert visible(form, form.name_edit) and visible(form, form.url_edit) and visible(form, form.needs_key_check)
    assert not visible(form, form.deployment_edit)
    assert form.url_edit.placeholderText() == "http://localhost:11434/v1"
    form.needs_key_check.setChecked(False)
    assert not visible(form, form.key_edit)
    form.needs_key_check.setChecked(True)
    assert visible(form, form.key_edit)

    set_kind(form, "openai")
    assert form.url_edit.text() == "https://api.openai.com/v1", "each kind remembers its own URL"


@pytest.mark.parametrize(
    "profile",
    [
        ProviderProfile(id="openai", name="OpenAI", default_model="gpt-4o-mini"),
        ProviderProfile(id="openai-proxy", name="Company proxy", base_url="https://llm.example.com/v1"),
        ProviderProfile(
            id="azure-prod",
            name="Azure prod",
            kind="azure",
            base_url="https://prod.openai.azure.com",
            azure_deployment="gpt4o",
            azure_api_version="2024-06-01",
        ),
        ProviderProfile(
            id="vllm", name="vLLM box", kind="compatible", base_url="http://10.0.0.5:8000/v1", needs_key=False
        ),
        ProviderProfile(id="openrouter", name="OpenRouter", kind="compatible", base_url="https://openrouter.ai/api/v1"),
    ],
)
def test_profile_round_trips_through_set_profile(form, profile):
    form.set_profile(copy.deepcopy(profile), has_stored_key=True)
    assert form.profile() == profile
    assert form.key() == ""


def test_new_profiles_get_ids_from_their_kind_and_name(form, qtbot):
    form.set_profile(ProviderProfile(id="openai", name="OpenAI"), has_stored_key=False)
    set_kind(form, "compatible")
    type_into(qtbot, form.name_edit, "My vLLM")
    type_into(qtbot, form.url_edit, "http://gpu:8000/v1")
    made = form.profile()
    assert (made.id, made.name, made.kind, made.base_url) == ("my-vllm", "My vLLM", "compatible", "http://gpu:8000/v1")
    form.name_edit.clear()
    assert form.profile().name == "gpu:8000"

    set_kind(form, "azure")
    type_into(qtbot, form.deployment_edit, "GPT 4o")
    assert form.profile().id == "azure-gpt-4o"
    set_kind(form, "openai")
    assert form.profile().id == "openai", "back to the loaded kind keeps the loaded id"


def test_validate_explains_what_is_missing(form, qtbot):
    form.set_profile(ProviderProfile(id="openai", name="OpenAI"), has_stored_key=False)
    assert form.validate() == "Paste your OpenAI API key."
    type_into(qtbot, form.key_edit, "sk-with space")
    assert "spaces" in (form.validate() or "")
    type_into(qtbot, form.key_edit, f"  {SECRET}  ")
    assert form.validate() is None
    assert form.key() == SECRET
    form.advanced_button.click()
    type_into(qtbot, form.url_edit, "api.openai.com/v1")
    assert "must start with http:// or https://" in (form.validate() or "")

    set_kind(form, "compatible")
    form.needs_key_check.setChecked(False)
    assert "Enter the server address" in (form.validate() or "")
    type_into(qtbot, form.url_edit, "ftp://files.example.com")
    assert "must start with http:// or https://" in (form.validate() or "")
    type_into(qtbot, form.url_edit, "http://localhost:8080/v1")
    assert form.validate() is None
    form.needs_key_check.setChecked(True)
    form.key_edit.clear()
    assert "API key" in (form.validate() or "")

    set_kind(form, "azure")
    type_into(qtbot, form.url_edit, "https://res.openai.azure.com")
    type_into(qtbot, form.key_edit, SECRET)
    assert "deployment" in (form.validate() or "")
    type_into(qtbot, form.deployment_edit, "gpt4o")
    assert form.validate() is None
    form.api_version_edit.clear()
    assert "API version" in (form.validate() or "")


def test_environment_key_makes_an_empty_openai_key_acceptable(form):
    form.set_profile(ProviderProfile(id="openai", name="OpenAI"), has_stored_key=False)
    assert form.validate() is not None
    form.set_environment_key(True)
    assert form.validate() is None
    assert "OPENAI_API_KEY" in form.key_hint.text()


def test_azure_target_uri_is_split_into_fields(form, qtbot):
    form.set_profile(ProviderProfile(id="az", name="Azure", kind="azure", base_url=""), has_stored_key=False)
    type_into(
        qtbot, form.url_edit, "https://res.openai.azure.com/openai/deployments/mini/chat/completions?api-version=v9"
    )
    form.url_edit.editingFinished.emit()
    assert form.url_edit.text() == "https://res.openai.azure.com"
    assert form.deployment_edit.text() == "mini"
    assert form.api_version_edit.text() == "v9"


def test_stored_key_is_never_shown_and_empty_means_keep(form, qtbot):
    form.set_profile(ProviderProfile(id="openai", name="OpenAI"), has_stored_key=True)
    assert form.key_edit.text() == ""
    assert form.key_edit.echoMode() == QLineEdit.EchoMode.Password
    assert "A key is stored in the system keyring" in form.key_hint.text()
    assert visible(form, form.key_hint)
    assert form.validate() is None
    assert form.key() == "", "empty means: keep the stored key"

    type_into(qtbot, form.key_edit, SECRET)
    assert form.key() == SECRET
    form.show_key_button.click()
    assert form.key_edit.echoMode() == QLineEdit.EchoMode.Normal
    form.show_key_button.click()
    assert form.key_edit.echoMode() == QLineEdit.EchoMode.Password

    # Loading another profile forgets what was typed, and a key stored for OpenAI is not one for Azure.
    form.set_profile(ProviderProfile(id="openai", name="OpenAI"), has_stored_key=True)
    assert form.key_edit.text() == ""
    set_kind(form, "azure")
    assert "stored" not in form.key_hint.text()
    type_into(qtbot, form.url_edit, "https://res.openai.azure.com")
    type_into(qtbot, form.deployment_edit, "d")
    assert form.validate() == "Paste the API key of your Azure OpenAI resource."


def test_detected_server_button_fills_the_form(form, qtbot):
    form.set_profile(ProviderProfile(id="openai", name="OpenAI"), has_stored_key=True)
    assert not visible(form, form._detected_frame)
    form.set_detected([OLLAMA, LMSTUDIO])
    buttons = form.findChildren(QPushButton, "detectedServerButton")
    assert [b.text() for b in buttons] == [
        "Use Ollama at http://127.0.0.1:11434/v1",
        "Use LM Studio at http://127.0.0.1:1234/v1",
    ]
    with qtbot.waitSignal(form.detectedChosen) as blocker:
        qtbot.mouseClick(buttons[1], Qt.MouseButton.LeftButton)
    assert blocker.args == list(LMSTUDIO)
    made = form.profile()
    assert (made.id, made.name, made.kind, made.base_url, made.needs_key) == (
        "lmstudio",
        "LM Studio",
        "compatible",
        "http://127.0.0.1:1234/v1",
        False,
    )
    assert form.validate() is None
    assert form.key() == ""

    form.set_detected([])
    assert not visible(form, form._detected_frame)
    assert form.findChildren(QPushButton, "detectedServerButton") == [] or all(
        not b.isVisibleTo(form) for b in form.findChildren(QPushButton, "detectedServerButton")
    )


def test_unusable_keyring_forces_a_session_only_key(form):
    form.set_profile(ProviderProfile(id="openai", name="OpenAI"), has_stored_key=False)
    assert not form.session_only()
    assert not visible(form, form.session_only_check)
    form.set_keyring_status(False, "No Secret Service is running.")
    assert form.session_only()
    assert visible(form, form.keyring_warning) and visible(form, form.session_only_check)
    assert "No Secret Service is running." in form.keyring_warning.text()
    assert not form.session_only_check.isEnabled(), "the user cannot untick it: there is nowhere to save"
    form.set_keyring_status(True, "")
    assert not form.session_only()
    assert not visible(form, form.keyring_warning)


def test_connection_test_signals_and_result(form, qtbot):
    form.set_profile(ProviderProfile(id="openai", name="OpenAI"), has_stored_key=True)
    with qtbot.waitSignal(form.testRequested):
        qtbot.mouseClick(form.test_button, Qt.MouseButton.LeftButton)
    form.show_test_running()
    assert not form.test_button.isEnabled()
    models = [f"model-{i}" for i in range(23)]
    form.show_test_result(True, "", models)
    assert form.test_button.isEnabled()
    assert form.test_result.text() == "✓ Connected — 23 models available"
    assert form.tested_models() == models
    assert form.test_result.wordWrap()
    assert form.test_result.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse

    form.show_test_result(False, "The key was rejected (401).", [])
    assert form.test_result.text() == "✗ The key was rejected (401)."
    assert visible(form, form.test_result)
    qtbot.keyClicks(form.key_edit, "x")
    assert not visible(form, form.test_result), "an edit makes the old result stale"


def test_form_inputs_have_names(form):
    form.set_keyring_status(False, "none")
    for kind in ("openai", "azure", "compatible"):
        set_kind(form, kind)
        assert_inputs_have_accessible_names(form)
    for name in ("apiKeyEdit", "baseUrlEdit", "testConnectionButton", "providerKind"):
        assert form.findChild(QWidget, name) is not None


# ---- WelcomePanel --------------------------------------------------------------------------------


def test_welcome_validates_before_emitting_save(qtbot):
    panel = WelcomePanel()
    qtbot.addWidget(panel)
    panel.resize(900, 650)
    panel.show()
    panel.form.set_profile(ProviderProfile(id="openai", name="OpenAI"), has_stored_key=False)
    assert panel.objectName() == "welcomePanel"
    save = panel.findChild(QPushButton, "saveStartButton")
    with qtbot.assertNotEmitted(panel.saveRequested):
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert panel.error_label.isVisible()
    assert panel.error_label.text() == "Paste your OpenAI API key."

    qtbot.keyClicks(panel.form.key_edit, SECRET)
    assert not panel.error_label.isVisible(), "editing clears the complaint"
    with qtbot.waitSignal(panel.saveRequested):
        qtbot.keyClick(panel.form.key_edit, Qt.Key.Key_Return)
    assert panel.form.key() == SECRET
    assert "OPENAI_API_KEY" in panel.findChild(QWidget, "welcomeEnvNote").text()

    panel.set_busy(True)
    with qtbot.assertNotEmitted(panel.saveRequested):
        qtbot.keyClick(panel.form.key_edit, Qt.Key.Key_Return)


# ---- SettingsDialog ------------------------------------------------------------------------------


def two_provider_settings() -> Settings:
    return Settings(
        providers=[
            ProviderProfile(id="openai", name="OpenAI", default_model="gpt-4o-mini"),
            ProviderProfile(
                id="ollama", name="Ollama", kind="compatible", base_url="http://127.0.0.1:11434/v1", needs_key=False
            ),
        ],
        active_provider="openai",
        temperature=0.7,
        extra={"audio": {"device": "Mic"}},
    )


@pytest.fixture
def dialog(qtbot):
    original = two_provider_settings()
    dlg = SettingsDialog(original, key_status=lambda pid: pid == "openai", keyring_status=(True, ""))
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.original = original  # type: ignore[attr-defined]
    return dlg


def test_settings_dialog_returns_a_modified_copy(dialog, qtbot):
    snapshot = copy.deepcopy(dialog.original)
    assert dialog.provider_list.count() == 2
    assert dialog.form.key_edit.text() == "" and "stored" in dialog.form.key_hint.text()

    qtbot.keyClicks(dialog.form.key_edit, SECRET)
    dialog.provider_list.setCurrentRow(1)
    dialog.form.name_edit.setText("")
    qtbot.keyClicks(dialog.form.name_edit, "Ollama (GPU box)")
    dialog.make_active_button.click()

    dialog.set_models(["gpt-4o", "llama3.1", "gpt-4o"])
    assert [dialog.model_combo.itemText(i) for i in range(dialog.model_combo.count())] == ["gpt-4o", "llama3.1"]
    dialog.model_combo.setCurrentText("llama3.1")
    dialog.system_prompt_edit.setPlainText("Be brief.")
    dialog.temperature.use_default.setChecked(True)
    dialog.top_p.use_default.setChecked(False)
    dialog.top_p.spin.setValue(0.9)
    dialog.max_tokens_spin.setValue(2048)
    dialog.retries_spin.setValue(5)
    dialog.timeout_spin.setValue(120)

    with qtbot.waitSignal(dialog.accepted):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()

    result = dialog.result_settings()
    assert dialog.original == snapshot, "the settings passed in are untouched"
    assert result is not dialog.original
    assert [p.id for p in result.providers] == ["openai", "ollama"]
    assert result.providers[1].name == "Ollama (GPU box)"
    assert result.active_provider == "ollama"
    assert (result.default_model, result.system_prompt) == ("llama3.1", "Be brief.")
    assert (result.temperature, result.top_p, result.max_tokens) == (None, 0.9, 2048)
    assert (result.max_retries, result.read_timeout) == (5, 120.0)
    assert result.extra == {"audio": {"device": "Mic"}}
    assert dialog.changed_keys() == {"openai": (SECRET, False)}
    assert dialog.removed_providers() == []


def test_settings_dialog_add_remove_and_ids(dialog, qtbot):
    dialog.add_button.click()
    assert dialog.provider_list.count() == 3
    assert dialog.form.kind() == "compatible"
    qtbot.keyClicks(dialog.form.name_edit, "Ollama")  # same name as an existing provider
    qtbot.keyClicks(dialog.form.url_edit, "http://gpu:11434/v1")
    dialog.form.needs_key_check.setChecked(True)
    qtbot.keyClicks(dialog.form.key_edit, SECRET)

    dialog.provider_list.setCurrentRow(1)
    dialog.remove_button.click()
    assert dialog.provider_list.count() == 2
    assert dialog.removed_providers() == ["ollama"]

    with qtbot.waitSignal(dialog.accepted):
        dialog.accept()
    result = dialog.result_settings()
    ids = [p.id for p in result.providers]
    assert ids[0] == "openai" and len(ids) == 2
    new_id = ids[1]
    assert new_id.startswith("ollama") and new_id != "ollama", "a removed id is not reused for another server"
    assert result.providers[1].base_url == "http://gpu:11434/v1"
    assert dialog.changed_keys() == {new_id: (SECRET, False)}

    # The last provider cannot be removed.
    dialog.provider_list.setCurrentRow(0)
    dialog.remove_button.click()
    assert not dialog.remove_button.isEnabled()
    assert dialog.provider_list.count() == 1


def test_settings_dialog_refuses_to_save_an_invalid_provider(dialog, qtbot):
    dialog.add_button.click()
    dialog.provider_list.setCurrentRow(0)
    with qtbot.assertNotEmitted(dialog.accepted):
        dialog.accept()
    assert dialog.provider_list.currentRow() == 2, "the faulty provider is selected"
    assert "Enter the server address" in dialog.provider_error.text()
    assert dialog.isVisible()


def test_settings_dialog_test_request_and_detected_servers(dialog, qtbot):
    dialog.provider_list.setCurrentRow(0)
    qtbot.keyClicks(dialog.form.key_edit, SECRET)
    with qtbot.waitSignal(dialog.testRequested) as blocker:
        dialog.form.test_button.click()
    profile, key = blocker.args
    assert (profile.id, profile.kind, key) == ("openai", "openai", SECRET)
    dialog.show_test_result(True, "", ["a", "b"])
    assert dialog.form.test_result.text() == "✓ Connected — 2 models available"

    # Choosing a detected server adds it; it never turns the selected OpenAI profile into it.
    dialog.set_detected([OLLAMA, LMSTUDIO])
    buttons = dialog.form.findChildren(QPushButton, "detectedServerButton")
    buttons[1].click()
    assert dialog.provider_list.count() == 3
    assert dialog.provider_list.currentRow() == 2
    buttons = dialog.form.findChildren(QPushButton, "detectedServerButton")
    buttons[0].click()
    assert dialog.provider_list.currentRow() == 1, "an already configured server is selected, not duplicated"
    result = dialog.result_settings()
    assert [(p.id, p.kind) for p in result.providers] == [
        ("openai", "openai"),
        ("ollama", "compatible"),
        ("lmstudio", "compatible"),
    ]


def test_settings_dialog_with_unusable_keyring_marks_keys_session_only(qtbot):
    dlg = SettingsDialog(two_provider_settings(), key_status=lambda pid: False, keyring_status=(False, "Locked"))
    qtbot.addWidget(dlg)
    qtbot.keyClicks(dlg.form.key_edit, SECRET)
    dlg.accept()
    assert dlg.result() == dlg.DialogCode.Accepted
    assert dlg.changed_keys() == {"openai": (SECRET, True)}


def test_settings_dialog_inputs_have_names(dialog):
    assert_inputs_have_accessible_names(dialog)


# ---- ConversationSettingsDialog ------------------------------------------------------------------


def test_conversation_settings_values_and_defaults(qtbot):
    defaults = conversation_defaults(two_provider_settings())
    assert defaults == {
        "system_prompt": "You are a helpful assistant.",
        "model": "gpt-4o-mini",
        "temperature": 0.7,
        "top_p": None,
        "max_tokens": None,
    }
    current = {"system_prompt": None, "model": "gpt-4o", "temperature": 0.2, "top_p": None, "max_tokens": 500}
    dlg = ConversationSettingsDialog(current, defaults, models=["gpt-4o", "gpt-4o-mini"])
    qtbot.addWidget(dlg)
    assert dlg.values() == current
    assert dlg.prompt_edit.toPlainText() == "You are a helpful assistant."
    assert not dlg.prompt_edit.isEnabled()
    assert "0.7" in dlg.temperature.use_default.text()

    dlg.prompt_default.setChecked(False)
    dlg.prompt_edit.setPlainText("Answer in French.")
    dlg.prompt_default.setChecked(True)
    dlg.prompt_default.setChecked(False)
    assert dlg.prompt_edit.toPlainText() == "Answer in French.", "what the user typed survives a toggle"
    dlg.model_default.setChecked(True)
    assert dlg.model_combo.currentText() == "gpt-4o-mini"
    dlg.top_p.use_default.setChecked(False)
    dlg.top_p.spin.setValue(0.5)
    assert dlg.values() == {
        "system_prompt": "Answer in French.",
        "model": None,
        "temperature": 0.2,
        "top_p": 0.5,
        "max_tokens": 500,
    }

    dlg.use_all_defaults()
    assert dlg.values() == dict.fromkeys(current)
    assert_inputs_have_accessible_names(dlg)


def test_conversation_settings_empty_prompt_is_an_override(qtbot):
    dlg = ConversationSettingsDialog({"system_prompt": ""}, {"system_prompt": "Be nice.", "model": "m"})
    qtbot.addWidget(dlg)
    values = dlg.values()
    assert values["system_prompt"] == "", "no system prompt at all differs from 'use default'"
    assert values["model"] is None and values["max_tokens"] is None

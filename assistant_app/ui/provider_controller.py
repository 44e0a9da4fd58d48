"""First-run set-up, settings, connection tests and the model list."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace

import httpx
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog

from assistant_app.api.client import OpenAIClient
from assistant_app.api.endpoint import Endpoint
from assistant_app.api.errors import APIError
from assistant_app.api.models import list_models
from assistant_app.core.context import AppContext
from assistant_app.core.discovery import probe_local_servers
from assistant_app.core.providers import endpoint_for, has_credentials
from assistant_app.core.secrets import KeyringUnavailable
from assistant_app.core.settings import ProviderProfile
from assistant_app.ui.chat_controller import ChatController
from assistant_app.ui.conversation_settings import ConversationSettingsDialog
from assistant_app.ui.main_window import MainWindow
from assistant_app.ui.provider_form import ProviderForm
from assistant_app.ui.settings_dialog import SettingsDialog
from assistant_app.ui.welcome import WelcomePanel

log = logging.getLogger(__name__)


class ProviderController(QObject):
    modelsLoaded = Signal(list)

    def __init__(self, ctx: AppContext, window: MainWindow, chat: ChatController) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.window = window
        self.chat = chat
        self.welcome: WelcomePanel | None = None
        self._tasks: set[asyncio.Task] = set()
        window.settingsRequested.connect(self.open_settings)
        window.conversationSettingsRequested.connect(self.open_conversation_settings)
        window.refreshModelsRequested.connect(self.refresh_models)

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def shutdown(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- start-up -----------------------------------------------------------------------------

    def start(self) -> None:
        if has_credentials(self.ctx.provider, self.ctx.secrets):
            self.window.show_chat()
            self.refresh_models()
        else:
            self.show_welcome()

    def show_welcome(self) -> None:
        if self.welcome is None:
            self.welcome = WelcomePanel(self.window)
            self.welcome.form.testRequested.connect(lambda: self.test_form(self.welcome.form))
            self.welcome.saveRequested.connect(self._save_welcome)
        form = self.welcome.form
        profile = self.ctx.provider
        form.set_profile(profile, self._has_stored_key(profile.id))
        usable, reason = self.ctx.secrets.status()
        form.set_keyring_status(usable, reason)
        form.set_environment_key(bool(os.environ.get("OPENAI_API_KEY")))
        self.window.show_page(self.welcome)
        self.spawn(self._detect(form))

    def _has_stored_key(self, provider_id: str) -> bool:
        try:
            profile = self.ctx.settings.provider(provider_id)
            return bool(self.ctx.secrets.get(profile.key_account))
        except Exception:
            return False

    async def _detect(self, form: ProviderForm | SettingsDialog) -> None:
        found = await probe_local_servers(self._http())
        try:
            form.set_detected([(p.id, p.name, p.base_url) for p in found])
        except RuntimeError:  # the dialog was closed (and deleted) before the probe answered
            pass

    def _http(self) -> httpx.AsyncClient:
        return self.ctx.http_client()

    # -- connection test ------------------------------------------------------------------------

    def _endpoint_from(self, profile: ProviderProfile, typed_key: str) -> Endpoint:
        endpoint = endpoint_for(profile, self.ctx.secrets)
        if typed_key:
            endpoint = replace(endpoint, api_key=typed_key)
        return endpoint

    def test_form(self, form: ProviderForm) -> None:
        problem = form.validate()
        if problem:
            form.show_test_result(False, problem, [])
            return
        form.show_test_running()
        self.spawn(self._test(form, form.profile(), form.key()))

    async def _test(self, target: ProviderForm | SettingsDialog, profile: ProviderProfile, key: str) -> None:
        ok, message, models = await self.test_connection(profile, key)
        target.show_test_result(ok, message, models)

    async def test_connection(self, profile: ProviderProfile, key: str) -> tuple[bool, str, list[str]]:
        """GET /models with these settings; a plain sentence either way."""
        try:
            endpoint = self._endpoint_from(profile, key)
            client = OpenAIClient(endpoint, http=self._http(), max_retries=0, read_timeout=15.0)
            models = await list_models(client)
        except APIError as exc:
            return False, exc.user_message, []
        count = f"{len(models)} model{'s' if len(models) != 1 else ''} available"
        return True, f"Connected to {endpoint.host} — {count}.", models

    def _save_welcome(self) -> None:
        assert self.welcome is not None
        form = self.welcome.form
        problem = form.validate()
        if problem:
            self.welcome.show_error(problem)
            return
        self.welcome.clear_error()
        profile = form.profile()
        if not self._store_key(profile, form.key(), form.session_only(), form):
            return
        self.ctx.settings.upsert_provider(profile)
        self.ctx.settings.active_provider = profile.id
        self.ctx.save_settings()
        self.window.show_chat()
        self.chat.new_conversation()
        self.refresh_models()

    def _store_key(self, profile: ProviderProfile, key: str, session_only: bool, form: ProviderForm | None) -> bool:
        if not key:
            return True  # keep the stored key (or none needed)
        try:
            self.ctx.secrets.set(profile.key_account, key, session_only=session_only)
        except KeyringUnavailable as exc:
            if form is not None:
                form.set_keyring_status(False, str(exc))
                form.show_test_result(False, f"{exc} Tick “for this session only” to go on without saving it.", [])
            return False
        return True

    # -- model list ------------------------------------------------------------------------------

    def refresh_models(self) -> None:
        self.spawn(self._refresh_models())

    async def _refresh_models(self) -> None:
        try:
            models = await list_models(self.ctx.client())
        except APIError as exc:
            self.window.statusBar().showMessage(f"Could not load the model list: {exc.user_message}", 10000)
            return
        self.chat.set_available_models(models)
        self.modelsLoaded.emit(models)

    # -- settings dialogs -----------------------------------------------------------------------

    def open_settings(self) -> None:
        dialog = SettingsDialog(
            self.ctx.settings,
            key_status=self._has_stored_key,
            keyring_status=self.ctx.secrets.status(),
            parent=self.window,
            env_key_present=bool(os.environ.get("OPENAI_API_KEY")),
        )
        dialog.set_models(self.chat.model_names())
        dialog.testRequested.connect(lambda profile, key: self._test_in_dialog(dialog, profile, key))
        dialog.finished.connect(lambda result: self._settings_done(dialog, result))
        dialog.open()
        self.spawn(self._detect(dialog))

    def _test_in_dialog(self, dialog: SettingsDialog, profile: ProviderProfile, key: str) -> None:
        dialog.show_test_running()
        self.spawn(self._test(dialog, profile, key))

    def _settings_done(self, dialog: SettingsDialog, result: int) -> None:
        if result != QDialog.DialogCode.Accepted:
            return
        new = dialog.result_settings()
        for provider_id, (key, session_only) in dialog.changed_keys().items():
            profile = new.provider(provider_id)
            self._store_key(profile, key, session_only, None)
        for provider_id in dialog.removed_providers():
            self.ctx.secrets.delete(f"provider:{provider_id}")
        self.ctx.settings = new
        self.ctx.save_settings()
        self.refresh_models()

    def open_conversation_settings(self) -> None:
        cid = self.chat.conversation_id
        if cid is None:
            self.window.statusBar().showMessage("Send a first message, then set this conversation's options.", 5000)
            return
        conv = self.ctx.store.get_conversation(cid)
        defaults = self.ctx.default_options()
        dialog = ConversationSettingsDialog(
            current={
                "system_prompt": conv.system_prompt or None,
                "model": conv.model,
                "temperature": conv.temperature,
                "top_p": conv.top_p,
                "max_tokens": conv.max_tokens,
            },
            defaults={
                "system_prompt": defaults.system_prompt,
                "model": defaults.model,
                "temperature": defaults.temperature,
                "top_p": defaults.top_p,
                "max_tokens": defaults.max_tokens,
            },
            models=self.chat.model_names(),
            parent=self.window,
        )

        def done(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                values = dialog.values()
                values["system_prompt"] = values.get("system_prompt") or ""
                self.ctx.store.update_conversation(cid, **values)
                self.chat.open_conversation(cid)

        dialog.finished.connect(done)
        dialog.open()

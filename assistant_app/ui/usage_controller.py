"""Money and limits in the chat window: the cost under each reply and beside the title, the budget
notice (80%) and confirmation (100%), the circuit breaker's "Try now", and the Usage window.

Owned by ``ChatController``, which calls :meth:`refresh_costs` when it renders, :meth:`allow_send`
before sending and :meth:`reply_failed` when a reply fails; everything else hangs off signals.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from assistant_app.api.errors import APIError
from assistant_app.core.context import AppContext
from assistant_app.ui.main_window import MainWindow
from assistant_app.ui.usage_format import format_total

if TYPE_CHECKING:  # usage/budget modules and the Usage window load when first needed
    from assistant_app.core.budget import BudgetStatus
    from assistant_app.core.ratelimit import CircuitOpenError
    from assistant_app.ui.chat_controller import ChatController
    from assistant_app.ui.usage_window import UsageWindow


class UsageController(QObject):
    def __init__(self, ctx: AppContext, window: MainWindow, chat: ChatController) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.window = window
        self.chat = chat
        self.usage_window: UsageWindow | None = None
        self.confirm_box: QMessageBox | None = None
        self._confirmed: str | None = None  # the text the user agreed to send over budget
        self._breaker: CircuitOpenError | None = None
        self._breaker_message: int | None = None  # the failed reply "Try now" regenerates
        self._breaker_timer = QTimer(self)
        self._breaker_timer.setInterval(1000)
        self._breaker_timer.timeout.connect(self._tick_breaker)

        window.usageRequested.connect(self.open_usage)
        window.budget_notice.actionTriggered.connect(lambda: self.open_usage("budgets"))
        window.breaker_notice.actionTriggered.connect(self.try_now)
        chat.replyFinished.connect(lambda _mid, _status: self._after_reply())
        chat.busyChanged.connect(self._on_busy)
        # After the first paint (it reads the usage log), unless the window closed first (the store with it).
        self._first_refresh = QTimer(self)
        self._first_refresh.setSingleShot(True)
        self._first_refresh.setInterval(100)
        self._first_refresh.timeout.connect(self.refresh_budget_notice)
        self._first_refresh.start()
        window.closing.connect(self._first_refresh.stop)

    # -- costs -----------------------------------------------------------------------------------

    def refresh_costs(self, conversation_id: int | None) -> dict[int, float | None]:
        """Cost per message of the conversation (one query, for the reply lines) and its running
        total beside the title. ``None`` (a new chat) clears the total."""
        if conversation_id is None:
            self.window.set_conversation_cost("")
            return {}
        costs = self.ctx.usage.message_costs(conversation_id)
        totals = self.ctx.usage.totals(conversation_id=conversation_id)
        if not totals.calls:
            self.window.set_conversation_cost("")
        else:
            text = "cost unknown" if totals.cost == 0 and totals.unknown else format_total(totals.cost, totals.unknown)
            tip = (
                f"This conversation so far: {totals.calls:,} API calls, {totals.prompt_tokens:,} prompt tokens "
                f"({totals.cached_tokens:,} cached), {totals.completion_tokens:,} completion tokens."
            )
            self.window.set_conversation_cost(text, tip)
        return costs

    # -- budget ----------------------------------------------------------------------------------

    def budget_status(self) -> BudgetStatus:
        return self.ctx.budgets().status(self.ctx.provider.id)

    def refresh_budget_notice(self, status: BudgetStatus | None = None) -> None:
        status = status or self.budget_status()
        if status.level in ("warning", "over"):
            level = "error" if status.level == "over" else "warning"
            self.window.budget_notice.show_notice(status.message(), level, "Budgets…")
        else:
            self.window.budget_notice.clear()

    def allow_send(self, text: str) -> bool:
        """False when the budget is spent and the user asked to confirm: a dialog opens instead,
        and the message is sent (with this text) only if they agree. Their text stays in the box."""
        budgets = self.ctx.budgets()
        status = budgets.status(self.ctx.provider.id)
        self.refresh_budget_notice(status)
        if not (budgets.confirm_over and status.level == "over"):
            return True
        if self._confirmed is not None and self._confirmed == text:
            self._confirmed = None
            return True
        self._ask(text, status)
        return False

    def _ask(self, text: str, status: BudgetStatus) -> None:
        if self.confirm_box is not None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Budget spent", status.message(), parent=self.window)
        box.setObjectName("budgetConfirm")
        box.setInformativeText("Send this message anyway? (Change the budget in View → Budgets & limits.)")
        send = box.addButton("Send anyway", QMessageBox.ButtonRole.AcceptRole)
        send.setObjectName("budgetSendAnyway")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _result: self._answered(box, box.clickedButton() is send, text))
        self.confirm_box = box
        box.open()  # not exec(): no nested event loop under qasync

    def _answered(self, box: QMessageBox, agreed: bool, text: str) -> None:
        self.confirm_box = None
        box.deleteLater()
        if agreed:
            self._confirmed = text
            self.chat.send(text)
        else:
            self.window.composer.editor.setFocus()

    # -- circuit breaker -------------------------------------------------------------------------

    def reply_failed(self, message_id: int, error: APIError) -> None:
        from assistant_app.core.ratelimit import CircuitOpenError

        if not isinstance(error, CircuitOpenError):
            return
        self._breaker, self._breaker_message = error, message_id
        self.window.composer.clear_status()  # the notice says it, with the action
        self.window.breaker_notice.dismissed_text = ""
        self._tick_breaker()
        self._breaker_timer.start()

    def _tick_breaker(self) -> None:
        error = self._breaker
        if error is None:
            self._breaker_timer.stop()
            return
        left = error.breaker.remaining()
        name = error.breaker.name
        if left > 0:
            text = f"{name} failed {error.failures} times in a row; requests are paused for {math.ceil(left)} s."
        else:
            self._breaker_timer.stop()
            text = f"{name} failed {error.failures} times in a row; the next request will test it again."
        self.window.breaker_notice.show_notice(text, "error", "Try now")

    def try_now(self) -> None:
        """Close the circuit and send the failed reply again."""
        error, message_id = self._breaker, self._breaker_message
        self._clear_breaker()
        if error is None:
            return
        error.try_now()
        if message_id is not None:
            self.chat.regenerate(message_id)

    def _clear_breaker(self) -> None:
        self._breaker = self._breaker_message = None
        self._breaker_timer.stop()
        self.window.breaker_notice.clear()

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self._clear_breaker()  # a new request is under way: it will say how it went

    # -- the Usage window ------------------------------------------------------------------------

    def open_usage(self, page: str = "spending") -> UsageWindow:
        if self.usage_window is None:
            from assistant_app.ui.usage_window import UsageWindow

            self.usage_window = UsageWindow(self.ctx, self.window)
            self.usage_window.budgetsSaved.connect(self.refresh_budget_notice)
        else:
            self.usage_window.refresh()
        if page == "budgets":
            self.usage_window.show_budgets()
        self.usage_window.show()
        self.usage_window.raise_()
        self.usage_window.activateWindow()
        return self.usage_window

    def after_call(self, conversation_id: int | None) -> None:
        """A reply or an image finished: the budget notice and an open Usage window move, and the
        running total beside the title if ``conversation_id`` is the one shown."""
        if conversation_id is not None and conversation_id == self.chat.conversation_id:
            self.refresh_costs(conversation_id)
        self._after_reply()

    def _after_reply(self) -> None:
        self.refresh_budget_notice()
        if self.usage_window is not None and self.usage_window.isVisible():
            self.usage_window.refresh()

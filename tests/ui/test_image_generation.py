"""Create image: partial previews painted in place, final image stored, Cancel, failure + Retry, viewer."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.support.fake_faults import Fault
from tests.support.schema import validate_recorded
from tests.ui.conftest import App, button
from tests.ui.image_helpers import image_requests, next_emit, ready


def create(app: App, qtbot, prompt: str, model: str | None = None) -> None:
    tools = app.chat.images.toolbar
    qtbot.mouseClick(tools.create_toggle, Qt.MouseButton.LeftButton)
    assert tools.create_mode() and tools.model.isVisible()
    if model:
        tools.set_model(model)
    qtbot.keyClicks(app.window.composer.editor, prompt)
    qtbot.keyClick(app.window.composer.editor, Qt.Key.Key_Return)


def reply_of(app: App):
    return app.ctx.store.active_path(app.chat.conversation_id)[-1]


def test_create_image_streams_sharpening_previews_then_stores_the_final_image(make_app, qtbot) -> None:
    app = make_app()
    app.server.image_max_side = 256
    app.server.image_partial_delay = 0.05
    frames: list = []

    def painted(mid: int, index: int, _ms: float) -> None:
        frames.append((index, app.window.messages.row(mid).images.tiles[0].image.copy()))

    app.chat.images.previewPainted.connect(painted)
    create(app, qtbot, "a lighthouse at dawn")
    assert app.window.composer.stop_button.isVisible()
    mid, status = app.run(next_emit(app, app.chat.images.generationFinished))
    assert status == "complete"
    assert [i for i, _ in frames] == [0, 1, 2]  # each partial painted in place, in order
    assert len({bytes(img.constBits()) for _, img in frames}) == 3  # and each one different (sharper)
    [request] = image_requests(app)
    validate_recorded(request)
    assert request.json["stream"] is True and request.json["partial_images"] == 3
    assert request.json["model"] == "gpt-image-1" and request.json["prompt"] == "a lighthouse at dawn"
    user, reply = app.ctx.store.active_path(app.chat.conversation_id)
    assert user.content == "a lighthouse at dawn" and reply.id == mid and reply.status == "complete"
    [att] = reply.attachments
    assert att["generated_by"] == "gpt-image-1" and not att.get("partial")
    stored = app.ctx.paths.attachments / att["path"]
    assert att["path"].endswith(f"{att['sha256']}.png") and stored.is_file()
    with Image.open(stored) as im:
        assert im.format == "PNG" and im.size == (att["width"], att["height"])
    assert isinstance(att["cost"], float) and att["cost"] > 0  # the server reported usage
    row = app.window.messages.row(mid)
    assert "per image" in row.images.caption.text()
    assert row.images.tiles[0].attachment["sha256"] == att["sha256"] and row.images.tiles[0].image is not None
    assert not app.window.composer.stop_button.isVisible()
    badge = app.window.conversation_cost
    assert badge.isVisible() and badge.text().startswith("$")  # the conversation's running total moved too
    assert "$" in row.meta_label.text()  # and the reply's own line shows what it cost


def test_image_prefix_and_dall_e_3_revised_prompt(make_app, qtbot) -> None:
    app = make_app()
    app.server.image_max_side = 128
    app.chat.images.toolbar.set_model("dall-e-3")
    qtbot.keyClicks(app.window.composer.editor, "/image a red bicycle")
    qtbot.keyClick(app.window.composer.editor, Qt.Key.Key_Return)
    mid, status = app.run(next_emit(app, app.chat.images.generationFinished))
    assert status == "complete"
    [request] = image_requests(app)
    validate_recorded(request)
    assert request.json["prompt"] == "a red bicycle" and "stream" not in request.json
    assert "Revised prompt: A detailed picture of: a red bicycle" in app.window.messages.message_text(mid)
    assert app.ctx.store.get_message(mid).attachments[0]["generated_by"] == "dall-e-3"


def test_cancel_keeps_the_last_preview(make_app, qtbot) -> None:
    app = make_app()
    app.server.image_max_side = 256
    app.server.image_partial_delay = 0.4
    create(app, qtbot, "slow picture")

    async def scenario():
        await next_emit(app, app.chat.images.previewPainted)
        qtbot.keyClick(app.window.composer.editor, Qt.Key.Key_Escape)  # Esc cancels, like Stop
        return await next_emit(app, app.chat.images.generationFinished)

    mid, status = app.run(scenario())
    assert status == "stopped"
    reply = app.ctx.store.get_message(mid)
    [att] = reply.attachments
    assert att["partial"] is True and (app.ctx.paths.attachments / att["path"]).is_file()
    tile = app.window.messages.row(mid).images.tiles[0]
    assert tile.image is not None and "preview only" in tile.badge
    assert "Cancelled" in app.window.composer.status.text()


@pytest.mark.parametrize("fault", [Fault.reset(after=2), Fault.stream_error(after=2)])
def test_failure_half_way_keeps_the_preview_and_retry_works(make_app, qtbot, fault: Fault) -> None:
    app = make_app()
    app.server.image_max_side = 128
    app.server.enqueue_fault(fault.only_for("/images/generations"))
    create(app, qtbot, "a stormy sea")
    mid, status = app.run(next_emit(app, app.chat.images.generationFinished))
    assert status == "error"
    reply = app.ctx.store.get_message(mid)
    assert reply.error and reply.attachments[0]["partial"] is True
    row = app.window.messages.row(mid)
    assert row.images.tiles[0].badge.startswith("Failed") and row.images.tiles[0].image is not None
    assert app.window.composer.status.isVisible()
    qtbot.mouseClick(button(row, "Retry"), Qt.MouseButton.LeftButton)
    new_id, status = app.run(next_emit(app, app.chat.images.generationFinished))
    assert status == "complete" and new_id != mid
    assert app.ctx.store.get_message(new_id).parent_id == reply.parent_id  # a sibling: the failure stays a branch
    assert [r.json["prompt"] for r in image_requests(app)] == ["a stormy sea", "a stormy sea"]


def test_content_policy_refusal_is_explained(make_app, qtbot) -> None:
    app = make_app()
    app.server.enqueue_fault(
        Fault.http_error(
            400, "Your request was rejected by our safety system.", "invalid_request_error", "content_policy_violation"
        ).only_for("/images/")
    )
    create(app, qtbot, "something not allowed")
    mid, status = app.run(next_emit(app, app.chat.images.generationFinished))
    assert status == "error"
    assert "content policy" in app.window.composer.status.text()
    assert app.ctx.store.get_message(mid).attachments == []


def test_invalid_options_are_refused_before_sending(make_app, qtbot) -> None:
    app = make_app()
    tools = app.chat.images.toolbar
    create(app, qtbot, "x" * 1200, model="dall-e-2")  # dall-e-2 takes 1,000 characters at most
    assert "1,000" in app.window.composer.status.text()
    assert image_requests(app) == [] and app.window.composer.text() == "x" * 1200
    assert not tools.background.isVisible()  # GPT-only options are hidden for dall-e


def _generate(app: App, qtbot, prompt: str = "a cat") -> int:
    app.server.image_max_side = 128
    create(app, qtbot, prompt)
    mid, status = app.run(next_emit(app, app.chat.images.generationFinished))
    assert status == "complete"
    return mid


def test_viewer_zoom_save_copy(make_app, qtbot, tmp_path: Path) -> None:
    app = make_app()
    mid = _generate(app, qtbot)
    tile = app.window.messages.row(mid).images.tiles[0]
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)  # click opens the viewer
    viewer = app.chat.images.actions.viewer
    assert viewer is not None and viewer.isVisible()
    before = viewer.canvas.zoom()
    qtbot.keyClick(viewer, Qt.Key.Key_Plus)
    assert viewer.canvas.zoom() == pytest.approx(before * 1.25)
    qtbot.mouseClick(viewer.buttons["actual"], Qt.MouseButton.LeftButton)
    assert viewer.canvas.zoom() == pytest.approx(1.0)
    wheel = QWheelEvent(
        QPointF(40, 40),
        QPointF(40, 40),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewer.canvas.viewport(), wheel)  # two notches up: zoom in twice
    assert viewer.canvas.zoom() == pytest.approx(1.25**2)
    qtbot.mouseClick(viewer.buttons["fit"], Qt.MouseButton.LeftButton)
    assert viewer.canvas.fit_mode and viewer.canvas.zoom() <= 1.0
    for name, fmt in (("out.png", "PNG"), ("out.jpg", "JPEG"), ("out.webp", "WEBP"), ("noext", "PNG")):
        written = viewer.save_to(tmp_path / name)
        assert written is not None
        with Image.open(written) as im:
            im.load()
            assert im.format == fmt and im.size == (viewer.image.width(), viewer.image.height())
    viewer.copy()
    mime = QApplication.clipboard().mimeData()
    assert mime.hasImage() and mime.urls() and Path(mime.urls()[0].toLocalFile()).read_bytes() == viewer.data
    viewer.close()


def test_viewer_edit_and_use_as_reference(make_app, qtbot, tmp_path: Path) -> None:
    app = make_app()
    mid = _generate(app, qtbot)
    att = app.ctx.store.get_message(mid).attachments[0]
    viewer = app.chat.images.actions.open_viewer(att)
    mask = tmp_path / "mask.png"
    Image.new("RGBA", (att["width"], att["height"]), (0, 0, 0, 0)).save(mask)
    viewer.editRequested.emit(att, "make it blue", str(mask), "gpt-image-1")
    edited, status = app.run(next_emit(app, app.chat.images.generationFinished))
    assert status == "complete" and edited != mid
    edit = image_requests(app)[-1]
    assert edit.path.endswith("/images/edits")
    validate_recorded(edit)
    assert edit.form["prompt"] == "make it blue" and {p[0] for p in edit.file_parts} >= {"image", "mask"}
    user = app.ctx.store.get_message(app.ctx.store.get_message(edited).parent_id)
    assert user.content == "make it blue" and user.attachments[0]["sha256"] == att["sha256"]
    viewer = app.chat.images.actions.open_viewer(att)
    viewer.buttons["reference"].click()  # attaches it to the next message
    app.run(ready(app))
    entry = app.chat.images.attachments.entries()[0]
    with Image.open(io.BytesIO(entry.prepared.data)) as im:
        assert im.size == (att["width"], att["height"])


def test_reference_images_go_to_the_edits_endpoint(make_app, qtbot, tmp_path: Path) -> None:
    app = make_app()
    app.server.image_max_side = 128
    photo = tmp_path / "ref.png"
    Image.new("RGB", (200, 100), (200, 30, 30)).save(photo)
    assert app.chat.images.attachments.add_file(str(photo)) is not None
    app.run(ready(app))
    create(app, qtbot, "the same, but blue")
    _mid, status = app.run(next_emit(app, app.chat.images.generationFinished))
    assert status == "complete"
    [request] = image_requests(app)
    assert request.path.endswith("/images/edits")
    validate_recorded(request)
    assert request.form["prompt"] == "the same, but blue" and request.form["stream"] == "true"
    user = app.ctx.store.active_path(app.chat.conversation_id)[0]
    assert user.attachments[0]["name"] == "ref.png"  # the reference stays with the prompt in history


def test_history_reopens_with_images_and_edit_prompt_generates_again(make_app, qtbot) -> None:
    from assistant_app.ui import message_images

    app = make_app()
    mid = _generate(app, qtbot, "a green apple")
    conv = app.chat.conversation_id
    app.chat.new_conversation()
    message_images._CACHE.clear()  # read the stored file again, in a worker thread
    app.chat.open_conversation(conv)
    row = app.window.messages.row(mid)
    app.run(app.until(lambda: row.images.tiles and row.images.tiles[0].image is not None, what="the image"))
    assert "per image" in row.images.caption.text()
    user_id = app.ctx.store.get_message(mid).parent_id
    app.chat.edit(user_id, "a red apple")  # what the bubble's "Save & send" does
    new_id, status = app.run(next_emit(app, app.chat.images.generationFinished))
    assert status == "complete"
    assert [r.json["prompt"] for r in image_requests(app)] == ["a green apple", "a red apple"]
    assert app.ctx.store.get_message(app.ctx.store.get_message(new_id).parent_id).content == "a red apple"
    assert len(app.ctx.store.siblings(user_id)) == 2


def test_chip_click_opens_a_preview(make_app, qtbot, tmp_path: Path) -> None:
    app = make_app()
    photo = tmp_path / "p.png"
    Image.new("RGB", (300, 200), (20, 160, 60)).save(photo)
    app.chat.images.attachments.add_file(str(photo))
    app.run(ready(app))
    chip = app.chat.images.attachments.strip.chips()[0]
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    viewer = app.chat.images.actions.viewer
    assert viewer is not None and viewer.isVisible() and (viewer.image.width(), viewer.image.height()) == (300, 200)
    assert "edit" not in viewer.buttons  # a preview of what will be sent: no Edit…/Use as reference
    viewer.close()

"""Images into a message: drop, paste, Attach; refusals keep the text; what is sent has no metadata."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.support import image_fixtures as F
from tests.support.schema import validate_recorded
from tests.ui.conftest import App, button
from tests.ui.image_helpers import chat_requests, drop_on, file_mime, gps_photo, ready, sent_images


def typed(app: App, qtbot, text: str) -> None:
    qtbot.keyClicks(app.window.composer.editor, text)


def chips(app: App) -> list:
    return app.chat.images.attachments.strip.chips()


def test_drop_file_urls_on_the_composer_makes_a_ready_chip(make_app, qtbot, tmp_path: Path) -> None:
    app = make_app()
    typed(app, qtbot, "what is this?")
    photo = gps_photo(tmp_path)
    assert drop_on(app.window.composer, file_mime(photo))
    app.run(ready(app))
    [chip] = chips(app)
    assert chip.isVisible() and chip.has_thumbnail() and chip.ready
    assert "holiday.jpg" in chip.toolTip() and "Metadata" in chip.toolTip()
    assert app.window.composer.text() == "what is this?"  # the drop did not touch the text
    assert not app.window.composer.status.isVisible()


def test_drop_on_the_window_and_on_the_text_box(make_app, tmp_path: Path) -> None:
    app = make_app()
    png = tmp_path / "diagram.png"
    png.write_bytes(F.transparent_png())
    assert drop_on(app.window.messages, file_mime(png))  # over the transcript: the window takes it
    data = QMimeData()
    data.setData("image/png", F.png_bytes(F.halves(64, 32)))
    assert drop_on(app.window.composer.editor.viewport(), data)  # image data onto the text box itself
    app.run(ready(app, 2))
    names = [c.name for c in chips(app)]
    assert names == ["diagram.png", "pasted image.png"]
    assert app.window.composer.text() == ""


def test_remove_a_chip_with_its_cross(make_app, qtbot, tmp_path: Path) -> None:
    app = make_app()
    assert drop_on(app.window.composer, file_mime(gps_photo(tmp_path)))
    app.run(ready(app))
    chip = chips(app)[0]
    qtbot.mouseClick(chip.remove_button, Qt.MouseButton.LeftButton)
    assert chips(app) == [] and not app.chat.images.attachments.has_any()
    assert not app.window.composer.send_button.isEnabled()  # nothing left to send


def test_paste_a_screenshot_bitmap(make_app, qtbot) -> None:
    app = make_app()
    typed(app, qtbot, "see the screenshot")
    shot = QImage(320, 200, QImage.Format.Format_RGB32)
    shot.fill(QColor(30, 120, 200))
    QApplication.clipboard().setImage(shot)
    app.window.composer.editor.paste()
    app.run(ready(app))
    [entry] = app.chat.images.attachments.entries()
    assert entry.prepared is not None and (entry.prepared.width, entry.prepared.height) == (320, 200)
    assert entry.prepared.mime == "image/png"  # a flat screenshot stays lossless
    assert app.window.composer.text() == "see the screenshot"


def test_paste_copied_files_and_plain_text(make_app, tmp_path: Path) -> None:
    app = make_app()
    QApplication.clipboard().setMimeData(file_mime(gps_photo(tmp_path, "a.jpg"), gps_photo(tmp_path, "b.jpg")))
    app.window.composer.editor.paste()
    app.run(ready(app, 2))
    assert [c.name for c in chips(app)] == ["a.jpg", "b.jpg"]
    QApplication.clipboard().setText("just some words")
    app.window.composer.editor.paste()  # text is still pasted as text
    assert app.window.composer.text() == "just some words"
    assert len(chips(app)) == 2


def test_animated_gif_note_on_the_chip(make_app, tmp_path: Path) -> None:
    app = make_app()
    gif = tmp_path / "anim.gif"
    gif.write_bytes(F.animated_gif())
    assert drop_on(app.window.composer, file_mime(gif))
    app.run(ready(app))
    assert "only the first frame is sent" in chips(app)[0].toolTip()


def _bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    cases = {
        "not_image": ("notes.txt", b"hello, not an image\n", "not an image"),
        "corrupt": ("broken.jpg", F.jpeg_bytes(F.photo(64, 64))[:40], "damaged"),
        "bomb": ("bomb.png", F.png_claiming_size(40000, 40000), "decompression bomb"),
        "empty": ("empty.png", b"", "0 bytes"),
        "unsupported": ("vector.svg", F.SVG, "SVG"),
        "psd": ("layers.psd", F.minimal_psd(), "Photoshop"),
    }
    out = {}
    for key, (name, data, expect) in cases.items():
        path = folder / name
        path.write_bytes(data)
        out[key] = (path, expect)
    huge = folder / "huge.png"
    with huge.open("wb") as f:  # sparse: 200 MB on paper, nothing on disk
        f.truncate(200 * 1024 * 1024)
    out["too_large"] = (huge, "too large")
    out["missing"] = (folder / "gone.png", "not found")
    return out


@pytest.mark.parametrize(
    "case", ["not_image", "corrupt", "bomb", "empty", "unsupported", "psd", "too_large", "missing"]
)
def test_bad_files_are_refused_with_a_reason_and_the_text_stays(make_app, qtbot, tmp_path: Path, case: str) -> None:
    app = make_app()
    typed(app, qtbot, "keep this text")
    path, expect = _bad_files(tmp_path)[case]
    assert drop_on(app.window.composer, file_mime(path))
    app.run(app.until(lambda: app.window.composer.status.isVisible(), what="the refusal"))
    status = app.window.composer.status.text()
    assert expect.lower() in status.lower() and path.name in status
    assert chips(app) == [] and not app.chat.images.attachments.has_any()
    assert app.window.composer.text() == "keep this text"
    assert app.server.requests == [] or all("/chat/" not in r.path for r in app.server.requests)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_refused(make_app, tmp_path: Path) -> None:
    app = make_app()
    path = gps_photo(tmp_path, "secret.jpg")
    path.chmod(0)
    try:
        assert drop_on(app.window.composer, file_mime(path))
        app.run(app.until(lambda: app.window.composer.status.isVisible(), what="the refusal"))
        assert "cannot be read" in app.window.composer.status.text()
    finally:
        path.chmod(0o600)


def test_send_an_image_message(make_app, qtbot, tmp_path: Path) -> None:
    app = make_app()
    typed(app, qtbot, "describe the photo")
    assert drop_on(app.window.composer, file_mime(gps_photo(tmp_path)))
    app.run(ready(app))
    qtbot.mouseClick(app.window.composer.send_button, Qt.MouseButton.LeftButton)
    _mid, status = app.run(app.reply_done())
    assert status == "complete"
    [request] = chat_requests(app)
    validate_recorded(request)
    [(mime, data, detail)] = sent_images(request.json)
    assert mime == "image/jpeg" and detail == "auto"
    # Content-addressed: the stored file is named by the hash of exactly what was sent.
    user = app.ctx.store.active_path(app.chat.conversation_id)[0]
    [att] = user.attachments
    digest = hashlib.sha256(data).hexdigest()
    assert att["sha256"] == digest and att["path"] == f"{digest[:2]}/{digest}.jpg"
    assert (app.ctx.paths.attachments / att["path"]).read_bytes() == data
    # No metadata left: no EXIF (so no GPS), no comment, no XMP, no camera make.
    with Image.open(io.BytesIO(data)) as im:
        assert not im.getexif() and not im.getexif().get_ifd(F.GPS_IFD)
        assert im.size == (600, 900)  # EXIF orientation 6 applied before the tags were dropped
        assert "comment" not in im.info and "xmp" not in im.info and "exif" not in im.info
    for secret in (F.SECRET_MAKE.encode(), F.SECRET_COMMENT, b"secret-xmp-8842"):
        assert secret not in data
    # The composer is empty again; the user bubble shows the image.
    assert chips(app) == [] and app.window.composer.text() == ""
    row = app.window.messages.row(user.id)
    assert row.images is not None and len(row.images.tiles) == 1
    app.run(app.until(lambda: row.images.tiles[0].image is not None, what="the bubble thumbnail"))


def test_image_only_message_and_regenerate_resends_the_image(make_app, qtbot, tmp_path: Path) -> None:
    app = make_app(chat_reply="a photo")
    assert drop_on(app.window.composer, file_mime(gps_photo(tmp_path)))
    app.run(ready(app))
    assert app.window.composer.send_button.isEnabled()  # no text needed
    qtbot.keyClick(app.window.composer.editor, Qt.Key.Key_Return)
    first, _ = app.run(app.reply_done())
    qtbot.mouseClick(button(app.window.messages.row(first), "Regenerate reply"), Qt.MouseButton.LeftButton)
    app.run(app.reply_done())
    one, two = chat_requests(app)
    assert sent_images(one.json) == sent_images(two.json) and len(sent_images(two.json)) == 1


def test_low_detail_prepares_smaller_images(make_app, tmp_path: Path) -> None:
    app = make_app()
    app.chat.images.toolbar.detail.setCurrentText("low")
    assert drop_on(app.window.composer, file_mime(gps_photo(tmp_path, size=(1600, 1200))))
    app.run(ready(app))
    prepared = app.chat.images.attachments.prepared()[0]
    assert prepared.detail == "low" and max(prepared.width, prepared.height) <= 512


def test_sending_waits_for_preparation(make_app, qtbot, tmp_path: Path, monkeypatch) -> None:
    import threading

    from assistant_app.media import images  # composer_attachments imports it when an image arrives

    gate = threading.Event()
    real = images.prepare_image

    def slow(*args, **kwargs):
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(images, "prepare_image", slow)
    app = make_app()
    typed(app, qtbot, "wait for it")
    assert drop_on(app.window.composer, file_mime(gps_photo(tmp_path)))
    qtbot.keyClick(app.window.composer.editor, Qt.Key.Key_Return)
    assert "being prepared" in app.window.composer.status.text()
    assert chat_requests(app) == [] and app.window.composer.text() == "wait for it"
    gate.set()
    app.run(ready(app))
    qtbot.keyClick(app.window.composer.editor, Qt.Key.Key_Return)
    app.run(app.reply_done())
    assert len(sent_images(chat_requests(app)[0].json)) == 1


def test_a_model_that_cannot_see_images_warns_first(make_app, qtbot, tmp_path: Path) -> None:
    app = make_app()
    app.chat.set_model("gpt-3.5-turbo")
    typed(app, qtbot, "look")
    assert drop_on(app.window.composer, file_mime(gps_photo(tmp_path)))
    app.run(ready(app))
    qtbot.keyClick(app.window.composer.editor, Qt.Key.Key_Return)
    box = app.chat.images.vision_box
    assert isinstance(box, QMessageBox) and box.isVisible() and "gpt-3.5-turbo" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()  # Cancel: nothing sent, nothing lost
    assert chat_requests(app) == [] and app.window.composer.text() == "look" and len(chips(app)) == 1
    qtbot.keyClick(app.window.composer.editor, Qt.Key.Key_Return)
    box = app.chat.images.vision_box
    box.checkBox().setChecked(True)
    [send] = [b for b in box.buttons() if b.text() == "Send anyway"]
    send.click()
    app.run(app.reply_done())
    assert len(sent_images(chat_requests(app)[0].json)) == 1
    assert app.ctx.settings.extra["vision_overrides"] == {"gpt-3.5-turbo": True}
    assert drop_on(app.window.composer, file_mime(gps_photo(tmp_path)))  # remembered: no second warning
    app.run(ready(app))
    qtbot.keyClick(app.window.composer.editor, Qt.Key.Key_Return)
    app.run(app.reply_done())
    assert len(chat_requests(app)) == 2


def test_paste_a_transparent_bitmap_keeps_its_alpha(make_app) -> None:
    app = make_app()
    shot = QImage(120, 80, QImage.Format.Format_ARGB32_Premultiplied)
    shot.fill(QColor(0, 0, 0, 0))
    shot.setPixelColor(10, 10, QColor(255, 0, 0, 255))
    QApplication.clipboard().setImage(shot)
    app.window.composer.editor.paste()
    app.run(ready(app))
    prepared = app.chat.images.attachments.prepared()[0]
    assert prepared.mime == "image/png"
    with Image.open(io.BytesIO(prepared.data)) as im:
        assert im.mode == "RGBA" and im.getpixel((0, 0))[3] == 0 and im.getpixel((10, 10)) == (255, 0, 0, 255)


def test_attach_button_opens_a_file_dialog_for_images(make_app, qtbot, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QToolButton

    from assistant_app.ui import composer_attachments

    app = make_app()
    photo = gps_photo(tmp_path)
    asked: dict = {}

    def choose(parent, caption, directory, filters):
        asked.update(caption=caption, filters=filters)
        return [str(photo)], filters

    monkeypatch.setattr(composer_attachments.QFileDialog, "getOpenFileNames", staticmethod(choose))
    attach = app.window.findChild(QToolButton, "attachButton")
    assert attach is not None and attach.isVisible()
    qtbot.mouseClick(attach, Qt.MouseButton.LeftButton)
    app.run(ready(app))
    assert "*.png" in asked["filters"] and "*.jpg" in asked["filters"] and "*.webp" in asked["filters"]
    assert [c.name for c in chips(app)] == ["holiday.jpg"]

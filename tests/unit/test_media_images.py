"""assistant_app.media.images: validation, orientation, metadata stripping, downscaling, encoding."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from assistant_app.media import images as M
from assistant_app.media.images import ImageError, prepare_image, target_size, thumbnail_only
from tests.support import image_fixtures as F


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(pixel[:3], colour, strict=True))


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---- refusals -------------------------------------------------------------------------------------


def refusal(source, **kw) -> ImageError:
    with pytest.raises(ImageError) as info:
        prepare_image(source, **kw)
    return info.value


def test_text_file_is_not_an_image(tmp_path: Path) -> None:
    err = refusal(write(tmp_path, "notes.png", b"shopping list: eggs, milk\n" * 10))
    assert err.reason == "not_image"
    assert "notes.png" in str(err) and "not an image" in str(err)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_png_and_jpeg_are_corrupt(tmp_path: Path, cut: float) -> None:
    for name, data in (("a.png", F.png_bytes(F.photo(200, 150))), ("b.jpg", F.jpeg_bytes(F.photo(200, 150)))):
        err = refusal(write(tmp_path, name, data[: int(len(data) * cut)]))
        assert err.reason == "corrupt", (name, str(err))
        assert name in str(err)


def test_garbage_after_a_png_signature_is_corrupt(tmp_path: Path) -> None:
    err = refusal(write(tmp_path, "x.png", b"\x89PNG\r\n\x1a\n" + os.urandom(300)))
    assert err.reason == "corrupt"


def test_empty_file_and_empty_bytes(tmp_path: Path) -> None:
    assert refusal(write(tmp_path, "empty.jpg", b"")).reason == "empty"
    assert "0 bytes" in str(refusal(b"", name="clip.png"))


def test_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    with path.open("wb") as f:  # sparse: 200 MB on paper, nothing on disk
        f.truncate(200 * 1024 * 1024)
    err = refusal(path)
    assert err.reason == "too_large"
    assert "200 MB" in str(err) and "50 MB" in str(err)


def test_bytes_over_the_limit_are_refused() -> None:
    assert refusal(F.png_bytes(F.photo(64, 64)), max_bytes=1000).reason == "too_large"


def test_missing_path_folder_and_path_through_a_file(tmp_path: Path) -> None:
    assert refusal(tmp_path / "nope.png").reason == "missing"
    assert refusal(tmp_path).reason == "not_image"
    afile = write(tmp_path, "plain.txt", b"x")
    assert refusal(afile / "inside.png").reason == "unreadable"


def test_permission_denied_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "locked.png", F.png_bytes(F.photo(20, 20)))

    def deny(self, *a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", deny)
    err = refusal(path)
    assert err.reason == "unreadable" and "permission denied" in str(err)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_mode(tmp_path: Path) -> None:
    path = write(tmp_path, "locked.png", F.png_bytes(F.photo(20, 20)))
    path.chmod(0)
    assert refusal(path).reason == "unreadable"


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("logo.svg", F.SVG, "SVG"),
        ("layers.psd", F.minimal_psd(), "Photoshop"),
        ("favicon.ico", F.encode(Image.new("RGBA", (32, 32), (1, 2, 3, 255)), "ICO"), "ICO"),
        ("old.tga", F.encode(F.photo(16, 16), "TGA"), "TGA"),
        ("pic.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
    ],
)
def test_unsupported_formats_name_what_they_are(tmp_path: Path, name: str, data: bytes, words: str) -> None:
    err = refusal(write(tmp_path, name, data))
    assert err.reason == "unsupported"
    assert words in str(err) and "PNG, JPEG, WebP, GIF, BMP or TIFF" in str(err)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("size", [(30000, 30000), (10000, 10000)])
def test_decompression_bomb_header_is_refused(tmp_path: Path, size: tuple[int, int]) -> None:
    # 900 MP trips Pillow's hard limit at open; 100 MP is in Pillow's warning zone and must still be refused.
    err = refusal(write(tmp_path, "bomb.png", F.png_claiming_size(*size)))
    assert err.reason == "too_many_pixels"
    assert "decompression bomb" in str(err)


def test_pixel_limit_is_configurable() -> None:
    err = refusal(F.png_bytes(F.photo(100, 100)), max_pixels=5000)
    assert err.reason == "too_many_pixels" and "100×100" in str(err)


def test_thumbnail_only_refuses_like_prepare(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as info:
        thumbnail_only(write(tmp_path, "bomb.png", F.png_claiming_size(30000, 30000)))
    assert info.value.reason == "too_many_pixels"
    with pytest.raises(ImageError) as info:
        thumbnail_only(write(tmp_path, "a.svg", F.SVG))
    assert info.value.reason == "unsupported"


# ---- accepted formats, frames -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"])
def test_every_accepted_format_prepares(fmt: str) -> None:
    data = F.encode(F.halves(120, 80), fmt)
    out = prepare_image(data, name=f"x.{fmt.lower()}")
    assert out.source_format == fmt
    im = decode(out.data)
    assert (im.width, im.height) == (120, 80) == (out.width, out.height)
    assert near(im.getpixel((10, 40)), F.RED) and near(im.getpixel((110, 40)), F.BLUE)


def test_animated_gif_sends_the_first_frame_with_a_note() -> None:
    out = prepare_image(F.animated_gif(), name="anim.gif")
    assert out.note is not None and "first frame" in out.note
    assert near(decode(out.data).getpixel((30, 20)), F.RED)
    assert prepare_image(F.encode(F.halves(20, 20), "GIF")).note is None


# ---- orientation and metadata ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("orientation", "size", "red_at", "blue_at"),
    [
        (1, (60, 40), (5, 20), (55, 20)),  # as stored: red left
        (3, (60, 40), (55, 20), (5, 20)),  # rotated 180: red right
        (6, (40, 60), (20, 5), (20, 55)),  # rotate 90 clockwise to display: the left edge goes to the top
        (8, (40, 60), (20, 55), (20, 5)),  # rotate 90 counter-clockwise: the left edge goes to the bottom
    ],
)
def test_exif_orientation_is_applied(orientation, size, red_at, blue_at) -> None:
    data = F.jpeg_bytes(F.halves(60, 40), exif=F.private_exif(orientation))
    for result in (prepare_image(data), thumbnail_only(data)):
        im = decode(result.data if hasattr(result, "data") else result.png)
        if hasattr(result, "data"):
            assert im.size == size
            assert near(im.getpixel(red_at), F.RED) and near(im.getpixel(blue_at), F.BLUE)
        else:
            assert result.source_size == size
            assert (im.width > im.height) == (size[0] > size[1])


def test_exif_gps_xmp_comment_and_icc_are_gone_from_jpeg_output() -> None:
    data = F.jpeg_bytes(F.photo(800, 600), exif=F.private_exif(6), private=True)
    source = Image.open(io.BytesIO(data))  # the fixture really carries what must be stripped
    assert source.getexif().get_ifd(F.GPS_IFD)[2] == F.GPS_LAT
    assert {"exif", "xmp", "comment", "icc_profile"} <= set(source.info)

    out = prepare_image(data)
    assert out.mime == "image/jpeg"
    sent = decode(base64.b64decode(out.data_url().split(",", 1)[1]))
    assert len(sent.getexif()) == 0
    assert sent.getexif().get_ifd(F.GPS_IFD) == {}
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(sent.info)
    for secret in (F.SECRET_MAKE.encode(), F.SECRET_COMMENT, b"secret-xmp", b"Exif\x00\x00", b"ICC_PROFILE"):
        assert secret not in out.data
    assert decode(out.thumbnail).getexif() == {}


def test_png_text_chunks_exif_and_icc_are_gone() -> None:
    rgba = F.photo(300, 200).convert("RGBA")
    rgba.putpixel((0, 0), (0, 0, 0, 0))
    data = F.png_bytes(rgba, private=True)
    assert Image.open(io.BytesIO(data)).text  # the fixture has text chunks
    out = prepare_image(data)
    assert out.mime == "image/png"
    sent = decode(out.data)
    assert sent.text == {} and len(sent.getexif()) == 0
    assert not {"exif", "icc_profile", "Location", "Comment"} & set(sent.info)
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP", F.SECRET_TEXT.encode()):
        assert chunk not in out.data


# ---- sizes and encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "detail", "expected"),
    [
        ((4000, 3000), "low", (512, 384)),
        ((3000, 4000), "low", (384, 512)),
        ((4000, 3000), "high", (1024, 768)),
        ((4000, 3000), "auto", (1024, 768)),
        ((8000, 1000), "high", (2048, 256)),  # the long side rule binds first
        ((1000, 8000), "auto", (256, 2048)),
        ((300, 200), "high", (300, 200)),  # never upscaled
        ((300, 200), "low", (300, 200)),
        ((700, 700), "auto", (700, 700)),
        ((1000, 1000), "auto", (768, 768)),
    ],
)
def test_target_size_follows_the_vision_rules(size, detail, expected) -> None:
    assert target_size(size, detail) == expected


@pytest.mark.parametrize(("detail", "expected"), [("low", (512, 341)), ("high", (1152, 768)), ("auto", (1152, 768))])
def test_prepared_photo_is_downscaled_per_detail(detail: str, expected: tuple[int, int]) -> None:
    out = prepare_image(F.jpeg_bytes(F.photo(3000, 2000)), detail)
    assert (out.width, out.height) == expected == decode(out.data).size
    assert out.detail == detail and out.source_size == (3000, 2000)


def test_rotated_photo_limits_apply_after_orientation() -> None:
    out = prepare_image(F.jpeg_bytes(F.photo(3000, 2000), exif=F.private_exif(6)), "high")
    assert (out.width, out.height) == (768, 1152)


def test_transparency_makes_png_and_keeps_alpha() -> None:
    out = prepare_image(F.transparent_png(), name="sticker.png")
    im = decode(out.data)
    assert out.mime == "image/png" and out.extension == "png" and im.mode == "RGBA"
    assert im.getpixel((0, 0))[3] == 0 and im.getpixel((150, 100))[3] == 255


def test_gif_transparency_makes_png() -> None:
    im = Image.new("P", (40, 40), 0)
    im.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    im.paste(1, (10, 10, 30, 30))
    out = prepare_image(F.encode(im, "GIF", transparency=0))
    assert out.mime == "image/png" and decode(out.data).getpixel((0, 0))[3] == 0


def test_opaque_alpha_channel_photo_becomes_jpeg() -> None:
    out = prepare_image(F.png_bytes(F.photo(400, 300).convert("RGBA")))
    assert out.mime == "image/jpeg" and out.extension == "jpg"


def test_few_colour_screenshot_stays_png_but_photo_png_becomes_jpeg() -> None:
    assert prepare_image(F.png_bytes(F.halves(800, 600))).mime == "image/png"
    assert prepare_image(F.png_bytes(F.photo(800, 600))).mime == "image/jpeg"


def test_sixteen_bit_grey_png_is_scaled_not_clipped() -> None:
    grey = Image.new("I;16", (32, 32), 32768)
    out = decode(prepare_image(F.encode(grey, "PNG")).data)
    assert 110 <= out.convert("L").getpixel((5, 5)) <= 145


def test_result_fields_hash_thumbnail_and_data_url() -> None:
    out = prepare_image(F.jpeg_bytes(F.photo(1600, 900)), name="beach.jpg")
    assert out.sha256 == hashlib.sha256(out.data).hexdigest()
    assert out.name == "beach.jpg"
    thumb = decode(out.thumbnail)
    assert thumb.format == "PNG" and max(thumb.size) == M.THUMBNAIL_SIDE
    header, b64 = out.data_url().split(",", 1)
    assert header == "data:image/jpeg;base64" and base64.b64decode(b64) == out.data


def test_same_input_gives_same_bytes() -> None:
    data = F.jpeg_bytes(F.photo(900, 700), exif=F.private_exif(3))
    assert prepare_image(data).sha256 == prepare_image(data).sha256


def test_thumbnail_only_from_a_big_jpeg_path(tmp_path: Path) -> None:
    path = write(tmp_path, "big.jpg", F.jpeg_bytes(F.photo(3000, 2000), exif=F.private_exif(8)))
    thumb = thumbnail_only(path)
    im = decode(thumb.png)
    assert im.format == "PNG" and (thumb.width, thumb.height) == im.size == (107, 160)
    assert thumb.source_size == (2000, 3000)


def test_unknown_detail_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        prepare_image(F.png_bytes(F.photo(10, 10)), "ultra")

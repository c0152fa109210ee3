"""Crafted and mutated DICOM and raster files for the fuzz suite (see tests/fuzz_factory.py).

Sizes that lie (codec headers, PNG chunks, region counts, deflate bombs), damaged headers and
terminal escape codes in tags; `mutate` makes the seeded byte-level variants of small valid files.
"""

from __future__ import annotations

import os
import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEMO_DCM = REPO / "resources" / "samples" / "demo.dcm"
DEMO_CONTOUR = REPO / "resources" / "samples" / "demo.contour.json"
DEMO_BUNDLE = REPO / "resources" / "models" / "dlrs-demo"


# ------------------------------------------------------------------------------------ base files
def _small_dicom(path: Path, ts: str = "1.2.840.10008.1.2.1", h: int = 96, w: int = 128) -> Path:
    from dlrs_desktop.imaging.dicom_writer import build_dataset, encode_dataset, write_dataset
    from tests.dicom_factory import bmode_frame

    px, _, _ = bmode_frame(h, w, seed=3, mm_per_px=0.2)
    ds = build_dataset(px, mm_per_px=0.2)
    encode_dataset(ds, ts)
    return write_dataset(path, ds)


def _raster(path: Path, ext: str, h: int = 96, w: int = 128) -> Path:
    import cv2

    from tests.dicom_factory import bmode_frame

    px, _, _ = bmode_frame(h, w, seed=4, mm_per_px=0.2)
    ok, buf = cv2.imencode(ext, px)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def _png_chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    c = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", c & 0xFFFFFFFF)


def _png(w: int, h: int, *, depth: int = 8, colour: int = 0, idat: bytes | None = None, bad_text_crc=False):
    out = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0))
    if bad_text_crc:
        out += _png_chunk(b"tEXt", b"Comment\x00hello", crc=0xDEADBEEF)
    out += _png_chunk(b"IDAT", idat if idat is not None else zlib.compress(b"\x00" * 1024))
    return out + _png_chunk(b"IEND", b"")


def _jpeg_claiming(w: int, h: int, base: bytes) -> bytes:
    """A real small JPEG whose SOF0 says w x h."""
    i = base.index(b"\xff\xc0")
    return base[: i + 5] + struct.pack(">HH", h, w) + base[i + 9 :]


# ---------------------------------------------------------------------------------------- DICOM
def _ds(h: int = 64, w: int = 64):
    from dlrs_desktop.imaging.dicom_writer import build_dataset
    from tests.dicom_factory import bmode_frame

    px, _, _ = bmode_frame(h, w, seed=5, mm_per_px=0.2)
    return build_dataset(px, mm_per_px=0.2)


def _write_ds(path: Path, ds) -> Path:
    import pydicom

    from dlrs_desktop.imaging.dicom_writer import write_dataset

    pydicom.config.settings.writing_validation_mode = pydicom.config.IGNORE
    return write_dataset(path, ds)


def _encapsulated(path: Path, ds, ts: str, frame: bytes) -> Path:
    from pydicom.encaps import encapsulate

    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = ts
    return _write_ds(path, ds)


def _j2k_codestream(w: int, h: int) -> bytes:
    from openjpeg import encode as encode_array

    cs = bytes(encode_array(np.zeros((64, 64), np.uint8), codec_format=0))
    i = cs.index(b"\xff\x51")
    return cs[: i + 6] + struct.pack(">II", w, h) + cs[i + 14 :]


def _deflated(path: Path, inflated_mb: int) -> Path:
    """Deflated transfer syntax whose dataset inflates to `inflated_mb` MB (a zip bomb in a DICOM)."""
    ds = _ds()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    tmp = path.with_suffix(".plain")
    _write_ds(tmp, ds)
    raw = tmp.read_bytes()
    tmp.unlink()
    i = raw.index(b"\x08\x00\x05\x00") if b"\x08\x00\x05\x00" in raw else 132 + 200
    # file meta: everything before the first (0008,xxxx) element; rewrite its transfer syntax UID.
    meta_end = raw.index(b"\x08\x00", 132)
    meta, body = raw[:meta_end], raw[meta_end:]
    meta = meta.replace(b"1.2.840.10008.1.2.1\x00", b"1.2.840.10008.1.2.1.99", 1)
    del i
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [comp.compress(body)]
    n = inflated_mb * 1024 * 1024
    out.append(comp.compress(struct.pack("<HH2sHI", 0x0009, 0x0010, b"OB", 0, n)))
    zeros = b"\x00" * (1 << 20)
    for _ in range(inflated_mb):
        out.append(comp.compress(zeros))
    out.append(comp.flush())
    path.write_bytes(meta + b"".join(out))
    return path


def _nested_sequence(path: Path, depth: int) -> Path:
    ds = _ds()
    tmp = path.with_suffix(".plain")
    _write_ds(tmp, ds)
    raw = tmp.read_bytes()
    tmp.unlink()
    level = struct.pack("<HH2sHI", 0x0008, 0x1115, b"SQ", 0, 0xFFFFFFFF) + struct.pack(
        "<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF
    )
    end = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    path.write_bytes(raw + level * depth + end * depth)
    return path


def _raw(ds, tag: int, vr: str, text: str) -> None:
    """Put an element as raw bytes (pydicom would refuse to hold an invalid value otherwise)."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    data = text.encode("latin-1")
    if len(data) % 2:
        data += b" "
    ds[Tag(tag)] = RawDataElement(Tag(tag), vr, len(data), data, 0, False, True)


def _dicom_crafted(d: Path) -> Iterator[tuple[str, Path, str]]:
    from pydicom.sequence import Sequence

    def fresh(name: str, **kw):
        ds = _ds()
        for k, v in kw.items():
            setattr(ds, k, v)
        return ds, d / f"{name}.dcm"

    ds, p = fresh("unknown-ts")
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5.6.7"
    yield "unknown transfer syntax UID", _write_ds(p, ds), "refuse"
    for name, value in (("abc", "abc"), ("nan", "NaN"), ("inf", "Inf"), ("zero", "0"), ("huge", "1e308")):
        ds, p = fresh(f"slope-{name}")
        _raw(ds, 0x00281053, "DS", value)
        _raw(ds, 0x00281052, "DS", "0")
        yield f"RescaleSlope {value}", _write_ds(p, ds), "any"
    for name, kw in (
        ("rows-65535", {"Rows": 65535, "Columns": 65535}),
        ("rows-0", {"Rows": 0}),
        ("frames-1e9", {"NumberOfFrames": 999999999}),
        ("frames-neg", {"NumberOfFrames": "-5"}),
        ("bits-64", {"BitsAllocated": 64, "BitsStored": 64, "HighBit": 63}),
        ("bits-0", {"BitsAllocated": 0}),
        ("bits-1", {"BitsAllocated": 1, "BitsStored": 1, "HighBit": 0}),
        ("samples-4", {"SamplesPerPixel": 4}),
        ("samples-0", {"SamplesPerPixel": 0}),
        ("photometric-bogus", {"PhotometricInterpretation": "HSV"}),
        ("palette-no-lut", {"PhotometricInterpretation": "PALETTE COLOR"}),
        ("window-nan", {"WindowCenter": "NaN", "WindowWidth": "0"}),
        ("window-text", {"WindowCenter": "abc", "WindowWidth": "x"}),
        ("frame-time-nan", {"FrameTime": "NaN"}),
        ("spacing-nan", {"PixelSpacing": ["NaN", "0"]}),
    ):
        ds, p = fresh(name)
        for k, v in kw.items():
            from pydicom.datadict import dictionary_VR, tag_for_keyword

            tag = tag_for_keyword(k)
            vr = dictionary_VR(tag)
            if isinstance(v, str) and vr in ("DS", "IS"):
                _raw(ds, tag, vr, v)
            elif isinstance(v, list):
                _raw(ds, tag, vr, "\\".join(v))
            else:
                setattr(ds, k, v)
        yield name, _write_ds(p, ds), "any"
    # Tag text that tries to drive the terminal.
    ds, p = fresh(
        "escape-tags",
        Manufacturer="\x1b[2J\x1b]0;pwned\x07Evil\nerror: forged",
        ManufacturerModelName="\x9b31m",
    )
    yield "escape codes in DICOM tags", _write_ds(p, ds), "any"
    # Ultrasound regions copied many times.
    for copies in (2000, 20000):
        ds, p = fresh(f"regions-{copies}")
        item = ds.SequenceOfUltrasoundRegions[0]
        ds.SequenceOfUltrasoundRegions = Sequence([item] * copies)
        yield f"{copies} ultrasound regions", _write_ds(p, ds), "refuse"
    ds, p = fresh("region-delta-text")
    ds.SequenceOfUltrasoundRegions[0].PhysicalDeltaX = float("nan")
    yield "region delta NaN", _write_ds(p, ds), "any"
    # Codec headers that lie about the size.
    base_jpeg = _raster_bytes(".jpg")
    ds, p = fresh("jpeg-sof-60000")
    yield (
        "JPEG SOF 60000x60000 in a 64x64 DICOM",
        _encapsulated(p, ds, "1.2.840.10008.1.2.4.50", _jpeg_claiming(60000, 60000, base_jpeg)),
        "refuse",
    )
    ds, p = fresh("j2k-siz-20000")
    yield (
        "JPEG 2000 SIZ 20000x20000 in a 64x64 DICOM",
        _encapsulated(p, ds, "1.2.840.10008.1.2.4.90", _j2k_codestream(20000, 20000)),
        "refuse",
    )
    ds, p = fresh("jpegls-sof-huge")
    jls = (
        b"\xff\xd8\xff\xf7\x00\x0b\x08"
        + struct.pack(">HH", 50000, 50000)
        + b"\x01\x01\x11\x00\xff\xda\x00\x08\x01\x01\x00\x00\x00\x00"
        + b"\x00" * 64
        + b"\xff\xd9"
    )
    yield "JPEG-LS SOF 50000x50000", _encapsulated(p, ds, "1.2.840.10008.1.2.4.80", jls), "refuse"
    rle = struct.pack("<16I", 1, 64, *([0] * 14)) + b"\x81\x00" * 32
    rgb32 = {"BitsAllocated": 32, "BitsStored": 32, "HighBit": 31, "SamplesPerPixel": 3,
             "PhotometricInterpretation": "RGB", "PlanarConfiguration": 0}  # fmt: skip
    for side, what in ((10000, ""), (6000, " (432 MB decoded)")):
        ds, p = fresh(f"rle-{side}-rgb32", Rows=side, Columns=side, **rgb32)
        name = f"RLE {side}x{side} 32-bit RGB{what}"
        yield name, _encapsulated(p, ds, "1.2.840.10008.1.2.5", rle), "refuse"
    ds, p = fresh("rle-bad-header")
    yield "RLE with a bad segment table", _encapsulated(p, ds, "1.2.840.10008.1.2.5", b"\xff" * 64), "refuse"
    ds, p = fresh("encapsulated-garbage")
    yield "JPEG 2000 garbage", _encapsulated(p, ds, "1.2.840.10008.1.2.4.91", os.urandom(300)), "refuse"
    yield "deflate bomb (400 MB inflated)", _deflated(d / "deflate-bomb.dcm", 400), "refuse"
    yield "deflate small", _deflated(d / "deflate-small.dcm", 1), "any"
    yield "nested sequences 20000 deep", _nested_sequence(d / "nested.dcm", 20000), "any"
    raw = _small_dicom(d / "base.dcm").read_bytes()
    for frac in (0.05, 0.2, 0.5, 0.9, 0.999):
        p = d / f"trunc-{frac}.dcm"
        p.write_bytes(raw[: int(len(raw) * frac)])
        yield f"truncated at {frac:.0%}", p, "refuse"
    p = d / "length-huge.dcm"
    i = raw.index(b"\xe0\x7f\x10\x00")
    p.write_bytes(raw[: i + 8] + struct.pack("<I", 0xFFFFFFF0) + raw[i + 12 :])
    yield "PixelData length 4 GB", p, "refuse"
    ds, p = fresh("no-pixels")
    del ds.PixelData
    yield "no pixel data", _write_ds(p, ds), "refuse"


def _raster_bytes(ext: str) -> bytes:
    import cv2

    from tests.dicom_factory import bmode_frame

    px, _, _ = bmode_frame(64, 64, seed=6, mm_per_px=0.2)
    return cv2.imencode(ext, px)[1].tobytes()


def _raster_crafted(d: Path) -> Iterator[tuple[str, Path, str]]:
    items: list[tuple[str, str, bytes, str]] = [
        ("png-30000-bad-text-crc", ".png", _png(30000, 30000, bad_text_crc=True), "refuse"),
        ("png-30000", ".png", _png(30000, 30000), "refuse"),
        ("png-6000-rgba16", ".png", _png(6000, 6000, depth=16, colour=6), "refuse"),
        ("png-zero-size", ".png", _png(0, 0), "refuse"),
        ("png-bad-idat", ".png", _png(64, 64, idat=b"garbage"), "refuse"),
        ("png-bad-crc-small", ".png", _png(64, 64, bad_text_crc=True), "any"),
        ("png-bomb-8000", ".png", _png(8000, 8000, idat=zlib.compress(b"\x00" * (8001 * 8000), 9)), "refuse"),
        ("jpeg-60000", ".jpg", _jpeg_claiming(60000, 60000, _raster_bytes(".jpg")), "refuse"),
        ("jpeg-truncated", ".jpg", _raster_bytes(".jpg")[:300], "any"),
        ("jpeg-only-soi", ".jpg", b"\xff\xd8\xff", "refuse"),
        (
            "bmp-50000",
            ".bmp",
            b"BM"
            + struct.pack("<IHHI", 1000, 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, 50000, 50000, 1, 24, 0, 0, 0, 0, 0, 0)
            + b"\x00" * 64,
            "refuse",
        ),
        (
            "bmp-negative",
            ".bmp",
            b"BM"
            + struct.pack("<IHHI", 1000, 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, -64, -2147483647, 1, 8, 0, 0, 0, 0, 0, 0)
            + b"\x00" * 64,
            "refuse",
        ),
        ("tiff-100000", ".tif", _tiff_claiming(100000, 100000), "refuse"),
        ("tiff-ifd-loop", ".tif", _tiff_loop(), "any"),
        ("named-png-not-png", ".png", b"hello world, not an image" * 10, "refuse"),
        ("empty", ".png", b"", "refuse"),
        ("gif", ".gif", b"GIF89a" + b"\x00" * 100, "refuse"),
    ]
    for name, ext, data, expect in items:
        p = d / f"{name}{ext}"
        p.write_bytes(data)
        yield name, p, expect


def _tiff(w: int, h: int, strip_bytes: int, loop: bool) -> bytes:
    """A little-endian 8-bit grey TIFF header (one IFD, one strip) claiming w x h; `loop`: the IFD names
    itself as the next one."""
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 8),
               (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, strip_bytes)]  # fmt: skip
    first = 72 if loop else 24
    ifd = (
        struct.pack("<H", len(entries))
        + b"".join(struct.pack("<HHII", *e) for e in entries)
        + struct.pack("<I", first if loop else 0)
    )
    return b"II*\x00" + struct.pack("<I", first) + b"\x00" * (first - 8) + ifd


def _tiff_claiming(w: int, h: int) -> bytes:
    return _tiff(w, h, 16, loop=False)


def _tiff_loop() -> bytes:
    return _tiff(8, 8, 64, loop=True)


# -------------------------------------------------------------------------------------- mutation
def mutate(data: bytes, rng: random.Random, header_bias: int = 2048) -> bytes:
    """One to four byte-level edits: flips, boundary values, deletions, duplications, truncation."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not b:
            break
        limit = len(b) if rng.random() < 0.3 else min(len(b), header_bias)
        i = rng.randrange(limit)
        op = rng.randrange(7)
        if op == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[i : i + 2] = rng.choice([b"\xff\xff", b"\x00\x00", b"\x7f\xff", b"\x80\x00"])
        elif op == 2:
            del b[i : i + rng.randint(1, 64)]
        elif op == 3:
            j = rng.randrange(len(b))
            b[i:i] = b[j : j + rng.randint(1, 256)]
        elif op == 4:
            del b[i:]
        elif op == 5:
            b[i : i + 4] = struct.pack("<I", rng.choice([0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 0xFFFFFFF0, 65536]))
        else:
            b[i : i + 8] = bytes(rng.randrange(256) for _ in range(8))
    return bytes(b)

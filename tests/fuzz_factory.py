"""Hostile and damaged inputs for the `dlrs` exit contract (tests/test_fuzz_inputs.py, benchmarks/fuzz_inputs.py).

Every case is a real file (or argument) handed to a real `dlrs` command in a fresh process. Crafted
cases reproduce what an adversarial run found (docs/RELIABILITY.md); mutated cases flip, cut and
duplicate bytes of small valid files with a seeded generator, so a run is reproducible.
`expect="refuse"` marks inputs that must never give exit 0 (a confident answer from garbage).
"""

from __future__ import annotations

import json
import os
import random
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEMO_DCM = REPO / "resources" / "samples" / "demo.dcm"
DEMO_CONTOUR = REPO / "resources" / "samples" / "demo.contour.json"
DEMO_BUNDLE = REPO / "resources" / "models" / "dlrs-demo"
FAMILIES = (
    "dicom-crafted", "dicom-mutated", "raster-crafted", "raster-mutated", "contour-crafted",
    "contour-mutated", "arguments", "bundle-crafted", "bundle-mutated", "folder",
)  # fmt: skip


@dataclass
class Case:
    family: str
    name: str
    argv: list[str]
    expect: str = "any"  # "refuse": exit 0 is a failure; "any": exit 0 or a clean refusal
    stdin_fifo: bool = False
    extra: dict = field(default_factory=dict)


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
    level = struct.pack("<HH2sHI", 0x0008, 0x1115, b"SQ", 0, 0xFFFFFFFF) + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
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
    ds, p = fresh("escape-tags", Manufacturer="\x1b[2J\x1b]0;pwned\x07Evil\nerror: forged", ManufacturerModelName="\x9b31m")
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
    yield "JPEG SOF 60000x60000 in a 64x64 DICOM", _encapsulated(p, ds, "1.2.840.10008.1.2.4.50", _jpeg_claiming(60000, 60000, base_jpeg)), "refuse"
    ds, p = fresh("j2k-siz-20000")
    yield "JPEG 2000 SIZ 20000x20000 in a 64x64 DICOM", _encapsulated(p, ds, "1.2.840.10008.1.2.4.90", _j2k_codestream(20000, 20000)), "refuse"
    ds, p = fresh("jpegls-sof-huge")
    jls = b"\xff\xd8\xff\xf7\x00\x0b\x08" + struct.pack(">HH", 50000, 50000) + b"\x01\x01\x11\x00\xff\xda\x00\x08\x01\x01\x00\x00\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
    yield "JPEG-LS SOF 50000x50000", _encapsulated(p, ds, "1.2.840.10008.1.2.4.80", jls), "refuse"
    ds, p = fresh("rle-10000-rgb32", Rows=10000, Columns=10000, BitsAllocated=32, BitsStored=32, HighBit=31, SamplesPerPixel=3, PhotometricInterpretation="RGB", PlanarConfiguration=0)
    rle = struct.pack("<16I", 1, 64, *([0] * 14)) + b"\x81\x00" * 32
    yield "RLE 10000x10000 32-bit RGB", _encapsulated(p, ds, "1.2.840.10008.1.2.5", rle), "refuse"
    ds, p = fresh("rle-6000-rgb32", Rows=6000, Columns=6000, BitsAllocated=32, BitsStored=32, HighBit=31, SamplesPerPixel=3, PhotometricInterpretation="RGB", PlanarConfiguration=0)
    yield "RLE 6000x6000 32-bit RGB (432 MB decoded)", _encapsulated(p, ds, "1.2.840.10008.1.2.5", rle), "refuse"
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
        ("bmp-50000", ".bmp", b"BM" + struct.pack("<IHHI", 1000, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 50000, 50000, 1, 24, 0, 0, 0, 0, 0, 0) + b"\x00" * 64, "refuse"),
        ("bmp-negative", ".bmp", b"BM" + struct.pack("<IHHI", 1000, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, -64, -2147483647, 1, 8, 0, 0, 0, 0, 0, 0) + b"\x00" * 64, "refuse"),
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


def _tiff_claiming(w: int, h: int) -> bytes:
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 24) + b"\x00" * 16 + ifd


def _tiff_loop() -> bytes:
    entries = [(256, 4, 1, 8), (257, 4, 1, 8), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, 8), (279, 4, 1, 64)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + struct.pack("<I", 72)
    return b"II*\x00" + struct.pack("<I", 72) + b"\x00" * 64 + ifd


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


# -------------------------------------------------------------------------------------- contours
def _contour_texts() -> list[tuple[str, str, str]]:
    good = json.loads(DEMO_CONTOUR.read_text())
    pts = good["points"] if "points" in good else good["contour"]["points"]
    ptxt = json.dumps(pts)
    circle = lambda n, r=60.0: [[350 + r * np.cos(t), 300 + r * np.sin(t)] for t in np.linspace(0, 2 * np.pi, n, endpoint=False)]  # noqa: E731
    star = []
    for k in range(1500):
        t = 2 * np.pi * k / 1500
        star += [[350 + 50 * np.cos(t), 300 + 50 * np.sin(t)], [350 + 90 * np.cos(t), 300 + 90 * np.sin(t)], [350 + 50 * np.cos(t), 300 + 50 * np.sin(t)]]
    rng = np.random.default_rng(1)
    zig = [[float(x), float(y)] for x, y in zip(rng.uniform(300, 400, 5000), rng.uniform(250, 350, 5000), strict=True)]
    out = [
        ("frame Infinity", '{"points": %s, "frame": Infinity}' % ptxt, "refuse"),
        ("frame 1e400", '{"points": %s, "frame": 1e400}' % ptxt, "refuse"),
        ("frame -1", '{"points": %s, "frame": -1}' % ptxt, "refuse"),
        ("frame string", '{"points": %s, "frame": "one"}' % ptxt, "refuse"),
        ("frame huge int", '{"points": %s, "frame": %s}' % (ptxt, "9" * 5000), "refuse"),
        ("points NaN", '{"points": [[NaN, 1], [2, 3], [4, 5]]}', "refuse"),
        ("nesting 100000", "[" * 100000 + "]" * 100000, "refuse"),
        ("points nesting 100000", '{"points": ' + "[" * 100000 + "]" * 100000 + "}", "refuse"),
        ("5000-digit number", '{"points": [[%s, 1], [2, 3], [4, 5]]}' % ("1" * 5000), "refuse"),
        ("point 1e308", '{"points": [[1e308, 300], [360, 310], [350, 330]]}', "refuse"),
        ("points string", '{"points": "abc"}', "refuse"),
        ("points null", '{"points": null}', "refuse"),
        ("points ragged", '{"points": [[1, 2], [3], [4, 5, 6]]}', "refuse"),
        ("points dict", '{"points": {"x": 1}}', "refuse"),
        ("points bools", '{"points": [[true, false], [true, true], [false, true]]}', "refuse"),
        ("calibration garbage", '{"points": %s, "calibration": {"mm_per_px_x": "a"}}' % ptxt, "refuse"),
        ("calibration list", '{"points": %s, "calibration": [1, 2]}' % ptxt, "refuse"),
        ("region_index huge", '{"points": %s, "region_index": 1e300}' % ptxt, "any"),
        ("schema_version float", '{"points": %s, "schema_version": 1.5}' % ptxt, "refuse"),
        ("labelme points string", '{"shapes": [{"points": "abc", "shape_type": "polygon"}]}', "refuse"),
        ("labelme points ragged", '{"shapes": [{"points": [[1, 2], [3], [4, 5]], "shape_type": "polygon"}]}', "refuse"),
        ("labelme points null", '{"shapes": [{"points": null}]}', "refuse"),
        ("labelme shapes 5", '{"shapes": 5}', "refuse"),
        ("labelme shapes list of ints", '{"shapes": [5, 6]}', "refuse"),
        ("sidecar contour not object", '{"contour": 5}', "refuse"),
        ("top-level list", "[1, 2, 3]", "refuse"),
        ("not utf-8", "\udcff", "refuse"),
        ("empty", "", "refuse"),
        ("100000-point circle", json.dumps({"points": circle(100000)}), "any"),
        ("300000-point circle", json.dumps({"points": circle(300000)}), "refuse"),
        ("1500 spikes", json.dumps({"points": star}), "any"),
        ("5000-point random zigzag", json.dumps({"points": zig}), "refuse"),
        ("20000-point figure eight", json.dumps({"points": [[350 + 80 * np.sin(t), 300 + 40 * np.sin(2 * t)] for t in np.linspace(0, 2 * np.pi, 20000, endpoint=False)]}), "refuse"),
    ]
    return out


def _contour_mutations(rng: random.Random, n: int) -> list[tuple[str, str]]:
    base = json.loads(DEMO_CONTOUR.read_text())
    values = [None, True, -1, 0, 1e308, -1e308, "x", [], {}, [1], [[1, 2]], 2**63, 1e-320, "NaN"]
    out = []
    for k in range(n):
        doc = json.loads(json.dumps(base))
        target = doc.get("contour", doc)
        kind = rng.randrange(5)
        if kind == 0 and target.get("points"):
            i = rng.randrange(len(target["points"]))
            target["points"][i][rng.randrange(2)] = rng.choice(values)
        elif kind == 1:
            target[rng.choice(["frame", "calibration", "region_index", "schema", "schema_version", "points"])] = rng.choice(values)
        elif kind == 2 and target.get("points"):
            pts = target["points"]
            i, j = sorted(rng.sample(range(len(pts)), 2))
            pts[i], pts[j] = pts[j], pts[i]
        elif kind == 3 and isinstance(target.get("calibration"), dict):
            target["calibration"][rng.choice(["mm_per_px_x", "mm_per_px_y", "source", "region_index"])] = rng.choice(values)
        text = json.dumps(doc)
        if kind == 4 or rng.random() < 0.3:
            text = mutate(text.encode(), rng, header_bias=len(text)).decode("utf-8", "replace")
        out.append((f"contour mutation {k}", text))
    return out


# --------------------------------------------------------------------------------------- bundles
def _link_bundle(dst: Path, manifest: dict | None = None, replace: dict[str, bytes] | None = None) -> Path:
    """A copy of the demo bundle (big files hard-linked) with some files replaced; sha256s updated."""
    import hashlib

    dst.mkdir(parents=True)
    m = manifest if manifest is not None else json.loads((DEMO_BUNDLE / "manifest.json").read_text())
    for f in DEMO_BUNDLE.iterdir():
        if f.name == "manifest.json":
            continue
        if replace and f.name in replace:
            (dst / f.name).write_bytes(replace[f.name])
        else:
            try:
                os.link(f, dst / f.name)
            except OSError:
                (dst / f.name).write_bytes(f.read_bytes())
    for name, data in (replace or {}).items():
        if not (dst / name).exists():
            (dst / name).write_bytes(data)
        if isinstance(m.get("files"), dict) and name in m["files"] and isinstance(m["files"][name], dict):
            m["files"][name]["sha256"] = hashlib.sha256(data).hexdigest()
            m["files"][name]["bytes"] = len(data)
    (dst / "manifest.json").write_text(json.dumps(m) if not isinstance(m, str) else m)
    return dst


def _manifest() -> dict:
    return json.loads((DEMO_BUNDLE / "manifest.json").read_text())


def _onnx_scaled(factor: float) -> bytes:
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string((DEMO_BUNDLE / "model.onnx").read_bytes())
    for init in model.graph.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype == np.float32 and arr.ndim == 4:
            with np.errstate(over="ignore"):
                scaled = (arr * np.float32(factor)).astype(np.float32)
            init.CopyFrom(numpy_helper.from_array(scaled, init.name))
            break
    return model.SerializeToString()


def _onnx_external() -> bytes:
    import onnx

    model = onnx.load_from_string((DEMO_BUNDLE / "model.onnx").read_bytes())
    init = model.graph.initializer[0]
    init.ClearField("raw_data")
    init.data_location = onnx.TensorProto.EXTERNAL
    e = init.external_data.add()
    e.key, e.value = "location", "../../../../etc/passwd"
    return model.SerializeToString()


def _bundle_crafted(d: Path, small: bool = False) -> Iterator[tuple[str, Path, str]]:
    def edit(name: str, fn: Callable[[dict], None]) -> Path:
        m = _manifest()
        fn(m)
        return _link_bundle(d / name, m)

    def setp(key: str, value):
        return lambda m: m["preprocessing"].__setitem__(key, value)

    yield "mean 1e308", edit("mean-1e308", setp("mean", 1e308)), "refuse"
    yield "std 1e308", edit("std-1e308", setp("std", 1e308)), "refuse"
    yield "std 0", edit("std-0", setp("std", 0)), "refuse"
    yield "mean string", edit("mean-str", setp("mean", "x")), "refuse"
    yield "input_size 100000", edit("input-size", setp("input_size", 100000)), "refuse"
    yield "mm_per_px 1e-300", edit("mmpx", setp("mm_per_px", 1e-300)), "refuse"
    yield "ring radius -3", edit("radius-neg", lambda m: m["regions"][1].__setitem__("radius_mm", -3)), "refuse"
    yield "ring radius 5000", edit("radius-5000", lambda m: m["regions"][3].__setitem__("radius_mm", 5000)), "refuse"
    yield "ring radius string", edit("radius-str", lambda m: m["regions"][3].__setitem__("radius_mm", "ten")), "refuse"
    yield "threshold 1", edit("thr-1", lambda m: m.__setitem__("threshold", 1.0)), "refuse"
    yield "threshold string", edit("thr-str", lambda m: m.__setitem__("threshold", "0.5")), "refuse"
    yield "coefficients 1e308", edit("coef", lambda m: m["stacking"].__setitem__("coefficients", [1e308] * 4)), "refuse"
    yield "regions not list", edit("regions-int", lambda m: m.__setitem__("regions", 5)), "refuse"
    yield "files not dict", edit("files-list", lambda m: m.__setitem__("files", [])), "refuse"
    yield "files entry not dict", edit("files-entry", lambda m: m["files"].__setitem__("model.onnx", "abc")), "refuse"
    yield "bytes field string", edit("bytes-str", lambda m: m["files"]["model.onnx"].__setitem__("bytes", "x")), "refuse"
    yield "architecture not dict", edit("arch", lambda m: m.__setitem__("architecture", "resnet")), "refuse"
    yield "n_regions 1e9", edit("nreg", lambda m: m["architecture"].__setitem__("n_regions", 10**9)), "refuse"
    yield "manifest deep nesting", _link_bundle(d / "deep", "[" * 100000 + "]" * 100000), "refuse"  # type: ignore[arg-type]
    yield "manifest NaN", _link_bundle(d / "nan", json.dumps(_manifest()).replace('"threshold": 0.', '"threshold": NaN, "x": 0.')), "refuse"  # type: ignore[arg-type]
    st = (DEMO_BUNDLE / "heads.safetensors").read_bytes()
    n = struct.unpack("<Q", st[:8])[0]
    hdr = json.loads(st[8 : 8 + n])
    for k, v in hdr.items():
        if isinstance(v, dict) and "data_offsets" in v:
            v["data_offsets"] = [0, 10**12]
            break
    h2 = json.dumps(hdr).encode()
    yield "safetensors bad data_offsets", _link_bundle(d / "st-offsets", _manifest(), {"heads.safetensors": struct.pack("<Q", len(h2)) + h2 + st[8 + n :]}), "refuse"
    yield "safetensors header length huge", _link_bundle(d / "st-len", _manifest(), {"heads.safetensors": struct.pack("<Q", 2**62) + st[8:]}), "refuse"
    yield from _cheap_links(d)
    yield from _zip_cases(d, small=small)
    if small:  # the rest rewrites the 45 MB ONNX graph: seconds each
        return
    yield "onnx weights x 1e38", _link_bundle(d / "onnx-3e38", _manifest(), {"model.onnx": _onnx_scaled(3e38)}), "refuse"
    yield "onnx weights x 0", _link_bundle(d / "onnx-0", _manifest(), {"model.onnx": _onnx_scaled(0.0)}), "refuse"
    yield "onnx external data", _link_bundle(d / "onnx-ext", _manifest(), {"model.onnx": _onnx_external()}), "refuse"
    yield "onnx garbage", _link_bundle(d / "onnx-garbage", _manifest(), {"model.onnx": os.urandom(4096)}), "refuse"


def _cheap_links(d: Path) -> Iterator[tuple[str, Path, str]]:
    # A symlink that leaves the bundle (its target has the right sha256: a real outside file).
    p = _link_bundle(d / "symlink-out", _manifest())
    outside = d / "outside-card.md"
    outside.write_bytes((DEMO_BUNDLE / "MODEL_CARD.md").read_bytes())
    (p / "MODEL_CARD.md").unlink()
    (p / "MODEL_CARD.md").symlink_to(outside)
    yield "symlink leaving the bundle", p, "refuse"
    p = _link_bundle(d / "fifo", _manifest())
    (p / "MODEL_CARD.md").unlink()
    os.mkfifo(p / "MODEL_CARD.md")
    yield "FIFO inside the bundle", p, "refuse"


def _zip_cases(d: Path, small: bool = False) -> Iterator[tuple[str, Path, str]]:
    import zipfile

    good = d / "good.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_STORED) as zf:
        for f in sorted(DEMO_BUNDLE.iterdir()):
            zf.write(f, f.name)
    raw = good.read_bytes()
    i = raw.index(b"manifest.json") + len("manifest.json") + 200
    bad = d / "bad-crc.zip"
    bad.write_bytes(raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1 :])
    yield "zip with a bad CRC", bad, "refuse"
    trunc = d / "truncated.zip"
    trunc.write_bytes(raw[: len(raw) // 2])
    yield "zip truncated", trunc, "refuse"
    if small:
        return
    bomb = d / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("manifest.json", "w", force_zip64=True) as fh:
            fh.write(b'{"schema": "dlrs-model-bundle", "pad": "')
            chunk = b" " * (1 << 20)
            for _ in range(1500):
                fh.write(chunk)
            fh.write(b'"}')
    yield "zip manifest inflating to 1.5 GB", bomb, "refuse"
    trav = d / "traversal.zip"
    with zipfile.ZipFile(trav, "w") as zf:
        zf.writestr("../manifest.json", "{}")
    yield "zip path traversal", trav, "refuse"


def _bundle_mutations(d: Path, rng: random.Random, n: int) -> Iterator[tuple[str, Path, str]]:
    values = [None, True, -1, 0, 1e308, -1e308, "x", [], {}, 2**70, 1e-320]
    for k in range(n):
        m = _manifest()
        path: list = []
        node = m
        for _ in range(rng.randint(1, 3)):
            if isinstance(node, dict) and node:
                key = rng.choice(sorted(node))
            elif isinstance(node, list) and node:
                key = rng.randrange(len(node))
            else:
                break
            path.append(key)
            if not isinstance(node[key], dict | list):
                break
            node = node[key]
        if not path:
            continue
        parent = m
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = rng.choice(values)
        yield f"bundle mutation {k} ({'.'.join(map(str, path))})", _link_bundle(d / f"mut-{k}", m), "any"


# ------------------------------------------------------------------------------------ all cases
def build_cases(work: Path, *, seed: int = 0, mutated_per_family: int = 100, small: bool = False) -> list[Case]:
    """Every case, with its files written under `work`. `small` skips the slow-to-build bundles
    (rewritten ONNX graphs, the 1.5 GB zip) and runs crafted bundles through `model verify` only."""
    rng = random.Random(seed)
    cases: list[Case] = []
    dd = work / "dicom"
    dd.mkdir(parents=True)
    for name, p, expect in _dicom_crafted(dd):
        cases.append(Case("dicom-crafted", name, ["info", str(p)], expect))
    bases = [_small_dicom(dd / "b-native.dcm"), _small_dicom(dd / "b-rle.dcm", "1.2.840.10008.1.2.5"),
             _small_dicom(dd / "b-jpeg.dcm", "1.2.840.10008.1.2.4.50"), _small_dicom(dd / "b-j2k.dcm", "1.2.840.10008.1.2.4.90")]  # fmt: skip
    for k in range(mutated_per_family):
        src = bases[k % len(bases)]
        p = dd / f"mut-{k}.dcm"
        p.write_bytes(mutate(src.read_bytes(), rng, header_bias=1400))
        cases.append(Case("dicom-mutated", f"{src.stem} mutation {k}", ["info", str(p)]))
    rd = work / "raster"
    rd.mkdir()
    for name, p, expect in _raster_crafted(rd):
        cases.append(Case("raster-crafted", name, ["info", str(p)], expect))
    rbases = [_raster(rd / f"b.{e}", f".{e}") for e in ("png", "jpg", "bmp", "tif")]
    for k in range(mutated_per_family):
        src = rbases[k % len(rbases)]
        p = rd / f"mut-{k}{src.suffix}"
        p.write_bytes(mutate(src.read_bytes(), rng, header_bias=200))
        cases.append(Case("raster-mutated", f"{src.suffix[1:]} mutation {k}", ["info", str(p)]))
    cd = work / "contour"
    cd.mkdir()
    roi = ["roi", str(DEMO_DCM), "--json", "--contour"]
    for k, (name, text, expect) in enumerate(_contour_texts()):
        p = cd / f"c{k}.json"
        p.write_bytes(text.encode("utf-8", "surrogateescape"))
        cases.append(Case("contour-crafted", name, [*roi, str(p)], expect))
    snap = cd / "snap-1e308.json"
    snap.write_text('{"points": [[300, 300], [1e308, 310], [350, 330], [320, 350]]}')
    cases.append(Case("contour-crafted", "snap with a 1e308 point", ["outline", str(DEMO_DCM), "--snap", str(snap)], "refuse"))
    for k, (name, text) in enumerate(_contour_mutations(rng, mutated_per_family)):
        p = cd / f"m{k}.json"
        p.write_text(text, encoding="utf-8")
        cases.append(Case("contour-mutated", name, [*roi, str(p)]))
    cases += _argument_cases(work / "args")
    bd = work / "bundle"
    bd.mkdir()
    for name, p, expect in _bundle_crafted(bd, small):
        cases.append(Case("bundle-crafted", f"{name} (verify)", ["model", "verify", str(p)], expect))
        if not small:
            cases.append(Case("bundle-crafted", f"{name} (predict)", ["predict", str(DEMO_DCM), "--no-sensitivity", "--model", str(p)], expect))
    for name, p, _ in _bundle_mutations(bd, rng, max(small and 2 or 10, mutated_per_family // 2)):
        cases.append(Case("bundle-mutated", name, ["predict", str(DEMO_DCM), "--no-sensitivity", "--model", str(p)]))
    cases += _folder_cases(work / "folder")
    return cases


def _argument_cases(d: Path) -> list[Case]:
    d.mkdir()
    fifo = d / "pipe.dcm"
    os.mkfifo(fifo)
    fifo_c = d / "pipe.json"
    os.mkfifo(fifo_c)
    forged = d / "x\nerror: forged line\x1b[2J\x1b]0;title\x07.dcm"
    forged.write_bytes(b"not a dicom" * 20)
    big_mask = d / "big_mask.png"
    big_mask.write_bytes(_png(20000, 20000, idat=zlib.compress(b"\x00" * 20001 * 64)))
    roi = ["roi", str(DEMO_DCM), "--contour", str(DEMO_CONTOUR)]
    out = [
        ("named pipe as image", ["info", str(fifo)], "refuse"),
        ("named pipe as contour", ["roi", str(DEMO_DCM), "--contour", str(fifo_c)], "refuse"),
        ("device as image", ["info", "/dev/zero"], "refuse"),
        ("folder as image", ["info", str(d)], "refuse"),
        ("path longer than PATH_MAX", ["info", "/" + "a" * 5000 + ".dcm"], "refuse"),
        ("name component over 255", ["info", str(d / ("b" * 300))], "refuse"),
        ("escape codes in the file name", ["info", str(forged)], "refuse"),
        ("20000x20000 --mask", ["roi", str(DEMO_DCM), "--mask", str(big_mask)], "refuse"),
        ("--radii 1e308", [*roi, "--radii", "1e308"], "refuse"),
        ("--radii 2000", [*roi, "--radii", "2000"], "refuse"),
        ("--radii nan", [*roi, "--radii", "nan"], "refuse"),
        ("--radii 1,1,1,...(100)", [*roi, "--radii", ",".join(["1"] * 100)], "refuse"),
        ("--clip-threshold nan", [*roi, "--clip-threshold", "nan"], "refuse"),
        ("--clip-threshold -1", [*roi, "--clip-threshold", "-1"], "refuse"),
        ("--min-area nan", [*roi, "--min-area", "nan"], "refuse"),
        ("--min-area -5", [*roi, "--min-area", "-5"], "refuse"),
        ("--spacing nan", [*roi, "--spacing", "nan"], "refuse"),
        ("--spacing 1e308", [*roi, "--spacing", "1e308"], "refuse"),
        ("--frame 10^20", ["info", str(DEMO_DCM), "--frame", "1" + "0" * 20], "refuse"),
        ("--frame -1", ["info", str(DEMO_DCM), "--frame", "-1"], "refuse"),
        ("predict --spacing inf", ["predict", str(DEMO_DCM), "--no-sensitivity", "--spacing", "inf"], "refuse"),
        ("outline --max-distance nan", ["outline", str(DEMO_DCM), "--snap", str(DEMO_CONTOUR), "--max-distance", "nan"], "refuse"),
        ("outline --box nan", ["outline", str(DEMO_DCM), "--box", "nan", "0", "10", "10"], "refuse"),
        ("outline --click 1e308", ["outline", str(DEMO_DCM), "--click", "1e308", "5"], "refuse"),
        ("unknown option", ["info", str(DEMO_DCM), "--bogus"], "refuse"),
        ("model verify on a DICOM", ["model", "verify", str(DEMO_DCM)], "refuse"),
        ("evaluate: ground truth with wrong columns", ["evaluate", "--cohort", str(_cohort(d)), "--out", str(d / "ev"), "--ground-truth", str(_bad_gt(d))], "refuse"),
        ("train --out a non-empty folder", ["train", "--cohort", str(_cohort(d)), "--out", str(_nonempty(d)), "--epochs", "1"], "refuse"),
    ]
    return [Case("arguments", n, a, e) for n, a, e in out]


def _cohort(d: Path) -> Path:
    p = d / "cohort.csv"
    if not p.exists():
        p.write_text(
            "case_id,image,contour,label,centre,split\n"
            f"c1,{DEMO_DCM},{DEMO_CONTOUR},1,1,external\nc2,{DEMO_DCM},{DEMO_CONTOUR},0,1,external\n"
        )
    return p


def _bad_gt(d: Path) -> Path:
    p = d / "gt.csv"
    p.write_text("foo,bar\n1,2\n")
    return p


def _nonempty(d: Path) -> Path:
    p = d / "precious"
    p.mkdir(exist_ok=True)
    (p / "thesis.docx").write_text("years of work")
    return p


def _folder_cases(d: Path) -> list[Case]:
    """A folder where some images are fine and some are hostile: the table must still be written."""
    d.mkdir()
    good = d / "good.dcm"
    good.write_bytes(DEMO_DCM.read_bytes())
    (d / "good.contour.json").write_text(DEMO_CONTOUR.read_text())
    for name, data in (("=cmd|' -C calc'!A0.dcm", DEMO_DCM.read_bytes()), ("bad.dcm", b"DICM" * 40), ("trunc.dcm", DEMO_DCM.read_bytes()[:5000])):
        (d / name).write_bytes(data)
        (d / (Path(name).stem + ".contour.json")).write_text(DEMO_CONTOUR.read_text())
    (d / "deep.dcm").write_bytes(DEMO_DCM.read_bytes())
    (d / "deep.contour.json").write_text("[" * 100000)
    os.mkfifo(d / "pipe.dcm")
    (d / "pipe.contour.json").write_text(DEMO_CONTOUR.read_text())
    csv_out = d.parent / "folder.csv"
    return [Case("folder", "folder with hostile files", ["predict", str(d), "--no-sensitivity", "--csv", str(csv_out)], "refuse", extra={"csv": str(csv_out), "rows": 5})]


# ---------------------------------------------------------------------------------------- running
@dataclass
class Outcome:
    case: Case
    code: int | None
    stderr: str
    seconds: float
    max_rss_mb: float
    verdict: str  # "accepted", "clean" (exit 2/3, one line), or "other: <why>"


def run_case(case: Case, *, timeout: float = 10.0, address_limit: str | None = "4G", nice: int = 10) -> Outcome:
    """Run `dlrs ARGV` in a fresh process (under prlimit and nice) and judge the exit contract."""
    import signal
    import subprocess
    import sys
    import tempfile
    import threading
    import time

    cmd = [sys.executable, "-m", "dlrs_desktop.cli", *case.argv]
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    if address_limit:
        cmd = ["prlimit", f"--as={_bytes(address_limit)}", *cmd]
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    with tempfile.TemporaryFile() as err, open(os.devnull, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read(1 << 20).decode("utf-8", "replace")
    rss = usage.ru_maxrss / 1024.0
    code = proc.returncode
    lines = stderr.splitlines()
    raw_control = any(ord(c) < 32 and c not in "\n\t" for c in stderr) or "\x1b" in stderr
    if timed_out.is_set():
        verdict = f"other: killed after {timeout:g} s"
    elif code == 0:
        verdict = "accepted" if case.expect == "any" and len(lines) <= 1 else (
            "other: exit 0 for an input that must be refused" if case.expect == "refuse" else "other: extra stderr"
        )
    elif code in (2, 3):
        if len(lines) != 1:
            verdict = f"other: {len(lines)} stderr lines"
        elif raw_control:
            verdict = "other: raw control character on stderr"
        elif lines[0].startswith("internal error"):
            verdict = "other: internal error"
        else:
            verdict = "clean"
    else:
        verdict = f"other: exit {code}"
    if verdict in ("clean", "accepted") and "csv" in case.extra:
        verdict = _check_csv(case, verdict)
    return Outcome(case, code, stderr, seconds, rss, verdict)


def _check_csv(case: Case, verdict: str) -> str:
    import csv

    p = Path(case.extra["csv"])
    if not p.exists():
        return "other: folder mode wrote no table"
    rows = list(csv.DictReader(p.open(encoding="utf-8")))
    if len(rows) != case.extra["rows"]:
        return f"other: table has {len(rows)} rows, expected {case.extra['rows']}"
    if any(r["image"].startswith(("=", "+", "-", "@")) for r in rows):
        return "other: formula cell in the table"
    return verdict


def _bytes(text: str) -> int:
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units else int(text)

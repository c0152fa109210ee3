"""What a DICOM file may cost, checked from its headers before pydicom or a codec allocates anything.

Decoders trust the sizes written inside the compressed data: a JPEG frame whose SOF says 60000 x
60000 inside a 64 x 64 image, a JPEG 2000 SIZ of 20000², an RLE header with absurd segments or a
deflated dataset that inflates to gigabytes make them allocate gigabytes or abort the process. Each
such size is compared with the DICOM header and the stated limits (`dlrs_desktop.limits`) first.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from pathlib import Path
from typing import Any

from dlrs_desktop.imaging import load_text as T
from dlrs_desktop.imaging.types import cannot_open
from dlrs_desktop.limits import (
    MAX_DEFLATED_BYTES,
    MAX_FRAME_BYTES,
    MAX_FRAMES,
    MAX_PIXELS,
    MAX_US_REGIONS,
    ImageLimitError,
)

DEFLATED = "1.2.840.10008.1.2.1.99"
_JPEG_FAMILY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
                "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}  # fmt: skip
_J2K = {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"}
_RLE = "1.2.840.10008.1.2.5"
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
_REGION_ITEM_BYTES = 1024  # a SequenceOfUltrasoundRegions item is ~200 bytes


def check_deflated(path: Path) -> None:
    """A deflated dataset is inflated here, counting only, before pydicom inflates it into memory."""
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    from pydicom.filereader import _read_file_meta_info, read_preamble

    with open(path, "rb") as fh:
        try:
            read_preamble(fh, False)
            meta = _read_file_meta_info(fh)
        except Exception:  # not a DICOM file with file meta: the reader reports it
            return
        if str(meta.get("TransferSyntaxUID", "")) != DEFLATED:
            return
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        total = 0
        while chunk := fh.read(1 << 20):
            try:
                total += len(inflater.decompress(chunk, 1 << 22))
                while inflater.unconsumed_tail and total <= MAX_DEFLATED_BYTES:
                    total += len(inflater.decompress(inflater.unconsumed_tail, 1 << 22))
            except zlib.error:
                raise cannot_open(path, T.DEFLATE_DAMAGED) from None
            if total > MAX_DEFLATED_BYTES:
                raise cannot_open(
                    path, T.DEFLATE_TOO_LARGE, ImageLimitError, limit=MAX_DEFLATED_BYTES // 1024**2
                )


def check_regions(path: Path, ds: Any) -> None:
    """Count ultrasound regions from the sequence's raw bytes (parsing 20,000 items takes seconds)."""
    tag = 0x00186011
    if tag not in ds:
        return
    elem = ds.get_item(tag, keep_deferred=True)
    raw = getattr(elem, "value", None)
    length = getattr(elem, "length", 0) or 0
    if isinstance(raw, bytes | bytearray):
        items = raw.count(b"\xfe\xff\x00\xe0") + raw.count(b"\xff\xfe\xe0\x00")
        too_many = items > MAX_US_REGIONS
    else:
        too_many = length != 0xFFFFFFFF and length > MAX_US_REGIONS * _REGION_ITEM_BYTES
    if too_many:
        raise cannot_open(path, T.TOO_MANY_REGIONS, ImageLimitError, limit=MAX_US_REGIONS)


def check_sizes(path: Path, ds: Any, rows: int, cols: int, samples: int, frames: int) -> None:
    """Pixel count, frames and decoded bytes per frame against the limits."""
    if rows * cols > MAX_PIXELS:
        raise cannot_open(
            path,
            T.TOO_MANY_PIXELS,
            ImageLimitError,
            w=cols,
            h=rows,
            mp=rows * cols / 1e6,
            limit=MAX_PIXELS // 1_000_000,
        )
    if frames > MAX_FRAMES:
        raise cannot_open(path, T.TOO_MANY_FRAMES, ImageLimitError, frames=frames, limit=MAX_FRAMES)
    bits = ds.get("BitsAllocated", 8)
    try:
        bits = int(bits)
    except (TypeError, ValueError):
        bits = 8
    if bits not in (1, 8, 16, 32):
        raise cannot_open(path, T.BAD_BITS, bits=bits)
    frame_bytes = rows * cols * samples * max(bits, 8) // 8
    if frame_bytes > MAX_FRAME_BYTES:
        raise cannot_open(
            path,
            T.FRAME_TOO_LARGE,
            ImageLimitError,
            mb=frame_bytes / 1024**2,
            limit=MAX_FRAME_BYTES // 1024**2,
        )


def check_codec_header(path: Path, ds: Any, ts: str, rows: int, cols: int, samples: int) -> None:
    """The size written inside the first compressed frame must be the header's size."""
    if ts not in _JPEG_FAMILY and ts not in _J2K and ts != _RLE:
        return
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    from pydicom.encaps import generate_fragments

    try:
        items = generate_fragments(ds.PixelData)
        next(items, b"")  # the Basic Offset Table item comes first
        fragment = next(items, b"")
    except Exception:
        raise cannot_open(path, T.NOT_ENCAPSULATED) from None
    if ts in _JPEG_FAMILY:
        size = jpeg_size(fragment)
        kind = "JPEG"
    elif ts in _J2K:
        size = _j2k_size(fragment)
        kind = "JPEG 2000"
    else:
        _check_rle(path, fragment, samples, ds)
        return
    if size is None:
        raise cannot_open(path, T.NO_FRAME_HEADER, codec=kind)
    w, h, comps = size
    if (w, h) != (cols, rows) or comps not in (1, 3, 4):
        raise cannot_open(
            path, T.CODEC_MISMATCH, codec=kind, w=w, h=h, comps=comps, cols=cols, rows=rows, samples=samples
        )


def jpeg_size(data: bytes) -> tuple[int, int, int] | None:
    """(width, height, components) from the first SOF marker of a JPEG / JPEG-LS stream."""
    if not data.startswith(b"\xff\xd8"):
        return None
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _SOF:
            if i + 10 > n:
                return None
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(w), int(h), int(data[i + 9])
        if marker in (0xDA, 0xD9) or length < 2:
            return None
        i += 2 + length
    return None


def _j2k_size(data: bytes) -> tuple[int, int, int] | None:
    """(width, height, components) from the SIZ marker of a JPEG 2000 codestream (or a JP2 file)."""
    i = data.find(b"\xff\x4f\xff\x51", 0, 1 << 16)
    if i < 0 or i + 42 > len(data):
        return None
    xsiz, ysiz, xo, yo = struct.unpack(">IIII", data[i + 8 : i + 24])
    (csiz,) = struct.unpack(">H", data[i + 40 : i + 42])
    if xo > xsiz or yo > ysiz:
        return None
    return int(xsiz - xo), int(ysiz - yo), int(csiz)


def _check_rle(path: Path, data: bytes, samples: int, ds: Any) -> None:
    if len(data) < 64:
        raise cannot_open(path, T.RLE_NO_TABLE)
    header = struct.unpack("<16I", data[:64])
    segments = header[0]
    try:
        bytes_per_sample = max(int(ds.get("BitsAllocated", 8)) // 8, 1)
    except (TypeError, ValueError):
        bytes_per_sample = 1
    offsets = header[1 : 1 + segments] if 0 < segments <= 15 else ()
    if (
        segments != samples * bytes_per_sample
        or not offsets
        or offsets[0] != 64
        or any(b <= a for a, b in itertools.pairwise(offsets))
        or offsets[-1] >= len(data)
    ):
        raise cannot_open(path, T.RLE_TABLE_MISMATCH)

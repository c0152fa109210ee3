"""Reading a model bundle's files without trusting them: sizes, paths, links, archives and formats.

A bundle may come from anywhere. Before a byte is hashed or parsed: every file must be a regular
file inside the bundle folder (a symlink or `..` that leaves it is refused, so is a pipe), within
the stated sizes (`dlrs_desktop.limits`); a zip member's declared size is checked before it is
inflated and a bad CRC is a refusal; safetensors headers must describe tensors that lie inside the
file; ONNX graphs may not reference external data (ONNX Runtime would open any path they name).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
import zipfile
from pathlib import Path

from dlrs_desktop.errors import ModelError
from dlrs_desktop.limits import (
    MAX_BUNDLE_TOTAL_BYTES,
    MODEL_MANIFEST,
    ModelLimitError,
    parse_json,
)
from dlrs_desktop.wording import QT_TRANSLATE_NOOP, marked

#: what `check_listed` names, in the interface's language where the GUI shows it
MODEL_BUNDLE = QT_TRANSLATE_NOOP("core", "model bundle")
ASSIST_BUNDLE = QT_TRANSLATE_NOOP("core", "contour-assist bundle")
# Why a bundle's file is refused: a sentence for the GUI in its language (`ui.i18n.core_text`).
INCOMPLETE = QT_TRANSLATE_NOOP(
    "core", "The model bundle is incomplete: file '{name}' is missing or unreadable."
)
LINKS_OUTSIDE = QT_TRANSLATE_NOOP(
    "core", "File '{name}' of the model bundle links outside the bundle folder; refusing it."
)
NOT_REGULAR = QT_TRANSLATE_NOOP(
    "core", "File '{name}' of the model bundle is not a regular file (a pipe, device...)."
)
FILE_OVER = QT_TRANSLATE_NOOP(
    "core", "File '{name}' of the model bundle is over the limit of {limit:,} bytes."
)
SIZE_DIFFERS = QT_TRANSLATE_NOOP(
    "core",
    "File '{name}' of the {what} has {size} bytes, the manifest says {listed} (modified or truncated); "
    "refusing to load.",
)
HASH_DIFFERS = QT_TRANSLATE_NOOP(
    "core",
    "File '{name}' of the {what} does not match its sha256 in the manifest (modified or corrupted); "
    "refusing to load.",
)
TOTAL_OVER = QT_TRANSLATE_NOOP(
    "core", "The model bundle's files add up to {total:,} bytes, over the limit of {limit:,}."
)
MEMBER_OVER = QT_TRANSLATE_NOOP("core", "'{name}' in the bundle zip is over the limit of {limit:,} bytes.")
MEMBER_DAMAGED = QT_TRANSLATE_NOOP("core", "'{name}' in the bundle zip is damaged ({detail}).")
NOT_SAFETENSORS = QT_TRANSLATE_NOOP("core", "Weights file '{name}' is not a safetensors file.")
BAD_HEADER_LENGTH = QT_TRANSLATE_NOOP(
    "core", "Weights file '{name}' is not a safetensors file (bad header length)."
)
BAD_HEADER = QT_TRANSLATE_NOOP("core", "Weights file '{name}' is not a safetensors file (bad header).")
BAD_TENSOR = QT_TRANSLATE_NOOP(
    "core", "Weights file '{name}': tensor {tensor} has a malformed entry or offsets."
)

_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
                "BOOL": 1, "U16": 2, "U32": 4, "U64": 8}  # fmt: skip
MAX_SAFETENSORS_HEADER = 16 * 1024**2


def folder_file(root: Path, name: str, limit: int) -> bytes:
    """Bytes of `root/name`: a regular file (after links) that stays inside `root`, at most `limit` bytes."""
    path = root / name
    try:
        real = path.resolve(strict=True)
        inside = real.is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError):  # missing, a link loop
        raise ModelError.of(INCOMPLETE, name=name) from None
    if not inside:
        raise ModelError.of(LINKS_OUTSIDE, name=name)
    st = os.stat(real)
    if not stat.S_ISREG(st.st_mode):
        raise ModelError.of(NOT_REGULAR, name=name)
    if st.st_size > limit:
        raise ModelLimitError.of(FILE_OVER, name=name, limit=limit)
    fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ModelLimitError.of(FILE_OVER, name=name, limit=limit)
    return data


def check_listed(name: str, blob: bytes, entry: dict, what: str) -> None:
    """The file's bytes are the size and sha256 its manifest entry names (`what`: "model bundle",
    "contour-assist bundle"), else ModelError: a modified file is never used."""
    kind = marked(what, (MODEL_BUNDLE, ASSIST_BUNDLE))
    if "bytes" in entry and entry["bytes"] != len(blob):
        raise ModelError.of(SIZE_DIFFERS, name=name, what=kind, size=len(blob), listed=entry["bytes"])
    if hashlib.sha256(blob).hexdigest() != entry["sha256"]:
        raise ModelError.of(HASH_DIFFERS, name=name, what=kind)


def manifest_json(raw: bytes) -> object:
    return parse_json(raw, MODEL_MANIFEST, ModelError)


def check_total(sizes: list[int]) -> None:
    if sum(sizes) > MAX_BUNDLE_TOTAL_BYTES:
        raise ModelLimitError.of(TOTAL_OVER, total=sum(sizes), limit=MAX_BUNDLE_TOTAL_BYTES)


def zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A zip member within `limit` bytes, its CRC checked (a damaged archive is a refusal)."""
    if info.file_size > limit:
        raise ModelLimitError.of(MEMBER_OVER, name=info.filename, limit=limit)
    try:
        with zf.open(info) as fh:
            data = fh.read(limit + 1)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
    ) as exc:
        raise ModelError.of(MEMBER_DAMAGED, name=info.filename, detail=str(exc)) from None
    except Exception as exc:  # zlib.error and friends from a forged stream
        raise ModelError.of(MEMBER_DAMAGED, name=info.filename, detail=type(exc).__name__) from None
    if len(data) > limit:
        raise ModelLimitError.of(MEMBER_OVER, name=info.filename, limit=limit)
    return data


def unsafe_member(name: str) -> bool:
    return name.startswith("/") or "\\" in name or ".." in name.split("/") or "\x00" in name


def check_safetensors(name: str, data: bytes) -> None:
    """Header length, JSON, and every tensor's offsets inside the data and consistent with its shape."""
    if len(data) < 8:
        raise ModelError.of(NOT_SAFETENSORS, name=name)
    (n,) = struct.unpack("<Q", data[:8])
    if n <= 1 or n > MAX_SAFETENSORS_HEADER or 8 + n > len(data) or data[8:9] != b"{":
        raise ModelError.of(BAD_HEADER_LENGTH, name=name)
    header = parse_json(data[8 : 8 + n], f"header of weights file '{name}'", ModelError)
    if not isinstance(header, dict):
        raise ModelError.of(BAD_HEADER, name=name)
    body = len(data) - 8 - n
    for key, t in header.items():
        if key == "__metadata__":
            continue
        ok = isinstance(t, dict) and t.get("dtype") in _DTYPE_BYTES and isinstance(t.get("shape"), list)
        offsets = t.get("data_offsets") if ok else None
        if ok and isinstance(offsets, list) and len(offsets) == 2 and all(type(v) is int for v in offsets):
            count = 1
            for dim in t["shape"]:
                ok = ok and type(dim) is int and 0 <= dim <= 1 << 40
                count *= dim if type(dim) is int else 0
            start, end = offsets
            ok = ok and 0 <= start <= end <= body and end - start == count * _DTYPE_BYTES[t["dtype"]]
        else:
            ok = False
        if not ok:
            raise ModelError.of(BAD_TENSOR, name=name, tensor=repr(str(key)[:60]))


# ONNX protobuf fields that hold tensors or sub-graphs (onnx.proto): model.graph = 7, model.functions = 25,
# graph.node = 1, graph.initializer = 5, graph.sparse_initializer = 15, node.attribute = 5,
# attribute.t = 5, attribute.g = 6, attribute.tensors = 10, attribute.graphs = 11,
# attribute.sparse_tensor = 22, attribute.sparse_tensors = 23, sparse.values = 1, sparse.indices = 2,
# function.node = 7, tensor.external_data = 13, tensor.data_location = 14 (1 = EXTERNAL).
_MESSAGES = {
    "model": {7: "graph", 25: "function"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "function": {7: "node"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {},
}


def _varint(buf: memoryview, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _external(buf: memoryview, kind: str, depth: int) -> bool:
    if depth > 64:
        raise ValueError("nested too deeply")
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
            if kind == "tensor" and field == 14 and value == 1:
                return True
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            length, i = _varint(buf, i)
            if i + length > len(buf):
                raise ValueError("truncated field")
            if kind == "tensor" and field == 13:
                return True
            sub = _MESSAGES[kind].get(field)
            if sub and _external(buf[i : i + length], sub, depth + 1):
                return True
            i += length
        else:
            raise ValueError(f"wire type {wire}")
    return False


def check_onnx(data: bytes) -> None:
    """Refuse ONNX graphs with external data (a path ONNX Runtime would open) or a malformed protobuf."""
    try:
        external = _external(memoryview(data), "model", 0)
    except ValueError as exc:
        raise ModelError(f"The model's ONNX file is not a valid ONNX protobuf ({exc}).") from None
    if external:
        raise ModelError(
            "The model's ONNX file refers to external tensor data (a file outside the bundle); refusing it."
        )


def canonical_safetensors(blob: bytes) -> bytes:
    """The same safetensors file with its `__metadata__` keys in sorted order, so equal weights give
    equal bytes. safetensors (0.8) writes metadata from a Rust HashMap: the key order changes from one
    save to the next, which made bundles differ byte-for-byte for the same network. Tensor entries and
    the header's padded length are kept exactly as written."""
    size = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8 : 8 + size])  # our own fresh save, not an untrusted file
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or len(meta) < 2:
        return blob
    ordered = {"__metadata__": dict(sorted(meta.items()))}
    ordered.update((k, v) for k, v in header.items() if k != "__metadata__")
    text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode()
    if len(text) > size:  # cannot happen for a reordering; keep the file as written rather than guess
        return blob
    return blob[:8] + text.ljust(size, b" ") + blob[8 + size :]

"""Hostile model bundles for the fuzz suite: intact sha256 values around broken numbers, links and archives.

Large files are hard-linked from the shipped demo bundle, so a hundred variants cost little disk.
"""

from __future__ import annotations

import json
import os
import random
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from tests.fuzz_images import DEMO_BUNDLE


# --------------------------------------------------------------------------------------- bundles
def _link_bundle(dst: Path, manifest: dict | None = None, replace: dict[str, bytes] | None = None) -> Path:
    """A copy of the demo bundle (big files hard-linked) with some files replaced; sha256s updated."""
    import hashlib

    dst.mkdir(parents=True)
    m = manifest if manifest is not None else json.loads((DEMO_BUNDLE / "manifest.json").read_text())
    for f in DEMO_BUNDLE.iterdir():
        if f.name in ("manifest.json", "signature.json"):  # edited copies are unsigned (bundle_signature.py)
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
    yield (
        "ring radius -3",
        edit("radius-neg", lambda m: m["regions"][1].__setitem__("radius_mm", -3)),
        "refuse",
    )
    yield (
        "ring radius 5000",
        edit("radius-5000", lambda m: m["regions"][3].__setitem__("radius_mm", 5000)),
        "refuse",
    )
    yield (
        "ring radius string",
        edit("radius-str", lambda m: m["regions"][3].__setitem__("radius_mm", "ten")),
        "refuse",
    )
    yield "threshold 1", edit("thr-1", lambda m: m.__setitem__("threshold", 1.0)), "refuse"
    yield "threshold string", edit("thr-str", lambda m: m.__setitem__("threshold", "0.5")), "refuse"
    yield (
        "coefficients 1e308",
        edit("coef", lambda m: m["stacking"].__setitem__("coefficients", [1e308] * 4)),
        "refuse",
    )
    yield "regions not list", edit("regions-int", lambda m: m.__setitem__("regions", 5)), "refuse"
    yield "files not dict", edit("files-list", lambda m: m.__setitem__("files", [])), "refuse"
    yield (
        "files entry not dict",
        edit("files-entry", lambda m: m["files"].__setitem__("model.onnx", "abc")),
        "refuse",
    )
    yield (
        "bytes field string",
        edit("bytes-str", lambda m: m["files"]["model.onnx"].__setitem__("bytes", "x")),
        "refuse",
    )
    yield "architecture not dict", edit("arch", lambda m: m.__setitem__("architecture", "resnet")), "refuse"
    yield "n_regions 1e9", edit("nreg", lambda m: m["architecture"].__setitem__("n_regions", 10**9)), "refuse"
    yield "manifest deep nesting", _link_bundle(d / "deep", "[" * 100000 + "]" * 100000), "refuse"  # type: ignore[arg-type]
    yield (
        "manifest NaN",
        _link_bundle(
            d / "nan", json.dumps(_manifest()).replace('"threshold": 0.', '"threshold": NaN, "x": 0.')
        ),
        "refuse",
    )  # type: ignore[arg-type]
    st = (DEMO_BUNDLE / "heads.safetensors").read_bytes()
    n = struct.unpack("<Q", st[:8])[0]
    hdr = json.loads(st[8 : 8 + n])
    for _k, v in hdr.items():
        if isinstance(v, dict) and "data_offsets" in v:
            v["data_offsets"] = [0, 10**12]
            break
    h2 = json.dumps(hdr).encode()
    yield (
        "safetensors bad data_offsets",
        _link_bundle(
            d / "st-offsets",
            _manifest(),
            {"heads.safetensors": struct.pack("<Q", len(h2)) + h2 + st[8 + n :]},
        ),
        "refuse",
    )
    yield (
        "safetensors header length huge",
        _link_bundle(d / "st-len", _manifest(), {"heads.safetensors": struct.pack("<Q", 2**62) + st[8:]}),
        "refuse",
    )
    yield from _cheap_links(d)
    yield from _zip_cases(d, small=small)
    if small:  # the rest rewrites the 45 MB ONNX graph: seconds each
        return
    yield (
        "onnx weights x 1e38",
        _link_bundle(d / "onnx-3e38", _manifest(), {"model.onnx": _onnx_scaled(3e38)}),
        "refuse",
    )
    yield (
        "onnx weights x 0",
        _link_bundle(d / "onnx-0", _manifest(), {"model.onnx": _onnx_scaled(0.0)}),
        "refuse",
    )
    yield (
        "onnx external data",
        _link_bundle(d / "onnx-ext", _manifest(), {"model.onnx": _onnx_external()}),
        "refuse",
    )
    yield (
        "onnx garbage",
        _link_bundle(d / "onnx-garbage", _manifest(), {"model.onnx": os.urandom(4096)}),
        "refuse",
    )


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
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("manifest.json", "w", force_zip64=True) as fh,
    ):
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

"""Hostile signed bundles, trusted-key files and training folders for the fuzz run (issue 27 items 4-5).

`signing_cases`: copies of the signed demonstration and assist bundles with one number edited, the
ONNX or weights swapped (sha256 recomputed), the signature removed, damaged, forged, oversized, a
pipe or a link, plus seeded byte mutations of `signature.json`, and bad `--trusted-keys`/`--key`
files; every one must be refused (exit 3 or 2, one line) by `model verify` and by `predict`.
`training_cases`: folders for `dlrs cohort import` and `dlrs train-assist` with symlink loops,
links out of the folder, FIFOs, a pixel bomb and broken CSV tables.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fuzz_images import DEMO_DCM, REPO, mutate

MODELS = REPO / "resources" / "models"
REAL = REPO / "tests" / "data" / "real"


def _manifest(root: Path, edit: Callable[[dict], Any]) -> None:
    m = json.loads((root / "manifest.json").read_text())
    edit(m)
    (root / "manifest.json").write_text(json.dumps(m, indent=2))


def _bundle_copy(src: Path, dst: Path) -> Path:
    """A copy whose large files (weights, ONNX) are hard links to the shipped ones: 40 copies of the
    89 MB bundle took 2 GB of a CI disk. Only `_repin` changes a large file, and it unlinks first."""

    def link_or_copy(a: str, b: str) -> None:
        if os.path.getsize(a) > 1 << 20:
            try:
                os.link(a, b)
                return
            except OSError:  # another file system (a tmpfs /tmp): copy
                pass
        shutil.copy2(a, b)

    return Path(shutil.copytree(src, dst, copy_function=link_or_copy))


def _repin(root: Path, name: str, blob: bytes) -> None:
    (root / name).unlink()  # a hard link to the shipped file: never write through it
    (root / name).write_bytes(blob)
    _manifest(
        root, lambda m: m["files"][name].update(sha256=hashlib.sha256(blob).hexdigest(), bytes=len(blob))
    )


def _nan_heads(root: Path) -> None:
    from safetensors.numpy import load, save

    t = load((root / "heads.safetensors").read_bytes())
    t = {k: v * float("nan") for k, v in t.items()}
    _repin(root, "heads.safetensors", save(t))


def _resign(root: Path, key_dir: Path) -> None:
    from dlrs_desktop.bundle_signature import generate_key
    from dlrs_desktop.model.signing import sign_folder

    key = key_dir / "stranger.key"
    if not key.exists():
        generate_key(key)
    sign_folder(root, key)


def _sig(root: Path, data: bytes) -> None:
    (root / "signature.json").write_bytes(data)


def _sig_swap(root: Path, key_dir: Path) -> None:
    """A genuine release signature with the stranger's public key put in its place (forged key)."""
    doc = json.loads((root / "signature.json").read_text())
    _resign(root, key_dir)
    doc["public_key"] = json.loads((root / "signature.json").read_text())["public_key"]
    _sig(root, json.dumps(doc).encode())


def _sig_fifo(root: Path) -> None:
    (root / "signature.json").unlink()
    os.mkfifo(root / "signature.json")


def _sig_link(root: Path, target: str) -> None:
    (root / "signature.json").unlink()
    (root / "signature.json").symlink_to(target)


def _demo_edits(k: Path) -> dict[str, Callable[[Path], Any]]:
    other = MODELS / "dlrs-bus-malignancy" / "model.onnx"
    return {
        "edited threshold": lambda r: _manifest(r, lambda m: m.update(threshold=m["threshold"] + 0.01)),
        "edited stacking": lambda r: _manifest(
            r, lambda m: m["stacking"]["coefficients"].__setitem__(0, 9.0)
        ),
        "edited outcome": lambda r: _manifest(r, lambda m: m["outcome"].update(short_name="malignancy")),
        "swapped onnx, sha256 recomputed": lambda r: _repin(r, "model.onnx", other.read_bytes()),
        "NaN heads, sha256 recomputed": _nan_heads,
        "signature removed": lambda r: (r / "signature.json").unlink(),
        "signature garbage": lambda r: _sig(r, b"\x00\xffnot json"),
        "signature deep nesting": lambda r: _sig(r, b"[" * 100_000),
        "signature NaN": lambda r: _sig(r, b'{"signed": NaN}'),
        "signature 1 MB": lambda r: _sig(r, b" " * (1 << 20) + b"{}"),
        "signature FIFO": _sig_fifo,
        "signature -> /dev/zero": lambda r: _sig_link(r, "/dev/zero"),
        "signature -> outside": lambda r: _sig_link(r, "/etc/hostname"),
        "signature -> loop": lambda r: _sig_link(r, "signature.json"),
        "re-signed by a stranger": lambda r: _resign(r, k),
        "release signature, stranger's key": lambda r: _sig_swap(r, k),
    }


def signing_cases(work: Path, rng: random.Random, mutated: int, case: Callable[..., Any]) -> list[Any]:
    """Cases of the "bundle-signing" family (`case(family, name, argv, expect)` makes one)."""
    work.mkdir(parents=True)
    keys = work / "keys"
    keys.mkdir()
    out = []
    predict = ["predict", str(DEMO_DCM), "--no-sensitivity", "--device", "cpu", "--model"]
    for i, (name, edit) in enumerate(_demo_edits(keys).items()):
        root = _bundle_copy(MODELS / "dlrs-demo", work / f"demo-{i}")
        edit(root)
        out.append(case("bundle-signing", f"{name} (verify)", ["model", "verify", str(root)], "refuse"))
        out.append(case("bundle-signing", f"{name} (predict)", [*predict, str(root)], "refuse"))
    for name, edit in (
        ("assist: edited threshold", lambda r: _manifest(r, lambda m: m.update(threshold=0.01))),
        ("assist: bogus input name", lambda r: _manifest(r, lambda m: m["onnx"].update(input="bogus"))),
        ("assist: signature removed", lambda r: (r / "signature.json").unlink()),
    ):
        root = _bundle_copy(MODELS / "dlrs-assist", work / f"assist-{len(out)}")
        edit(root)
        out.append(case("bundle-signing", f"{name} (verify)", ["model", "verify", str(root)], "refuse"))
        argv = ["outline", str(DEMO_DCM), "--box", "250", "180", "360", "280", "--method", "learned"]
        out.append(
            case("bundle-signing", f"{name} (outline)", [*argv, "--assist-model", str(root)], "refuse")
        )
    raw = (MODELS / "dlrs-demo" / "signature.json").read_bytes()
    for n in range(mutated):
        root = _bundle_copy(MODELS / "dlrs-demo", work / f"mut-{n}")
        _sig(root, mutate(raw, rng, header_bias=len(raw)))
        out.append(
            case("bundle-signing", f"signature mutation {n}", ["model", "verify", str(root)], "refuse")
        )
    out += _key_cases(work, keys, case)
    return out


def _key_cases(work: Path, keys: Path, case: Callable[..., Any]) -> list[Any]:
    bad = {
        "garbage": b"not a key",
        "empty": b"",
        "private key as trusted key": (keys / "stranger.key").read_bytes(),
        "RSA-like PEM": b"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0B\n-----END PUBLIC KEY-----\n",
        "1 MB": b"A" * (1 << 20),
    }
    out = []
    for name, data in bad.items():
        p = keys / f"bad-{len(out)}.pub"
        p.write_bytes(data)
        argv = ["model", "verify", str(MODELS / "dlrs-demo"), "--trusted-keys", str(p)]
        out.append(case("bundle-signing", f"--trusted-keys {name}", argv, "refuse"))
        sign_dir = _bundle_copy(MODELS / "dlrs-demo", work / f"sign-{len(out)}")
        out.append(
            case(
                "bundle-signing",
                f"sign --key {name}",
                ["model", "sign", "--model", str(sign_dir), "--key", str(p)],
                "any" if name.startswith("private key") else "refuse",  # a real key signs
            )
        )
    fifo = keys / "fifo.pub"
    os.mkfifo(fifo)
    argv = ["model", "verify", str(MODELS / "dlrs-demo"), "--trusted-keys", str(fifo)]
    out.append(case("bundle-signing", "--trusted-keys FIFO", argv, "refuse"))
    return out


FAMILIES = ("bundle-signing", "training-folder")


def build(work: Path, *, seed: int = 0, mutated_per_family: int = 100) -> list[Any]:
    """Only this module's families (as `fuzz_factory.build_cases` adds them), without building the rest."""
    from tests.fuzz_factory import Case

    rng = random.Random(seed)
    return signing_cases(work / "signing", rng, max(2, mutated_per_family // 10), Case) + training_cases(
        work / "training", Case
    )


# ------------------------------------------------------------------------------------ training folders
def _busbra(root: Path, n: int = 3) -> Path:
    import cv2

    bb = root / "BUSBRA"
    (bb / "Images").mkdir(parents=True)
    (bb / "Masks").mkdir()
    g = cv2.imread(str(REAL / "assist_busi_benign_303.png"), cv2.IMREAD_GRAYSCALE)
    m = cv2.imread(str(REAL / "assist_busi_benign_303_mask.png"), cv2.IMREAD_GRAYSCALE)
    rows = ["ID,Case,Histology,Pathology,BIRADS,Device,Width,Height,Side,BBOX"]
    for i in range(n):
        sid = f"bus_{i + 1:04d}-l"
        cv2.imwrite(str(bb / "Images" / f"{sid}.png"), g[4 * i :, 6 * i :])
        cv2.imwrite(str(bb / "Masks" / f"mask_{i + 1:04d}-l.png"), m[4 * i :, 6 * i :])
        rows.append(f'{sid},{i + 1},x,benign,3,x,1,1,left,"[0,0,1,1]"')
    (bb / "bus_data.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def _png_bomb(path: Path, w: int = 30000, h: int = 30000) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    body = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    body += chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def _training_folders(work: Path) -> dict[str, Path]:
    def folder(name: str, build: Callable[[Path], Any]) -> Path:
        root = _busbra(work / name)
        build(root)
        return root

    bb = "BUSBRA"
    csv = f"{bb}/bus_data.csv"
    img = f"{bb}/Images/bus_0001-l.png"
    return {
        "symlink loop": folder("loop", lambda r: (r / bb / "again").symlink_to(r, target_is_directory=True)),
        "self link": folder("self", lambda r: (r / "self").symlink_to(".", target_is_directory=True)),
        "FIFO bus_data.csv": folder("fifo", lambda r: ((r / csv).unlink(), os.mkfifo(r / csv))),
        "FIFO image": folder("fifo-img", lambda r: ((r / img).unlink(), os.mkfifo(r / img))),
        "image -> /dev/zero": folder(
            "dev", lambda r: ((r / img).unlink(), (r / img).symlink_to("/dev/zero"))
        ),
        "image -> outside": folder(
            "out", lambda r: ((r / img).unlink(), (r / img).symlink_to(REAL / "assist_busi_benign_303.png"))
        ),
        "csv -> /dev/urandom": folder(
            "rand", lambda r: ((r / csv).unlink(), (r / csv).symlink_to("/dev/urandom"))
        ),
        "30000x30000 PNG": folder("bomb", lambda r: _png_bomb(r / img)),
        "missing columns": folder("cols", lambda r: (r / csv).write_text("ID,Case\nbus_0001-l,1\n")),
        "not UTF-8": folder(
            "latin",
            lambda r: (r / csv).write_bytes("ID,Case,Pathology\nbus_0001-l,1,b\xe9nin\n".encode("latin-1")),
        ),
        "128 kB field": folder(
            "field", lambda r: (r / csv).write_bytes(b'ID,Case,Pathology\nx,1,"' + b"x" * 131_073 + b'"\n')
        ),
        "ID with ../": folder(
            "dots", lambda r: (r / csv).write_text("ID,Case,Pathology\n../../../etc/passwd,1,benign\n")
        ),
        "BrEaST sheet FIFO": folder(
            "breast", lambda r: os.mkfifo(r / "BrEaST-Lesions-USG-clinical-data.csv")
        ),
    }


def training_cases(work: Path, case: Callable[..., Any]) -> list[Any]:
    """Cases of the "training-folder" family: `cohort import` on every folder, `train-assist` on a few."""
    work.mkdir(parents=True)
    out = []
    for name, root in _training_folders(work).items():
        expect = "any" if name in ("symlink loop", "self link", "ID with ../") else "refuse"
        argv = ["cohort", "import", "--data", str(root), "--out", str(root.parent / f"{root.name}.cohort")]
        out.append(case("training-folder", f"{name} (cohort import)", argv, expect))
        if name in (
            "symlink loop",
            "FIFO bus_data.csv",
            "30000x30000 PNG",
            "128 kB field",
            "image -> outside",
        ):
            argv = ["train-assist", "--data", str(root), "--out", str(root.parent / f"{root.name}.bundle")]
            out.append(
                case(
                    "training-folder",
                    f"{name} (train-assist)",
                    [*argv, "--epochs", "1", "--max-train-cases", "1"],
                    expect if expect == "refuse" else "any",
                )
            )
    return out

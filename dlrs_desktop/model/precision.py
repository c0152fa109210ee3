"""Which ONNX graph the CPU path runs: the bundle's int8 model or its float model (docs/MODEL_BUNDLE.md).

A bundle may carry a statically quantized copy of its network (`onnx_int8` in the manifest, written
by `dlrs model quantize` / `dlrs train` with an accuracy guard, training/quantize.py). It is used
when the CPU has fast int8 dot products (x86: AVX-512 VNNI, AVX-VNNI, AVX-512 or AVX2; ARM: dotprod):
without them ONNX Runtime's int8 kernels are no faster than float, so the float model is kept.
`--precision float` (CLI) or the Preferences choice (GUI) always runs the float model.

Why /proc/cpuinfo first: it is what the kernel says the CPU has; numpy's own dispatch table (the
same CPUID probe, on every OS) is the fallback where there is no /proc (Windows, macOS).
"""

from __future__ import annotations

import platform
from typing import Any

from dlrs_desktop.errors import ModelError

INT8_BLOCK = "onnx_int8"  # manifest block naming the int8 graph and its guard numbers
INT8_FILE = "model.int8.onnx"
PRECISIONS = ("auto", "float", "int8")  # what a user may ask for
FLOAT32, INT8 = "float32", "int8"  # what ran

#: fastest first: (name shown, /proc/cpuinfo flag, numpy __cpu_features__ key)
_FAST_INT8 = (
    ("AVX-512 VNNI", "avx512_vnni", "AVX512VNNI"),
    ("AVX-VNNI", "avx_vnni", ""),
    ("AVX-512", "avx512bw", "AVX512BW"),
    ("AVX2", "avx2", "AVX2"),
    ("dotprod", "asimddp", "ASIMDDP"),
)


def _proc_flags() -> set[str] | None:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            text = fh.read()
    except OSError:
        return None
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86, ARM
            flags.update(value.split())
    return flags or None


def _numpy_flags() -> set[str]:
    try:
        # lazy: private but stable since numpy 1.20, the CPUID table numpy dispatches on
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # numpy < 2
        try:
            # lazy: the numpy 1.x name of the same table
            from numpy.core._multiarray_umath import __cpu_features__ as feats
        except ImportError:
            return set()
    return {k for k, v in feats.items() if v}


def fast_int8_feature() -> str | None:
    """The CPU feature that makes int8 inference fast here (e.g. "AVX-512 VNNI"), or None."""
    proc = _proc_flags()
    if proc is not None:
        for name, flag, _ in _FAST_INT8:
            if flag in proc:
                return name
        return None
    feats = _numpy_flags()
    for name, _, key in _FAST_INT8:
        if key and key in feats:
            return name
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return "dotprod"  # every Apple silicon core has it (ARMv8.4)
    return None


def int8_file(manifest: dict[str, Any]) -> str | None:
    block = manifest.get(INT8_BLOCK)
    return str(block["file"]) if isinstance(block, dict) and block.get("file") else None


def choose(manifest: dict[str, Any], requested: str) -> tuple[str, str | None]:
    """(precision to run, note or None) for a bundle and what the user asked for.

    auto: int8 when the bundle has one and the CPU has fast int8; float: always the float model;
    int8: the int8 model whatever the CPU (benchmarks), the float model with a note if there is none.
    """
    if requested not in PRECISIONS:
        raise ModelError(f"Unknown precision {requested!r} (use {', '.join(PRECISIONS)}).")
    has_int8 = int8_file(manifest) is not None
    if requested == "float":
        return FLOAT32, None
    if requested == "int8":
        if has_int8:
            return INT8, None
        return FLOAT32, "This model has no int8 version (`dlrs model quantize`); ran the float model."
    return (INT8 if has_int8 and fast_int8_feature() else FLOAT32), None

"""One line naming the machine, printed beside every benchmark figure (a speed means nothing without it).

CPU model, the ISA extensions that decide convolution speed (AVX2/FMA, AVX-512, VNNI, AMX on x86;
NEON/SVE/SME on ARM), physical and logical cores, memory, OS, Python and the load average at start.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

X86_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile")
ARM_FLAGS = ("asimd", "asimddp", "sve", "sve2", "sme", "i8mm", "bf16")


def _cpuinfo() -> list[dict[str, str]]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            text = fh.read()
    except OSError:
        return []
    blocks = []
    for chunk in text.split("\n\n"):
        block = {}
        for line in chunk.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                block[key.strip()] = value.strip()
        if block:
            blocks.append(block)
    return blocks


def _sysctl(name: str) -> str:
    try:
        return subprocess.run(
            ["sysctl", "-n", name], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_model() -> str:
    for block in _cpuinfo():
        for key in ("model name", "Model", "Hardware"):
            if block.get(key):
                return block[key]
    if sys.platform == "darwin":
        return _sysctl("machdep.cpu.brand_string") or platform.processor()
    return platform.processor() or platform.machine() or "unknown CPU"


def isa_flags() -> str:
    """The performance-relevant ISA extensions present, and the notable ones absent."""
    blocks = _cpuinfo()
    have = set((blocks[0].get("flags") or blocks[0].get("Features") or "").split()) if blocks else set()
    if sys.platform == "darwin" and not have:
        have = {f.lower() for f in _sysctl("machdep.cpu.features").split()}
        have |= {f.lower() for f in _sysctl("machdep.cpu.leaf7_features").split()}
    wanted = X86_FLAGS if platform.machine().lower() in ("x86_64", "amd64", "i686") else ARM_FLAGS
    present = [f for f in wanted if f in have]
    absent = [f for f in ("avx2", "avx512f") if wanted is X86_FLAGS and f not in have]
    text = " ".join(present) or "unknown"
    return text + (f" (no {', '.join(absent)})" if absent else "")


def cores() -> tuple[int, int]:
    """(physical, logical) cores."""
    logical = os.cpu_count() or 1
    ids = {(b.get("physical id", "0"), b["core id"]) for b in _cpuinfo() if "core id" in b}
    if not ids and sys.platform == "darwin":
        physical = int(_sysctl("hw.physicalcpu") or logical)
    else:
        physical = min(len(ids), logical) if ids else logical
    return physical, logical


def memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    mem = _sysctl("hw.memsize")
    return int(mem) / 2**30 if mem.isdigit() else None


def machine_line() -> str:
    physical, logical = cores()
    mem = memory_gib()
    load = f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"
    return (
        f"machine: {cpu_model()} ({platform.machine()}); ISA {isa_flags()}; "
        f"{physical} physical / {logical} logical cores; "
        + (f"{mem:.0f} GiB; " if mem else "")
        + f"{platform.system()} {platform.release()}; Python {platform.python_version()}; load average {load}"
    )


if __name__ == "__main__":
    print(machine_line())

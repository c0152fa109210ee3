"""The CPU and torch backends of the predictor: one ONNX Runtime session per bundle, the torch port.

Split from model/predictor.py (which keeps what a prediction does); nothing here knows about contours.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import platform
import shutil
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from dlrs_desktop.errors import ModelError
from dlrs_desktop.model.bundle import Bundle
from dlrs_desktop.model.sessions import shared

if TYPE_CHECKING:
    pass


def physical_cores() -> int:
    """Physical CPU cores (hyper-threads do not help convolution throughput)."""
    n = os.cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):  # a CPU set (taskset, a container's cpuset) caps the threads
        n = max(1, min(n, len(os.sched_getaffinity(0))))
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            cores = {
                (block.get("physical id", "0"), block["core id"])
                for block in (
                    dict(line.split(":", 1) for line in chunk.splitlines() if ":" in line)
                    for chunk in fh.read().split("\n\n")
                )
                if "core id" in block
            }
        return max(1, min(len(cores), n)) if cores else n
    except OSError:
        return n


def gpu_hint() -> str | None:
    """'cuda' or 'mps' if a GPU is probably usable, judged WITHOUT importing torch (cheap)."""
    if importlib.util.find_spec("torch") is None:
        return None
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return "mps"
    if os.path.exists("/proc/driver/nvidia/version") or shutil.which("nvidia-smi"):
        return "cuda"
    if sys.platform == "win32" and ctypes.util.find_library("nvcuda"):
        return "cuda"
    return None


class _OrtBackend:
    name = "onnxruntime"

    def __init__(self, onnx_bytes: bytes, threads: int | None) -> None:
        # lazy: onnxruntime (~0.3 s) only where a model runs
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads or physical_cores()
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # ALL (NCHWc layout): faster than EXTENDED on 2 AVX-512 cores, for a reordered copy of the float
        # convolution weights in memory (benchmarks/results/bench_ort_options-2026-12-03.txt)
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # weights outside the arena: the arena then holds only one image's activations (mem pattern)
        so.add_session_config_entry("session.use_device_allocator_for_initializers", "1")
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.add_session_config_entry("session.inter_op.allow_spinning", "0")
        so.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                onnx_bytes, sess_options=so, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # a corrupt export (the hash matched, so it was written that way)
            raise ModelError(f"ONNX Runtime cannot load the model's ONNX file ({exc}).") from None
        # onnxruntime's Python wrapper keeps the model bytes for provider fallbacks (CUDA, TensorRT) that
        # a CPU-only session never makes; they are the size of the weights again.
        if getattr(self.session, "_model_bytes", None) is not None:
            self.session._model_bytes = None
        self.device = "cpu"

    def run(self, x: np.ndarray, features: bool) -> tuple[np.ndarray, np.ndarray | None]:
        names = ["region_logits", "features"] if features else ["region_logits"]
        out = self.session.run(names, {"crops": x})
        return out[0], (out[1] if features else None)


def _ort_backend(bundle: Bundle, threads: int | None, onnx_file: str | None = None) -> _OrtBackend:
    """The process's one ONNX Runtime session for this bundle's float graph, or for `onnx_file` (its
    int8 graph) (model/sessions.py)."""
    n = threads or physical_cores()

    def make() -> _OrtBackend:
        return _OrtBackend(bundle.onnx_bytes if onnx_file is None else bundle.read(onnx_file), n)

    return shared(("onnxruntime", bundle.manifest_sha256, onnx_file or "float", n), make)


def _without_files(bundle: Bundle, *names: str) -> Bundle:
    """The bundle without the bytes of `names`, which no one reads again (the network's bulk in memory)."""
    return replace(bundle, files={k: v for k, v in bundle.files.items() if k not in names})


class _TorchBackend:
    name = "torch"

    def __init__(self, bundle: Bundle, device: str) -> None:
        # lazy: optional [train] extra; extras.require names the install
        import torch

        # lazy: imports torch (the optional [train]/[gpu] extra); the CPU path runs without it
        from dlrs_desktop.model.network import load_net

        if device == "cuda":
            if not torch.cuda.is_available():
                raise RuntimeError("torch sees no CUDA device")
            device = "cuda:0"
        elif device == "mps" and not (
            getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
        ):
            raise RuntimeError("torch sees no MPS device")
        self.torch = torch
        self.net = load_net(bundle.architecture, *bundle.weights_bytes(), device=device)
        self.device = device

    def run(self, x: np.ndarray, features: bool) -> tuple[np.ndarray, np.ndarray | None]:
        torch = self.torch
        with torch.inference_mode():
            t = torch.from_numpy(x).to(self.device)
            logits, f = self.net.forward_with_features(t)
            return logits.float().cpu().numpy(), (f.float().cpu().numpy() if features else None)

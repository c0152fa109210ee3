"""Qt widgets, tools and workers: the only place that imports Qt."""

from __future__ import annotations

import sys


def _guard_none_refcount() -> None:
    """Work around a shiboken6 6.12 bug on Python < 3.12: every call of a void Qt method (setText,
    QPainterPath.lineTo, ...) decrements None's reference count without having incremented it, so after a
    few thousand calls CPython aborts with "none_dealloc: deallocating None". Python 3.12+ makes None
    immortal, which hides the bug; here we give None a refcount that can never reach zero in practice.
    """
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    import shiboken6  # loaded by any PySide6 import anyway; importlib.metadata would cost ~30 ms

    if not str(getattr(shiboken6, "__version__", "")).startswith("6.12."):
        return  # pyproject.toml excludes 6.12; this guards environments that have it anyway
    import ctypes

    refcnt = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is the first field of every PyObject
    if refcnt.value < 1 << 40:
        refcnt.value += 1 << 40


_guard_none_refcount()

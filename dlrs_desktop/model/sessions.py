"""One live object per key in a process, made on first use and freed with its last user.

Why: a second ONNX Runtime session of the same bundle (the GUI reloading it, `dlrs model verify`,
evaluation beside the GUI) holds the whole network again (issue 29, point 5: one session per bundle).
Weak references: the cache itself keeps nothing alive.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_LIVE: weakref.WeakValueDictionary[Hashable, Any] = weakref.WeakValueDictionary()
_LOCK = threading.Lock()


def shared(key: Hashable, make: Callable[[], T]) -> T:
    """The live object under `key`, or `make()` (under a lock: two threads never make it twice)."""
    with _LOCK:
        obj = _LIVE.get(key)
        if obj is None:
            obj = make()
            _LIVE[key] = obj
        return obj  # type: ignore[no-any-return]

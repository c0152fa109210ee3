"""What crosses the wire between the federated server and a site, and what every reply must pass.

Why a protocol of our own above Flower: the coordinator (the server's plan) must be testable in one
process without sockets, and every reply must be checked in one place, whatever carried it. A
request is a task name, arrays and scalar settings; a reply is arrays, a case count and scalar
metrics. Nothing else can be expressed: no per-patient rows, no strings beyond the site's name and
scalar metric values (docs/FEDERATED.md lists what each task sends).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from dlrs_desktop.errors import DlrsError

Scalar = int | float | str | bool

#: Bounds on a single reply, checked before anything else reads it (a peer is hostile until proven not).
MAX_ARRAYS = 512
MAX_ELEMENTS = 50_000_000  # all arrays of one reply together (a ResNet-18 is ~11 M)
MAX_METRICS = 256
MAX_CASES = 10_000_000


class FederationError(DlrsError):
    """Not enough valid sites answered, or the federation itself failed (one line for the CLI)."""


class RejectedReply(DlrsError):
    """A site's reply that breaks the request's contract; the reason is logged and the site dropped."""


@dataclass(frozen=True)
class Request:
    """One task for every site: `arrays` (network weights, coefficients) and scalar `config`."""

    task: str
    arrays: tuple[np.ndarray, ...] = ()
    config: dict[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True)
class Expect:
    """What a valid reply to a request looks like: the arrays' shapes, optionally a bound on how far
    they may move from `reference` (L2 norm of the difference, all arrays together), and the
    names of the scalar metrics it must carry."""

    shapes: tuple[tuple[int, ...], ...]
    reference: tuple[np.ndarray, ...] | None = None
    max_delta_norm: float | None = None
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """A site's answer: arrays as declared by the task, the number of cases behind them (FedAvg
    weights by it), and scalar metrics (counts, sums, losses)."""

    site: str
    arrays: tuple[np.ndarray, ...]
    n: int
    metrics: dict[str, Scalar] = field(default_factory=dict)


class SiteHandler(Protocol):
    """A site: answers one request from its own data only."""

    name: str

    def handle(self, request: Request) -> Reply: ...


class Federation(Protocol):
    """The server's view of the sites: ask them all, get the valid replies (at least `min_sites`)."""

    def ask(self, request: Request, expect: Expect) -> list[Reply]: ...

    def close(self) -> None: ...


def check_reply(reply: Reply, expect: Expect) -> Reply:
    """`reply` if it keeps the contract, else RejectedReply with the reason (NaN/Inf, shapes, norm)."""
    if len(reply.arrays) > MAX_ARRAYS or len(reply.metrics) > MAX_METRICS:
        raise RejectedReply(f"{len(reply.arrays)} arrays / {len(reply.metrics)} metrics: over the limits")
    if len(reply.arrays) != len(expect.shapes):
        raise RejectedReply(f"{len(reply.arrays)} arrays where {len(expect.shapes)} were expected")
    total = 0
    for i, (a, shape) in enumerate(zip(reply.arrays, expect.shapes, strict=True)):
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu":
            raise RejectedReply(f"array {i} is not numeric")
        if tuple(a.shape) != tuple(shape):
            raise RejectedReply(f"array {i} has shape {tuple(a.shape)}, expected {tuple(shape)}")
        total += a.size
        if total > MAX_ELEMENTS:
            raise RejectedReply("more numbers than any task sends")
        if not np.all(np.isfinite(a)):
            raise RejectedReply(f"array {i} holds NaN or Inf")
    if isinstance(reply.n, bool) or not isinstance(reply.n, int) or not 0 <= reply.n <= MAX_CASES:
        raise RejectedReply(f"case count {reply.n!r} is not a plausible count")
    for key, v in reply.metrics.items():
        if not isinstance(key, str) or len(key) > 64:
            raise RejectedReply("a metric name is not a short string")
        if isinstance(v, float) and not math.isfinite(v):
            raise RejectedReply(f"metric {key} is not finite")
        if isinstance(v, str) and len(v) > 200:
            raise RejectedReply(f"metric {key} is a long text")
    missing = [m for m in expect.metrics if m not in reply.metrics]
    if missing:
        raise RejectedReply(f"metrics missing: {', '.join(missing)}")
    if expect.max_delta_norm is not None and expect.reference is not None:
        sq = sum(float(np.sum((a.astype(np.float64) - r) ** 2)) for a, r in
                 zip(reply.arrays, expect.reference, strict=True))  # fmt: skip
        if math.sqrt(sq) > expect.max_delta_norm:
            raise RejectedReply(
                f"update norm {math.sqrt(sq):.3g} above the bound {expect.max_delta_norm:.3g}"
            )
    return reply


@dataclass
class InProcessFederation:
    """Sites as objects in this process (tests, and `dlrs federated simulate --in-process`): the same
    checks and the same drop rule as the network transport."""

    sites: Sequence[SiteHandler]
    min_sites: int = 1
    log: Callable[[str], None] = print

    def ask(self, request: Request, expect: Expect) -> list[Reply]:
        replies = []
        for site in self.sites:
            try:
                replies.append(check_reply(site.handle(request), expect))
            except RejectedReply as exc:
                self.log(f"site {site.name}: reply to '{request.task}' rejected: {exc}")
        return enough(replies, self.min_sites, request.task)

    def close(self) -> None:
        return None


def enough(replies: list[Reply], min_sites: int, task: str) -> list[Reply]:
    """The replies, or FederationError when fewer than `min_sites` valid ones came back."""
    if len(replies) < min_sites:
        raise FederationError(
            f"only {len(replies)} site(s) gave a valid answer to '{task}' (at least {min_sites} needed)"
        )
    return replies

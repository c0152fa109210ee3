"""The fold ensemble of a federated bundle (`--ensemble final+folds`), as `dlrs train` builds it.

Why: the fold networks are trained anyway (their held-out logits feed the stacking), and averaging
them with the final network was measured to steady the pooled recipe (training/pipeline.py,
`_fold_ensemble`). Each member's logits are z-scored on the internal split (the training split if
there is none) before the average, because networks trained from scratch do not share a logit
scale. The server knows every member's weights; the members' means and SDs come from the sites'
summed moments (`logit_moments`), so they equal the pooled np.mean / np.std of the same cases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dlrs_desktop.training.federated import aggregates as agg

#: The most members a site builds from the arrays it is sent (final + up to 15 folds).
MAX_MEMBERS = 16
SumAsk = Callable[[str, Any, dict, tuple[int, ...]], np.ndarray]


def fold_ensemble(
    sum_ask: SumAsk,
    members: list[tuple[str, tuple[np.ndarray, ...], Any]],
    spec: Any,
    extra: tuple[np.ndarray, int, str],
    log: Callable[[str], None] = print,
) -> tuple[Any, dict[str, Any]]:
    """(the averaged network, the manifest's ensemble block) from the members (name, weights as
    sent to the sites, the network holding them).

    `extra` = (the shipped signatures as sent, the width of logit_moments' reply, the split)."""
    # lazy: the network imports torch (the optional [train] extra)
    from dlrs_desktop.model.network import ensemble_of

    sig, width, split = extra
    r = len(spec.regions)
    means, sds = [], []
    for _, weights, _net in members:
        moments = sum_ask("logit_moments", (*weights, sig), {"split": split}, (3, width))
        m, sd = agg.mean_sd(moments[:, :r])
        means.append(m)
        sds.append(sd)
    mean, sd = np.stack(means), np.stack(sds)
    log(
        f"shipped network: the final and {len(members) - 1} fold networks averaged (each member's "
        f"logits standardised on the {split} split, from the sites' moments)"
    )
    info = {
        "members": [name for name, _, _ in members],
        "standardisation_split": split,
        "member_logit_mean": mean.round(6).tolist(),
        "member_logit_sd": sd.round(6).tolist(),
        "standardisation_from": "the sites' summed moments (count, sum, sum of squares)",
    }
    return ensemble_of([net.eval() for _, _, net in members], mean, sd), info


def network_for(cfg: Any, spec: Any, n_arrays: int) -> Any:
    """The network whose weights are `n_arrays` arrays: one network, or an ensemble of up to
    MAX_MEMBERS (its members' trunks, then the shared head); ValueError for any other count."""
    # lazy: the network imports torch (the optional [train] extra)
    from dlrs_desktop.model.network import FusionNet
    from dlrs_desktop.training.trainer import new_network

    single = new_network(cfg, spec)
    n1 = len(single.state_dict())
    if n_arrays == n1:
        return single
    members, rest = divmod(n_arrays - 2, n1 - 2)
    if rest or not 1 < members <= MAX_MEMBERS:
        raise ValueError(
            f"{n_arrays} weight arrays: neither a network of {n1} tensors nor an ensemble of them"
        )
    return FusionNet(cfg.arch, len(spec.regions), True, spec.in_channels, members=members)

"""Equal weights give equal bundle bytes: safetensors' metadata order is fixed before writing."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from safetensors.torch import load, save  # noqa: E402

from dlrs_desktop.bundle_files import canonical_safetensors  # noqa: E402


def test_saves_of_the_same_tensors_are_byte_identical_once_canonical():
    tensors = {"head.bias": torch.arange(4, dtype=torch.float32), "head.weight": torch.ones(4, 3)}
    meta = {"format": "pt", "content": "FusionNet region heads"}
    raw = {save(tensors, metadata=meta) for _ in range(40)}
    assert len(raw) == 2  # safetensors itself writes the two metadata keys in either order
    canonical = {canonical_safetensors(b) for b in raw}
    assert len(canonical) == 1
    blob = canonical.pop()
    assert blob[8:40].startswith(b'{"__metadata__":{"content"')
    back = load(blob)
    assert set(back) == set(tensors) and all(torch.equal(back[k], tensors[k]) for k in tensors)


def test_a_file_without_metadata_or_with_one_key_is_returned_as_is():
    blob = save({"x": torch.zeros(2)})
    assert canonical_safetensors(blob) is blob
    one = save({"x": torch.zeros(2)}, metadata={"format": "pt"})
    assert canonical_safetensors(one) is one

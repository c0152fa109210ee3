"""Guards on the tests themselves: what CI requires cannot silently skip."""

from __future__ import annotations

import json

import pytest

from tests.pacs_factory import REQUIRE_TOOLS, need


def test_a_missing_tool_skips_locally_and_fails_where_ci_requires_it(monkeypatch):
    monkeypatch.delenv(REQUIRE_TOOLS, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y no-such-package"):
        need("no-such-tool-dlrs", "no-such-package")
    monkeypatch.setenv(REQUIRE_TOOLS, "1")
    with pytest.raises(pytest.fail.Exception, match="requires it"):
        need("no-such-tool-dlrs", "no-such-package")
    assert need("sh", "dash")  # a present tool is found either way


def test_ci_sets_the_flag_before_running_the_tests():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert script.index(f"export {REQUIRE_TOOLS}=1") < script.index("pytest")


def _without_external(manifest: dict) -> dict:
    """The manifest minus what may differ: external-split metrics, the cohort's name/hash, times, the card."""
    m = json.loads(json.dumps(manifest))
    m.pop("created")
    m.pop("training_data")
    m["metrics"] = [row for row in m["metrics"] if row.get("split") != "external"]
    m["files"].pop("MODEL_CARD.md")
    for key in ("seconds", "seconds_by_session", "final_history"):
        m["training"].pop(key, None)
    distil = m["training"].get("distillation") or {}
    distil.pop("student_seconds", None)  # wall-clock times of the distilled student
    for epoch in distil.get("student_history") or []:
        epoch.pop("seconds", None)
    return m


@pytest.mark.slow
def test_the_external_split_never_influences_training_or_selection(tmp_path):
    """Train twice on one tiny cohort, the second time with every external label flipped: the weights,
    the ONNX graph, the stacking, the thresholds and the chosen primary model are byte-identical."""
    from dlrs_desktop.training.pipeline import train_from_cohort
    from dlrs_desktop.training.recipe import TrainingRecipe
    from tests.training_factory import rewrite, tiny_cohort, tiny_config

    cohort = tiny_cohort(tmp_path / "cohort", patients=24, seed=3, dicom=False)

    def flip_external(rows: list[dict]) -> list[dict]:
        for r in rows:
            if r["split"] == "external":
                r["label"] = str(1 - int(r["label"]))
        return rows

    flipped = rewrite(cohort, tmp_path / "cohort" / "flipped.csv", flip_external)
    cfg = tiny_config(limit_batches=2)
    for name, csv_path in (("a", cohort), ("b", flipped)):
        recipe = TrainingRecipe(csv_path, cfg, training_kind="synthetic")
        train_from_cohort(recipe, tmp_path / name, log=lambda _m: None)
    a, b = tmp_path / "a", tmp_path / "b"
    manifest_a, manifest_b = (json.loads((p / "manifest.json").read_text()) for p in (a, b))
    ext = [r for r in manifest_a["metrics"] if r.get("split") == "external"]
    assert ext and manifest_a["metrics"] != manifest_b["metrics"]  # the flip did reach the external rows
    model_files = sorted(set(manifest_a["files"]) - {"MODEL_CARD.md"})
    assert "backbone.safetensors" in model_files and "model.onnx" in model_files
    for name in model_files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert _without_external(manifest_a) == _without_external(manifest_b)

"""Annotation sidecars, session (crash) file and audit log, on real files."""

from __future__ import annotations

import json

import pytest

from dlrs_desktop import paths
from dlrs_desktop.store import Annotation, AnnotationStore, AuditLog, Review, SessionStore
from dlrs_desktop.store.annotation import beside_path

SHA_A = "a" * 64
SHA_B = "b" * 64
CONTOUR = {
    "schema": "dlrs-contour",
    "schema_version": 1,
    "points": [[1, 2], [30, 2], [30, 40]],
    "calibration": None,
    "frame": 0,
    "region_index": None,
}


def test_save_writes_user_store_and_beside_and_roundtrips(tmp_path):
    img = tmp_path / "case1.dcm"
    img.write_bytes(b"x")
    store = AnnotationStore()
    ann = Annotation(SHA_A, frame=2, contour=CONTOUR, review=Review("reviewed", "Dr Who", "t"))
    res = store.save(ann, img)
    assert store.user_path(SHA_A).is_file()
    assert str(store.user_path(SHA_A)).startswith(str(paths.user_data_dir()))
    assert beside_path(img).is_file() and beside_path(img).name == "case1.dcm.dlrs.json"
    assert len(res.written) == 2 and not res.warnings
    data = json.loads(beside_path(img).read_text())
    assert data["schema"] == "dlrs-annotation" and data["schema_version"] == 1
    assert data["image_sha256"] == SHA_A and data["saved_at"]
    loaded = store.load(SHA_A, img)
    assert loaded.annotation is not None and not loaded.rejected
    assert loaded.annotation.contour == CONTOUR and loaded.annotation.frame == 2
    assert loaded.annotation.review == Review("reviewed", "Dr Who", "t")


def test_sidecar_of_other_image_is_rejected(tmp_path):
    img = tmp_path / "case1.png"
    img.write_bytes(b"x")
    store = AnnotationStore(tmp_path / "store")
    store.save(Annotation(SHA_B, contour=CONTOUR), img)  # beside-sidecar now says SHA_B
    res = store.load(SHA_A, img)
    assert res.annotation is None
    assert any("different image" in r for r in res.rejected)


def test_newest_copy_wins_and_garbage_is_reported(tmp_path):
    img = tmp_path / "case1.png"
    img.write_bytes(b"x")
    store = AnnotationStore(tmp_path / "store")
    store.save(Annotation(SHA_A, frame=1), img)
    store.save(Annotation(SHA_A, frame=3), None)  # only the user copy gets the newer one
    assert store.load(SHA_A, img).annotation.frame == 3
    beside_path(img).write_text("{not json")
    res = store.load(SHA_A, img)
    assert res.annotation.frame == 3 and any("unreadable" in r for r in res.rejected)


def test_newer_schema_is_refused():
    with pytest.raises(ValueError, match="newer"):
        Annotation.from_dict({"schema": "dlrs-annotation", "schema_version": 99, "image_sha256": SHA_A})


def test_read_only_folder_falls_back_to_user_store(tmp_path):
    from tests.store_factory import read_only

    folder = tmp_path / "ro"
    folder.mkdir()
    img = folder / "a.png"
    img.write_bytes(b"x")
    with read_only(folder):
        res = AnnotationStore(tmp_path / "store").save(Annotation(SHA_A, contour=CONTOUR), img)
    assert res.ok and res.warnings and "read-only" in res.warnings[0]
    assert AnnotationStore(tmp_path / "store").load(SHA_A, img).annotation.contour == CONTOUR


def test_session_detects_unclean_exit(tmp_path):
    s = SessionStore(tmp_path / "session.json")
    s.begin(image="/x/a.png", image_sha256=SHA_A)
    data = json.loads((tmp_path / "session.json").read_text())
    assert data["clean_exit"] is False
    # Same process still "alive" -> simulate a dead one.
    data["pid"] = 2**22 + 12345
    (tmp_path / "session.json").write_text(json.dumps(data))
    crashed = s.crashed_session()
    assert crashed is not None and crashed.image == "/x/a.png"
    s.end()
    assert s.crashed_session() is None


def test_audit_log_appends_and_drops_unknown_fields(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append("prediction", image_sha256=SHA_A, contour_hash="c1", probability=0.4, patient_name="X")
    log.append("prediction", image_sha256=SHA_B, contour_hash="c2", probability=0.7)
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 2
    recs = log.records()
    assert [r["image_sha256"] for r in recs] == [SHA_A, SHA_B]
    assert "patient_name" not in recs[0] and recs[0]["event"] == "prediction" and recs[0]["time"]


def test_unwritable_beside_location_falls_back_even_as_root(tmp_path):
    img = tmp_path / "a.png"
    img.write_bytes(b"x")
    beside_path(img).mkdir()  # sidecar path is a folder: write fails as on a read-only share
    res = AnnotationStore(tmp_path / "store").save(Annotation(SHA_A, contour=CONTOUR), img)
    assert res.warnings and len(res.written) == 1
    assert AnnotationStore(tmp_path / "store").load(SHA_A, img).annotation.contour == CONTOUR


def test_never_writes_beside_bundled_samples(tmp_path, monkeypatch):
    res_dir = tmp_path / "resources"
    (res_dir / "samples").mkdir(parents=True)
    img = res_dir / "samples" / "demo.dcm"
    img.write_bytes(b"x")
    monkeypatch.setenv("DLRS_RESOURCES", str(res_dir))
    res = AnnotationStore(tmp_path / "store").save(Annotation(SHA_A, contour=CONTOUR), img)
    assert len(res.written) == 1 and not beside_path(img).exists()

"""Persistence never destroys (issue 14): backups before overwriting, newest valid copy, storage faults.

Real files throughout; read-only folders and full disks are real (chmod, read-only bind mounts and a
tiny tmpfs, see tests/store_factory.py), never an OSError raised by a stand-in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from dlrs_desktop import paths
from dlrs_desktop.fileio import clean_stale_temps
from dlrs_desktop.store import Annotation, AnnotationStore, AuditLog, SessionStore
from dlrs_desktop.store.annotation import beside_path
from tests.store_factory import fill, read_only, tiny_filesystem

SHA = "c" * 64
OTHER = "d" * 64
CAL = {"mm_per_px_x": 0.1, "mm_per_px_y": 0.1, "source": "user", "region_index": None}


def contour(dx: float = 0.0) -> dict:
    pts = [[10 + dx, 10], [60 + dx, 12], [58 + dx, 50], [12 + dx, 48]]
    return {"schema": "dlrs-contour", "schema_version": 1, "points": pts, "calibration": None, "frame": 0}


def sidecar(**over) -> dict:
    d = Annotation(
        SHA, contour=contour(), calibration=CAL, saved_at="2026-01-01T10:00:00.000+00:00"
    ).to_dict()
    d.update(over)
    return d


def backups(folder) -> list:
    return sorted(p for p in folder.rglob("*.bak"))


@pytest.fixture
def image(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    img = folder / "case.png"
    img.write_bytes(b"pixels")
    return img


def test_corrupt_personal_copy_is_reported_then_kept_as_backup_before_the_first_save(tmp_path, image):
    store = AnnotationStore(tmp_path / "store")
    store.user_path(SHA).parent.mkdir(parents=True)
    store.user_path(SHA).write_bytes(b'{"schema": "dlrs-annotation", "contour": [truncated')
    loaded = store.load(SHA, image, keep_backups=True)
    assert loaded.annotation is None and len(loaded.rejected) == 1 and "unreadable" in loaded.rejected[0]
    (kept,) = backups(tmp_path / "store")
    assert kept.read_bytes() == b'{"schema": "dlrs-annotation", "contour": [truncated'
    assert f"kept as {kept}" in loaded.rejected[0]  # told once, with where it is
    reopened = AnnotationStore(tmp_path / "store").load(SHA, image, keep_backups=True)
    assert reopened.rejected and str(kept) in reopened.rejected[0]  # the same backup, no second one
    assert len(backups(tmp_path / "store")) == 1
    res = store.save(Annotation(SHA, contour=contour(5)), image)
    assert res.ok and not res.backups
    again = store.save(Annotation(SHA, contour=contour(6)), image)
    assert again.ok and not again.backups and len(backups(tmp_path / "store")) == 1


@pytest.mark.parametrize(
    "malformed",
    [
        '"review": "reviewed"',
        '"frame": 1e400',
        '"saved_at": 5',
        '"calibration": {"mm_per_px_x": 0.1, "source": "user"}',  # no mm_per_px_y
        '"contour": {"points": [[1, 2], [3, "x"], [5, 6]]}',
    ],
)
def test_malformed_beside_copy_does_not_hide_or_destroy_the_valid_personal_copy(tmp_path, image, malformed):
    store = AnnotationStore(tmp_path / "store")
    assert store.save(Annotation(SHA, contour=contour(), calibration=CAL), image).ok
    text = json.dumps(sidecar(saved_at="2030-01-01T00:00:00.000+00:00"))
    key = malformed.split(":")[0]
    data = json.loads(text)
    data.pop(key.strip('"'))
    bad = json.dumps(data)[:-1] + ", " + malformed + "}"
    beside_path(image).write_text(bad)
    fresh = AnnotationStore(tmp_path / "store")  # a new session
    loaded = fresh.load(SHA, image, keep_backups=True)
    assert loaded.annotation is not None and loaded.annotation.contour == contour()
    assert loaded.source == fresh.user_path(SHA) and len(loaded.rejected) == 1
    assert fresh.status_of(SHA, image) is not None  # the worklist row reads it too
    res = fresh.save(Annotation(SHA, contour=contour(3), calibration=CAL), image)
    assert res.ok and not res.backups and len(res.written) == 2
    (kept,) = backups(image.parent)
    assert str(kept) in loaded.rejected[0]
    assert kept.read_text() == bad  # the malformed copy is kept byte for byte


def test_a_plain_read_writes_nothing_and_the_save_still_keeps_the_backup(tmp_path, image):
    """The CLI only reads: no backup files appear; the window's next save keeps the copy first."""
    beside_path(image).write_text('{"schema": "dlrs-annotation", "review": "reviewed"')
    store = AnnotationStore(tmp_path / "store")
    assert store.load(SHA, image).rejected and not backups(tmp_path)
    res = store.save(Annotation(SHA, contour=contour()), image)
    assert res.ok and len(res.backups) == 1 and "could not be used" in res.backups[0]
    (kept,) = backups(image.parent)
    assert kept.read_text().endswith('"review": "reviewed"')


def test_personal_copy_without_mm_per_px_y_falls_back_to_the_copy_beside_the_image(tmp_path, image):
    store = AnnotationStore(tmp_path / "store")
    assert store.save(Annotation(SHA, contour=contour(), calibration=CAL), image).ok
    data = json.loads(store.user_path(SHA).read_text())
    del data["calibration"]["mm_per_px_y"]
    data["saved_at"] = "2031-01-01T00:00:00.000+00:00"
    store.user_path(SHA).write_text(json.dumps(data))
    loaded = AnnotationStore(tmp_path / "store").load(SHA, image)
    assert loaded.annotation.calibration == CAL and loaded.source == beside_path(image)
    assert any("mm_per_px_y" in r for r in loaded.rejected)


def test_sidecar_of_another_image_is_backed_up_not_overwritten(tmp_path, image):
    beside_path(image).write_text(json.dumps(sidecar(image_sha256=OTHER)))
    store = AnnotationStore(tmp_path / "store")
    loaded = store.load(SHA, image, keep_backups=True)
    assert loaded.annotation is None and "different image" in loaded.rejected[0]
    res = store.save(Annotation(SHA, contour=contour()), image)
    assert res.ok and len(res.written) == 2
    (kept,) = backups(image.parent)
    assert str(kept) in loaded.rejected[0]
    assert json.loads(kept.read_text())["image_sha256"] == OTHER


def test_a_second_process_saving_the_same_image_is_detected_and_its_work_kept(tmp_path, image):
    store = AnnotationStore(tmp_path / "store")
    store.load(SHA, image)
    assert store.save(Annotation(SHA, contour=contour(1)), image).ok
    code = (
        "import sys; from dlrs_desktop.store import Annotation, AnnotationStore; "
        f"s = AnnotationStore({str(tmp_path / 'store')!r}); s.load({SHA!r}, {str(image)!r}); "
        f"c = {contour(2)!r}; r = s.save(Annotation({SHA!r}, contour=c), {str(image)!r}); "
        "sys.exit(0 if r.ok and not r.backups else 1)"
    )
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    assert subprocess.run([sys.executable, "-c", code], env=env, timeout=120).returncode == 0
    res = store.save(Annotation(SHA, contour=contour(3)), image)  # this window saves again
    assert res.ok and len(res.backups) == 2  # both copies held the other process's work
    assert all("two writers" in b for b in res.backups)
    kept = [json.loads(p.read_text()) for p in backups(tmp_path)]
    assert [k["contour"] for k in kept] == [contour(2), contour(2)]
    assert AnnotationStore(tmp_path / "store").load(SHA, image).annotation.contour == contour(3)


def test_an_older_copy_is_superseded_without_alarm(tmp_path, image):
    """After a crash between the two writes one copy is older: the newer opens, nothing to tell."""
    store = AnnotationStore(tmp_path / "store")
    assert store.save(Annotation(SHA, contour=contour(1)), image).ok
    assert store.save(Annotation(SHA, contour=contour(2)), None).ok  # only the personal copy
    fresh = AnnotationStore(tmp_path / "store")
    loaded = fresh.load(SHA, image)
    assert loaded.annotation.contour == contour(2) and not loaded.notes and not loaded.rejected
    res = fresh.save(Annotation(SHA, contour=contour(3)), image)
    assert res.ok and not res.backups and len(res.written) == 2


def test_stale_temporary_files_are_removed_only_when_their_writer_is_gone(tmp_path):
    dead = tmp_path / ".case.dcm.dlrs.json.999999999.k2j3.tmp"
    live = tmp_path / f".case.dcm.dlrs.json.{os.getpid()}.abcd.tmp"
    other = tmp_path / ".notes.txt.999999999.zz.tmp"
    for p in (dead, live, other):
        p.write_text("{")
    assert clean_stale_temps(tmp_path, ".dlrs.json") == [dead]
    assert live.exists() and other.exists()
    store = AnnotationStore()
    store.root.mkdir(parents=True)
    orphan = store.root / f".{SHA}.json.999999999.q1.tmp"
    orphan.write_text("{")
    assert store.clean_stale_temps() == [orphan]


def test_read_only_data_folder_still_writes_the_copy_beside_the_image(tmp_path, image):
    store = AnnotationStore()
    assert store.save(Annotation(SHA, contour=contour(1)), image).ok
    data_dir = paths.user_data_dir()
    with read_only(data_dir):
        fresh = AnnotationStore()
        assert fresh.load(SHA, image).annotation.contour == contour(1)  # saved work is loaded
        fresh.remember_path(image, SHA)  # no exception
        assert SessionStore().update(image=str(image)) is False
        res = fresh.save(Annotation(SHA, contour=contour(2)), image)
        assert res.ok and res.written == [beside_path(image)]
        assert [k.split(":")[1] for k, _ in res.problems] == ["read-only"]
        assert "read-only" in res.warnings[0]
    assert AnnotationStore().load(SHA, image).annotation.contour == contour(2)


@pytest.mark.parametrize("where", ["data", "both"])
def test_full_disk_never_raises_and_leaves_no_half_file(tmp_path, monkeypatch, where):
    mount = tmp_path / "small"
    with tiny_filesystem(mount, 128):
        data_dir = mount / "data"
        monkeypatch.setenv("DLRS_DATA_DIR", str(data_dir))
        folder = mount / "study" if where == "both" else tmp_path / "study"
        folder.mkdir(parents=True)
        image = folder / "case.png"
        image.write_bytes(b"pixels")
        store = AnnotationStore()
        assert store.save(Annotation(SHA, contour=contour(1)), image).ok
        filler = fill(mount)
        angles = np.linspace(0, 6.28, 500, endpoint=False)
        many = [[10 + 40 * np.cos(t), 30 + 20 * np.sin(t)] for t in angles]
        big = Annotation(SHA, contour={**contour(2), "points": many})  # a sidecar of ~20 kB
        res = store.save(big, image)
        kinds = sorted(k.split(":")[1] for k, _ in res.problems)
        assert kinds == (["full", "full"] if where == "both" else ["full"])
        assert res.ok is (where == "data")
        store.remember_path(image, SHA)  # no exception
        temps = [p for p in mount.rglob("*.tmp")]
        assert not temps
        assert AnnotationStore().load(SHA, image).annotation.contour is not None  # old copy intact
        filler.unlink()
        assert store.save(big, image).ok and len(store.save(big, image).written) == 2


def test_audit_record_on_a_full_disk_is_refused_whole_and_the_next_one_is_intact(tmp_path):
    mount = tmp_path / "small"
    with tiny_filesystem(mount, 64):
        log = AuditLog(mount / "audit.jsonl")
        log.append("prediction", image_sha256=SHA, probability=0.25)
        size = log.path.stat().st_size
        filler = fill(mount, leave=0)
        with pytest.raises(OSError):
            log.append("prediction", image_sha256=OTHER, probability=0.5, reviewer="x" * 10000)
        assert log.path.stat().st_size == size  # no half record left behind
        filler.unlink()
        log.append("prediction", image_sha256=OTHER, probability=0.75)
        assert [r["probability"] for r in log.records()] == [0.25, 0.75]


def test_torn_audit_record_never_swallows_the_next(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append("prediction", image_sha256=SHA, probability=0.25)
    with open(log.path, "ab") as fh:
        fh.write(b'{"event": "prediction", "probab')  # a power cut mid-record
    log.append("prediction", image_sha256=OTHER, probability=0.75)
    assert [r["probability"] for r in log.records()] == [0.25, 0.75]
    assert log.path.read_bytes().endswith(b"\n")


def test_a_copy_damaged_after_loading_is_backed_up_before_the_next_save(tmp_path, image):
    store = AnnotationStore(tmp_path / "store")
    assert store.save(Annotation(SHA, contour=contour(1)), image).ok
    beside_path(image).write_bytes(b"\x00\x01 a sync tool wrote half a file")
    res = store.save(Annotation(SHA, contour=contour(2)), image)
    assert res.ok and len(res.written) == 2 and "could not be used" in res.backups[0]
    (kept,) = backups(image.parent)
    assert kept.read_bytes().startswith(b"\x00\x01") and str(kept) in res.backups[0]


def test_many_processes_saving_at_once_never_lose_each_others_last_save(tmp_path, image):
    """Six processes open the same image, then all save different work on it 15 times each, at
    once: each one's last acknowledged save is still on disk or in a backup (the lock closes the gap
    between the compare-and-swap check and the rename).

    All six have opened the image before any saves (a barrier): a window that opens the image after
    another finished sees that work and may replace it, which is an edit, not a loss. filelock's
    polling lets one process make its 15 saves in a row, so without the barrier late openers did.
    """
    ready = tmp_path / "ready"
    ready.mkdir()
    code = (
        "import sys, time, pathlib; from dlrs_desktop.store import Annotation, AnnotationStore; "
        f"s = AnnotationStore({str(tmp_path / 'store')!r}); s.load({SHA!r}, {str(image)!r})\n"
        "w = int(sys.argv[1]); c = " + repr(contour()) + "\n"
        f"ready = pathlib.Path({str(ready)!r}); (ready / str(w)).touch()\n"
        "while len(list(ready.iterdir())) < 6:\n    time.sleep(0.01)\n"
        "for i in range(15):\n"
        "    pts = [[x + w * 100 + i, y] for x, y in c['points']]\n"
        f"    r = s.save(Annotation({SHA!r}, contour=dict(c, points=pts)), {str(image)!r})\n"
        "    last = pts[0][0] if r.ok else last\n"
        "print(last)"
    )
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(w)], env=env, stdout=subprocess.PIPE, text=True)
        for w in range(6)
    ]
    lasts = [float(p.communicate(timeout=300)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    files = [AnnotationStore(tmp_path / "store").user_path(SHA), beside_path(image), *backups(tmp_path)]
    kept = {json.loads(f.read_text())["contour"]["points"][0][0] for f in files}
    assert set(lasts) <= kept
    assert not list(tmp_path.rglob("*.tmp"))


def test_the_image_lock_excludes_another_process_and_is_freed_after(tmp_path):
    """filelock's lock (flock here, msvcrt on Windows): a second process cannot take it while held."""
    from dlrs_desktop.store.sidecar import image_lock

    probe = (
        "import sys; from filelock import FileLock, Timeout\n"
        "try:\n    FileLock(sys.argv[1], timeout=0).acquire(); print('free')\n"
        "except Timeout:\n    print('held')\n"
    )
    path = tmp_path / "locks" / f"{'a' * 64}.lock"

    def other_process() -> str:
        run = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True)
        return run.stdout.strip()

    with image_lock(tmp_path / "locks", "a" * 64):
        assert other_process() == "held"
    assert other_process() == "free"

"""Cine loops: pick a frame (default the first), decode only that frame."""

from __future__ import annotations

import numpy as np
import pytest

from dlrs_desktop.errors import ImageLoadError
from dlrs_desktop.imaging import dicom_writer as dw
from dlrs_desktop.imaging import load_image
from tests.dicom_factory import smooth_gray, smooth_rgb

N = 5


def _loop(colour: bool) -> np.ndarray:
    base = smooth_rgb() if colour else smooth_gray()
    return np.stack([np.roll(base, 7 * k, axis=1) for k in range(N)])


@pytest.mark.parametrize(
    "ts",
    [dw.EXPLICIT_VR_LITTLE_ENDIAN, dw.EXPLICIT_VR_BIG_ENDIAN, dw.RLE_LOSSLESS, dw.JPEG_2000_LOSSLESS],
)
@pytest.mark.parametrize("colour", [False, True], ids=["gray", "rgb"])
def test_every_frame_lossless(tmp_path, ts, colour):
    loop = _loop(colour)
    path = dw.write_ultrasound_dicom(tmp_path / "cine.dcm", loop, mm_per_px=0.2, transfer_syntax=ts)
    first = load_image(path)
    assert (first.frame_count, first.frame_index) == (N, 0)
    for k in (0, 2, N - 1):
        im = load_image(path, frame=k)
        assert im.frame_index == k and im.frame_count == N
        got = im.display if colour else im.gray
        assert np.array_equal(got, loop[k])
        assert im.calibration.mm_per_px_x == pytest.approx(0.2)
    assert first.provenance.metadata["frame_time_ms"] == pytest.approx(33.3)


def test_jpeg_baseline_frame(tmp_path):
    loop = _loop(True)
    path = dw.write_ultrasound_dicom(
        tmp_path / "cine.dcm", loop, mm_per_px=0.2, transfer_syntax=dw.JPEG_BASELINE
    )
    im = load_image(path, frame=3)
    assert np.abs(im.display.astype(int) - loop[3].astype(int)).mean() < 3.0


def test_only_the_requested_frame_is_decoded(tmp_path):
    """Frame 0 loads although frame 3's JPEG data is garbage: the rest of the loop is never decoded."""
    import pydicom
    from pydicom.encaps import encapsulate, generate_frames

    loop = _loop(False)
    path = dw.write_ultrasound_dicom(
        tmp_path / "cine.dcm", loop, mm_per_px=0.2, transfer_syntax=dw.JPEG_BASELINE
    )
    ds = pydicom.dcmread(path)
    frames = list(generate_frames(ds.PixelData, number_of_frames=N))
    frames[3] = b"\xff\xd8\xff" + b"\x00" * (len(frames[3]) - 3)
    ds.PixelData = encapsulate(frames)
    ds.save_as(path, enforce_file_format=True)
    im = load_image(path, frame=0)
    assert np.abs(im.gray.astype(int) - loop[0].astype(int)).mean() < 1.5
    with pytest.raises(ImageLoadError, match="cannot be decoded"):
        load_image(path, frame=3)


@pytest.mark.parametrize("frame", [N, -1, 100])
def test_frame_out_of_range(tmp_path, frame):
    path = dw.write_ultrasound_dicom(tmp_path / "cine.dcm", _loop(False), mm_per_px=0.2)
    with pytest.raises(
        ImageLoadError, match=rf"frame {frame} does not exist; the file has {N} frames \(0 to {N - 1}\)"
    ):
        load_image(path, frame=frame)

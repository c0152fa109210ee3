"""Write scanner-like ultrasound DICOM files (synthetic cohort, sample images, tests).

Real scanners calibrate ultrasound images with SequenceOfUltrasoundRegions (deltas in cm), not with
PixelSpacing; the writer does the same so that synthetic data exercises the same loading path as
real data. Patient fields are synthetic on purpose: nothing written here identifies a person.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from dlrs_desktop.imaging.types import UltrasoundRegion

# Transfer syntax UIDs (strings, so callers need not import pydicom).
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57"
JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80"
JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
JPEG_2000 = "1.2.840.10008.1.2.4.91"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"

_UNCOMPRESSED = {EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN}
_US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"
_US_MULTIFRAME_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"


def tissue_region(
    x0: int, y0: int, x1: int, y1: int, mm_per_px: float | tuple[float, float], index: int = 0
) -> UltrasoundRegion:
    """A 2D tissue region in cm (what a B-mode scanner writes); bounds inclusive."""
    mx, my = (mm_per_px, mm_per_px) if np.isscalar(mm_per_px) else mm_per_px  # type: ignore[misc]
    return UltrasoundRegion(index, x0, y0, x1, y1, 1, 1, 3, 3, float(mx) / 10.0, float(my) / 10.0)


def _region_item(region: UltrasoundRegion) -> Any:
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    from pydicom.dataset import Dataset

    item = Dataset()
    item.RegionSpatialFormat = region.spatial_format
    item.RegionDataType = region.data_type
    item.RegionFlags = 0
    item.RegionLocationMinX0 = region.x0
    item.RegionLocationMinY0 = region.y0
    item.RegionLocationMaxX1 = region.x1
    item.RegionLocationMaxY1 = region.y1
    item.PhysicalUnitsXDirection = region.units_x
    item.PhysicalUnitsYDirection = region.units_y
    item.PhysicalDeltaX = float(region.delta_x)
    item.PhysicalDeltaY = float(region.delta_y)
    item.ReferencePixelX0 = 0
    item.ReferencePixelY0 = 0
    return item


def _layout(arr: np.ndarray) -> tuple[int, bool, int, int]:
    """(frames, colour, rows, columns) of a pixel array `build_dataset` accepts; ValueError otherwise."""
    if arr.dtype not in (np.uint8, np.uint16):
        raise ValueError("pixels must be uint8 or uint16")
    if arr.ndim == 3 and arr.shape[-1] == 3:
        frames, colour = 1, True
    elif arr.ndim == 3:
        frames, colour = arr.shape[0], False
    elif arr.ndim == 4:
        frames, colour = arr.shape[0], True
    elif arr.ndim == 2:
        frames, colour = 1, False
    else:
        raise ValueError(f"unsupported pixel array shape {arr.shape}")
    if colour and arr.dtype != np.uint8:
        raise ValueError("colour pixels must be uint8")
    rows, cols = arr.shape[-3:-1] if colour else arr.shape[-2:]
    return int(frames), colour, int(rows), int(cols)


def _general_modules(ds: Any, case_id: str, manufacturer: str, model_name: str) -> None:
    """Study, series, equipment and a synthetic, non-identifying patient module."""
    today = _dt.date.today().strftime("%Y%m%d")
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = today
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
    ds.Modality = "US"
    ds.Manufacturer = manufacturer
    ds.ManufacturerModelName = model_name
    ds.BodyPartExamined = "BREAST"
    # The breast is a paired organ, so General Series Laterality (type 2C) must be present; the side
    # of a synthetic image is unknown, so it is empty (allowed for type 2). Patient Orientation is type
    # 2C for images without a frame of reference: empty too. Ultrasound Image Type is type 2.
    ds.Laterality = ""
    ds.PatientOrientation = ""
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    # Synthetic, non-identifying patient module (type 2 attributes must be present).
    ds.PatientName = "Synthetic^Case"
    ds.PatientID = case_id
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""


def _image_pixel_module(ds: Any, arr: np.ndarray, frame_time_ms: float) -> None:
    """Image Pixel (and, for a cine loop, Multi-frame and Cine) attributes with the pixels."""
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    import pydicom

    frames, colour, rows, cols = _layout(arr)
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = "RGB" if colour else "MONOCHROME2"
    if colour:
        ds.PlanarConfiguration = 0
    bits = 8 if arr.dtype == np.uint8 else 16
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.NumberOfFrames = frames
        ds.FrameTime = float(frame_time_ms)
        ds.FrameIncrementPointer = pydicom.tag.Tag("FrameTime")
        ds.CineRate = round(1000.0 / frame_time_ms)
    ds.PixelData = np.ascontiguousarray(arr).tobytes()
    ds["PixelData"].VR = "OB" if bits == 8 else "OW"


def build_dataset(
    pixels: np.ndarray,
    *,
    mm_per_px: float | tuple[float, float] | None,
    regions: Sequence[UltrasoundRegion] | None = None,
    case_id: str = "SYNTH-0001",
    manufacturer: str = "DLRS synthetic",
    model_name: str = "Synthetic B-mode",
    pixel_spacing: tuple[float, float] | None = None,
    frame_time_ms: float = 33.3,
) -> Any:
    """An uncompressed (explicit VR little endian) US dataset holding `pixels`.

    pixels: (H,W) or (H,W,3) single frame, (F,H,W) or (F,H,W,3) cine; uint8 (or uint16 for gray).
    `mm_per_px` without `regions` gives one 2D tissue region covering the whole image.
    `pixel_spacing` (row, column mm) is written only if given: scanners rarely write it.
    """
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    arr = np.asarray(pixels)
    frames, _, rows, cols = _layout(arr)
    sop_class = _US_MULTIFRAME_STORAGE if frames > 1 else _US_IMAGE_STORAGE
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID

    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    _general_modules(ds, case_id, manufacturer, model_name)
    _image_pixel_module(ds, arr, frame_time_ms)
    if regions is None and mm_per_px is not None:
        regions = [tissue_region(0, 0, int(cols) - 1, int(rows) - 1, mm_per_px)]
    if regions:
        ds.SequenceOfUltrasoundRegions = [_region_item(r) for r in regions]
    if pixel_spacing is not None:
        ds.PixelSpacing = [float(pixel_spacing[0]), float(pixel_spacing[1])]
    return ds


def encode_dataset(ds: Any, transfer_syntax: str, *, jpeg_quality: int = 95) -> None:
    """Re-encode an uncompressed little-endian dataset in place into `transfer_syntax`.

    Uncompressed syntaxes only change how the file is written; JPEG baseline frames are encoded
    with OpenCV and encapsulated (pydicom has no JPEG encoder); RLE and JPEG 2000 use pydicom's
    encoders; JPEG lossless and JPEG-LS use GDCM.
    """
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    from pydicom.uid import UID

    ts = UID(transfer_syntax)
    if ts in _UNCOMPRESSED:
        if ts == EXPLICIT_VR_BIG_ENDIAN and ds.BitsAllocated == 16:
            arr = np.frombuffer(ds.PixelData, dtype="<u2")
            ds.PixelData = arr.astype(">u2").tobytes()
        ds.file_meta.TransferSyntaxUID = ts
        return
    if ts == JPEG_BASELINE:
        _encode_jpeg_baseline(ds, jpeg_quality)
    elif ts in (RLE_LOSSLESS, JPEG_2000_LOSSLESS, JPEG_2000):
        # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
        from pydicom.pixels import pixel_array

        # Encode from the decoded array: pydicom's encoders misread planar (PlanarConfiguration 1) bytes.
        arr = pixel_array(ds)
        extra = {"j2k_cr": [20]} if ts == JPEG_2000 else {}
        ds.compress(ts, arr=arr, generate_instance_uid=False, **extra)
    elif ts in (JPEG_LOSSLESS_SV1, JPEG_LOSSLESS, JPEG_LS_LOSSLESS):
        _encode_with_gdcm(ds, ts)
    else:
        raise ValueError(f"cannot write transfer syntax {ts}")


def _encode_jpeg_baseline(ds: Any, quality: int) -> None:
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    from pydicom.encaps import encapsulate

    if ds.BitsAllocated != 8:
        raise ValueError("JPEG baseline needs 8-bit pixels")
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    spp = int(ds.SamplesPerPixel)
    shape = (frames, ds.Rows, ds.Columns) + ((3,) if spp == 3 else ())
    arr = np.frombuffer(ds.PixelData, dtype=np.uint8).reshape(shape)
    params = [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)]
    encoded = []
    for frame in arr:
        img = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR) if spp == 3 else frame
        ok, buf = cv2.imencode(".jpg", img, params)  # libjpeg: YCbCr 4:2:0 for colour, JFIF
        if not ok:
            raise ValueError("OpenCV could not encode the frame as JPEG")
        encoded.append(buf.tobytes())
    ds.PixelData = encapsulate(encoded)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    if spp == 3:
        ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    ds.file_meta.TransferSyntaxUID = JPEG_BASELINE


def _encode_with_gdcm(ds: Any, ts: str) -> None:
    """Transcode with GDCM (BSD), which pydicom cannot do for JPEG lossless / JPEG-LS."""
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    import gdcm
    import pydicom

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.dcm"), os.path.join(tmp, "out.dcm")
        pydicom.dcmwrite(src, ds, enforce_file_format=True)
        reader = gdcm.ImageReader()
        reader.SetFileName(src)
        if not reader.Read():
            raise ValueError("GDCM could not read the intermediate file")
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.GetTSType(ts)))
        change.SetInput(reader.GetImage())
        if not change.Change():
            raise ValueError(f"GDCM could not encode {ts}")
        writer = gdcm.ImageWriter()
        writer.SetFileName(dst)
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        if not writer.Write():
            raise ValueError("GDCM could not write the encoded file")
        out = pydicom.dcmread(dst)
    ds.PixelData = out.PixelData
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = ts


def write_dataset(path: str | os.PathLike[str], ds: Any) -> Path:
    """Write with the encoding its transfer syntax says (big endian included)."""
    # lazy: DICOM libraries (0.5-0.7 s) only for DICOM input
    import pydicom

    ts = ds.file_meta.TransferSyntaxUID
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    pydicom.dcmwrite(
        target,
        ds,
        implicit_vr=ts == IMPLICIT_VR_LITTLE_ENDIAN,
        little_endian=ts != EXPLICIT_VR_BIG_ENDIAN,
        enforce_file_format=True,
    )
    return target


def write_ultrasound_dicom(
    path: str | os.PathLike[str],
    pixels: np.ndarray,
    *,
    mm_per_px: float | tuple[float, float] | None,
    regions: Sequence[UltrasoundRegion] | None = None,
    transfer_syntax: str = EXPLICIT_VR_LITTLE_ENDIAN,
    jpeg_quality: int = 95,
    **fields: Any,
) -> Path:
    """Write a scanner-like US DICOM file; see `build_dataset` for `pixels` and `fields`."""
    ds = build_dataset(pixels, mm_per_px=mm_per_px, regions=regions, **fields)
    encode_dataset(ds, transfer_syntax, jpeg_quality=jpeg_quality)
    return write_dataset(path, ds)

"""Hostile DICOM Segmentations and Part 10 files for the SEG and send tests and the fuzz families."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pydicom

from dlrs_desktop import paths

DEMO = paths.samples_dir() / "demo.dcm"


def _other_tool_seg(source: Path, pixels: np.ndarray, description, **kind):  # type: ignore[no-untyped-def]
    """A one-segment SEG of `source` as another tool writes it (highdicom); `kind`: the SEG type's fields."""
    import highdicom as hd

    return hd.seg.Segmentation(
        source_images=[pydicom.dcmread(source)],
        pixel_array=pixels[None],
        segment_descriptions=[description],
        series_instance_uid=hd.UID(),
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="Other tool",
        software_versions="1",
        device_serial_number="1",
        **kind,
    )


def highdicom_single_segment_seg(source_path: Path, mask: np.ndarray, label: str = "Lesion"):  # type: ignore[no-untyped-def]
    """A BINARY SEG as another tool writes it: one segment, its own codes and algorithm, via highdicom."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    desc = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label=label,
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure
        if hasattr(codes.SCT, "MorphologicallyAbnormalStructure")
        else codes.SCT.Tissue,
        segmented_property_type=codes.SCT.Lesion,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    binary = hd.seg.SegmentationTypeValues.BINARY
    pixels = mask.astype(np.uint8)
    return _other_tool_seg(
        source_path,
        pixels,
        desc,
        series_number=5,
        manufacturer_model_name="Slicer-like",
        segmentation_type=binary,
    )


def fractional_seg(path: Path, probability: np.ndarray, source: Path = DEMO) -> None:
    """A FRACTIONAL SEG (max 255) of `source` from a probability map, via highdicom."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    desc = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label="Lesion",
        segmented_property_category=codes.SCT.Tissue,
        segmented_property_type=codes.SCT.Lesion,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=hd.AlgorithmIdentificationSequence(
            name="halo", version="1", family=codes.cid7162.ArtificialIntelligence
        ),
    )
    kind = {"segmentation_type": hd.seg.SegmentationTypeValues.FRACTIONAL, "max_fractional_value": 255}
    seg = _other_tool_seg(
        source, probability.astype(np.float32), desc, series_number=6, manufacturer_model_name="AI", **kind
    )
    seg.save_as(path)


def deflate_bomb(path: Path, gigabytes: float) -> None:
    """A Deflated Explicit VR file whose dataset inflates to `gigabytes` GB of zeros (about 2 MB/GB).

    One megabyte of zeros is deflated once with a full flush (a self-contained, repeatable block),
    repeated, and closed with an empty final block: no gigabytes are ever compressed here.
    """
    from pydicom.filewriter import write_file_meta_info
    from pydicom.uid import DeflatedExplicitVRLittleEndian, generate_uid

    meta = pydicom.dataset.FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    block = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    piece = block.compress(bytes(1 << 20)) + block.flush(zlib.Z_FULL_FLUSH)
    with open(path, "wb") as fh:
        fh.write(b"\0" * 128 + b"DICM")
        write_file_meta_info(fh, meta, enforce_standard=True)
        for _ in range(int(gigabytes * 1024)):
            fh.write(piece)
        fh.write(zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush())


def deflated_seg_bomb(path: Path, inflated_mb: int, source: Path = DEMO) -> None:
    """A valid-looking Deflated SEG header for the demo image, then `inflated_mb` MB of zero pixels."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset, write_file_meta_info
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    seg = pydicom.dcmread(source, stop_before_pixels=True)
    header = pydicom.Dataset()
    for keyword in ("PatientID", "StudyInstanceUID", "Rows", "Columns"):
        setattr(header, keyword, getattr(seg, keyword))
    header.SOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"
    header.SOPInstanceUID = pydicom.uid.generate_uid()
    header.NumberOfFrames = 1
    header.BitsAllocated = 1
    body = DicomBytesIO()
    body.is_implicit_VR, body.is_little_endian = False, True
    write_dataset(body, header)  # explicit VR little endian, as the deflated syntax holds inside
    size = inflated_mb << 20
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    meta = pydicom.dataset.FileMetaDataset()
    meta.MediaStorageSOPClassUID = header.SOPClassUID
    meta.MediaStorageSOPInstanceUID = header.SOPInstanceUID
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    with open(path, "wb") as fh:
        fh.write(b"\0" * 128 + b"DICM")
        write_file_meta_info(fh, meta, enforce_standard=True)
        fh.write(
            deflate.compress(body.getvalue() + b"\xe0\x7f\x10\x00OB\x00\x00" + size.to_bytes(4, "little"))
        )
        fh.write(deflate.flush(zlib.Z_FULL_FLUSH))
        piece = deflate.compress(bytes(1 << 20)) + deflate.flush(zlib.Z_FULL_FLUSH)  # repeatable block
        for _ in range(inflated_mb):
            fh.write(piece)
        fh.write(deflate.flush())

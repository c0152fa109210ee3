"""`dlrs-desktop --self-test`: what IT runs after installing, with no display.

Loads the bundled model (verifying every hash), predicts on the bundled sample with its contour,
prints the result and exits 0; any failure prints one plain line and exits non-zero.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def run_self_test(out: TextIO | None = None) -> int:
    out = out or sys.stdout
    t0 = time.perf_counter()
    try:  # lazy: a broken installation is reported in one line, not a traceback
        from dlrs_desktop import __version__, paths
        from dlrs_desktop.errors import DlrsError
        from dlrs_desktop.imaging import load_image
        from dlrs_desktop.model import Predictor, load_bundle
        from dlrs_desktop.roi import Contour
    except Exception as exc:  # a broken installation: say so in one line
        print(f"self-test FAILED: the application is incomplete ({type(exc).__name__}: {exc})", file=out)
        return 1
    print(f"DLRS Desktop {__version__} self-test", file=out)
    try:
        bundle = load_bundle(paths.bundled_model_dir())
        print(
            f"model: {bundle.manifest['id']} {bundle.manifest['version']} (all file hashes verified)",
            file=out,
        )
        sample = paths.samples_dir() / "demo.dcm"
        image = load_image(sample)
        contour = Contour.load(paths.samples_dir() / "demo.contour.json")
        prediction = Predictor(bundle, device="cpu").predict(image, contour, sensitivity=False)
    except DlrsError as exc:
        print(f"self-test FAILED: {exc}", file=out)
        return 2
    except Exception as exc:
        print(f"self-test FAILED: unexpected {type(exc).__name__}: {exc}", file=out)
        return 1
    regions = ", ".join(f"{r.name} {r.probability:.3f}" for r in prediction.regions)
    print(f"sample: {sample.name} ({image.width}x{image.height}, {image.calibration.label()})", file=out)
    print(
        f"prediction: {prediction.outcome.probability_of} {prediction.probability:.3f} "
        f"(threshold {prediction.threshold:.3f}, {prediction.category}); regions: {regions}",
        file=out,
    )
    print(
        f"backend: {prediction.backend} on {prediction.device} ({prediction.precision}); "
        f"torch imported: {'torch' in sys.modules}",
        file=out,
    )
    print(prediction.research_notice, file=out)
    print(f"self-test passed in {time.perf_counter() - t0:.2f} s", file=out)
    return 0

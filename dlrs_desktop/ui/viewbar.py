"""View controls under/around the canvas: brightness/contrast with W/L readout and presets; cine bar.

Contrast and brightness move the way people expect: right = more contrast, right = brighter (they
drive the canvas's display-only window/level; right-drag on the image does the same).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolBar,
    QWidget,
)

from dlrs_desktop.ui.canvas import FULL_WINDOW_LEVEL, ImageCanvas

translate = QCoreApplication.translate

#: (name, window, level) on the 8-bit display scale.
WL_PRESETS = (
    (QT_TRANSLATE_NOOP("viewbar", "Full range"), 256.0, 128.0),
    (QT_TRANSLATE_NOOP("viewbar", "More contrast"), 160.0, 128.0),
    (QT_TRANSLATE_NOOP("viewbar", "High contrast, dark tissue"), 96.0, 96.0),
    (QT_TRANSLATE_NOOP("viewbar", "Brighter"), 256.0, 96.0),
    (QT_TRANSLATE_NOOP("viewbar", "Darker"), 256.0, 160.0),
)


def contrast_to_window(c: int) -> float:
    return FULL_WINDOW_LEVEL[0] * 16.0 ** (-c / 100.0)


def window_to_contrast(window: float) -> int:
    return round(-100.0 * math.log(max(window, 1.0) / FULL_WINDOW_LEVEL[0], 16.0))


class WindowLevelBar(QToolBar):
    def __init__(self, canvas: ImageCanvas, parent: QWidget | None = None) -> None:
        super().__init__(translate("viewbar", "Brightness/contrast"), parent)
        self.setObjectName("wl")
        self.canvas = canvas
        more_contrast = translate("viewbar", "Right: more contrast (narrower window)")
        self.contrast = self._slider(translate("viewbar", " Contrast "), (-50, 100), more_contrast)
        brighter = translate("viewbar", "Right: brighter (lower level)")
        self.brightness = self._slider(translate("viewbar", " Brightness "), (-127, 127), brighter)
        self.readout = QLabel("")
        self.readout.setMinimumWidth(96)
        self.addWidget(self.readout)
        self.presets = QComboBox()
        self.presets.addItem(translate("viewbar", "Presets…"), None)
        for name, w, lv in WL_PRESETS:
            self.presets.addItem(
                translate("viewbar", "{name} (W {window} L {level})").format(
                    name=translate("viewbar", name), window=f"{w:.0f}", level=f"{lv:.0f}"
                ),
                (w, lv),
            )
        self.presets.activated.connect(self._preset)
        self.addWidget(self.presets)
        self.reset_button = QPushButton(translate("viewbar", "Reset"))
        self.reset_button.setToolTip(translate("viewbar", "Full range (W)"))
        self.reset_button.clicked.connect(self.reset)
        self.addWidget(self.reset_button)
        for s in (self.contrast, self.brightness):
            s.valueChanged.connect(self._sliders_moved)
        canvas.window_level_changed.connect(self._show)
        self._show(*canvas.window_level)

    def _slider(self, label: str, limits: tuple[int, int], tip: str) -> QSlider:
        """A labelled slider at 0 (the full range), added to the bar; both sliders are built alike."""
        self.addWidget(QLabel(label))
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(*limits)
        slider.setValue(0)
        slider.setMaximumWidth(110)
        slider.setToolTip(tip)
        self.addWidget(slider)
        return slider

    def _sliders_moved(self) -> None:
        self.canvas.set_window_level(
            contrast_to_window(self.contrast.value()), FULL_WINDOW_LEVEL[1] - self.brightness.value()
        )

    def _preset(self, index: int) -> None:
        data = self.presets.itemData(index)
        if data is not None:
            self.canvas.set_window_level(*data)
        self.presets.setCurrentIndex(0)

    def reset(self) -> None:
        self.canvas.set_window_level(None)

    def _show(self, window: float, level: float) -> None:
        for s, v in ((self.contrast, window_to_contrast(window)), (self.brightness, round(128 - level))):
            s.blockSignals(True)
            s.setValue(v)
            s.blockSignals(False)
        self.readout.setText(
            translate("viewbar", " W {window} · L {level} ").format(
                window=f"{window:.0f}", level=f"{level:.0f}"
            )
        )


class CineBar(QWidget):
    """Frame slider, play/pause and frame rate for multi-frame images (hidden for single frames)."""

    frame_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 2)
        self.play_button = QPushButton(translate("viewbar", "▶ Play"))
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self.set_playing)
        row.addWidget(self.play_button)
        self.label = QLabel(translate("viewbar", "Frame –"))
        row.addWidget(self.label)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        row.addWidget(self.slider, 1)
        row.addWidget(QLabel("fps"))
        self.fps = QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(15)
        self.fps.valueChanged.connect(lambda v: self.play_timer.setInterval(round(1000 / v)))
        row.addWidget(self.fps)
        self.rest_timer = QTimer(self, singleShot=True, interval=120)  # load frames after the slider rests
        self.rest_timer.timeout.connect(lambda: self.frame_requested.emit(self.slider.value()))
        self.play_timer = QTimer(self, interval=round(1000 / self.fps.value()))
        self.play_timer.timeout.connect(self._tick)
        self.slider.valueChanged.connect(self._moved)
        self.setVisible(False)

    @property
    def playing(self) -> bool:
        return self.play_timer.isActive()

    def set_frames(self, frame: int, count: int) -> None:
        if count <= 1:
            self.set_playing(False)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(count - 1, 0))
        self.slider.setValue(frame)
        self.slider.setEnabled(count > 1)
        self.slider.blockSignals(False)
        self.setVisible(count > 1)
        self.label.setText(
            translate("viewbar", "Frame {frame}/{count}").format(frame=frame + 1, count=count)
            if count
            else translate("viewbar", "Frame –")
        )

    def step(self, delta: int) -> None:
        if self.slider.isEnabled():
            self.slider.setValue(min(max(self.slider.value() + delta, 0), self.slider.maximum()))

    def set_playing(self, on: bool) -> None:
        on = bool(on) and self.slider.maximum() > 0
        if on:
            self.play_timer.start()
        else:
            self.play_timer.stop()
        self.play_button.blockSignals(True)
        self.play_button.setChecked(on)
        self.play_button.setText(translate("viewbar", "⏸ Pause") if on else translate("viewbar", "▶ Play"))
        self.play_button.blockSignals(False)

    def toggle_playing(self) -> None:
        self.set_playing(not self.playing)

    def _moved(self, value: int) -> None:
        self.label.setText(
            translate("viewbar", "Frame {frame}/{count}").format(
                frame=value + 1, count=self.slider.maximum() + 1
            )
        )
        if not self.playing:
            self.rest_timer.start()

    def _tick(self) -> None:
        nxt = (self.slider.value() + 1) % (self.slider.maximum() + 1)
        self.slider.setValue(nxt)
        self.frame_requested.emit(nxt)

"""Tumour measurements and the peritumoral ring table (one checkable row per ring of the model)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dlrs_desktop.ui.style import OK_CSS, WARNING_CSS, region_label, ring_color


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    f = label.font()
    f.setBold(True)
    label.setFont(f)
    return label


translate = QCoreApplication.translate


class MeasurementsPanel(QWidget):
    """Tumour size and the three rings (area, clipped fraction, warning)."""

    ring_toggled = Signal(str, bool)

    def __init__(self, ring_names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.badge = QLabel(translate("measurements", "No image"))
        self.badge.setTextFormat(Qt.TextFormat.PlainText)
        self.badge.setObjectName("calibrationBadge")
        self.badge.setWordWrap(True)
        lay.addWidget(self.badge)
        lay.addWidget(_heading(translate("measurements", "Tumour")))
        grid = QGridLayout()
        self.values: dict[str, QLabel] = {}
        for row, (key, text) in enumerate(
            [
                ("area", translate("measurements", "Area")),
                ("long", translate("measurements", "Longest diameter")),
                ("perp", translate("measurements", "Perpendicular")),
                ("perim", translate("measurements", "Perimeter")),
            ]
        ):
            grid.addWidget(QLabel(text), row, 0)
            self.values[key] = QLabel("–")
            self.values[key].setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(self.values[key], row, 1)
        lay.addLayout(grid)
        lay.addWidget(_heading(translate("measurements", "Peritumoral rings")))
        self.ring_names: list[str] = []
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(
            [
                translate("measurements", "Ring"),
                translate("measurements", "Area mm²"),
                translate("measurements", "Outside scan"),
            ]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.set_ring_names(ring_names)
        self.table.itemChanged.connect(self._item_changed)
        lay.addWidget(self.table)
        self.warning = QLabel("")
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(f"color: {WARNING_CSS};")
        lay.addWidget(self.warning)

    def set_ring_names(self, names: list[str], visible: dict[str, bool] | None = None) -> None:
        """One checkable row per ring of the loaded model (radii come from its bundle)."""
        self.ring_names = list(names)
        self.table.blockSignals(True)
        self.table.setRowCount(len(names))
        for row, name in enumerate(names):
            item = QTableWidgetItem(
                f"{name[5:-2]} mm" if name.startswith("ring_") and name.endswith("mm") else name
            )
            item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            shown = True if visible is None else visible.get(name, True)
            item.setCheckState(Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)
            item.setForeground(ring_color(name, names))
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.table.setItem(row, 0, item)
        self.table.setFixedHeight(24 * len(names) + self.table.horizontalHeader().sizeHint().height() + 4)
        self.table.blockSignals(False)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            self.ring_toggled.emit(
                item.data(Qt.ItemDataRole.UserRole), item.checkState() == Qt.CheckState.Checked
            )

    def set_ring_checked(self, name: str, checked: bool) -> None:
        if name not in self.ring_names:
            return
        row = self.ring_names.index(name)
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        self.table.item(row, 0).setCheckState(state)

    def set_badge(self, text: str, ok: bool) -> None:
        self.badge.setText(text)
        color = OK_CSS if ok else WARNING_CSS
        self.badge.setStyleSheet(
            f"border: 1px solid {color}; border-radius: 4px; padding: 3px; color: {color};"
        )

    def show_measurements(self, m: Any | None) -> None:
        if m is None:
            for label in self.values.values():
                label.setText("–")
            return
        self.values["area"].setText(f"{m.area_mm2:.1f} mm²")
        self.values["long"].setText(f"{m.max_diameter_mm:.1f} mm")
        self.values["perp"].setText(f"{m.perpendicular_diameter_mm:.1f} mm")
        self.values["perim"].setText(f"{m.perimeter_mm:.1f} mm")

    def show_rings(self, rings: dict[str, Any] | None, message: str | None = None) -> None:
        flagged = []
        for row, name in enumerate(self.ring_names):
            ring = (rings or {}).get(name)
            area = QTableWidgetItem("–" if ring is None else f"{ring.area_mm2:.1f}")
            clip = QTableWidgetItem("–" if ring is None else f"{100 * ring.clipped_fraction:.0f} %")
            if ring is not None and ring.flagged:
                clip.setForeground(QColor(213, 94, 0))
                flagged.append(region_label(name))
            self.table.setItem(row, 1, area)
            self.table.setItem(row, 2, clip)
        if message:
            self.warning.setText(message)
        elif flagged:
            self.warning.setText(
                translate(
                    "measurements",
                    "⚠ {rings} leave the scan area too much: the prediction relies on less tissue.",
                ).format(rings=translate("measurements", ", ").join(flagged))
            )
        else:
            self.warning.setText("")

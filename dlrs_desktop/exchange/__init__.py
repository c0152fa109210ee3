"""DICOM exchange with the hospital: SEG / SR / Encapsulated PDF export, Secondary Capture, networking.

Qt-free core (used by `dlrs dicom ...` and the GUI). Depends on imaging/, roi/, model/ results and
pydicom, highdicom, pynetdicom; nothing below it imports this package. Heavy libraries are imported
inside the modules that need them, so importing the package is cheap.
"""

"""Where annotations live on disk (no Qt): sidecars keyed by image sha256, crash recovery, audit log.

The GUI and tests use these; nothing here knows about widgets, and nothing here stores patient
identifiers (no names, IDs or dates of birth; only the image's content hash).
"""

from dlrs_desktop.store.annotation import AnnotationStore, LoadResult
from dlrs_desktop.store.audit import AuditLog
from dlrs_desktop.store.record import SCHEMA, SCHEMA_VERSION, Annotation, Review, Summary
from dlrs_desktop.store.session import SessionStore

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "Annotation",
    "AnnotationStore",
    "AuditLog",
    "LoadResult",
    "Review",
    "SessionStore",
    "Summary",
]

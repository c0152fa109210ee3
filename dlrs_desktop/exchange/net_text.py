"""What the DICOM network says when a peer fails (exchange/net.py, query.py, listener.py, export.py),
marked for translation: the GUI's PACS, scanner and export dialogs show the sentence in their language
(`ui.i18n.core_text`); the CLI and the logs keep the English."""

from __future__ import annotations

import errno
import socket

from dlrs_desktop.wording import QT_TRANSLATE_NOOP, Worded

# a node as configured
NOT_A_PORT = QT_TRANSLATE_NOOP("core", "Port {port} is not a TCP port (1-65535).")
NO_HOST = QT_TRANSLATE_NOOP("core", "No host given for the DICOM node.")
TIMEOUT_RANGE = QT_TRANSLATE_NOOP("core", "The timeout must be between 0 and 600 seconds.")
BAD_AET = QT_TRANSLATE_NOOP(
    "core", "The {what} {aet} must be 1-16 printable ASCII characters (no backslash)."
)
AE_TITLE = QT_TRANSLATE_NOOP("core", "AE title")
CALLED_AET = QT_TRANSLATE_NOOP("core", "called AE title")
CALLING_AET = QT_TRANSLATE_NOOP("core", "calling AE title")
ALLOWED_AET = QT_TRANSLATE_NOOP("core", "allowed calling AE title")
NAMED_AETS = (AE_TITLE, CALLED_AET, CALLING_AET, ALLOWED_AET)

# connecting
NO_ANSWER = QT_TRANSLATE_NOOP("core", "Cannot connect to {node}: no answer within {s:g} s.")
REFUSED = QT_TRANSLATE_NOOP("core", "Cannot connect to {node}: {why} (is the server running?).")
NOT_DICOM_PORT = QT_TRANSLATE_NOOP(
    "core",
    "{node} accepted the connection but gave no DICOM answer within {s:g} s (is it a DICOM port?).",
)
REJECTED = QT_TRANSLATE_NOOP("core", "{node} rejected the association (check the AE titles on both sides).")
ABORTED = QT_TRANSLATE_NOOP("core", "{node} aborted the association.")
NOT_WITHIN = QT_TRANSLATE_NOOP("core", "Cannot connect to {node} within {s:g} s (is the server running?).")
NO_ECHO = QT_TRANSLATE_NOOP("core", "{node} did not confirm the echo.")

# sending, querying, retrieving
NO_SUCH_FILE = QT_TRANSLATE_NOOP("core", "{path} does not exist.")
TOO_MANY_KINDS = QT_TRANSLATE_NOOP(
    "core", "Too many different kinds of DICOM object in one send (at most 120)."
)
STORE_TIMEOUT = QT_TRANSLATE_NOOP(
    "core",
    "{node} did not answer a C-STORE within {s:g} s (DIMSE timeout); {stored} of {total} files stored.",
)
QUERY_STOPPED = QT_TRANSLATE_NOOP("core", "{node} stopped answering the query.")
QUERY_REFUSED = QT_TRANSLATE_NOOP("core", "{node} refused the query (status 0x{code:04X}).")
RETRIEVE_STOPPED = QT_TRANSLATE_NOOP(
    "core", "{node} stopped answering during the retrieve ({kept} files kept)."
)
MOVE_STOPPED = QT_TRANSLATE_NOOP("core", "{node} stopped answering during the move ({kept} files kept).")
NOT_SENT = QT_TRANSLATE_NOOP("core", "{node} could not send the study (status 0x{code:04X}).")
MOVE_REFUSED = QT_TRANSLATE_NOOP(
    "core",
    "{node} refused to move the study to {aet}: register this workstation (AE title {aet}, this host, "
    "port {port}) in the PACS, or use C-GET.",
)

# listening for a scanner
NOT_AN_ADDRESS = QT_TRANSLATE_NOOP("core", "{bind} is not an IP address to listen on.")
NEEDS_ALLOW_LIST = QT_TRANSLATE_NOOP(
    "core",
    "Listening on {bind} needs an allow-list of calling AE titles (--allow-aet, or Preferences → Allowed "
    "AE titles).",
)
LIMITS_POSITIVE = QT_TRANSLATE_NOOP(
    "core", "The size cap, free-disk floor and per-peer limit must be positive."
)
CANNOT_LISTEN = QT_TRANSLATE_NOOP("core", "Cannot listen on {bind}:{port} ({why}).")

# exporting DICOM objects
TOO_MANY_VERSIONS = QT_TRANSLATE_NOOP(
    "core", "{folder} already holds 999 versions of {name}; choose another folder."
)
STALE_PREDICTION = QT_TRANSLATE_NOOP(
    "core", "The prediction belongs to another contour; predict again before exporting it."
)
SIZE_DIFFERS = QT_TRANSLATE_NOOP(
    "core", "The DICOM file's size differs from the image shown; results cannot reference it."
)
CANNOT_BUILD = QT_TRANSLATE_NOOP("core", "Cannot build the DICOM objects for this image: {detail}")
CANNOT_WRITE = QT_TRANSLATE_NOOP("core", "Cannot write to {path}: {why}.")

# the operating system's reason for a failed connection, in the interface's language where it is a common one
_OS_REASONS = {
    errno.ECONNREFUSED: QT_TRANSLATE_NOOP("core", "the connection was refused"),
    errno.ECONNRESET: QT_TRANSLATE_NOOP("core", "the connection was reset"),
    errno.ETIMEDOUT: QT_TRANSLATE_NOOP("core", "the connection timed out"),
    errno.EHOSTUNREACH: QT_TRANSLATE_NOOP("core", "the host is unreachable"),
    errno.ENETUNREACH: QT_TRANSLATE_NOOP("core", "the network is unreachable"),
    errno.EADDRINUSE: QT_TRANSLATE_NOOP("core", "the port is already in use"),
    errno.EADDRNOTAVAIL: QT_TRANSLATE_NOOP("core", "the address is not one of this computer's"),
    errno.EACCES: QT_TRANSLATE_NOOP("core", "permission denied"),
}
NAME_UNKNOWN = QT_TRANSLATE_NOOP("core", "the host name cannot be resolved")


def os_reason(exc: OSError) -> object:
    """Why the system refused a connection or a port: a marked phrase for the common reasons, else the
    system's own words (shown as they are)."""
    if isinstance(exc, socket.gaierror):
        return Worded(NAME_UNKNOWN)
    reason = _OS_REASONS.get(exc.errno) if isinstance(exc.errno, int) else None
    return Worded(reason) if reason else exc.strerror or str(exc)

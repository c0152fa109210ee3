"""TLS material for the federated transport.

Hospitals use certificates from their own PKI (docs/FEDERATED.md); `make_test_certificates` exists
for tests and demos on one machine only: a throw-away CA and a server certificate for localhost.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dlrs_desktop.errors import DlrsError

MAX_PEM_BYTES = 1024 * 1024


def read_pem(path: Path) -> bytes:
    """A PEM file's bytes (bounded), or DlrsError naming the file."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PEM_BYTES + 1)
    except OSError as exc:
        raise DlrsError(f"cannot read the certificate file {path}: {exc.strerror}") from None
    if len(data) > MAX_PEM_BYTES or b"-----BEGIN " not in data:
        raise DlrsError(f"{path} is not a PEM certificate or key")
    return data


def _write_private(path: Path, data: bytes) -> None:
    """Keys are created 0600 from the start, never readable by others for a moment."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def _certificate(subject: str, key, issuer: tuple[str, object] | None, days: int = 30) -> x509.Certificate:
    """A certificate for `key`: self-signed CA when `issuer` is None, else signed by (name, key)."""

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name = name if issuer is None else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[0])])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        alt = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(key if issuer is None else issuer[1], hashes.SHA256())


def make_test_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key) in `folder`: a test CA and a server certificate for localhost
    and 127.0.0.1. For tests and demos only; keys are written with mode 0600."""

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("DLRS test CA", ca_key, None)
    server = _certificate("localhost", server_key, ("DLRS test CA", ca_key))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    pem = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(paths[2], pem)
    return paths


def main(argv: list[str] | None = None) -> int:
    """`python -m dlrs_desktop.training.federated.tls FOLDER`: test certificates for a trial on one
    machine (docs/FEDERATED.md); hospitals use their own PKI."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m dlrs_desktop.training.federated.tls FOLDER", file=sys.stderr)
        return 2
    for path in make_test_certificates(Path(args[0])):
        print(path)
    print("test certificates for localhost/127.0.0.1 only: never use them between hospitals")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Signed bundles: an Ed25519 signature over a bundle's manifest and every file it holds.

A shared module (errors, limits and fileio only): the prediction model (`model/`), the contour assist
(`roi/`) and the command line all check signatures here; `model/signing.py` signs and loads either
kind of bundle.

Why: the manifest pins every file's sha256, but nothing pinned the manifest itself, so anyone could
edit a number in it (or swap the ONNX and recompute its hash) and the bundle still "verified". A
signature by a key the user trusts closes that: `signature.json` beside the manifest holds the
sha256 of the manifest and of every file, signed with Ed25519 (`cryptography`, the maintained
library; see docs/MODEL_BUNDLE.md "Signatures" for why not OpenSSF model-signing).

The signature is checked against the bytes that were verified and are used (`Bundle.files`, the
manifest's sha256), never against a second read of the folder. Trust: the release key compiled into
the application (`RELEASE_KEYS`) plus keys the user lists (`--trusted-keys`, Preferences).
A bundle that is unsigned, whose signature does not match, or whose key is not trusted is
"unsigned model": refused unless the user allows it, and labelled so in every result.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import os
import stat
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dlrs_desktop.errors import DlrsError, ModelError
from dlrs_desktop.fileio import atomic_write_bytes
from dlrs_desktop.limits import parse_json, read_regular_bytes

SIGNATURE_FILE = "signature.json"
SCHEMA = "dlrs-bundle-signature"
SCHEMA_VERSION = 1
MAX_SIGNATURE_BYTES = 256 * 1024
MAX_KEY_BYTES = 16 * 1024
UNSIGNED = "unsigned model"

#: The public keys that sign the models shipped with the application (Ed25519, base64 of the 32 raw
#: bytes). Compiled in rather than read from resources/, so that replacing a bundled model folder
#: cannot also replace the key that vouches for it. The private key never enters the repository
#: (docs/MODEL_BUNDLE.md "Signatures": how release signing works).
RELEASE_KEYS: dict[str, str] = {
    "dlrs-release": "H8Yyf4UnOj4HmPecjVUtZk1cz1SdUVr24RbTVt/zDmI=",
    # 2026-12-04: the first key's private half was lost with a build machine; bundles it signed stay
    # trusted, bundles signed since carry this one (docs/MODEL_BUNDLE.md "Release signing")
    "dlrs-release-2": "mcyHEFAd6j6fTAesWJYtjjvo271hkCtzN83X3zbZhzA=",
    # 2026-12-04 (later): the second key's private half was lost the same way; bundles signed since
    # carry this third one
    "dlrs-release-3": "HCJ+5J0crJJz6Tjn2ETNALLeEWB30sppL5Cv04k7/og=",
}


@dataclass(frozen=True)
class TrustedKey:
    name: str
    public: bytes  # 32 raw Ed25519 bytes

    @property
    def key_id(self) -> str:
        return key_id(self.public)


@dataclass(frozen=True)
class SignatureStatus:
    """What the signature says: state is "trusted", "untrusted", "invalid" or "unsigned"."""

    state: str
    key_id: str = ""
    signer: str = ""
    reason: str = ""

    @property
    def trusted(self) -> bool:
        return self.state == "trusted"

    @property
    def note(self) -> str:
        """The label every result of an untrusted bundle carries ("" when trusted)."""
        if self.state == "trusted":
            return ""
        if self.state == "untrusted":
            return f"{UNSIGNED} (signed by an untrusted key {self.key_id})"
        if self.state == "invalid":
            return f"{UNSIGNED} (its signature does not match: {self.reason})"
        return UNSIGNED

    def describe(self) -> str:
        if self.state == "trusted":
            return f"signed by {self.signer} (key {self.key_id})"
        return self.note


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- keys -------------------------------------------------------------------------------------
def _read_small(path: Path, what: str) -> bytes:
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise DlrsError(f"The {what} '{path.name}' is not a regular file.")
        if st.st_size > MAX_KEY_BYTES:
            raise DlrsError(f"The {what} '{path.name}' is too large to be a key.")
        return path.read_bytes()
    except FileNotFoundError:
        raise DlrsError(f"The {what} '{path}' does not exist.") from None
    except OSError as exc:
        raise DlrsError(f"Cannot read the {what} '{path.name}' ({exc.strerror or exc}).") from None


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    raw = _read_small(Path(path), "signing key")
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError) as exc:
        raise DlrsError(f"'{Path(path).name}' is not an unencrypted PEM private key ({exc}).") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise DlrsError(f"'{Path(path).name}' is not an Ed25519 key (DLRS signs with Ed25519 only).")
    return key


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_public_key(path: str | os.PathLike[str]) -> TrustedKey:
    """A trusted key file: a PEM public key, or one line of base64 of the 32 raw bytes."""
    p = Path(path)
    raw = _read_small(p, "trusted key")
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            pub = serialization.load_pem_public_key(raw)
            if not isinstance(pub, Ed25519PublicKey):
                raise ValueError("not an Ed25519 public key")
            data = public_raw(pub)
        else:
            data = base64.b64decode(raw.strip(), validate=True)
            Ed25519PublicKey.from_public_bytes(data)
    except (ValueError, TypeError) as exc:
        raise DlrsError(f"'{p.name}' is not an Ed25519 public key ({exc}).") from None
    return TrustedKey(p.stem, data)


def generate_key(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """A new private key (PEM, mode 0600) and its public key beside it (`<path>.pub`); never overwrites."""
    out = Path(path)
    pub_path = out.with_name(out.name + ".pub")
    for p in (out, pub_path):
        if os.path.lexists(p):
            raise DlrsError(f"'{p}' already exists; choose another name (nothing was changed).")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    os.chmod(atomic_write_bytes(out, pem), 0o600)
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    os.chmod(atomic_write_bytes(pub_path, pub), 0o644)
    return out, pub_path


def release_keys() -> list[TrustedKey]:
    return [TrustedKey(name, base64.b64decode(b64)) for name, b64 in RELEASE_KEYS.items()]


@dataclass(frozen=True)
class TrustPolicy:
    """Which keys are trusted and whether an untrusted bundle may be used (the user said so)."""

    extra_keys: tuple[TrustedKey, ...] = ()
    allow_unsigned: bool = False
    keys: tuple[TrustedKey, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", (*release_keys(), *self.extra_keys))

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike[str]], allow_unsigned: bool = False) -> TrustPolicy:
        return cls(tuple(load_public_key(p) for p in paths if str(p).strip()), allow_unsigned)


class UnsignedModelError(ModelError):
    """The bundle is not signed by a trusted key and the user has not allowed it (the GUI asks)."""

    def __init__(self, message: str, status: SignatureStatus) -> None:
        super().__init__(message)
        self.status = status


# --- signing and checking -----------------------------------------------------------------------
def _payload(bundle_schema: str, manifest_sha256: str, files: Mapping[str, bytes], signer: str) -> dict:
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "bundle_schema": bundle_schema,
        "manifest_sha256": manifest_sha256,
        "files": {name: _sha(blob) for name, blob in sorted(files.items())},
        "signer": signer,
        "signed_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }


def signature_bytes(
    key: Ed25519PrivateKey, bundle_schema: str, manifest_sha256: str, files: Mapping[str, bytes], signer: str
) -> bytes:
    """The content of `signature.json` for a verified bundle's manifest hash and file bytes."""
    signed = _payload(bundle_schema, manifest_sha256, files, signer)
    doc = {
        "signed": signed,
        "algorithm": "ed25519",
        "public_key": base64.b64encode(public_raw(key)).decode("ascii"),
        "key_id": key_id(public_raw(key)),
        "signature": base64.b64encode(key.sign(_canonical(signed))).decode("ascii"),
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def check(
    raw: bytes | None,
    bundle_schema: str,
    manifest_sha256: str,
    files: Mapping[str, bytes],
    keys: Sequence[TrustedKey],
) -> SignatureStatus:
    """The status of `signature.json` (`raw`, None when absent) against the verified bundle content."""
    if raw is None:
        return SignatureStatus("unsigned")
    try:
        doc = parse_json(raw, SIGNATURE_FILE, ModelError)
        signed, public = doc["signed"], base64.b64decode(doc["public_key"], validate=True)
        sig = base64.b64decode(doc["signature"], validate=True)
        Ed25519PublicKey.from_public_bytes(public).verify(sig, _canonical(signed))
    except (ModelError, KeyError, TypeError, ValueError, InvalidSignature):
        return SignatureStatus("invalid", reason="the signature itself is damaged or forged")
    kid = key_id(public)
    if not isinstance(signed, dict) or signed.get("schema") != SCHEMA:
        return SignatureStatus("invalid", kid, reason="not a DLRS bundle signature")
    if signed.get("bundle_schema") != bundle_schema or signed.get("manifest_sha256") != manifest_sha256:
        return SignatureStatus("invalid", kid, reason="the manifest was changed after signing")
    if signed.get("files") != {name: _sha(blob) for name, blob in files.items()}:
        return SignatureStatus("invalid", kid, reason="a file was changed after signing")
    for k in keys:
        if k.public == public:
            return SignatureStatus("trusted", kid, k.name)
    return SignatureStatus("untrusted", kid, str(signed.get("signer", ""))[:80])


def read_signature(source: str | os.PathLike[str]) -> bytes | None:
    """`signature.json` of a bundle folder or zip (beside its manifest), or None when there is none.

    The same rules as every bundle file: a regular file inside the folder (a link out, a pipe or a
    device is refused), within MAX_SIGNATURE_BYTES; a zip member's size is checked before inflating."""
    root = Path(source)
    if root.is_file() and zipfile.is_zipfile(root):
        return _zip_signature(root)
    if root.is_file():
        root = root.parent
    path = root / SIGNATURE_FILE
    if not os.path.lexists(path):
        return None
    try:
        inside = path.resolve(strict=True).is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError):  # a dangling link or a loop
        inside = False
    if not inside:
        raise ModelError(f"The bundle's {SIGNATURE_FILE} links outside the bundle or nowhere; refusing it.")
    try:
        return read_regular_bytes(path, SIGNATURE_FILE, MAX_SIGNATURE_BYTES)
    except DlrsError as exc:
        raise ModelError(f"The bundle's {SIGNATURE_FILE} is unusable: {exc}") from None


def _zip_signature(path: Path) -> bytes | None:
    try:
        with zipfile.ZipFile(path) as zf:
            found = [i for i in zf.infolist() if i.filename.rsplit("/", 1)[-1] == SIGNATURE_FILE]
            found = [i for i in found if i.filename.count("/") <= 1]
            if len(found) != 1:
                return None
            if found[0].file_size > MAX_SIGNATURE_BYTES:
                raise ModelError(f"The bundle's {SIGNATURE_FILE} is over {MAX_SIGNATURE_BYTES:,} bytes.")
            with zf.open(found[0]) as fh:
                data = fh.read(MAX_SIGNATURE_BYTES + 1)
    except ModelError:
        raise
    except Exception as exc:  # zipfile, zlib and OS errors from a damaged archive
        raise ModelError(f"The bundle zip's {SIGNATURE_FILE} is damaged ({type(exc).__name__}).") from None
    if len(data) > MAX_SIGNATURE_BYTES:
        raise ModelError(f"The bundle's {SIGNATURE_FILE} is over {MAX_SIGNATURE_BYTES:,} bytes.")
    return data


def status_of(bundle: Any, keys: Sequence[TrustedKey] | None = None) -> SignatureStatus:
    """The signature status of a loaded fusion (`Bundle`) or assist (`AssistBundle`) bundle."""
    return check(
        read_signature(bundle.source),
        str(bundle.manifest.get("schema", "")),
        bundle.manifest_sha256,
        bundle.files,
        release_keys() if keys is None else keys,
    )


def refusal(status: SignatureStatus, what: str = "model bundle") -> str:
    return (
        f"The {what} is not signed by a trusted key ({status.note}); nothing vouches for its numbers. "
        "Use it only if you know where it came from: pass --allow-unsigned (its results then say "
        '"unsigned model"), trust its key with --trusted-keys, or sign it with `dlrs model sign`.'
    )


def admit(status: SignatureStatus, policy: TrustPolicy, what: str = "model bundle") -> None:
    """Raise UnsignedModelError unless the bundle is trusted or the user allowed untrusted ones."""
    if not status.trusted and not policy.allow_unsigned:
        raise UnsignedModelError(refusal(status, what), status)

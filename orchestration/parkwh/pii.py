"""Pseudonyms for returnees: a keyed hash, so a person can be followed across years unnamed.

A person's ID number is the only stable identity a roster carries; publishing even its plain
hash would let anyone with a list of ID numbers re-identify people. HMAC-SHA256 with a secret
key cannot be reversed or recomputed without the key. The key comes from ``PARKWH_PII_KEY`` or,
failing that, from a key file created on first use next to the warehouse with owner-only
permissions (never committed: it lives under the ignored ``warehouse/`` folder).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import unicodedata
from pathlib import Path

from parkwh.config import warehouse

KEY_ENV = "PARKWH_PII_KEY"


def key_file() -> Path:
    return warehouse().root / ".pii_key"


def pii_key() -> bytes:
    """The secret key for pseudonyms: from the environment, else the key file (created once)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode("utf-8")
    path = key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes creating the key at once must not end up with different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip().encode("ascii")


def normalise_identity(id_number: str) -> str:
    """The form of an ID number that is hashed: full-width folded, spaces dropped, upper case."""
    return "".join(unicodedata.normalize("NFKC", id_number).split()).upper()


def pseudonym(id_number: str, key: bytes | None = None) -> str:
    """The person's stable pseudonym: hex HMAC-SHA256 of the normalised ID number."""
    digest = hmac.new(key or pii_key(), normalise_identity(id_number).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()

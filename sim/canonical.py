"""Canonical JSON (RFC 8785) and SHA-256: the byte-exact form that hashes and signatures cover."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def canonical_json(value: Any) -> str:
    """RFC 8785 (JCS) text: sorted keys, no whitespace, ECMAScript number formatting."""
    return rfc8785.dumps(value).decode("utf-8")


def sha256_hex(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()

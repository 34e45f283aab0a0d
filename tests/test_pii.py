"""Pseudonyms: stable for one person, different for another, useless without the key."""

from __future__ import annotations

import hashlib
import stat

from parkwh import pii


def test_pseudonym_is_stable_and_normalised(warehouse_dir, monkeypatch):
    monkeypatch.delenv(pii.KEY_ENV, raising=False)
    first = pii.pseudonym("11010519491231002x")
    assert first == pii.pseudonym(" 11010519491231002X ")
    assert first == pii.pseudonym("１１０１０５１９４９１２３１００２Ｘ")
    assert first != pii.pseudonym("110105194912310029")


def test_key_file_is_created_once_with_owner_only_permissions(warehouse_dir, monkeypatch):
    monkeypatch.delenv(pii.KEY_ENV, raising=False)
    key = pii.pii_key()
    mode = stat.S_IMODE(pii.key_file().stat().st_mode)
    assert mode == 0o600
    assert pii.pii_key() == key
    assert len(key) == 64


def test_pseudonym_is_not_a_plain_hash_and_depends_on_the_key(warehouse_dir, monkeypatch):
    monkeypatch.setenv(pii.KEY_ENV, "one key")
    keyed = pii.pseudonym("110105194912310029")
    assert keyed != hashlib.sha256(b"110105194912310029").hexdigest()
    monkeypatch.setenv(pii.KEY_ENV, "another key")
    assert pii.pseudonym("110105194912310029") != keyed

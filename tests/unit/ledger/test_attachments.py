"""Attachments: content-addressed bytes, checked signatures, zip access and pinned CorDapp code."""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import sys
import uuid
import zipfile

import pytest

from dlt.ledger import (
    Attachment,
    AttachmentError,
    AttachmentSignature,
    InMemoryAttachmentStorage,
    cordapp_attachment,
)
from fixtures.ledger import ALICE, BOB

CONTENT = b"market rules, version 3"


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# -- identity and signatures --------------------------------------------------------------


def test_the_id_is_the_sha256_of_the_content():
    attachment = Attachment(CONTENT)

    assert attachment.id.bytes == hashlib.sha256(CONTENT).digest()
    assert attachment.size == len(CONTENT)


def test_an_unsigned_attachment_has_no_signers():
    assert Attachment(CONTENT).signers == frozenset()


def test_signed_by_adds_the_key_as_a_signer():
    signed = Attachment(CONTENT).signed_by(ALICE.key).signed_by(BOB.key)

    assert signed.signers == {ALICE.public_key, BOB.public_key}
    assert signed.id == Attachment(CONTENT).id


def test_signed_by_leaves_the_original_unsigned():
    original = Attachment(CONTENT)

    original.signed_by(ALICE.key)

    assert original.signers == frozenset()


def test_valid_signatures_are_accepted_at_construction():
    signature = Attachment(CONTENT).signed_by(ALICE.key).signatures[0]

    rebuilt = Attachment(CONTENT, [signature])

    assert rebuilt.signers == {ALICE.public_key}


def test_a_signature_over_other_content_is_refused_at_construction():
    signature = Attachment(b"other content").signed_by(ALICE.key).signatures[0]

    with pytest.raises(AttachmentError, match="does not verify"):
        Attachment(CONTENT, [signature])


def test_a_signature_claiming_another_key_is_refused_at_construction():
    genuine = Attachment(CONTENT).signed_by(ALICE.key).signatures[0]
    forged = AttachmentSignature(by=BOB.public_key, signature=genuine.signature)

    with pytest.raises(AttachmentError, match="does not verify"):
        Attachment(CONTENT, [forged])


def test_a_raw_signature_over_the_bare_id_is_refused():
    """Attachment signatures are domain-separated, so a key's signature over a hash elsewhere
    cannot be replayed as an attachment signature."""
    attachment = Attachment(CONTENT)
    bare = AttachmentSignature(by=ALICE.public_key, signature=ALICE.key.sign(attachment.id.bytes))

    with pytest.raises(AttachmentError):
        Attachment(CONTENT, [bare])


def test_attachments_with_the_same_content_and_signers_are_equal():
    assert Attachment(CONTENT).signed_by(ALICE.key) == Attachment(CONTENT).signed_by(ALICE.key)
    assert Attachment(CONTENT) != Attachment(CONTENT).signed_by(ALICE.key)


# -- reading the content ------------------------------------------------------------------


def test_open_reads_the_content():
    assert Attachment(CONTENT).open().read() == CONTENT


def test_open_zip_lists_the_archive():
    attachment = Attachment(zip_of({"rules.txt": b"r", "docs/terms.txt": b"t"}))

    with attachment.open_zip() as archive:
        assert sorted(archive.namelist()) == ["docs/terms.txt", "rules.txt"]


def test_extract_reads_one_file_of_a_zip():
    attachment = Attachment(zip_of({"docs/terms.txt": b"pay within 30 days"}))

    assert attachment.extract("docs/terms.txt") == b"pay within 30 days"


def test_extracting_a_missing_file_is_refused():
    attachment = Attachment(zip_of({"rules.txt": b"r"}))

    with pytest.raises(AttachmentError, match=r"has no file 'missing\.txt'"):
        attachment.extract("missing.txt")


def test_opening_non_zip_content_as_a_zip_is_refused():
    with pytest.raises(AttachmentError, match="not a zip archive"):
        Attachment(CONTENT).open_zip()


def test_extracting_from_non_zip_content_is_refused():
    with pytest.raises(AttachmentError, match="not a zip archive"):
        Attachment(CONTENT).extract("rules.txt")


# -- in-memory storage --------------------------------------------------------------------


def test_storage_returns_what_was_imported_by_its_id():
    storage = InMemoryAttachmentStorage()

    attachment_id = storage.import_attachment(Attachment(CONTENT))

    assert storage.open_attachment(attachment_id) == Attachment(CONTENT)


def test_storage_returns_none_for_an_unknown_id():
    assert InMemoryAttachmentStorage().open_attachment(Attachment(CONTENT).id) is None


def test_importing_the_same_content_again_merges_the_signatures():
    storage = InMemoryAttachmentStorage([Attachment(CONTENT).signed_by(ALICE.key)])

    storage.import_attachment(Attachment(CONTENT).signed_by(BOB.key))

    stored = storage.open_attachment(Attachment(CONTENT).id)
    assert stored is not None
    assert stored.signers == {ALICE.public_key, BOB.public_key}
    assert len(storage) == 1


def test_importing_the_same_signature_twice_does_not_duplicate_it():
    signed = Attachment(CONTENT).signed_by(ALICE.key)
    storage = InMemoryAttachmentStorage([signed])

    storage.import_attachment(signed)

    stored = storage.open_attachment(signed.id)
    assert stored is not None
    assert len(stored.signatures) == 1


def test_importing_unsigned_content_keeps_earlier_signatures():
    storage = InMemoryAttachmentStorage([Attachment(CONTENT).signed_by(ALICE.key)])

    storage.import_attachment(Attachment(CONTENT))

    stored = storage.open_attachment(Attachment(CONTENT).id)
    assert stored is not None
    assert stored.signers == {ALICE.public_key}


# -- CorDapp code attachments -------------------------------------------------------------


@pytest.fixture
def importable(tmp_path, monkeypatch):
    """tmp_path on sys.path; modules imported from it and the code cache are dropped after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]
    cordapp_attachment.cache_clear()


@pytest.fixture
def make_package(importable):
    """Write a package with a unique name and return the name."""

    def make(files: dict[str, str]) -> str:
        name = f"cordapp_{uuid.uuid4().hex[:12]}"
        for relative, text in files.items():
            path = importable / name / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        importlib.invalidate_caches()
        return name

    return make


PACKAGE_FILES = {
    "__init__.py": '"""A tiny CorDapp."""\n',
    "contract.py": "RULE = 1\n",
    "states/__init__.py": "",
    "states/token.py": "AMOUNT = 2\n",
    "README.txt": "not code",
}


def test_cordapp_attachment_is_the_same_when_built_twice(make_package):
    package = make_package(PACKAGE_FILES)
    first = cordapp_attachment(package)
    cordapp_attachment.cache_clear()

    second = cordapp_attachment(package)

    assert second is not first
    assert second.id == first.id


def test_cordapp_attachment_is_cached_per_package(make_package):
    package = make_package(PACKAGE_FILES)

    assert cordapp_attachment(package) is cordapp_attachment(package)


def test_cordapp_attachment_holds_the_python_sources_under_the_package_name(make_package):
    package = make_package(PACKAGE_FILES)

    with cordapp_attachment(package).open_zip() as archive:
        names = archive.namelist()

    assert names == [
        f"{package}/__init__.py",
        f"{package}/contract.py",
        f"{package}/states/__init__.py",
        f"{package}/states/token.py",
    ]
    assert cordapp_attachment(package).extract(f"{package}/contract.py") == b"RULE = 1\n"


def test_cordapp_attachment_leaves_out_compiled_caches(make_package, tmp_path):
    package = make_package(PACKAGE_FILES)
    cache = tmp_path / package / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "stale.py").write_text("STALE = True\n")

    with cordapp_attachment(package).open_zip() as archive:
        assert not any("__pycache__" in name for name in archive.namelist())


def test_changing_a_source_file_changes_the_id(make_package, tmp_path):
    package = make_package(PACKAGE_FILES)
    before = cordapp_attachment(package).id
    (tmp_path / package / "contract.py").write_text("RULE = 2\n")
    cordapp_attachment.cache_clear()

    assert cordapp_attachment(package).id != before


def test_adding_a_source_file_changes_the_id(make_package, tmp_path):
    package = make_package(PACKAGE_FILES)
    before = cordapp_attachment(package).id
    (tmp_path / package / "extra.py").write_text("")
    cordapp_attachment.cache_clear()

    assert cordapp_attachment(package).id != before


def test_file_modification_times_do_not_change_the_id(make_package, tmp_path):
    package = make_package(PACKAGE_FILES)
    before = cordapp_attachment(package).id
    for path in (tmp_path / package).rglob("*.py"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    cordapp_attachment.cache_clear()

    assert cordapp_attachment(package).id == before


def test_a_plain_module_cannot_be_pinned_as_a_cordapp(importable):
    name = f"module_{uuid.uuid4().hex[:12]}"
    (importable / f"{name}.py").write_text("X = 1\n")
    importlib.invalidate_caches()

    with pytest.raises(AttachmentError, match="not a regular package"):
        cordapp_attachment(name)


def test_the_sample_cordapp_attachment_contains_its_contract():
    with cordapp_attachment("sample_cordapp").open_zip() as archive:
        assert "sample_cordapp/contract.py" in archive.namelist()


SPLIT_FILES = {
    "__init__.py": "from .flows import run\n",
    "contracts/__init__.py": "from .rules import RULE\n",
    "contracts/rules.py": "from ..states import AMOUNT\nRULE = AMOUNT\n",
    "states.py": "from . import units\nAMOUNT = units.WH\n",
    "units.py": "WH = 1\n",
    "flows.py": "from .contracts import RULE\ndef run():\n    return RULE\n",
    "tools/simulate.py": "import json\n",
}


def test_a_cordapp_with_a_contracts_package_pins_only_its_contract_code(make_package):
    package = make_package(SPLIT_FILES)

    with cordapp_attachment(package).open_zip() as archive:
        names = archive.namelist()

    assert names == [
        f"{package}/contracts/__init__.py",
        f"{package}/contracts/rules.py",
        f"{package}/states.py",
        f"{package}/units.py",
    ]


def test_changing_a_flow_or_tool_leaves_the_contract_code_id_alone(make_package, tmp_path):
    package = make_package(SPLIT_FILES)
    before = cordapp_attachment(package).id
    (tmp_path / package / "flows.py").write_text("def run():\n    return 2\n")
    (tmp_path / package / "tools" / "simulate.py").write_text("import csv\n")
    cordapp_attachment.cache_clear()

    assert cordapp_attachment(package).id == before


def test_changing_a_module_the_contracts_import_changes_the_id(make_package, tmp_path):
    package = make_package(SPLIT_FILES)
    before = cordapp_attachment(package).id
    (tmp_path / package / "units.py").write_text("WH = 1000\n")
    cordapp_attachment.cache_clear()

    assert cordapp_attachment(package).id != before

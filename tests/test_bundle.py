"""The Lambda bundle: reproducible bytes, the right contents, a content-addressed key."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from shiftsms.deploy.bundle import KEY_PREFIX, Bundle, build_bundle
from shiftsms.errors import BundleError

CHECKOUT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return build_bundle()


def names(bundle: Bundle) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(bundle.data)).namelist()


def test_same_sources_give_the_same_bytes(bundle: Bundle) -> None:
    again = build_bundle()
    assert again.data == bundle.data
    assert again.key == bundle.key == f"{KEY_PREFIX}{hashlib.sha256(bundle.data).hexdigest()}.zip"


def test_file_times_and_modes_of_the_checkout_do_not_matter(bundle: Bundle, tmp_path: Path) -> None:
    root = CHECKOUT
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("shiftsms", "lambdas"):
        shutil.copytree(root / package, tmp_path / package, ignore=ignore)
    for path in tmp_path.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
        if path.is_file():
            path.chmod(0o600)
    assert build_bundle(tmp_path).data == bundle.data


def test_a_changed_source_changes_the_key(bundle: Bundle, tmp_path: Path) -> None:
    root = CHECKOUT
    for package in ("shiftsms", "lambdas"):
        shutil.copytree(
            root / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    with (tmp_path / "lambdas" / "inbound.py").open("a") as f:
        f.write("# changed\n")
    assert build_bundle(tmp_path).key != bundle.key


def test_entries_are_sorted_with_fixed_times_and_modes(bundle: Bundle) -> None:
    infos = zipfile.ZipFile(io.BytesIO(bundle.data)).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert len(infos) == bundle.files


def test_holds_the_handlers_and_the_runtime_dependencies_only(bundle: Bundle) -> None:
    entries = names(bundle)
    for required in (
        "lambdas/inbound.py",
        "shiftsms/handlers/inbound.py",
        "shiftsms/core/phone.py",
        "phonenumbers/__init__.py",
        "aws_lambda_powertools/utilities/idempotency/__init__.py",
        "jmespath/__init__.py",
        "typing_extensions.py",
        # zoneinfo reads the stack's TimeZone from here when the image has no zone files.
        "tzdata/zoneinfo/Europe/London",
    ):
        assert required in entries, required
    for entry in entries:
        assert not entry.startswith(("shiftsms/cli/", "shiftsms/local/", "shiftsms/deploy/"))
        assert not entry.startswith(("boto3/", "botocore/")), entry  # the runtime has them
        assert not entry.startswith("phonenumbers/geodata/"), entry
        assert "__pycache__" not in entry and not entry.endswith(".pyc"), entry
        assert not entry.endswith(("RECORD", "INSTALLER", "direct_url.json")), entry


def test_fits_lambda_limits(bundle: Bundle) -> None:
    assert bundle.size < 50 * 1024 * 1024
    assert bundle.unzipped_bytes < 250 * 1024 * 1024


def test_a_compiled_dependency_is_refused() -> None:
    with pytest.raises(BundleError, match="compiled code"):
        build_bundle(distributions=["PyYAML"])


def test_a_checkout_without_lambdas_is_refused(tmp_path: Path) -> None:
    shutil.copytree(CHECKOUT / "shiftsms", tmp_path / "shiftsms")
    with pytest.raises(BundleError, match="no 'lambdas' package"):
        build_bundle(tmp_path)

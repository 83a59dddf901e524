"""The Lambda bundle: one zip, built reproducibly, named by its content.

The zip holds the ``shiftsms`` package (without the CLI, the local sandbox and this deploy
code), the ``lambdas`` handler modules, and the pure-Python distributions the Lambda Python
runtime lacks, copied from the installed distributions (no network). Entries are sorted and
carry fixed timestamps and permissions, so the same sources give the same bytes, and the
same bytes give the same S3 key: an unchanged bundle is neither uploaded nor redeployed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from shiftsms import resources
from shiftsms.errors import BundleError

# What the Lambda runtime lacks (it ships boto3/botocore, which the bundle leaves out).
RUNTIME_DISTRIBUTIONS: tuple[str, ...] = (
    "phonenumbers",
    "aws-lambda-powertools",
    "jmespath",
    "typing_extensions",
    # zoneinfo falls back to it when the image has no /usr/share/zoneinfo.
    "tzdata",
)

# Parts of the shiftsms package that never run in Lambda.
EXCLUDED_SOURCES: tuple[str, ...] = (
    "shiftsms/cli/",
    "shiftsms/local/",
    "shiftsms/deploy/",
    "shiftsms/__main__.py",
    *(f"shiftsms/{name}/" for name in resources.RESOURCE_PACKAGES),
)

# Data shiftsms never imports: phonenumbers' geocoder, carrier and time zone tables (over
# 40 MB, the part its "lite" build drops). Parsing and formatting need none of it.
EXCLUDED_DATA: Mapping[str, tuple[str, ...]] = {
    "phonenumbers": ("phonenumbers/geodata/", "phonenumbers/carrierdata/", "phonenumbers/tzdata/"),
}

# Installer bookkeeping that differs from machine to machine.
_MACHINE_FILES = frozenset({"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"})
_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # regular file, rw-r--r--
KEY_PREFIX = "shiftsms/bundles/"


@dataclass(frozen=True)
class Bundle:
    """A built bundle: its bytes, their sha256, and what is inside."""

    data: bytes
    sha256: str
    files: int
    unzipped_bytes: int

    @property
    def key(self) -> str:
        """The content-addressed S3 key (same bytes, same key)."""
        return f"{KEY_PREFIX}{self.sha256}.zip"

    @property
    def size(self) -> int:
        """Zipped size in bytes."""
        return len(self.data)


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """(relative posix name, file) for every file under ``folder``, in no set order."""
    for entry in folder.iterdir():
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from _walk(entry, f"{name}/")
        elif entry.is_file():
            yield name, entry


def _source_files(base: Traversable, package: str) -> Iterator[tuple[str, Traversable]]:
    """(archive name, file) for a source package's modules and py.typed marker."""
    if not (base / "__init__.py").is_file():
        raise BundleError(
            f"no {package!r} package in {base}: reinstall shiftsms (pip install shiftsms)"
        )
    for relative, entry in _walk(base):
        if not relative.endswith(".py") and relative.rsplit("/", 1)[-1] != "py.typed":
            continue
        arcname = f"{package}/{relative}"
        if arcname.startswith(EXCLUDED_SOURCES):
            continue
        yield arcname, entry


def _distribution_files(name: str) -> Iterator[tuple[str, Traversable]]:
    """(archive name, path) for every runtime file of an installed distribution."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError as exc:
        raise BundleError(f"{name} is not installed here; pip install it and retry") from exc
    excluded = EXCLUDED_DATA.get(name, ())
    for entry in dist.files or []:
        posix = PurePosixPath(str(entry))
        arcname = posix.as_posix()
        if ".." in posix.parts or "__pycache__" in posix.parts:
            continue  # scripts outside site-packages, byte code
        if arcname.endswith((".pyc", ".pyi")) or arcname.startswith(excluded):
            continue
        if posix.parent.name.endswith(".dist-info") and posix.name in _MACHINE_FILES:
            continue
        if arcname.endswith(_NATIVE_SUFFIXES):
            raise BundleError(
                f"{name} has compiled code ({arcname}); the bundle takes pure Python only"
            )
        path = Path(str(entry.locate()))
        if path.is_file():
            yield arcname, path


def bundle_sources(
    root: Path | None = None, distributions: Iterable[str] = RUNTIME_DISTRIBUTIONS
) -> list[tuple[str, Traversable]]:
    """Every (archive name, file) the bundle holds, sorted by archive name.

    ``root`` (a folder holding ``shiftsms/`` and ``lambdas/``) replaces the installed sources.
    """
    shiftsms_dir, lambdas_dir = (
        (root / "shiftsms", root / "lambdas")
        if root is not None
        else (resources.package_files(), resources.lambdas_files())
    )
    entries: dict[str, Traversable] = {}
    entries.update(_source_files(shiftsms_dir, "shiftsms"))
    entries.update(_source_files(lambdas_dir, "lambdas"))
    for name in distributions:
        for arcname, path in _distribution_files(name):
            entries.setdefault(arcname, path)
    return sorted(entries.items())


def build_bundle(
    root: Path | None = None, distributions: Iterable[str] = RUNTIME_DISTRIBUTIONS
) -> Bundle:
    """Build the bundle in memory, reproducibly, from the installed sources (or ``root``)."""
    buffer = io.BytesIO()
    unzipped = 0
    sources = bundle_sources(root, distributions)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for arcname, path in sources:
            info = zipfile.ZipInfo(arcname, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is read as Unix permissions
            info.external_attr = _FILE_MODE << 16
            content = path.read_bytes()
            unzipped += len(content)
            zf.writestr(info, content, compresslevel=9)
    data = buffer.getvalue()
    return Bundle(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        files=len(sources),
        unzipped_bytes=unzipped,
    )

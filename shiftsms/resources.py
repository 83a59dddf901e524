"""Where shiftsms's own files are: the CloudFormation template and the Lambda handler modules.

An installed distribution carries them inside the package (``shiftsms/_cloudformation`` and
``shiftsms/_lambdas``, read with ``importlib.resources``); a source checkout (run in place or
installed editable) keeps them in its top-level ``cloudformation/`` and ``lambdas/`` folders.
Every reader (deploy, the bundle builder, the sandbox, the tests) asks this module.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

DISTRIBUTION = "shiftsms"
TEMPLATE_NAME = "template.yaml"
# Packages in the distribution that hold resources, not code shiftsms imports.
RESOURCE_PACKAGES = ("_lambdas", "_cloudformation")


def _folder(package: str, checkout_folder: str) -> Traversable:
    try:
        return importlib.resources.files(package)
    except ModuleNotFoundError:
        # A source checkout: the folder beside the shiftsms package.
        return Path(__file__).resolve().parent.parent / checkout_folder


def package_files() -> Traversable:
    """The ``shiftsms`` package itself (its modules, as installed or checked out)."""
    return importlib.resources.files("shiftsms")


def lambdas_files() -> Traversable:
    """The Lambda handler modules (``lambdas/`` in the bundle and in a checkout)."""
    return _folder("shiftsms._lambdas", "lambdas")


def template_file() -> Traversable:
    """The CloudFormation template."""
    return _folder("shiftsms._cloudformation", "cloudformation") / TEMPLATE_NAME


def template_text() -> str:
    """The CloudFormation template's text."""
    return template_file().read_text(encoding="utf-8")


def version() -> str:
    """This shiftsms's version, from the installed distribution's metadata."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"  # a checkout run in place, never installed

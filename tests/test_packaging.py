"""The distribution: what the wheel holds, and that an installed copy builds the same bundle."""

from __future__ import annotations

import hashlib
import importlib.metadata
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import shiftsms
from shiftsms import resources
from shiftsms.deploy.bundle import build_bundle
from tests.clitools import invoke

CHECKOUT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))
HANDLERS = (
    "__init__",
    "audit",
    "campaign",
    "delivery",
    "due",
    "inbound",
    "sender",
    "shift_keys",
)


def test_every_package_of_the_tree_is_in_the_distribution() -> None:
    setuptools = PYPROJECT["tool"]["setuptools"]
    in_tree = {
        ".".join(p.parent.relative_to(CHECKOUT).parts)
        for p in (CHECKOUT / "shiftsms").rglob("__init__.py")
    }
    listed = set(setuptools["packages"])
    assert in_tree - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - in_tree == {"shiftsms._lambdas", "shiftsms._cloudformation"}
    assert setuptools["package-dir"] == {
        "shiftsms._lambdas": "lambdas",
        "shiftsms._cloudformation": "cloudformation",
    }


def test_the_checkout_resources_are_the_top_level_folders() -> None:
    assert resources.template_text() == (CHECKOUT / "cloudformation" / "template.yaml").read_text(
        encoding="utf-8"
    )
    names = {p.name for p in resources.lambdas_files().iterdir() if p.name.endswith(".py")}
    assert names == {f"{h}.py" for h in HANDLERS}


def test_version_prints_the_package_metadata_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"shiftsms {importlib.metadata.version('shiftsms')}\n"
    assert shiftsms.__version__ == importlib.metadata.version("shiftsms")


@pytest.mark.parametrize("args", [["demo"], ["local", "up"], ["local", "status"]])
def test_without_the_local_extra_the_sandbox_commands_say_what_to_install(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)  # import moto now raises ImportError
    result = invoke(*args)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: `shiftsms {args[0]}` needs the local sandbox: pip install 'shiftsms[local]'\n"
    )
    assert result.stdout == ""


def test_without_the_local_extra_aws_commands_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)
    assert invoke("--version").exit_code == 0
    assert invoke("deploy", "--help").exit_code == 0


# ---------------------------------------------------------------------------- the wheel

BUNDLE_SHA = """
import sys
import shiftsms
from shiftsms.deploy.bundle import build_bundle
assert shiftsms.__file__.startswith(sys.argv[1]), shiftsms.__file__
print(build_bundle().sha256)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=CHECKOUT,
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("shiftsms-*.whl")
    return found


@pytest.mark.slow
def test_the_wheel_holds_the_template_and_the_handlers(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "shiftsms/_cloudformation/template.yaml" in names
    for handler in HANDLERS:
        assert f"shiftsms/_lambdas/{handler}.py" in names
    modules = {
        p.relative_to(CHECKOUT).as_posix()
        for p in (CHECKOUT / "shiftsms").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert modules - names == set()
    assert not any(n.startswith(("lambdas/", "cloudformation/", "tests/")) for n in names)
    packed = zipfile.ZipFile(wheel).read("shiftsms/_cloudformation/template.yaml")
    assert packed == (CHECKOUT / "cloudformation" / "template.yaml").read_bytes()


@pytest.mark.slow
def test_an_installed_wheel_builds_the_same_bundle_as_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps"]
    subprocess.run(
        [*pip, "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    # The wheel's shiftsms first on the path; the runtime distributions are this venv's.
    run = subprocess.run(
        [sys.executable, "-c", BUNDLE_SHA, str(target)],
        cwd=empty,
        env={"PYTHONPATH": str(target), "PATH": ""},
        check=True,
        capture_output=True,
        text=True,
    )
    assert run.stdout.strip() == hashlib.sha256(build_bundle().data).hexdigest()

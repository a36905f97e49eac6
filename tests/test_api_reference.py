"""The API appendix documents every public module of the package."""

import pkgutil
import re
from pathlib import Path

import rnncourse

ROOT = Path(__file__).resolve().parents[1]
# Modules that are tooling rather than the course's API.
NOT_API = {"rnncourse.__main__", "rnncourse.sphinxext", "rnncourse.exercises.runner"}


def public_modules() -> set[str]:
    names = set()
    for info in pkgutil.walk_packages(rnncourse.__path__, "rnncourse."):
        if not any(part.startswith("_") for part in info.name.split(".")) and not info.ispkg:
            names.add(info.name)
    return names - NOT_API


def test_every_public_module_is_in_the_api_appendix():
    documented = set(re.findall(r"\.\. automodule:: (\S+)", (ROOT / "book" / "api.md").read_text()))
    missing = sorted(public_modules() - documented)
    assert not missing, f"add these modules to book/api.md: {missing}"
    packages = {"rnncourse", "rnncourse.numpy", "rnncourse.torch", "rnncourse.data", "rnncourse.plotting",
                "rnncourse.exercises"}
    unknown = sorted(documented - public_modules() - packages)
    assert not unknown, f"book/api.md names modules that do not exist: {unknown}"

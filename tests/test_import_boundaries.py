"""The layers point one way: the NumPy half and the datasets run where torch is absent."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", ["rnncourse.numpy", "rnncourse.data", "rnncourse.validation"])
def test_importing_does_not_import_torch(module):
    code = (f"import sys, importlib, pkgutil\n"
            f"pkg = importlib.import_module({module!r})\n"
            f"for info in pkgutil.walk_packages(getattr(pkg, '__path__', []), pkg.__name__ + '.'):\n"
            f"    importlib.import_module(info.name)\n"
            f"print('torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False", f"importing {module} (and every submodule) imported torch"


def test_the_check_can_fail():
    """The same probe on rnncourse.torch says True: the test above can fail."""
    code = "import sys, rnncourse.torch; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True", done.stderr


def test_nbformat_imports_without_compiling_the_rfc3987_syntax_grammar():
    """requirements.txt pins ``rfc3987`` so that jsonschema (imported by nbformat: every chapter's kernel
    through myst_nb's glue, every build and test process) does not compile rfc3987-syntax's grammar, 2 s of
    CPU per process; without the pin this fails."""
    code = "import sys, nbformat; print('rfc3987_syntax' in sys.modules, 'rfc3987' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "True"], done.stdout + done.stderr


def test_the_books_build_does_not_import_the_grading_room():
    """DESIGN: nothing in the book imports the exercises' grading room; the Sphinx extension gets what a downloaded
    chapter installs from rnncourse.install, which the student version shares."""
    code = "import sys, rnncourse.sphinxext; print(sorted(m for m in sys.modules if m.startswith('rnncourse.exercises')))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def private_imports(source: str, module: str) -> list:
    """The ``from X import _name`` lines of ``source`` (the module ``module``) whose X is another module."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{module}:{node.lineno}: from {'.' * node.level}{node.module or ''} import "
                                 f"{alias.name}")
    return found


def test_no_module_imports_another_modules_private_name():
    # A name shared between modules is public (in __all__, documented); a private one stays where it lives.
    package = ROOT / "rnncourse"
    found = [line for path in sorted(package.rglob("*.py"))
             for line in private_imports(path.read_text(), path.relative_to(ROOT).as_posix())]
    assert not found, "\n".join(found)
    assert private_imports("from .grade import _printable\nfrom x import __version__\n", "m.py") == [
        "m.py:1: from .grade import _printable"]

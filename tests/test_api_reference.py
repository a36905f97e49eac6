"""The API appendix documents every public module of the package."""

import pkgutil
import re
from pathlib import Path

import rnncourse

ROOT = Path(__file__).resolve().parents[1]
# Modules that are tooling rather than the course's API.
NOT_API = {"rnncourse.__main__", "rnncourse.sphinxext", "rnncourse.exercises.runner", "rnncourse.lab"}


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


def namedtuples():
    """Every NamedTuple class defined in a public module of the package."""
    import importlib
    import inspect

    found = []
    for name in sorted(public_modules()):
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, tuple) and hasattr(cls, "_fields"):
                found.append(cls)
    return found


def documented_attributes(cls) -> list[tuple[str, str, str]]:
    """``(name, type, description)`` of each entry of the docstring's NumPy-style Attributes section."""
    import inspect

    doc = inspect.getdoc(cls) or ""
    match = re.search(r"^Attributes\n-+\n(.*?)(?:\n\n[A-Z]\w+\n-+\n|\Z)", doc, re.S | re.M)
    if not match:
        return []
    entries = re.findall(r"^(\w+) : (.+)\n((?:    .+\n?)+)", match.group(1), re.M)
    return [(name, kind, " ".join(desc.split())) for name, kind, desc in entries]


def test_every_namedtuple_describes_each_field_once_with_its_meaning():
    classes = namedtuples()
    assert len(classes) >= 5, classes
    problems = []
    for cls in classes:
        entries = documented_attributes(cls)
        names = [name for name, _, _ in entries]
        if names != list(cls._fields):
            problems.append(f"{cls.__module__}.{cls.__name__}: the Attributes section lists {names}, "
                            f"the fields are {list(cls._fields)}")
        for name, kind, desc in entries:
            if "ndarray" in kind and "shape" not in kind:
                problems.append(f"{cls.__name__}.{name}: an array field without its shape ({kind!r})")
            if len(desc.split()) < 2:
                problems.append(f"{cls.__name__}.{name}: no meaning given ({desc!r})")
    assert not problems, "\n".join(problems)


def test_attributes_parser_reads_a_numpy_section():
    class Pair(tuple):
        """Two arrays.

        Attributes
        ----------
        a : numpy.ndarray, shape (T,)
            The first array of the pair.
        b : str
            The name of the pair.
        """

    assert documented_attributes(Pair) == [("a", "numpy.ndarray, shape (T,)", "The first array of the pair."),
                                           ("b", "str", "The name of the pair.")]


def documented_parameters(obj) -> list[str] | None:
    """The names in the docstring's NumPy-style Parameters section, in order (``None`` if it has none).

    A line ``a, b : int`` documents two names; ``*arrays`` is read as ``arrays``.
    """
    import inspect

    doc = inspect.getdoc(obj) or ""
    match = re.search(r"^Parameters\n-+\n(.*?)(?:\n\n[A-Z][\w ]+\n-+\n|\Z)", doc, re.S | re.M)
    if not match:
        return None
    names = []
    for line in match.group(1).splitlines():
        if line and not line[0].isspace():
            names += [part.strip().lstrip("*") for part in line.split(" : ")[0].split(",")]
    return names


def public_methods(cls):
    """``(name, function)`` of each public method of ``cls``: its own, and those it inherits from a private base
    of the package (``_Optimizer.step``, ``_GatedCell.from_numpy``), which the API page shows as its methods."""
    import inspect

    seen = set()
    for base in cls.__mro__:
        mine = base is cls or (base.__module__.startswith("rnncourse") and base.__name__.startswith("_"))
        for method_name, method in vars(base).items():
            method = getattr(method, "__func__", method)               # classmethod, staticmethod
            if mine and method_name not in seen and not method_name.startswith("_") and inspect.isfunction(method):
                yield method_name, method
            seen.add(method_name)                                      # overridden further down the MRO


def public_callables():
    """``(qualified name, function)`` for every public function, class and method of the public modules."""
    import importlib
    import inspect

    import torch

    for name in sorted(public_modules()):
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if inspect.isfunction(obj):
                yield f"{name}.{attr}", obj
            elif inspect.isclass(obj):
                if not issubclass(obj, torch.autograd.Function):       # documented as its apply(...)
                    yield f"{name}.{attr}", obj
                for method_name, method in public_methods(obj):
                    yield f"{name}.{attr}.{method_name}", method


def test_public_methods_include_those_a_private_base_gives():
    class _Base:
        def step(self, grads):
            """Shared."""

        def reset(self):
            """Overridden."""

    class Public(_Base):
        def reset(self):
            """Its own."""

        def _helper(self):
            """Private."""

    _Base.__module__ = Public.__module__ = "rnncourse.fake"
    assert dict(public_methods(Public)) == {"reset": Public.reset, "step": _Base.step}
    _Base.__module__ = "elsewhere"                          # another library's base: its methods are not ours
    assert dict(public_methods(Public)) == {"reset": Public.reset}


def test_every_parameters_section_lists_the_signature_in_order():
    import inspect

    problems, checked = [], 0
    for qualname, obj in public_callables():
        documented = documented_parameters(obj)
        if documented is None:                                 # a one-line docstring documents no parameters
            continue
        checked += 1
        actual = [p for p in inspect.signature(obj).parameters if p not in ("self", "cls", "ctx")]
        if documented != actual:
            problems.append(f"{qualname}: the docstring lists {documented}, the signature has {actual}")
    assert checked > 150, checked
    assert not problems, "\n".join(problems)


def missing_parameters_sections(callables) -> list[str]:
    """``qualname: [parameters]`` for each callable with parameters beyond self/cls/ctx and no Parameters section.

    A record type (NamedTuple, dataclass) counts when its Attributes section lists its fields, which are its
    constructor's parameters. An exception class built on a builtin one has no signature to read and is skipped.
    """
    import inspect

    missing = []
    for qualname, obj in callables:
        try:
            signature = inspect.signature(obj)
        except ValueError:                                     # e.g. class Oops(ValueError): takes the message
            continue
        actual = [p for p in signature.parameters if p not in ("self", "cls", "ctx")]
        if not actual or documented_parameters(obj) is not None:
            continue
        if inspect.isclass(obj) and [name for name, _, _ in documented_attributes(obj)] == actual:
            continue
        missing.append(f"{qualname}: {actual}")
    return missing


def test_every_public_callable_with_parameters_has_a_parameters_section():
    # Without one, its parameters appear on the API page only in prose, or not at all, and the test above,
    # which compares the section with the signature, cannot see them.
    callables = list(public_callables())
    assert len(callables) > 200, len(callables)
    missing = missing_parameters_sections(callables)
    assert not missing, "add a Parameters section to:\n" + "\n".join(missing)


def test_missing_parameters_sections_names_what_lacks_one():
    def described(a, b=1):
        """Add a and b, which this sentence mentions but no section lists."""

    def bare():
        """Take nothing."""

    def documented(a):
        """Return a.

        Parameters
        ----------
        a : int
            A number.
        """

    class Point(tuple):
        """A point.

        Attributes
        ----------
        x : float
            Its first coordinate.
        """

        def __new__(cls, x):
            return super().__new__(cls, (x,))

    class Oops(ValueError):
        """An error."""

    found = missing_parameters_sections([("described", described), ("bare", bare), ("Point", Point),
                                         ("Oops", Oops), ("documented", documented)])
    assert found == ["described: ['a', 'b']"]


def test_parameters_parser_reads_a_numpy_section():
    def f(a, b, *arrays, c=1):
        """Do it.

        Parameters
        ----------
        a, b : int
            Two numbers.
        *arrays : numpy.ndarray
            Any number of arrays.
        c : int
            A third.

        Returns
        -------
        int
        """

    assert documented_parameters(f) == ["a", "b", "arrays", "c"]
    assert documented_parameters(documented_parameters) is None


def test_no_doc_comment_gives_napoleon_a_type_before_a_colon_on_its_first_line():
    # napoleon reads the first line of a ``#:`` comment as "type: description" when it has a colon outside
    # roles and code: the API page then showed "Type: The columns of Stocks.csv" and the text mid-sentence.
    from sphinx.ext.napoleon.docstring import _single_colon_regex, _xref_or_code_regex

    found = []
    for path in sorted((ROOT / "rnncourse").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            first = line.lstrip().startswith("#:") and not (i and lines[i - 1].lstrip().startswith("#:"))
            if first and _single_colon_regex.search(_xref_or_code_regex.sub("", line.lstrip()[2:])):
                found.append(f"{path.relative_to(ROOT)}:{i + 1}: {line.strip()}")
    assert not found, "reword the first line without a colon:\n" + "\n".join(found)

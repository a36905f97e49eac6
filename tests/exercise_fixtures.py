"""A small fixture chapter with every kind of exercise and solution, for the exercise tools' tests.

Its exercises "ch99.*" are checked by ``tests/fixture_checkers.py``. Every solution holds the
sentinel ``zebra-quartz`` (or ``zebra_quartz``), matched by ``SENTINEL`` so a test can tell that no trace of it survived.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import jupytext
import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHECKERS = Path(__file__).resolve().with_name("fixture_checkers.py")
SENTINEL = re.compile("zebra[-_]quartz")
HEADER = (ROOT / "book" / "01_why_rnns.md").read_text().split("---", 2)[1]


def bubblewrap_missing() -> str | None:
    """Why this machine can run no bubblewrap sandbox at all, or ``None``: only the environment, never the
    package's own sandbox. The grading tests are skipped for the first (they say how to install it); a
    fault in :mod:`rnncourse.exercises.sandbox` must fail them instead, which
    :func:`rnncourse.exercises.sandbox.sandbox_problem` (it builds the package's sandbox) would hide."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap, or run make sandbox"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is missing: apt-get install util-linux"
    bare = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all", "true"],
                          capture_output=True, timeout=60)
    if bare.returncode != 0:
        return f"bubblewrap cannot make a namespace here: {bare.stderr.decode(errors='replace').strip()[-200:]}"
    return None

CHAPTER = '''
(ch-fixture)=
# 99. A fixture chapter

This chapter exists for the tests of the exercise tools.

```{code-cell} ipython3
import numpy as np
from rnncourse.exercises import check
from rnncourse.exercises.registry import load_checkers
load_checkers("@CHECKERS@")
```

A teaching cell, whose output the student book keeps.

```{code-cell} ipython3
print(f"tanh(0.5) = {np.tanh(0.5):.4f}")
```

## Exercises

```{exercise}
:label: ex-ch99-1

Why does the hidden state forget?

:::{admonition} Hint
:class: dropdown
Think of what tanh does to large inputs.
:::
```

````{solution} ex-ch99-1
:label: sol-ch99-1
:class: dropdown

The state forgets because zebra-quartz-solution-prose.

```python
forgetting = "zebra-quartz-solution-code"
```
````

```{exercise}
:label: ex-ch99-2

Write `double(x)`, which returns twice `x`.
```

```{code-cell} ipython3
def double(x):
    """Return twice x."""
    ### BEGIN SOLUTION
    doubled_zebra_quartz = x + x
    return doubled_zebra_quartz
    ### END SOLUTION
```

```{code-cell} ipython3
check("ch99.double", double)
```

:::{exercise}
:label: ex-ch99-3
Write `rnn_step`, one step of the Elman recurrence.
:::

```{code-cell} ipython3
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    """One tanh step; h_t has shape (B, H)."""
    ### BEGIN SOLUTION
    a_t_zebra_quartz = x_t @ W_xh.T + h_prev @ W_hh.T + b_h
    return np.tanh(a_t_zebra_quartz)
    ### END SOLUTION
```

```{code-cell} ipython3
check("ch99.rnn_step", rnn_step)
```

:::{solution} ex-ch99-3
:label: sol-ch99-3
:class: dropdown
The colon-fenced solution: zebra-quartz-colon-solution.
:::

Write `step_backward`, the gradients of one step.

```{code-cell} ipython3
def step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    """Gradients of one tanh step: a dict with x_t, h_prev, W_xh, W_hh and b_h."""
    ### BEGIN SOLUTION
    da_zebra_quartz = dh_t * (1 - h_t ** 2)
    return {"x_t": da_zebra_quartz @ W_xh, "h_prev": da_zebra_quartz @ W_hh, "W_xh": da_zebra_quartz.T @ x_t,
            "W_hh": da_zebra_quartz.T @ h_prev, "b_h": da_zebra_quartz.sum(axis=0)}
    ### END SOLUTION
```

```{code-cell} ipython3
check("ch99.step_backward", step_backward)
```

Write the mean squared error.

```{code-cell} ipython3
def mean_squared_error(pred, target):
    ### BEGIN SOLUTION
    return float(np.mean((pred - target) ** 2))  # zebra-quartz-mse
    ### END SOLUTION
```

```{code-cell} ipython3
check("ch99.mse", mean_squared_error)
```

```{solution-start} ex-ch99-2
:label: sol-ch99-2
:class: dropdown
```

A gated solution: zebra-quartz-gated-prose.

```{code-cell} ipython3
print("zebra-quartz-gated-code", double(np.array([1.0])))
```

```{solution-end}
```

```{code-cell} ipython3
:tags: [solution]

print("zebra-quartz-tagged-cell")
```

A last cell uses the function of an exercise.

```{code-cell} ipython3
print(double(np.arange(3.0)))
```
'''

#: The exercises of the fixture chapter, their points and function names.
EXERCISES = {"ch99.double": (1, "double"), "ch99.rnn_step": (2, "rnn_step"),
             "ch99.step_backward": (3, "step_backward"), "ch99.mse": (1, "mean_squared_error")}


def chapter_text() -> str:
    """The fixture chapter, MyST source, with the path of its checkers filled in."""
    return f"---{HEADER}---\n" + CHAPTER.replace("@CHECKERS@", str(CHECKERS))


def write_book(folder: Path) -> Path:
    """A one-chapter book with the real configuration in ``folder``; return its root."""
    (folder / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    for asset in (ROOT / "book").iterdir():        # references.bib, the favicon ...: all but the pages
        if asset.is_file() and asset.suffix != ".md":
            shutil.copy(asset, folder / "book" / asset.name)
    (folder / "_toc.yml").write_text("format: jb-book\nroot: book/99_fixture\n")
    (folder / "book" / "99_fixture.md").write_text(chapter_text())
    return folder


def instructor_notebook() -> nbformat.NotebookNode:
    """The fixture chapter as a notebook, solutions included."""
    return jupytext.reads(chapter_text(), fmt="md:myst")


def write_notebook(nb, path: Path, replace=()) -> Path:
    """Write ``nb`` to ``path`` after replacing, in its code cells, each ``(old, new)`` of ``replace``."""
    nb = nbformat.from_dict(nb)
    for old, new in replace:
        hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        assert hits, f"the fixture has no code {old!r}"
        for cell in hits:
            cell.source = cell.source.replace(old, new)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


# ----------------------------------------------------------------------------- answers that lie

class AlwaysClose(np.ndarray):
    """An array that answers every comparison (isclose, allclose, ==, isfinite) with True."""

    def __array_function__(self, func, types, args, kwargs):
        if func in (np.isclose, np.allclose, np.array_equal):
            return np.ones(np.broadcast(*args[:2]).shape, bool) if func is np.isclose else True
        return super().__array_function__(func, types, args, kwargs)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = getattr(ufunc, method)(*[np.asarray(i) for i in inputs], **kwargs)
        return np.ones(np.shape(out), bool) if ufunc in (np.equal, np.less_equal, np.isfinite) else out


class SaysEqual(int):
    """An int that says it equals any number."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = int.__hash__


def expect_near_miss_fails(name, fn, pattern):
    """Run the checker ``name`` on ``fn``, a near miss of a right answer: it must fail, with feedback matching
    the regular expression ``pattern`` (the output it names)."""
    from rnncourse.exercises import run_check

    passed, feedback = run_check(name, fn)
    assert not passed, f"{name} passed a near miss"
    assert re.search(pattern, feedback), feedback


def entries_differ(output: str) -> str:
    """The pattern of a checker's near-miss message for the array ``output`` (a regular expression)."""
    return rf"^(in the case [^:]*: )?{output}: \d+ of \d+ entries differ from the reference"

"""The author's loop: `make book` re-executes a chapter only when its code or the package changed.

The execution cache (``execute_notebooks: cache``) lives in ``_build/.jupyter_cache/<hash>``, the hash
taken over the ``rnncourse`` package and ``requirements.txt`` (``rnncourse.sphinxext``). A one-page
book with the real configuration is built three times into the same ``_build``: from empty (the
page executes), after a prose edit (its outputs come from the cache, and the executed notebook still
carries them), after a change of ``requirements.txt``, which stands for any change of the hashed
files (the page executes again). The first build is also the control for the faults planted in the
other tests: a clean page with math and code passes the strict build.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from conftest import JUPYTER_BOOK, STRICT
from rnncourse.sphinxext import source_hash
from test_book_build import mini_book

PAGE = "Some prose. Math $h_t = \\tanh(a_t)$.\n\n```{code-cell} ipython3\nprint('six times seven is', 6 * 7)\n```\n"


def build(src: Path) -> str:
    """Build ``src`` into its own ``_build`` without emptying it first (what `make book` does)."""
    proc = subprocess.run([str(JUPYTER_BOOK), "build", str(src), *STRICT], cwd=src, capture_output=True,
                          text=True, env={**os.environ, "PYTHONWARNINGS": ""})
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc.stdout + proc.stderr


def printed(src: Path) -> str:
    nb = nbformat.read(src / "_build" / "jupyter_execute" / "book" / "page.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.book
def test_a_prose_edit_reuses_the_outputs_and_a_package_change_executes_again(tmp_path):
    src = mini_book(tmp_path, PAGE)
    (src / "requirements.txt").write_text("numpy==2.0\n")
    # Tools leave Markdown in dot folders at the root (pytest writes .pytest_cache/README.md after
    # every run): the build must skip them, or a second `make test` fails on "not in any toctree".
    for folder in (".pytest_cache", ".hypothesis"):
        (src / folder).mkdir()
        (src / folder / "README.md").write_text("# Not a page of the book\n")
    first = build(src)          # also the control of the planted faults: a clean page passes the strict build
    assert "Executing notebook" in first and "Using cached notebook" not in first
    assert printed(src) == "six times seven is 42\n"
    # No page holds an interactive figure: their data and pictures are not drawn (the strict build's
    # browser tests check them where chapters 3 and 5 hold them).
    assert not list((src / "_build" / "html" / "_static").glob("*interactive*")), "figures written for no page"
    assert not (src / "_build" / "html" / "_static" / "rnncourse-figures-data.js").exists()

    page = src / "book" / "page.md"
    page.write_text(page.read_text().replace("Some prose.", "Some better prose."))
    second = build(src)
    assert "Using cached notebook" in second and "Executing notebook" not in second
    assert printed(src) == "six times seven is 42\n", "a cached page lost its outputs in jupyter_execute"
    assert "Some better prose." in (src / "_build" / "html" / "book" / "page.html").read_text()

    (src / "requirements.txt").write_text("numpy==2.1\n")
    third = build(src)
    assert "Executing notebook" in third and "Using cached notebook" not in third
    assert len(list((src / "_build" / ".jupyter_cache").iterdir())) == 1, "the old cache was not removed"


def test_the_cache_key_covers_every_python_file_of_the_package_and_the_extra_files(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "sub" / "model.py").write_text("W = 1\n")
    (package / "__init__.py").write_text("")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy==2.0\n")
    key = source_hash(package, requirements)
    assert source_hash(package, requirements) == key
    (package / "sub" / "model.py").write_text("W = 2\n")
    changed_code = source_hash(package, requirements)
    assert changed_code != key
    requirements.write_text("numpy==2.1\n")
    changed_pins = source_hash(package, requirements)
    assert changed_pins not in (key, changed_code)
    (package / "sub" / "model.py").rename(package / "model.py")       # same content, another module
    moved = source_hash(package, requirements)
    assert moved != changed_pins
    # An editor's swap and backup files are no change: opening a module in Vim re-ran every chapter.
    (package / ".model.py.swp").write_bytes(b"\x00vim")
    (package / "model.py~").write_text("W = 1\n")
    assert source_hash(package, requirements) == moved
    # Another Python: ch04 and ch09 train on its standard library's docstrings, so their outputs may differ.
    assert source_hash(package, requirements, interpreter="3.12.1 x86_64") not in (
        moved, source_hash(package, requirements, interpreter="3.11.7 x86_64"))


def test_ctrl_c_cancels_the_chapters_not_started_and_interrupts_as_before():
    # A build interrupted while chapters execute ahead waited for every queued chapter (about a minute), since
    # nbclient's handler in each worker only ends the current kernel and the worker took the next chapter.
    import signal
    import time
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from rnncourse.sphinxext import cancel_on_interrupt

    saved = signal.signal(signal.SIGINT, signal.default_int_handler)    # Python's own, as in jupyter-book
    pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
    try:
        chapters = [pool.submit(time.sleep, 0.2) for _ in range(6)]
        pool.shutdown(wait=False)
        cancel_on_interrupt(chapters)
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)                              # Ctrl-C
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        # One worker holds at most the chapter it runs and one queued: the other four never start.
        assert sum(chapter.cancelled() for chapter in chapters) >= 4
    finally:
        signal.signal(signal.SIGINT, saved)
        pool.shutdown(wait=True)


KERNEL_TRANSPORT = ("import json, os\nfrom ipykernel.connect import get_connection_file\n"
                    "info = json.load(open(get_connection_file()))\n"
                    "print(info['transport'], len(os.listdir(os.path.dirname(info['ip']))))\nprint(info['ip'])")


def over_unix_sockets(lines: list) -> None:
    assert lines[0] == "ipc 5", lines      # shell, iopub, stdin, control and heartbeat, nothing else there
    socket = Path(lines[1])
    assert len(f"{socket}-5") < 104, socket  # within the length of a Unix socket's path on Linux and macOS
    assert not socket.parent.exists()        # the folder goes with the kernel


def test_a_chapter_executed_ahead_runs_over_unix_sockets_of_its_own(tmp_path):
    # CI run of d45b31e: two chapters executed side by side picked the same TCP port (jupyter_client probes
    # a free port, closes it, and the kernel binds it a moment later); one kernel died at start, and its
    # chapter ran again, alone, after the others. Unix sockets in a folder of their own cannot collide.
    from rnncourse.sphinxext import execute

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_TRANSPORT)])
    executed, seconds, error = execute(nbformat.writes(notebook), str(tmp_path), timeout=60, allow_errors=False)
    assert error is None and seconds > 0
    over_unix_sockets(nbformat.reads(executed, as_version=4).cells[0].outputs[0]["text"].splitlines())


def test_a_chapter_myst_nb_executes_itself_runs_over_unix_sockets_too(tmp_path):
    # A page not executed ahead (a one-page book, a chapter that failed ahead) may start beside another build's.
    from myst_nb.core.execute import cache as client_module

    from rnncourse.sphinxext import patch_cache_client

    patch_cache_client()                     # what the extension's setup does, once
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_TRANSPORT)])
    result = client_module.single_nb_execution(notebook, cwd=str(tmp_path), timeout=60, allow_errors=False,
                                               meta_override=True)
    assert result.err is None
    over_unix_sockets(notebook.cells[0].outputs[0]["text"].splitlines())


def test_a_temporary_folder_too_long_for_a_socket_keeps_the_kernel_on_tcp(tmp_path, monkeypatch):
    # A socket's path may be 104 bytes long on macOS: under a long TMPDIR, zmq could not bind ("File name too
    # long") and every page of the build failed to execute.
    import tempfile

    from rnncourse.sphinxext import kernel_config

    usual = tempfile.gettempdir()                # /tmp here and in CI
    deep = tmp_path / ("d" * 60)
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    with kernel_config() as config:
        assert "transport" not in config.KernelManager and len(str(deep)) + 36 >= 104
    monkeypatch.setattr(tempfile, "tempdir", usual)
    with kernel_config() as config:
        assert config.KernelManager.transport == "ipc"
        assert len(os.fsencode(config.KernelManager.ip + "-99")) < 104      # macOS's limit, the tighter one

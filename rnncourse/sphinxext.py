"""Sphinx glue for the rnncourse book (loaded from ``_config.yml``; nothing else imports it).

- Each chapter page opens with a "Run it yourself" box: where to get the notebook, how to open it
  (Jupyter, Colab, or JupyterLab in a clone), and how long the chapter took to execute when this site was built.
- Each chapter's set-up cell gets the install source of this release written into it
  (``rnncourse_install`` in ``_config.yml``, filled with the repository's URL and the package's version),
  so a downloaded notebook installs the package it was built with; the chapters themselves name no URL.
- The execution cache (``execute_notebooks: cache`` in ``_config.yml``) lives in a folder named after
  a hash of the package's source, so a chapter re-executes when its code or the ``rnncourse`` code it
  runs changes, and a prose-only edit reuses the stored outputs.
- The chapters that must execute run side by side, one per core (``rnncourse_execution_jobs``), before
  Sphinx reads them one by one: Sphinx then finds each in the cache. A chapter that fails is executed
  again the usual way, so its error is reported as myst-nb reports it.
- Pages start in the light colour mode, and a script that an extension registers twice is
  emitted once (a duplicated ``const`` declaration is a JavaScript error in the reader's console).
- The bibliography's entries are list items to assistive technology (docutils marks them with the
  deprecated ARIA role ``doc-biblioentry``, which leaves their list without items).
- The API reference describes a NamedTuple's fields once, in the class's ``Attributes`` section,
  instead of listing every field again as "Alias for field number N".
- When the site is written, and a page of it holds an interactive figure, the data of the figures
  (``_static/rnncourse-figures-data.js``) and their static pictures are written into its ``_static``
  folder by :mod:`rnncourse.plotting.interactive`.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

from docutils import nodes

from rnncourse.install import install_source, write_install_source  # the student notebooks fill it too

# The extension's entry point, and what the tests and the README use (install_source and
# write_install_source are rnncourse.install's, read here by the set-up cells' filler).
__all__ = ["setup", "execute_ahead", "execute", "kernel_config", "patch_cache_client", "source_hash",
           "cancel_on_interrupt", "install_source", "write_install_source"]

CHAPTER = re.compile(r"^book/(\d\d)_\w+$")
FIELD_ALIAS = re.compile(r"^Alias for field number \d+$")


def chapter_runtime(env, docname: str) -> float | None:
    """Seconds the chapter took to execute in this build, from myst-nb's records."""
    from myst_nb.sphinx_ import NbMetadataCollector

    data = NbMetadataCollector.get_exec_data(env, docname)
    return data.get("runtime") if data else None


def run_it_yourself(docname: str, runtime: float | None) -> nodes.admonition:
    """The box shown under a chapter's title."""
    box = nodes.admonition(classes=["tip", "run-it-yourself"])
    box += nodes.title(text="Run it yourself")
    name = docname.split("/")[-1]
    para = nodes.paragraph()
    para += nodes.Text("Download this chapter as a notebook (")
    para += nodes.reference(text=f"{name}.ipynb", refuri=f"../_sources/{docname}.ipynb")
    para += nodes.Text(") and open it in Jupyter, or upload it to Google Colab: its first cell installs the "
                       "rnncourse package when it is missing. In a clone of the repository, run ")
    para += nodes.literal(text="make lab")
    para += nodes.Text(f" and open book/{name}.md. ")
    if runtime is not None:
        para += nodes.Text(f"Estimated run time: about {max(1, round(runtime))} s on the CPU that built this "
                           "site (the budget is one minute on a 2-core laptop). ")
    para += nodes.Text("PyTorch cells that place their models with ")
    para += nodes.literal(text="pick_device()")
    para += nodes.Text(" use a GPU when one is present; every other cell runs on the CPU.")
    box += para
    return box


def add_run_box(app, doctree, docname: str) -> None:
    if not CHAPTER.match(docname):
        return
    sections = list(doctree.findall(nodes.section))
    if not sections:
        return
    title = sections[0].next_node(nodes.title)
    index = sections[0].index(title) + 1 if title is not None else 0
    sections[0].insert(index, run_it_yourself(docname, chapter_runtime(app.env, docname)))


def tidy_page_context(app, pagename, templatename, context, doctree) -> None:
    context.setdefault("default_mode", "light")
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # The same script registered twice differs only in priority: compare what is emitted.
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    if "script_files" in context:
        context["script_files"][:] = unique
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def skip_field_aliases(app, what, name, obj, skip, options):
    """Leave out a NamedTuple's field accessors: the class's Attributes section describes the fields."""
    if what == "class" and FIELD_ALIAS.match((getattr(obj, "__doc__", None) or "").strip()):
        return True
    return None


INTERACTIVE = 'class="rnn-interactive"'


def note_interactive_figures(app, docname: str, source: list) -> None:
    """Remember which pages hold an interactive figure (kept with the environment between builds; a page
    read again was first forgotten by :func:`forget_interactive_figures`)."""
    if INTERACTIVE in source[0]:
        app.env.__dict__.setdefault("rnncourse_interactive", set()).add(docname)


def forget_interactive_figures(app, env, docname: str) -> None:
    getattr(env, "rnncourse_interactive", set()).discard(docname)


def write_interactive_figures(app, exception) -> None:
    """Write the interactive figures' data script and static pictures into the site's ``_static``.

    Only for a book that has such a figure on some page: drawing the pictures takes seconds, which a
    book without one (the tests' small books) need not spend.
    """
    if exception is not None or app.builder.format != "html" or not getattr(app.env, "rnncourse_interactive", None):
        return
    from rnncourse.plotting.interactive import write_figure_data, write_static_figures

    static = Path(app.outdir) / "_static"
    write_figure_data(static)
    write_static_figures(static / "interactive")


def fill_setup_cell(app, docname: str, source: list) -> None:
    if CHAPTER.match(docname) and app.config.rnncourse_install:
        import rnncourse

        url = app.config.html_theme_options.get("repository_url", "")
        source[0] = write_install_source(source[0], install_source(app.config.rnncourse_install, url,
                                                                    rnncourse.__version__))


def source_hash(package: Path, *extra: Path, interpreter: str = "") -> str:
    """A short hash of every Python file of the package (the wheel ships nothing else) and of ``extra`` files, by
    path and content, and of ``interpreter`` (the Python that runs the chapters: ch04 and ch09 read its standard
    library's docstrings). An editor's swap or backup file beside a module (``.elman.py.swp``, ``elman.py~``) is
    no change of the package: it would re-run every chapter and drop the cache of the package as it is."""
    digest = hashlib.sha256(interpreter.encode())
    files = sorted(p for p in package.rglob("*.py") if p.is_file() and "__pycache__" not in p.parts)
    for path in [*files, *(p for p in extra if p.is_file())]:
        name = path.relative_to(package) if path.is_relative_to(package) else path.name
        digest.update(f"{name}\0".encode() + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def key_execution_cache(app, config) -> None:
    """Point myst-nb's execution cache at ``_build/.jupyter_cache/<hash of rnncourse>``.

    jupyter-cache matches a notebook by its code cells only; naming the folder after the package's
    source (and the pinned toolchain, and the Python) makes a package change a new, empty cache and, through this
    changed config value, a full re-read of the book. Caches of older package states are removed.
    """
    if config.nb_execution_mode != "cache" or config.nb_execution_cache_path:
        return
    import rnncourse

    key = source_hash(Path(rnncourse.__file__).parent, Path(app.srcdir) / "requirements.txt",
                      interpreter=f"{sys.version} {platform.machine()}")
    caches = Path(app.outdir).parent / ".jupyter_cache"
    if caches.is_dir():
        for old in caches.iterdir():
            if old.name != key:
                shutil.rmtree(old, ignore_errors=True)
    config.nb_execution_cache_path = str(caches / key)


#: The length a Unix socket's path may have in bytes, its final NUL counted (104 on macOS and the BSDs, 108 on Linux).
SOCKET_PATH_BYTES = 104


@contextmanager
def kernel_config():
    """The configuration of a kernel that talks over Unix sockets in a folder of its own, where there are any.

    Kernels started side by side over TCP can pick the same port (jupyter_client probes a free port, closes it,
    and the kernel binds it a moment later), and the one that loses dies at start. Sockets in a folder of their
    own cannot collide. A socket's path may be 104 bytes long on macOS (108 on Linux): where the folder's path
    would be longer (a long ``TMPDIR``), the kernel talks over TCP, as on Windows.
    """
    import tempfile

    from traitlets.config import Config

    config = Config()
    with tempfile.TemporaryDirectory(prefix="rnncourse-kernel-") as sockets:
        sockets = os.path.join(sockets, "kernel")
        if os.name == "posix" and len(os.fsencode(sockets + "-99")) < SOCKET_PATH_BYTES:
            config.KernelManager.transport = "ipc"
            config.KernelManager.ip = sockets
        yield config


def execute(notebook_json: str, cwd: str, timeout: int, allow_errors: bool) -> tuple:
    """Execute a notebook (as JSON) in a kernel of its own, as myst-nb would: ``(notebook_json, seconds, error)``.

    Runs in a worker process of :func:`execute_ahead`; ``error`` is None when every cell ran. The kernel is
    configured by :func:`kernel_config`, as those myst-nb starts itself.
    """
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.reads(notebook_json, as_version=4)
    with kernel_config() as config:
        result = single_nb_execution(nb, cwd=cwd, timeout=timeout, allow_errors=allow_errors, meta_override=True,
                                     config=config)
    return nbformat.writes(nb), result.time, None if result.err is None else repr(result.err)


#: Chapters being executed ahead of Sphinx's reading, as path -> (future, read format); see execute_ahead.
AHEAD: dict = {}


def notebook_as_read(app, docname: str):
    """``(path, notebook, read format, execution config)`` of a page as myst-nb's parser will see it, or None.

    The same steps as ``myst_nb.sphinx_.Parser.parse``: the text after this extension's
    ``source-read`` change, myst-nb's reader, the notebook-level configuration.
    """
    from myst_nb.core.read import create_nb_reader

    env = app.env
    path = Path(env.doc2path(docname))
    text = [path.read_text(encoding="utf-8")]
    fill_setup_cell(app, docname, text)
    reader = create_nb_reader(str(path), env.myst_config, env.mystnb_config, text[0])
    if reader is None:
        return None
    notebook = reader.read(text[0])
    config = env.mystnb_config
    if config.metadata_key in notebook.metadata:
        overrides = dict(notebook.metadata[config.metadata_key])
        overrides.pop("output_folder", None)
        config = config.copy(**overrides)
    return path, notebook, reader.read_fmt, config


def execute_ahead(app, env, docnames) -> None:
    """Start executing every page about to be read that the execution cache does not hold, side by side.

    One worker process per core (or ``rnncourse_execution_jobs``), each chapter in a kernel of its
    own: a clean build of the book takes about as long as its slowest chapters instead of all of them.
    """
    jobs = app.config.rnncourse_execution_jobs or os.cpu_count() or 1
    if env.config.nb_execution_mode != "cache" or jobs < 2:
        return
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(env.mystnb_config.execution_cache_path)
    todo = []
    for docname in sorted(docnames):
        read = notebook_as_read(app, docname)
        if read is None or read[3].execution_mode != "cache":
            continue
        path, notebook, read_fmt, config = read
        try:
            cache.match_cache_notebook(notebook)
            continue                                            # already executed: nothing to do
        except KeyError:
            todo.append((path, notebook, read_fmt, config))
    if len(todo) < 2:
        return
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=get_context("spawn"))
    for path, notebook, read_fmt, config in todo:
        future = pool.submit(execute, nbformat.writes(notebook), str(path.parent), config.execution_timeout,
                             config.execution_allow_errors)
        AHEAD[str(path)] = (future, read_fmt)
    pool.shutdown(wait=False)
    cancel_on_interrupt([future for future, _ in AHEAD.values()])


def cancel_on_interrupt(futures) -> None:
    """At Ctrl-C, cancel the ``futures`` (chapters) not started yet, then interrupt as before.

    In each worker nbclient's own SIGINT handler only ends the kernel of the chapter it runs, and the worker
    takes the next one; the interrupted build then waited for every queued chapter (a minute or more) and
    threw their results away.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGINT)

    def interrupted(signum, frame):
        for future in futures:
            future.cancel()                          # a chapter already running cannot be cancelled
        signal.signal(signal.SIGINT, previous)
        if callable(previous):
            previous(signum, frame)                  # Python's default raises KeyboardInterrupt
        elif previous == signal.SIG_DFL:
            signal.raise_signal(signal.SIGINT)

    signal.signal(signal.SIGINT, interrupted)


def store_executed_ahead(client) -> None:
    """Wait for a page executed ahead and put it in the cache, where myst-nb's own lookup then finds it."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    future, read_fmt = AHEAD.pop(str(client.path), (None, None))
    if future is None:
        return
    try:
        executed, seconds, error = future.result()
    except Exception:                                           # the worker itself failed: myst-nb executes it
        return
    if error is not None:                                       # executed again by myst-nb, which reports it
        return
    cache = get_cache(client.nb_config.execution_cache_path)
    record = cache.add_nb_to_project(str(client.path), read_data=read_fmt)
    cache.cache_notebook_bundle(CacheBundleIn(nbformat.reads(executed, as_version=4), record.uri,
                                              data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)


def patch_cache_client() -> None:
    """Three changes to myst-nb's cache client, which looks a page up in the cache or executes it.

    - Before the lookup, a page executed ahead (:func:`execute_ahead`) is stored in the cache.
    - On a cache hit, myst-nb 1.4's client swaps in a merged copy of the notebook, while the page
      writes the original, output-less one to ``jupyter_execute/`` (the file that the theme offers for
      download, and that the tests read). Copying the merged cells back into the original fixes that.
    - A page it executes itself runs in a kernel configured by :func:`kernel_config`.
    """
    from myst_nb.core.execute import cache as client_module
    from myst_nb.core.execute.cache import NotebookClientCache

    if getattr(NotebookClientCache.start_client, "keeps_outputs", False):
        return
    single_nb_execution = client_module.single_nb_execution

    def execute_over_unix_sockets(*args, **kwargs):
        with kernel_config() as config:
            return single_nb_execution(*args, config=config, **kwargs)

    client_module.single_nb_execution = execute_over_unix_sockets
    start_client = NotebookClientCache.start_client

    def start_client_keeping_outputs(self):
        store_executed_ahead(self)
        original = self._notebook
        start_client(self)
        if self._notebook is not original:
            original.cells[:] = self._notebook.cells
            self._notebook = original

    start_client_keeping_outputs.keeps_outputs = True
    NotebookClientCache.start_client = start_client_keeping_outputs


def setup(app):
    patch_cache_client()
    # Before myst-nb reads its configuration (builder-inited) and Sphinx compares it with the last build's.
    app.connect("config-inited", key_execution_cache)
    app.add_config_value("rnncourse_install", "", "env", [str])
    app.add_config_value("rnncourse_execution_jobs", 0, "", [int])   # 0: one per core
    app.connect("env-before-read-docs", execute_ahead)
    app.connect("source-read", fill_setup_cell)
    app.connect("source-read", note_interactive_figures)
    app.connect("env-purge-doc", forget_interactive_figures)
    app.connect("doctree-resolved", add_run_box)
    # Run last, after the extensions that add scripts while a page is being written.
    app.connect("html-page-context", tidy_page_context, priority=900)
    app.connect("autodoc-skip-member", skip_field_aliases)
    app.connect("build-finished", write_interactive_figures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

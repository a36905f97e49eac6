"""The student's lab (`make lab`): a chapter opens as a notebook, runs, renders MyST, and saves unchanged.

Starts ``jupyter lab`` with the project's configuration (``jupyter/``, ``book/jupytext.toml``) on
127.0.0.1 with a token, on a free port, in a temporary copy of ``book/`` (the repository's chapters
are never touched), and drives it with Playwright and Debian's Chromium as a student would.
"""

from __future__ import annotations

import difflib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request

import jupytext
import pytest
from jupytext.config import load_jupytext_config
from jupytext.myst import CompactDumper

from conftest import ROOT
from rnncourse.lab import main as lab_main
from rnncourse.lab import use_literal_blocks, with_language_info

# One process runs this module's tests (make test: --dist loadgroup), so the lab starts once.
pytestmark = pytest.mark.xdist_group("test_lab")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

CHAPTER = "02_structure.md"   # short: 16 code cells, three figures
FIGURES = 3
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]


NOTEBOOKS = sorted(p.name for p in (ROOT / "book").glob("*.md") if p.read_text().startswith("---\njupytext:"))


@pytest.fixture
def literal_blocks():
    saved = dict(CompactDumper.yaml_representers)
    use_literal_blocks()
    yield
    CompactDumper.yaml_representers = saved


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_saving_a_chapter_unchanged_in_the_lab_rewrites_nothing(name, literal_blocks):
    """What the lab does to a chapter opened and saved unchanged (jupyter/jupyter_server_config.py)."""
    path = ROOT / "book" / name
    text = path.read_text()
    nb = with_language_info(jupytext.reads(text, fmt="md:myst"))
    # The lab writes the kernel's own name into the header unless the chapter already has it.
    from ipykernel.kernelspec import get_kernel_dict
    kernel = get_kernel_dict()
    assert nb.metadata.kernelspec == {"name": "python3", "display_name": kernel["display_name"],
                                      "language": kernel["language"]}, name
    written = jupytext.writes(nb, fmt="md:myst", config=load_jupytext_config(str(path)))
    diff = "\n".join(difflib.unified_diff(text.splitlines(), written.splitlines(), "as written",
                                          "as the lab saves it", lineterm="", n=1))
    assert written == text, (f"{name} changes when saved from the lab; write it as the lab does with "
                             f"`python -m rnncourse.lab book/{name}`:\n{diff[:3000]}")


def test_the_lab_command_rewrites_chapters_only_and_refuses_anything_else_in_one_line(tmp_path, capsys,
                                                                                     literal_blocks):
    """``python -m rnncourse.lab`` on copies: other files would get a Jupytext header (a .toml, a .ipynb ruined)."""
    for name in ("README.md", "book/jupytext.toml", "book/api.md", f"book/{CHAPTER}"):
        shutil.copy(ROOT / name, tmp_path)
    jupytext.write(jupytext.read(ROOT / "book" / CHAPTER), tmp_path / "02_structure.ipynb")
    # A chapter whose header YAML cannot read (a slip while editing it by hand), and bytes that are not UTF-8:
    # each was a traceback.
    (tmp_path / "broken.md").write_text((ROOT / "book" / CHAPTER).read_text().replace("kernelspec:", "kernelspec: [", 1))
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00x")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for names in ([], ["README.md"], ["jupytext.toml"], ["api.md"], ["02_structure.ipynb"], ["missing.md"], ["."],
                  [CHAPTER, "README.md"], ["broken.md"], ["binary.md"]):
        assert lab_main([str(tmp_path / name) for name in names]) == 2
        err = capsys.readouterr().err
        assert err.startswith("usage: python -m rnncourse.lab book/NN_slug.md") and err.count("\n") == 1, err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert lab_main(["--help"]) == 0 and capsys.readouterr().out.startswith("usage: python -m rnncourse.lab")
    assert lab_main([str(tmp_path / CHAPTER)]) == 0
    assert capsys.readouterr().out == f"unchanged {tmp_path / CHAPTER}\n"


def test_the_lab_command_reads_and_writes_utf8_whatever_the_locale(tmp_path):
    """Windows' default encoding (cp1252) or an ASCII locale made the lab crash on chapters with non-ASCII text."""
    chapter = "05_vanishing_exploding.md"
    assert not (ROOT / "book" / chapter).read_text(encoding="utf-8").isascii()
    for name in (f"book/{chapter}", "book/jupytext.toml"):
        shutil.copy(ROOT / name, tmp_path)
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    probe = subprocess.run([sys.executable, "-c", "import locale; print(locale.getpreferredencoding(False))"],
                           env=env, capture_output=True, text=True, check=True)
    assert "utf" not in probe.stdout.lower().replace("-", ""), probe.stdout      # the locale really is not UTF-8
    done = subprocess.run([sys.executable, "-m", "rnncourse.lab", str(tmp_path / chapter)], env=env,
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("unchanged"), done.stderr[-2000:]
    assert (tmp_path / chapter).read_bytes() == (ROOT / "book" / chapter).read_bytes()


def test_language_info_is_the_kernels(literal_blocks):
    from ipykernel.ipkernel import IPythonKernel
    nb = with_language_info(jupytext.reads((ROOT / "book" / NOTEBOOKS[0]).read_text(), fmt="md:myst"))
    assert nb.metadata.language_info == IPythonKernel.language_info


def needs_browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed; install Debian's package with `apt-get install chromium` "
                    "(.ci/run does this in CI)")
    pytest.importorskip("jupyterlab", reason="jupyterlab is installed by requirements.txt")
    return pytest.importorskip("playwright.sync_api", reason="playwright is installed by requirements.txt")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running lab on a copy of book/, with the project's Jupyter configuration: (url, token, book)."""
    needs_browser()
    tmp = tmp_path_factory.mktemp("lab")
    book = tmp / "book"
    shutil.copytree(ROOT / "book", book, ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints"))
    config = tmp / "jupyter"
    shutil.copytree(ROOT / "jupyter", config, ignore=shutil.ignore_patterns("user-settings", "workspaces"))
    token = secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    env.pop("MPLBACKEND", None)
    log = open(tmp / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         "--ServerApp.port=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={book}", "--ServerApp.allow_root=True"],
        cwd=book, env=env, stdout=log, stderr=subprocess.STDOUT)
    # The port is the one the server binds (port 0: the system picks), read from the file it writes: a port picked
    # here and bound there later could be taken in between by another test's kernel or connection.
    server_info = tmp / "runtime" / f"jpserver-{server.pid}.json"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{json.loads(server_info.read_text())['port']}"
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except (OSError, ValueError, KeyError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("jupyter lab did not start:\n" + (tmp / "lab.log").read_text()[-3000:])
                time.sleep(0.3)
        yield url, token, book
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def page(lab, playwright, tmp_path_factory):
    url, token, _ = lab
    needs_browser()
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
        args=ARGS, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30000)
    page.goto(f"{url}/lab?token={token}")
    yield page
    context.close()


def sync_api_error():
    return needs_browser().Error


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel").get_by_text(top, exact=True).click()
    page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).click()


@pytest.mark.browser
def test_a_chapter_opens_as_a_notebook_runs_renders_myst_and_saves_unchanged(lab, page):
    url, token, book = lab
    before = (book / CHAPTER).read_bytes()

    # Double-click in the file browser: a notebook, not the text editor.
    page.locator(".jp-DirListing-itemText").get_by_text(CHAPTER, exact=True).dblclick()
    notebook = page.locator(".jp-NotebookPanel:visible")
    notebook.locator(".jp-CodeCell").first.wait_for()
    assert page.locator(".jp-FileEditor:visible").count() == 0
    # Once loaded and its kernel started, the chapter is not marked modified (rnncourse/lab.py).
    page.locator(".jp-StatusBar-Widget").get_by_text("Python 3 (ipykernel) | Idle").wait_for()
    page.wait_for_timeout(500)
    assert page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() == 0, "opening marked it modified"

    # MyST rendered by jupyterlab-myst: math typeset, references resolved, no raw roles left.
    text = notebook.locator(".jp-MarkdownCell").all_inner_texts()
    assert not [t for t in text if "{numref}" in t or "{eq}" in t or "(ch-structure)=" in t], text[:3]
    assert notebook.locator(".jp-MarkdownCell").get_by_text("Exercise 1", exact=True).count() >= 1
    math = notebook.locator(".jp-MarkdownCell .katex, .jp-MarkdownCell mjx-container, .jp-MarkdownCell .math")
    try:
        math.first.wait_for(state="attached", timeout=10000)
    except sync_api_error():
        pytest.fail("no typeset math: " + notebook.locator(".jp-MarkdownCell").nth(2).inner_html()[:3000])

    # Run All: every code cell runs (Run All stops at the first error), figures appear.
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        "() => { const p = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
        ".jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim());"
        " return p.length > 0 && p.every(t => /^\\[\\d+\\]:$/.test(t)); }", timeout=45000)
    errors = notebook.locator(".jp-OutputArea-output").filter(has_text="Traceback").all_inner_texts()
    assert not errors, errors[0][-2000:]
    images = notebook.locator(".jp-OutputArea-output img")
    assert images.count() >= FIGURES
    assert all(img.evaluate("i => i.complete && i.naturalWidth > 0") for img in images.all())

    # Saving writes the chapter back byte for byte (book/jupytext.toml); then closing asks nothing.
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')")
    assert (book / CHAPTER).read_bytes() == before
    menu(page, "File", "Close Tab")
    notebook.wait_for(state="detached")
    assert page.locator(".jp-Dialog").count() == 0

    # By URL, too, the chapter opens as a notebook.
    page.goto(f"{url}/lab/tree/{CHAPTER}?token={token}")
    page.locator(".jp-NotebookPanel:visible .jp-CodeCell").first.wait_for()
    assert page.locator(".jp-FileEditor:visible").count() == 0

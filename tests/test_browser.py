"""The built book as a reader meets it: every page in headless Chromium, served and from file://.

Uses Debian's Chromium (``apt-get install chromium``) through Playwright's Python package, with no
browser download. Screenshots of every chapter at a phone and a desktop width are written to
``_build/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.book]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("Chromium is not installed; install Debian's package with `apt-get install chromium` "
                "(.ci/run does this in CI)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is installed by requirements.txt")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def site_pages(html: Path) -> list[str]:
    """Every content page of the site, as paths relative to the site root."""
    pages = sorted(p.relative_to(html).as_posix() for p in (html / "book").glob("*.html"))
    return pages


def chapter_pages(html: Path) -> list[str]:
    return [p for p in site_pages(html) if re.match(r"book/\d\d_", p)]


@pytest.fixture(scope="session")
def site(book_build):
    assert book_build.returncode == 0, book_build.output[-4000:]
    return book_build.html


@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as p:
        profile = tmp_path_factory.mktemp("chromium-profile")
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS, viewport=DESKTOP)
        yield context
        context.close()


class PageLog:
    """What went wrong while a page loaded: console errors and failed requests."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status}: {r.url}"))


def open_page(browser, url: str, viewport=DESKTOP):
    page = browser.new_page()
    page.set_viewport_size(viewport)
    log = PageLog(page)
    page.goto(url, wait_until="load")
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30000)
    return page, log


def wait_for_math(page) -> None:
    if page.locator("div.math, span.math").count():
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        page.evaluate("() => MathJax.startup.promise")


def test_every_page_loads_cleanly_with_typeset_math_images_and_captions(browser, server, site):
    problems = []
    for rel in site_pages(site):
        page, log = open_page(browser, f"{server}/{rel}")
        wait_for_math(page)
        n_math = page.locator("div.math, span.math").count()
        if n_math:
            if page.locator("mjx-container").count() < n_math:
                problems.append(f"{rel}: {n_math} math elements but only "
                                f"{page.locator('mjx-container').count()} typeset")
            text = page.locator("article").inner_text()
            for raw in ("\\(", "\\[", "$$"):
                if raw in text:
                    problems.append(f"{rel}: raw TeX {raw!r} left in the text")
        broken = page.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                               ".map(i => i.src)")
        problems += [f"{rel}: image not loaded: {src}" for src in broken]
        uncaptioned = page.evaluate(
            "() => [...document.querySelectorAll('article img')].filter(i => !i.alt && "
            "!i.closest('figure')?.querySelector('figcaption')).map(i => i.src)")
        problems += [f"{rel}: figure without caption or alt text: {src}" for src in uncaptioned]
        problems += [f"{rel}: {e}" for e in log.errors]
        page.close()
    assert not problems, "\n".join(problems)


class LinkParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


@functools.lru_cache(maxsize=None)
def parse_html(path: Path) -> LinkParser:
    parser = LinkParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_internal_link_and_anchor_resolves(site):
    broken = []
    for html_file in sorted(site.rglob("*.html")):
        if "_static" in html_file.parts or "reports" in html_file.parts:
            continue
        for href in parse_html(html_file).links:
            url = urllib.parse.urlsplit(href)
            if url.scheme or href.startswith(("mailto:", "javascript:")):
                continue
            target = (html_file.parent / urllib.parse.unquote(url.path)).resolve() if url.path else html_file
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{html_file.relative_to(site)}: {href} (no such file)")
            elif url.fragment and target.suffix == ".html" and url.fragment not in parse_html(target).ids:
                broken.append(f"{html_file.relative_to(site)}: {href} (no anchor #{url.fragment})")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("word", ["gradient", "Jordan"])
def test_search_finds(browser, server, word):
    page, log = open_page(browser, f"{server}/search.html?q={word}")
    page.wait_for_selector("#search-results ul.search li", timeout=20000)
    hits = page.locator("#search-results ul.search li").count()
    page.close()
    assert hits > 0, f"search for {word!r} found nothing"
    assert not log.errors, log.errors


def test_solution_is_hidden_until_clicked(browser, server, site):
    for rel in chapter_pages(site):
        page, _ = open_page(browser, f"{server}/{rel}")
        solutions = page.locator("div.solution.dropdown")
        if solutions.count():
            solution = solutions.first
            body = solution.locator("section, p").last
            assert not body.is_visible(), f"{rel}: the first solution is visible before a click"
            solution.locator("button.toggle-button").click()
            body.wait_for(state="visible", timeout=5000)
            page.close()
            return
        page.close()
    pytest.fail("no chapter has a folded solution")


def test_download_ipynb_yields_a_notebook_with_outputs(server, site):
    import urllib.request

    for rel in chapter_pages(site):
        html = (site / rel).read_text(encoding="utf-8")
        match = re.search(r'href="([^"]*_sources/[^"]*\.ipynb)"', html)
        assert match, f"{rel} offers no .ipynb download"
        url = urllib.parse.urljoin(f"{server}/{rel}", match.group(1))
        with urllib.request.urlopen(url) as response:
            nb = nbformat.reads(response.read().decode(), as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert outputs, f"the notebook downloaded from {rel} carries no outputs"
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert "pip" in first.source and 'find_spec("rnncourse")' in first.source, \
            f"the notebook downloaded from {rel} does not open with the cell that installs rnncourse"
        assert "find_spec" not in html, f"{rel} shows the set-up cell, which the book hides"


def test_layout_holds_at_phone_and_desktop_width(browser, server, site):
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    problems = []
    for rel in ["book/intro.html", *chapter_pages(site)]:
        for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page, _ = open_page(browser, f"{server}/{rel}", viewport)
            wait_for_math(page)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 2:
                problems.append(f"{rel} at {name} width scrolls sideways by {overflow} px")
            page.screenshot(path=str(shots / f"{Path(rel).stem}-{name}.png"), full_page=False)
            page.close()
    assert not problems, "\n".join(problems)


def test_book_reads_from_file_urls_with_no_server(browser, site, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    for rel in ["index.html", *chapter_pages(copy)[:3]]:
        page, log = open_page(browser, (copy / rel).as_uri())
        wait_for_math(page)
        if page.locator("div.math, span.math").count():
            assert page.locator("mjx-container").count() > 0, f"{rel}: math not typeset from file://"
        broken = page.evaluate("() => [...document.images].filter(i => i.naturalWidth === 0).map(i => i.src)")
        assert not broken, f"{rel}: images not loaded from file://: {broken}"
        assert not [e for e in log.errors if "file://" in e], log.errors
        page.close()

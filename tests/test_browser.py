"""The built book as a reader meets it: every page in headless Chromium, served and from file://.

Uses Debian's Chromium (``apt-get install chromium``) through Playwright's Python package, with no
browser download. Each page of ``_toc.yml`` is one test that loads the page once and checks it at a
phone and then a desktop width (so pytest-xdist spreads the pages over the cores). Screenshots of
every chapter at both widths, and of two chapters in the theme's dark mode, are written to
``_build/screenshots/`` for a person to look at.

Accessibility: axe-core (bundled in the ``axe-playwright-python`` wheel) finds nothing of impact
serious or critical on any page (its contrast rule checks one element of each text style, see
:func:`axe_problems`); every figure has alt text that describes it; formulas carry
assistive MathML; folded solutions and code open from the keyboard. The interactive figures
(``_static/rnncourse-figures.js``) are set to given values and their numbers compared with
:mod:`rnncourse.plotting.interactive`'s NumPy results.
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
from test_book_build import toc_files

pytestmark = [pytest.mark.browser, pytest.mark.book]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    import axe_playwright_python.sync_playwright as axe_playwright
    from playwright import sync_api
except ImportError:           # the ``browser`` fixture skips the tests that need them, saying how to install them
    axe_playwright = sync_api = None

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"]
PHONE = {"width": 390, "height": 844}
PHONE_375 = {"width": 375, "height": 812}      # the narrowest common phone, for what a narrow screen cuts off
PHONE_320 = {"width": 320, "height": 700}      # the width at which WCAG 1.4.10 (reflow) asks for no sideways scrolling
DESKTOP = {"width": 1280, "height": 900}


#: The pages, known when the tests are collected: a page of the table of contents that the build
#: does not make fails its test. (index.html only redirects to book/intro.html.)
PAGES = [f"{name}.html" for name in toc_files()]
CHAPTERS = [p for p in PAGES if re.match(r"book/\d\d_", p)]
#: The pages whose layout is checked (and screenshotted) at two phones' widths and a desktop's: every page,
#: the API reference's long signatures and the bibliography's headings too.
LAYOUT_PAGES = PAGES


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
def browser(request, tmp_path_factory):
    """Chromium, driven by Playwright. Only the tests that take it are skipped where either is missing: the
    others read the built pages' HTML and run anyway."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed; install Debian's package with `apt-get install chromium` "
                    "(.ci/run does this in CI)")
    pytest.importorskip("playwright.sync_api", reason="playwright is installed by requirements.txt")
    pytest.importorskip("axe_playwright_python.sync_playwright",
                        reason="axe-playwright-python is installed by requirements.txt")
    playwright = request.getfixturevalue("playwright")         # started only where there is a browser to drive
    profile = tmp_path_factory.mktemp("chromium-profile")
    context = playwright.chromium.launch_persistent_context(
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
    for rel in CHAPTERS:
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

    for rel in CHAPTERS:
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


def test_book_reads_from_file_urls_with_no_server(browser, site, tmp_path):
    # A copy, at another path than the one it was built in: a page that named a file by the build's
    # absolute path would fail here (copying the 39 MB takes about 0.1 s).
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    # The index (which redirects), and the two chapters with interactive figures: every chapter loads
    # the same scripts, styles and MathJax, and its images from the same folder, so other chapters
    # would add loads but nothing that file:// could break differently.
    for rel in ["index.html", "book/03_forward.html", "book/05_vanishing_exploding.html"]:
        page, log = open_page(browser, (copy / rel).as_uri())
        wait_for_math(page)
        for figure in page.locator(".rnn-interactive").all():
            # The interactive figures load their data as a script, which file:// allows.
            figure.locator("svg").wait_for(timeout=10000)
            assert "rnn-live" in figure.get_attribute("class"), f"{rel}: interactive figure not built from file://"
        if page.locator("div.math, span.math").count():
            assert page.locator("mjx-container").count() > 0, f"{rel}: math not typeset from file://"
        broken = page.evaluate("() => [...document.images].filter(i => i.naturalWidth === 0).map(i => i.src)")
        assert not broken, f"{rel}: images not loaded from file://: {broken}"
        assert not [e for e in log.errors if "file://" in e], log.errors
        page.close()


# ---------------------------------------------------------------- accessibility

SHOTS = ROOT / "_build" / "screenshots"
#: Two chapters with many figures, screenshotted and checked in the theme's dark mode.
DARK_CHAPTERS = ("book/03_forward.html", "book/05_vanishing_exploding.html")


def open_in_mode(browser, url: str, mode: str, viewport=DESKTOP):
    """Open ``url`` in the theme's light or dark mode, as the theme's own switch would leave it."""
    page = browser.new_page()
    page.set_viewport_size(viewport)
    page.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    log = PageLog(page)
    page.goto(url, wait_until="load")
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30000)
    return page, log


#: Marks the open page's contrast sample: the first element of each text style, where a text style is
#: all that axe's color-contrast rule reads to judge an element's text (its colours, stroke and shadow,
#: font, opacity, and the background it is drawn on). One walk down the page: an element's background
#: is its own where it has one (colour or image), else its parent's, blended over its parent's where
#: its own is partly transparent; its opacity is its own times its parent's. Only elements that axe
#: itself would check are sampled: shown on screen, not clipped away (the screen-reader-only labels),
#: not disabled, with a letter or digit in their own text (axe skips punctuation and astral symbols).
#: Returns the number of elements marked.
MARK_CONTRAST_SAMPLE = r"""() => {
    const styles = new Set(), sample = [];
    const opaque = colour => colour.startsWith("rgb(") || /^rgba\(.*, 1\)$/.test(colour);
    const overlap = (a, b) => a.right > b.left && a.left < b.right && a.bottom > b.top && a.top < b.bottom;
    const hasLetters = node => /[\p{L}\p{N}]/u.test(node.data.replace(/[^\u0000-\uffff]/gu, ""));
    const control = "input:not([type=hidden], [type=range], [type=color], [type=checkbox], [type=radio], "
                    + "[type=image]), select, textarea";

    function checkedByAxe(element, texts, visibleBox) {
        if (element.closest(":disabled, [aria-disabled=true]")
                || !element.checkVisibility({visibilityProperty: true})) return false;
        if (!texts.length) return element.getClientRects().length > 0;  // a form control
        const range = document.createRange();
        return texts.some(text => {
            range.selectNodeContents(text);
            return [...range.getClientRects()].some(r => r.width > 0 && r.height > 0 && overlap(r, visibleBox));
        });
    }

    function walk(element, background, opacity, visibleBox) {
        const style = getComputedStyle(element);
        const image = style.backgroundImage === "none" ? "" : " " + style.backgroundImage;
        if (image || style.backgroundColor !== "rgba(0, 0, 0, 0)") {
            background = opaque(style.backgroundColor) ? style.backgroundColor + image
                                                       : `${background} under ${style.backgroundColor}${image}`;
        }
        opacity *= parseFloat(style.opacity);
        if (style.clip !== "auto" || style.clipPath !== "none") {
            visibleBox = {left: 0, top: 0, right: 0, bottom: 0};
        } else if ([style.overflowX, style.overflowY].some(o => o === "hidden" || o === "clip")) {
            const box = element.getBoundingClientRect();
            visibleBox = {left: Math.max(visibleBox.left, box.left), top: Math.max(visibleBox.top, box.top),
                          right: Math.min(visibleBox.right, box.right), bottom: Math.min(visibleBox.bottom, box.bottom)};
        }
        const texts = [...element.childNodes].filter(n => n.nodeType === Node.TEXT_NODE && hasLetters(n));
        if (texts.length || element.matches(control)) {
            const textStyle = [style.color, style.webkitTextFillColor, style.webkitTextStrokeWidth,
                               style.webkitTextStrokeColor, style.textShadow, style.fontSize, style.fontWeight,
                               style.fontFamily, opacity, background].join(" | ");
            if (!styles.has(textStyle) && checkedByAxe(element, texts, visibleBox)) {
                styles.add(textStyle);
                sample.push(element);
            }
        }
        for (const child of element.children) walk(child, background, opacity, visibleBox);
    }

    document.querySelectorAll("[data-contrast-sample]").forEach(e => e.removeAttribute("data-contrast-sample"));
    const page = document.documentElement;
    walk(document.body, "the page's", 1,
         {left: -scrollX, top: -scrollY, right: page.scrollWidth - scrollX, bottom: page.scrollHeight - scrollY});
    sample.forEach(e => e.setAttribute("data-contrast-sample", ""));
    return sample.length;
}"""


def axe_problems(page, rel: str, mode: str = "") -> list[str]:
    """axe-core's violations of impact serious or critical on the open page ``rel``, one line per element.

    ``mode`` (e.g. ``" (dark mode)"``) is said after the page's name in each line. One axe run, every
    rule on the whole page, except that color-contrast checks only the page's contrast sample
    (``MARK_CONTRAST_SAMPLE``): each text style once, so every style of the page is checked, in the
    code cells too, in a run that costs little more than one without contrast. Why: each axe run
    costs in proportion to the page's size, and contrast on every element the most (on the API
    page, 46,000 elements: one run of all rules but contrast took 9.6 CPU-s, contrast on one of its
    sections 7.9 s, on the whole page minutes). What the sample can miss: an element of a sampled
    style whose background differs from the sample's by what overlaps it rather than by its
    ancestors (positioned or floating boxes, pseudo-elements, an image behind the text); and a
    style whose sampled element axe cannot judge (partly covered: "needs review", not a violation).
    """
    wait_for_math(page)
    page.evaluate(MARK_CONTRAST_SAMPLE)
    # axe injected here, not by Axe.run, which would inject it afresh and so undo the configure.
    page.evaluate(axe_playwright.Axe().axe_script)
    violations = page.evaluate("""() => {
        axe.configure({rules: [{id: "color-contrast", selector: "[data-contrast-sample]"}]});
        return axe.run(document, {resultTypes: ["violations"]}).then(results => results.violations);
    }""")
    problems = []
    for v in violations:
        if v["impact"] in ("serious", "critical"):
            problems += [f"{rel}{mode} [axe]: {v['id']} ({v['impact']}): {v['help']}: {n['target']} "
                         f"{n.get('failureSummary', '')}" for n in v["nodes"]]
    return problems


def contrast_page(body: str, style: str = "") -> str:
    return (f'<html lang="en"><head><title>contrast</title><style>{style}</style></head>'
            f'<body><main>{body}</main></body></html>')


def contrast_problems(page) -> list[str]:
    return [p for p in axe_problems(page, "test.html") if "color-contrast" in p]


def test_contrast_sample_checks_each_text_style_once_and_finds_the_faint_one(browser):
    """Hundreds of code spans of one good style and one faint span: the sample holds one element of
    each style, and axe reports the faint one, in a code cell (``.highlight``) like the chapters'."""
    page = browser.new_page()
    good = " ".join(f'<span class="n">name{i}</span>' for i in range(300))
    page.set_content(contrast_page(f'<p>Some prose.</p><div class="highlight"><pre>{good} '
                                   f'<span id="faint" style="color: #c8c8c8">faint</span> {good}</pre></div>'))
    sampled = page.evaluate(MARK_CONTRAST_SAMPLE)
    marked = page.locator("[data-contrast-sample]").evaluate_all("es => es.map(e => e.id || e.localName)")
    problems = axe_problems(page, "test.html")
    page.close()
    # The styles: the prose, the code (pre's own text, the spaces, has no letter), the faint span.
    assert sampled == 3 and marked == ["p", "span", "faint"], marked
    assert len(problems) == 1 and problems[0].startswith("test.html [axe]: color-contrast (serious)") \
        and "#faint" in problems[0], problems


def test_axe_checks_contrast_on_the_sample_only(browser):
    """axe.configure's selector replaces the rule's own: of 200 faint spans of one style, axe checks
    (and so reports) only the one in the sample; other rules still check the whole page."""
    page = browser.new_page()
    faint = " ".join(f'<span style="color: #c8c8c8">faint{i}</span>' for i in range(200))
    page.set_content(contrast_page(f'<p>{faint}</p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'))
    problems = axe_problems(page, "test.html")
    page.close()
    assert len([p for p in problems if "color-contrast" in p]) == 1, problems
    assert any("image-alt (critical)" in p for p in problems), problems


def test_contrast_sample_tells_backgrounds_apart_by_the_parents(browser):
    """Light text on a light card inside a dark page: the same text style as the page's good text but
    for the background it inherits from its parent, which the sample tells apart."""
    page = browser.new_page()
    prose = "".join(f"<p>Light text on the dark page, paragraph {i}.</p>" for i in range(50))
    page.set_content(contrast_page(f'{prose}<div style="background: #fafafa"><p id="on-card">Light text on '
                                   f'a light card.</p></div>', style="body { background: #111; color: #eee }"))
    problems = contrast_problems(page)
    page.close()
    assert len(problems) == 1 and "#on-card" in problems[0], problems


def test_contrast_sample_skips_elements_that_axe_does_not_check(browser):
    """A text style's first elements are ones axe leaves out (folded, screen-reader only, off-screen,
    invisible, disabled, punctuation or an astral symbol alone): the sample takes the next, which
    axe checks."""
    page = browser.new_page()
    hidden = ('<details><summary>Solution</summary><p class="faint">folded</p></details>'
              '<span class="faint sr-only">for screen readers</span>'
              '<span class="faint" style="position: absolute; left: -9999px">off-screen</span>'
              '<span class="faint" style="visibility: hidden">invisible</span>'
              '<button class="faint" disabled>disabled</button> <span class="faint">(</span> '
              '<span class="faint">𝟙</span>')
    style = (".faint { color: #c8c8c8; font: inherit; background: none; border: none; padding: 0 } "
             ".sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0, 0, 0, 0) }")
    page.set_content(contrast_page(f'{hidden}<p><span class="faint" id="shown">shown</span></p>', style=style))
    problems = contrast_problems(page)
    page.close()
    assert len(problems) == 1 and "#shown" in problems[0], problems


def layout_problems(page, rel: str, width: str) -> list[str]:
    """Does the open page scroll sideways? A screenshot of it goes to ``_build/screenshots``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{Path(rel).stem}-{width}.png"), full_page=False)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    return [f"{rel} [layout]: at {width} width scrolls sideways by {overflow} px"] if overflow > 0 else []


def load_problems(page, rel: str) -> list[str]:
    """Is the open page's math typeset, no raw TeX left, every image loaded and captioned?"""
    problems = []
    n_math = page.locator("div.math, span.math").count()
    if n_math:
        if page.locator("mjx-container").count() < n_math:
            problems.append(f"{rel} [load]: {n_math} math elements but only "
                            f"{page.locator('mjx-container').count()} typeset")
        text = page.locator("article").inner_text()
        for raw in ("\\(", "\\[", "$$"):
            if raw in text:
                problems.append(f"{rel} [load]: raw TeX {raw!r} left in the text")
    broken = page.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                           ".map(i => i.src)")
    problems += [f"{rel} [load]: image not loaded: {src}" for src in broken]
    uncaptioned = page.evaluate(
        "() => [...document.querySelectorAll('article img')].filter(i => !i.alt && "
        "!i.closest('figure')?.querySelector('figcaption')).map(i => i.src)")
    problems += [f"{rel} [load]: figure without caption or alt text: {src}" for src in uncaptioned]
    return problems


def stream_seam_problems(page, rel: str) -> list[str]:
    """Does a cell's printed text read as one box? The kernel sends it in pieces as it comes (a cell that prints,
    trains, then prints again), each an output of its own; the CSS joins consecutive pieces: no gap, no rounded
    corner and one background where one piece meets the next."""
    seams = page.evaluate("""() => [...document.querySelectorAll(
            'div.cell_output > .output.stream + .output.stream')].map(second => {
        const a = second.previousElementSibling.querySelector('pre'), b = second.querySelector('pre');
        const sa = getComputedStyle(a), sb = getComputedStyle(b);
        return {gap: b.getBoundingClientRect().top - a.getBoundingClientRect().bottom,
                corners: [sa.borderBottomLeftRadius, sb.borderTopLeftRadius].join(' '),
                same: sa.backgroundColor === sb.backgroundColor, text: b.textContent.trim().slice(0, 40)};
    })""")
    problems = [f"{rel} [output]: printed text in separate boxes, before {seam['text']!r}: {seam}" for seam in seams
                if abs(seam["gap"]) > 0.5 or seam["corners"] != "0px 0px" or not seam["same"]]
    if rel.endswith("06_topologies.html") and not seams:     # its training logs print over seconds: in pieces
        problems.append(f"{rel} [output]: no printed text came in pieces, so the seams were not checked")
    return problems


#: The accessible name (aria-label) of each solution's and hint's toggle button, its aria-expanded, the
#: word it shows on a wide screen, and the title it folds; and the aria-label of each folded code cell's summary.
TOGGLE_NAMES = """() => ({
    buttons: [...document.querySelectorAll('.dropdown > p.admonition-title > button.toggle-button')].map(b => ({
        name: b.getAttribute('aria-label') || '', expanded: b.getAttribute('aria-expanded'),
        shown: getComputedStyle(b, '::before').content.replace(/^"(.*)"$/, '$1'),
        title: b.parentElement.textContent.replace(/\\s+/g, ' ').trim(),
    })),
    summaries: [...document.querySelectorAll('details.hide > summary')].map(s => s.getAttribute('aria-label')),
})"""


def toggle_problems(page, rel: str) -> list[str]:
    """WCAG 2.5.3 (label in name): a screen reader names each solution's and hint's button "Show Solution to
    Exercise 4.1", "Hide ..." once open, where sphinx-togglebutton gives them all "Toggle hidden content"
    (_static/rnncourse-toggles.js), and the name begins with the word the button shows on a desktop ("Show",
    togglebutton_hint in _config.yml); a folded code cell's summary is named by its visible "Show code cell
    source". Opens the page's first folded solution."""
    problems, toggles = [], page.evaluate(TOGGLE_NAMES)
    names = [b["name"] for b in toggles["buttons"]]
    for b in toggles["buttons"]:
        if not (b["name"].startswith("Show ") and b["title"] in b["name"] and b["expanded"] == "false"):
            problems.append(f"{rel}: a folded button on {b['title']!r} is named {b['name']!r}")
        if not b["name"].startswith(b["shown"] + " "):
            problems.append(f"{rel}: the button on {b['title']!r} shows {b['shown']!r} but is named {b['name']!r}")
    problems += [f"{rel}: two toggle buttons are named {n!r}" for n in sorted(set(names)) if names.count(n) > 1]
    problems += [f"{rel}: a folded code cell's summary is labelled {a!r}" for a in toggles["summaries"] if a is not None]
    if rel in CHAPTERS and not names:                    # every chapter folds the solutions of its exercises
        problems.append(f"{rel}: no folded solution found, so the toggle buttons' names were not checked")
    if names:
        page.locator(".dropdown > p.admonition-title > button.toggle-button").first.click()
        opened = page.evaluate(TOGGLE_NAMES)["buttons"][0]
        if not (opened["name"] == "Hide " + names[0][5:] and opened["expanded"] == "true"
                and opened["name"].startswith(opened["shown"] + " ")):
            problems.append(f"{rel}: once open, the first toggle button is named {opened['name']!r}")
    return problems


@pytest.mark.parametrize("rel", PAGES, ids=lambda rel: Path(rel).stem)
def test_page_loads_cleanly_fits_phone_and_desktop_and_axe_finds_nothing_serious(browser, server, site, rel):
    """One load of the page: at a phone's width, then a desktop's, the checks a reader's visit needs.

    Loads without console errors or failed requests, math typeset with no raw TeX left, images loaded
    and captioned, a cell's printed text in one box, the folded blocks named by what they fold; the page
    does not scroll sideways at 320 px, 390 px or a desktop's width, and at 375 px, solutions open, cuts
    off no inline formula or code; axe-core finds nothing of impact serious or critical, with every
    solution and hint open.
    """
    assert (site / rel).exists(), f"{rel} is in _toc.yml but the build made no such page"
    layout = rel in LAYOUT_PAGES
    page, log = open_page(browser, f"{server}/{rel}", PHONE_320 if layout else DESKTOP)
    wait_for_math(page)
    problems = []
    if layout:
        problems += layout_problems(page, rel, "320")
        page.set_viewport_size(PHONE)
        problems += layout_problems(page, rel, "phone")
    page.set_viewport_size(DESKTOP)
    problems += load_problems(page, rel)
    problems += [f"{rel} [load]: {e}" for e in log.errors]
    problems += stream_seam_problems(page, rel)
    problems += toggle_problems(page, rel)
    problems += clipped_problems(page, rel)
    page.set_viewport_size(DESKTOP)
    if layout:
        problems += layout_problems(page, rel, "desktop")
    problems += axe_problems(page, rel)
    page.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rel", ["genindex.html", "py-modindex.html", "search.html"])
def test_the_index_and_search_pages_fit_a_phone(browser, server, site, rel):
    # Not in the table of contents, but a link away on every page (the sidebar's search, the API's index).
    page, _ = open_page(browser, f"{server}/{rel}", PHONE_320)
    problems = layout_problems(page, rel, "320")
    page.set_viewport_size(PHONE)
    problems += layout_problems(page, rel, "phone")
    page.close()
    assert not problems, "\n".join(problems)


class ImageParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


FILE_NAME = re.compile(r"^\S*\.(png|jpe?g|svg|gif|webp)$|^\S*/\S*$|^[0-9a-f]{16,}$", re.IGNORECASE)


def alt_text_problem(alt: str | None, figure: bool = True) -> str | None:
    """Why ``alt`` does not describe an image (None when it does); a figure's needs a sentence."""
    if alt is None or not alt.strip():
        return "no alt text"
    if FILE_NAME.match(alt.strip()):
        return f"alt text is a file name: {alt!r}"
    if figure and len(alt.split()) < 6:
        return f"alt text too short to say what the figure shows: {alt!r}"
    return None


def test_alt_text_check_catches_file_names_and_empty_text():
    assert alt_text_problem("../_images/5252a4e0c1.png") == "alt text is a file name: '../_images/5252a4e0c1.png'"
    assert alt_text_problem("") == "no alt text"
    assert alt_text_problem(None) == "no alt text"
    assert alt_text_problem("figure") is not None
    assert alt_text_problem("Line chart of the loss against the step: it falls towards zero.") is None
    assert alt_text_problem("Binder logo", figure=False) is None


def test_every_chapter_image_says_what_it_shows(site):
    problems, count = [], 0
    for rel in ["book/intro.html", *CHAPTERS]:                  # the introduction's course map too
        parser = ImageParser()
        parser.feed((site / rel).read_text(encoding="utf-8"))
        for img in parser.images:
            count += 1
            # The book's figures (made by the chapters' code, or the interactive figures' static
            # pictures) need a description; the theme's icons a name.
            src = img.get("src", "")
            why = alt_text_problem(img.get("alt"), figure="_images/" in src or "_static/interactive/" in src)
            if why:
                problems.append(f"{rel}: {img.get('src')}: {why}")
    assert count >= 30, f"only {count} images in the chapters: is the build complete?"
    assert not problems, "\n".join(problems)


def test_math_carries_assistive_mathml(browser, server):
    page, log = open_page(browser, f"{server}/book/02_structure.html")
    wait_for_math(page)
    containers = page.locator("mjx-container").count()
    assistive = page.locator("mjx-container > mjx-assistive-mml > math").count()
    sample = page.locator("mjx-container mjx-assistive-mml math").first.inner_html()
    page.close()
    assert containers > 10
    assert assistive == containers, f"{assistive} of {containers} formulas carry assistive MathML"
    assert "<mi>h</mi>" in sample or "<mi>" in sample, sample
    assert not log.errors, log.errors


def tab_to(page, selector: str) -> None:
    """Put the keyboard focus on the first visible element matching ``selector`` by pressing Tab.

    Focus starts on a focusable element a few places before it in the page's tab order (the nearest
    that takes focus), and pressing Tab must reach it: it is in the tab order, reachable by keyboard.
    """
    presses = page.evaluate("""(selector) => {
        const target = [...document.querySelectorAll(selector)].find(e => e.getClientRects().length);
        const focusable = [...document.querySelectorAll('a[href], button, input, select, summary, [tabindex]')]
            .filter(e => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length);
        const i = focusable.indexOf(target);
        window.tabTarget = target;
        for (let j = i - 1; j >= Math.max(0, i - 10); j--) {
            focusable[j].focus();
            if (document.activeElement === focusable[j]) return i - j;
        }
        return 0;
    }""", selector)
    assert presses, f"{selector} is not in the tab order"
    for _ in range(presses + 2):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement === window.tabTarget"):
            return
    pytest.fail(f"Tab did not move the focus to {selector}")


def test_folded_solution_and_hidden_code_open_with_the_keyboard(browser, server):
    page, _ = open_page(browser, f"{server}/book/02_structure.html")
    toggle = "div.solution.dropdown button.toggle-button"
    body = page.locator("div.solution.dropdown").first.locator("section, p").last
    assert not body.is_visible()
    tab_to(page, toggle)
    page.keyboard.press("Enter")
    body.wait_for(state="visible", timeout=5000)
    page.close()

    # A folded code cell (hide-input): its summary line opens it.
    page, _ = open_page(browser, f"{server}/book/03_forward.html")
    tab_to(page, "details.hide summary")
    assert page.evaluate("() => window.tabTarget.parentElement.open") is False
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.tabTarget.parentElement.open", timeout=5000)
    page.close()


def test_sidebar_buttons_open_the_chapter_list_on_a_phone_and_hide_it_on_a_desktop(browser, server):
    """The article header's "Toggle primary sidebar" button opens the chapter list as a drawer on a phone,
    and hides and shows the sidebar on a desktop; "Toggle secondary sidebar" opens the page's contents.

    Both themes bind these actions to the page's first ``.primary-toggle`` and ``.secondary-toggle``, which
    must be these visible buttons, not the hidden ones of the theme's top bar (_templates/sections/header.html).
    """
    page, log = open_page(browser, f"{server}/book/04_bptt.html", PHONE_375)
    chapter_link = "a[href='05_vanishing_exploding.html']"
    drawer = page.locator("#pst-primary-sidebar-modal")
    assert not drawer.locator(chapter_link).is_visible()
    page.locator(".bd-header-article button.primary-toggle").click()
    drawer.locator(chapter_link).wait_for(state="visible", timeout=5000)
    page.keyboard.press("Escape")
    drawer.wait_for(state="hidden", timeout=5000)
    page.locator(".bd-header-article button.secondary-toggle").click()
    page.locator("#pst-secondary-sidebar-modal nav.page-toc a").first.wait_for(state="visible", timeout=5000)
    page.keyboard.press("Escape")

    page.set_viewport_size(DESKTOP)
    in_sidebar = page.locator(f"#pst-primary-sidebar {chapter_link}")
    assert in_sidebar.is_visible(), "the sidebar is not shown on a desktop"
    page.locator(".bd-header-article button.primary-toggle").click()
    in_sidebar.wait_for(state="hidden", timeout=5000)
    assert not drawer.is_visible(), "on a desktop the button opened the phone's drawer"
    page.locator(".bd-header-article button.primary-toggle").click()
    in_sidebar.wait_for(state="visible", timeout=5000)
    page.close()
    assert not log.errors, log.errors


def test_math_is_typeset_from_file_urls_after_mathjaxs_explorer_was_switched_on(browser, site):
    """MathJax's explorer (its menu's Accessibility > Activate) fetches speech rules at run time, which fails
    from file://: every formula of every page then stays raw TeX, since MathJax saved the setting. The book
    turns MathJax's menu off (_config.yml), and drops such a setting saved before (_static/rnncourse-mathjax.js)."""
    rel = "book/02_structure.html"
    page = browser.new_page()
    log = PageLog(page)
    page.add_init_script("localStorage.setItem('MathJax-Menu-Settings', "
                         "JSON.stringify({explorer: true, collapsible: true}));")
    try:
        page.goto((site / rel).as_uri(), wait_until="load")
        try:
            page.wait_for_function("() => document.querySelectorAll('mjx-container').length"
                                   " >= document.querySelectorAll('div.math, span.math').length", timeout=15000)
        except sync_api.TimeoutError:
            pass                                          # load_problems says what is missing
        problems = load_problems(page, rel) + [f"{rel}: {e}" for e in log.errors]
    finally:
        page.evaluate("() => localStorage.removeItem('MathJax-Menu-Settings')")
        page.close()
    assert not problems, "\n".join(problems)


def test_formulas_are_not_tab_stops_unless_they_scroll_and_keep_their_assistive_mathml(browser, server):
    """A keyboard reader reaches the chapter's links and figures without passing through every formula;
    only a display equation wider than its column, which scrolls sideways, is a Tab stop, for the arrow
    keys to scroll it (as the theme does for code blocks): _static/rnncourse-mathjax.js."""
    page, _ = open_page(browser, f"{server}/book/04_bptt.html")
    wait_for_math(page)
    formulas = page.evaluate("""() => [...document.querySelectorAll('mjx-container')].map(f => ({
        tabStop: f.tabIndex >= 0,
        scrolls: f.parentElement.matches('div.math') && f.scrollWidth > f.clientWidth + 1,
        assistive: !!f.querySelector(':scope > mjx-assistive-mml > math'),
    }))""")
    page.close()
    assert len(formulas) > 100
    scrolling = sum(f["scrolls"] for f in formulas)
    assert scrolling >= 1, "no display equation scrolls at a desktop's width: this test checks nothing"
    wrong = [f for f in formulas if f["tabStop"] != f["scrolls"]]
    assert not wrong, f"{len(wrong)} of {len(formulas)} formulas are Tab stops where they do not scroll, or the reverse"
    assert all(f["assistive"] for f in formulas), "a formula lacks its assistive MathML"


#: The article header's buttons, by the name a screen reader reads.
HEADER_BUTTONS = {
    "Toggle primary sidebar": ".bd-header-article button.primary-toggle",
    "Launch interactive content": ".bd-header-article .dropdown-launch-buttons > button",
    "Source repository": ".bd-header-article a.btn-source-repository-button",
    "Download this page": ".bd-header-article .dropdown-download-buttons > button",
}


def test_article_header_buttons_show_a_focus_ring(browser, server):
    page, _ = open_page(browser, f"{server}/book/03_forward.html")
    rings = {}
    for name, selector in HEADER_BUTTONS.items():
        tab_to(page, selector)
        rings[name] = page.evaluate("""() => {
            const s = getComputedStyle(document.activeElement);
            return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor];
        }""")
    page.close()
    missing = {name: ring for name, ring in rings.items()
               if ring[0] in ("none", "hidden") or ring[1] < 2 or ring[2] in ("transparent", "rgba(0, 0, 0, 0)")}
    assert not missing, f"no focus ring (outline style, width, colour): {missing}"


#: What the open page cuts off: inline formulas and inline code wider than a box whose overflow is hidden.
CLIPPED_INLINE = """() => {
    const cut = [];
    for (const e of document.querySelectorAll('article span.math mjx-math, article code.literal')) {
        if (!e.checkVisibility()) continue;
        let box = e.parentElement;
        while (box && box !== document.body && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
        if (!box || box === document.body || !['hidden', 'clip'].includes(getComputedStyle(box).overflowX)) continue;
        const lost = e.getBoundingClientRect().right - box.getBoundingClientRect().right;
        if (lost > 1) {
            const text = e.closest('mjx-container')?.querySelector('mjx-assistive-mml')?.textContent ?? e.textContent;
            cut.push(`${Math.round(lost)} px of ${text.slice(0, 50)}`);
        }
    }
    return cut;
}"""


def clipped_problems(page, rel: str) -> list[str]:
    """At 375 px, with every solution and hint open (chapter 3's Solution 3.1(c) ends in "= 5002"), does the
    theme's own style cut off an inline formula or code name wider than the column? It should wrap. Leaves the
    page at 375 px with every fold open."""
    page.evaluate("() => document.querySelectorAll('div.dropdown button.toggle-button[aria-expanded=\"false\"]')"
                  ".forEach(b => b.click())")
    page.set_viewport_size(PHONE_375)
    page.wait_for_timeout(300)
    return [f"{rel} [layout]: at 375 width, with the solutions open, cuts off {cut}" for cut in page.evaluate(CLIPPED_INLINE)]


@pytest.mark.parametrize("rel", DARK_CHAPTERS, ids=lambda rel: Path(rel).stem)
def test_figures_are_readable_and_axe_finds_nothing_serious_in_dark_mode(browser, server, rel):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page, log = open_in_mode(browser, f"{server}/{rel}", "dark")
    wait_for_math(page)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    figure = page.locator("div.cell_output img").first
    style = figure.evaluate("i => [getComputedStyle(i).filter, getComputedStyle(i).backgroundColor]")
    figure.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{Path(rel).stem}-dark.png"), full_page=False)
    page.locator("figure").nth(1).scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{Path(rel).stem}-dark-figure.png"), full_page=False)
    live = page.locator(".rnn-interactive.rnn-live")
    live.first.wait_for(timeout=10000)
    live.first.screenshot(path=str(SHOTS / f"{Path(rel).stem}-dark-interactive.png"))
    errors = list(log.errors)
    accessibility = axe_problems(page, rel, " (dark mode)")
    page.close()
    red, green, blue = map(int, re.findall(r"\d+", background)[:3])
    assert max(red, green, blue) < 60, f"{rel}: the page is not dark: {background}"
    # The figure's dark ink is inverted to light on the page's own dark background.
    assert "invert" in style[0], f"{rel}: figures are not inverted in dark mode: {style}"
    assert style[1] == "rgba(0, 0, 0, 0)", f"{rel}: figures sit on a light card: {style}"
    assert not errors, errors
    assert not accessibility, "\n".join(accessibility)



def test_api_reference_describes_namedtuple_fields_once(site):
    html = (site / "book" / "api.html").read_text(encoding="utf-8")
    assert "Alias for field number" not in html
    # The fields are described in the class's Attributes section, with their shapes.
    assert re.search(r"x</strong>.{0,400}shape \(T, B, D\)", html, re.S), "RNNCache.x is not described"


# ---------------------------------------------------------------- interactive figures

def figure_numbers(page, selector: str, attribute: str):
    import json

    return json.loads(page.locator(selector).get_attribute(f"data-{attribute}"))


def print_problems(page, rel: str, figure: str) -> list[str]:
    """In print, does the open page show the figure's static picture instead of the live one?"""
    page.emulate_media(media="print")
    problems = [] if page.locator(f"{figure} img.rnn-static").is_visible() else [f"{rel}: no static picture in print"]
    if page.locator(f"{figure} .rnn-live-part").is_visible():
        problems.append(f"{rel}: live figure printed")
    if not page.evaluate(f"document.querySelector('{figure} img.rnn-static').naturalWidth") > 0:
        problems.append(f"{rel}: the static picture did not load")
    page.emulate_media(media="screen")
    return problems


#: An A4 page's printable width in CSS pixels, with Chrome's default margins.
PRINT_WIDTH = {"width": 717, "height": 1000}


def test_printed_code_and_equations_fit_the_page(browser, server):
    """On paper nothing scrolls: code lines wrap, and wide display equations wrap (or their number moves
    above them) instead of being cut at the page's edge."""
    page, _ = open_page(browser, f"{server}/book/04_bptt.html", PRINT_WIDTH)
    page.emulate_media(media="print")
    wait_for_math(page)
    cut = page.evaluate("""() => {
        const wide = e => e.checkVisibility() && e.scrollWidth > e.clientWidth + 1;
        const pre = [...document.querySelectorAll('article pre')];
        const equations = [...document.querySelectorAll('article div.math')];
        return {pre: pre.length, cutPre: pre.filter(wide).map(e => e.textContent.slice(0, 40)),
                equations: equations.length,
                cutEquations: equations.filter(d => wide(d) || [...d.children].some(wide)).map(d => d.id)};
    }""")
    page.close()
    assert cut["pre"] > 20 and cut["equations"] > 10, cut
    assert not cut["cutPre"], f"{len(cut['cutPre'])} of {cut['pre']} code blocks cut in print: {cut['cutPre'][:5]}"
    assert not cut["cutEquations"], f"display equations cut in print: {cut['cutEquations']}"


#: Slider settings of the gradients figure (rho, input scale, lag): vanishing, at the edge, exploding.
GRADIENT_SETTINGS = [(0.9, 2.0, 25), (1.0, 1.0, 50), (1.3, 0.4, 80)]


def test_gradients_figure_equals_numpy_and_prints_its_static_picture(browser, server):
    """One load of chapter 5, the sliders set to each of ``GRADIENT_SETTINGS`` in turn: the figure's
    numbers equal NumPy's, and in print the static picture replaces it."""
    import numpy as np

    from rnncourse.plotting.interactive import gradient_network, gradient_norms

    rel = "book/05_vanishing_exploding.html"
    page, log = open_page(browser, f"{server}/{rel}")
    figure = "#interactive-gradients"
    page.wait_for_selector(f"{figure}.rnn-live", timeout=10000)
    assert not page.locator(f"{figure} img.rnn-static").is_visible(), "the static picture shows beside the live one"
    for rho, scale, lag in GRADIENT_SETTINGS:
        page.locator(f"{figure} input[id^=rnn-rho]").fill(str(rho))
        page.locator(f"{figure} input[id^=rnn-scale]").fill(str(scale))
        page.locator(f"{figure} input[id^=rnn-lag]").fill(str(lag))
        # The figure redraws on the next animation frame; wait until it has computed for these values.
        page.wait_for_selector(f'{figure}[data-settings="{rho:.2f},{scale:.1f},{lag}"]', timeout=10000)
        expected = gradient_norms(gradient_network(), rho, scale)
        np.testing.assert_allclose(figure_numbers(page, figure, "norms"), expected, rtol=1e-6,
                                   err_msg=f"rho={rho}, scale={scale}")
        assert float(page.locator(figure).get_attribute("data-norm-at-lag")) == pytest.approx(expected[lag], rel=1e-6)
        readout = page.locator(f"{figure} .rnn-readout").inner_text()
        mantissa, exponent = f"{expected[lag]:.2e}".split("e")
        assert f"lag ℓ = {lag}: ‖∂hT / ∂hT−ℓ‖₂ = " in readout, readout
        # Shown with a superscript, which screen readers do not announce: hidden from them, and a spoken form
        # beside it that only they read.
        shown = page.locator(f"{figure} .rnn-readout span[aria-hidden=true]").first.inner_text()
        assert shown == f"{mantissa} × 10{int(exponent)}".replace("-", "−"), shown
        spoken = page.locator(f"{figure} .rnn-readout .rnn-sr-only").first
        assert spoken.inner_text() == f"{mantissa} times 10 to the power {int(exponent)}".replace("-", "−")
        assert spoken.bounding_box()["width"] <= 1                        # not on the screen
        # The keyboard moves a slider too: one step of the lag with the arrow key.
        page.locator(f"{figure} input[id^=rnn-lag]").focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_selector(f'{figure}[data-settings="{rho:.2f},{scale:.1f},{lag + 1}"]', timeout=10000)
        assert float(page.locator(figure).get_attribute("data-norm-at-lag")) == \
            pytest.approx(expected[lag + 1], rel=1e-6)
    problems = print_problems(page, rel, figure)
    page.close()
    assert not problems, problems
    assert not log.errors, log.errors


def test_forward_figure_steps_like_numpy_and_prints_its_static_picture(browser, server):
    import numpy as np

    from rnncourse.plotting.interactive import forward_network, forward_steps

    net = forward_network()
    page, log = open_page(browser, f"{server}/book/03_forward.html")
    figure = "#interactive-forward"
    page.wait_for_selector(f"{figure}.rnn-live", timeout=10000)
    for name, tokens in net["sequences"].items():
        page.locator(f"{figure} select").select_option(name)
        expected = forward_steps(net, tokens)
        assert figure_numbers(page, figure, "hs") == []
        for t in range(1, len(tokens) + 1):
            page.locator(f"{figure} button.rnn-next").click()
            for key in ("hs", "zs", "probs"):
                np.testing.assert_allclose(figure_numbers(page, figure, key), expected[key][:t], rtol=1e-6, atol=1e-12)
            readout = page.locator(f"{figure} .rnn-readout").inner_text()
            assert f"Step {t}: the input is token {tokens[t - 1]}" in readout
            assert f"gives P(yes: a 2 has come after a 1) = {expected['probs'][t - 1, 1]:.3f}." in readout, readout
        assert page.locator(f"{figure} button.rnn-next").is_disabled()
        # The pressed button is disabled at the end: focus goes to "Previous step", not to the page.
        assert "rnn-prev" in page.evaluate("document.activeElement.className")
        page.locator(f"{figure} button.rnn-prev").click()
        assert page.locator(figure).get_attribute("data-step") == str(len(tokens) - 1)
    # By keyboard alone: Tab to "Next step" after a reset, press Enter, and step 1 is computed.
    page.locator(f"{figure} button.rnn-reset").click()
    tab_to(page, f"{figure} button.rnn-next")
    page.keyboard.press("Enter")
    assert page.locator(figure).get_attribute("data-step") == "1"
    problems = print_problems(page, "book/03_forward.html", figure)
    page.close()
    assert not problems, problems
    assert not log.errors, log.errors


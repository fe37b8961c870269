"""The built book in a real browser: Debian's headless Chromium, driven by Playwright.

Playwright only drives /usr/bin/chromium here; it never downloads a browser of its own.
The book is served from 127.0.0.1 and every request to any other host is refused, so the
test also shows that the book (math included) works with no internet.

For every page of the table of contents: no console errors, no failed requests; the math
is typeset (MathJax output present, no raw TeX delimiters left); every image loaded and has
alt text in words (not empty, not a file name); every figure has a numbered caption; and,
on chapter and exercise pages, the launch menu offers Colab. A full-page screenshot of
each page is saved in _build/screenshots/ for a person to look at.

The bibliography page lists its works, and a citation in a chapter leads to its entry.
Dark mode: with the reader's system set to dark, pages open dark (nothing forces light
mode), and every figure stays readable: the marks that stand out from a figure's
background in light mode (text, axes, curves) still stand out in dark mode. Three pages
are kept as screenshots in both modes.
"""
import functools
import http.server
import io
import re
import shutil
import threading
from pathlib import Path

import pytest

from book_support import ROOT, built_book
from ci_rules import require
from fcnet.chapters import CHAPTERS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS = ROOT / "_build" / "screenshots"

PAGES = ["book/intro"] + [f"{folder}/{stem}" for stem in CHAPTERS
                          for folder in ("book", "exercises")] + \
        ["book/for_students", "book/for_instructors"]
MATH_PAGES = {"book/intro"} | {f"book/{stem}" for stem in CHAPTERS}
FIGURE_PAGES = [f"book/{stem}" for stem in CHAPTERS]
# Kept in _build/screenshots/ in light and dark mode.
BOTH_MODES = ["book/intro", "book/02_relu", "book/06_tuning"]
FILE_NAME = re.compile(r"^\S+\.(png|jpe?g|gif|svg|webp)$|^[0-9a-f]{16,}", re.I)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    html = built_book("student")
    handler = functools.partial(QuietHandler, directory=str(html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.exists():
        require("browser", "Debian's chromium is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api as playwright_api
    except ImportError:
        require("browser", "playwright is not installed")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1280, "height": 900}, color_scheme="light")
        yield context
        context.close()


@pytest.fixture(scope="module")
def screenshots():
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


def visit(browser, url):
    """Open url; return (page, problems) where problems lists console errors and failures."""
    page = browser.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}")
            if not r.url.startswith(("https://colab", "https://github")) else None)
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)
    host = url.split("/", 3)[2]

    def offline(route):
        if route.request.url.split("/", 3)[2] == host:
            route.continue_()
        else:  # no internet: anything the book fetches from elsewhere fails loudly
            problems.append(f"tried to reach the internet: {route.request.url}")
            route.abort()

    page.route("**/*", offline)
    page.goto(url, wait_until="load")
    return page, problems


def wait_for_math(page):
    """Wait until MathJax (if the page loads it) has typeset everything."""
    page.wait_for_function(
        "() => !document.querySelector('script[src*=\"mathjax\"]') || "
        "(window.MathJax && MathJax.startup && MathJax.startup.promise && "
        " (MathJax.startup.promise.then(() => window.__typeset = true), window.__typeset))",
        timeout=60_000)


def visible_text_outside_code(page):
    return page.evaluate("""() => {
        const article = document.querySelector('article') || document.body;
        const copy = article.cloneNode(true);
        copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight')
            .forEach(e => e.remove());
        return copy.innerText;
    }""")


@pytest.mark.parametrize("name", PAGES)
def test_page_reads_well_in_a_browser(name, server, browser, screenshots):
    page, problems = visit(browser, f"{server}/{name}.html")
    try:
        wait_for_math(page)
        page.wait_for_load_state("networkidle")

        # Math: typeset output where the page has math, and no TeX left as raw text.
        typeset = page.locator("mjx-container").count()
        if name in MATH_PAGES:
            assert typeset > 0, f"{name}: no typeset math"
        raw = visible_text_outside_code(page)
        # ("$" alone too: a display formula that failed to parse leaves its dollars behind.)
        for delimiter in ("\\(", "\\)", "$$", "$", "\\begin{", "\\frac"):
            assert delimiter not in raw, f"{name}: raw TeX {delimiter!r} left on the page"

        # The chapters' own formulas and tables fit the text column (no sideways scrolling).
        if name.startswith("book/"):
            too_wide = page.evaluate("""() => Array.from(document.querySelectorAll(
                    'article mjx-container[display="true"], article table'))
                .filter(e => e.getBoundingClientRect().width >
                             document.querySelector('article').getBoundingClientRect().width + 1
                             || e.scrollWidth > e.clientWidth + 1)
                .map(e => e.textContent.slice(0, 60))""")
            assert not too_wide, f"{name}: too wide for the page: {too_wide}"

        # Images: every one has loaded and has pixels, and says in words what it shows.
        broken = page.evaluate("""() => Array.from(document.images)
            .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src)""")
        assert not broken, f"{name}: images did not load: {broken}"
        for src, alt in page.evaluate("""() => Array.from(document.images)
                .map(img => [img.getAttribute('src'), img.getAttribute('alt')])"""):
            assert alt and alt.strip(), f"{name}: {src} has no alt text"
            words = alt.strip()
            assert not FILE_NAME.match(words) and words != src.rsplit("/", 1)[-1], \
                f"{name}: the alt text of {src} is a file name: {words!r}"

        # Figures: every one has a caption that starts with its number.
        captions = page.evaluate("""() => Array.from(document.querySelectorAll('article figure'))
            .map(f => [f.id, (f.querySelector('figcaption .caption-number') || {}).innerText,
                       (f.querySelector('figcaption') || {}).innerText])""")
        for figure_id, number, caption in captions:
            assert number and re.match(r"Figure \d+(\.\d+)*", number.strip()), \
                f"{name}: figure {figure_id} has no numbered caption"
            assert len(caption or "") > len(number) + 20, f"{name}: {figure_id}: {caption!r}"
        if name in FIGURE_PAGES:
            assert captions, f"{name}: no figures"
        assert page.evaluate("document.documentElement.dataset.theme") == "light", name

        # Launch menu: Colab, opening the chapter's exercise notebook.
        if name.split("/")[1] in CHAPTERS:
            stem = name.split("/")[1]
            page.locator("button[aria-label='Launch interactive content']").first.click()
            colab = page.locator(".dropdown-launch-buttons a", has_text="Colab").first
            colab.wait_for(state="visible", timeout=5_000)
            href = colab.get_attribute("href")
            assert href.startswith("https://colab.research.google.com/github/"), href
            assert href.endswith(f"/exercises/{stem}.ipynb"), href
            page.keyboard.press("Escape")

        page.screenshot(path=str(screenshots / f"{name.replace('/', '__')}.png"),
                        full_page=True)
        assert not problems, f"{name}:\n  " + "\n  ".join(problems)
    finally:
        page.close()


def test_bibliography_renders_and_citations_lead_to_it(server, browser):
    page, problems = visit(browser, f"{server}/book/references.html")
    try:
        entries = page.locator("article div.citation")
        assert entries.count() >= 3, "the bibliography lists fewer than three works"
        text = page.locator("article").inner_text().lower()
        assert "krizhevsky" in text and "learning multiple layers" in text
    finally:
        page.close()
    page, problems = visit(browser, f"{server}/book/05_solver.html")
    try:
        citation = page.locator("article a[href*='references.html#']",
                                has_text="Krizhevsky").first
        assert citation.count() == 1, "chapter 5 does not cite CIFAR-10's report"
        citation.click()
        page.wait_for_load_state("load")
        assert page.url.split("#")[0].endswith("/book/references.html")
        target = page.url.split("#", 1)[1]
        assert page.locator(f"[id='{target}']").is_visible()
        assert not problems, problems
    finally:
        page.close()


def figure_shots(page):
    """PNG screenshots of every figure image on the page, as the reader sees it."""
    images = page.locator("article figure img")
    shots = []
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
        shots.append(images.nth(i).screenshot())
    return shots


@pytest.mark.parametrize("name", FIGURE_PAGES)
def test_dark_mode_keeps_every_figure_readable(name, server, browser, screenshots):
    page, problems = visit(browser, f"{server}/{name}.html")
    try:
        page.wait_for_load_state("networkidle")
        light = figure_shots(page)
        if name in BOTH_MODES:
            page.screenshot(path=str(screenshots / f"{name.replace('/', '__')}__light.png"),
                            full_page=True)
        page.emulate_media(color_scheme="dark")
        page.reload(wait_until="load")
        page.wait_for_load_state("networkidle")
        # The reader's dark setting wins: nothing forces light mode any more.
        assert page.evaluate("document.documentElement.dataset.theme") == "dark", name
        dark = figure_shots(page)
        if name in BOTH_MODES:
            page.screenshot(path=str(screenshots / f"{name.replace('/', '__')}__dark.png"),
                            full_page=True)
        assert len(dark) == len(light) > 0
        for i, (shot_light, shot_dark) in enumerate(zip(light, dark)):
            assert readable_in_both(shot_light, shot_dark), \
                f"{name}: figure {i + 1} loses its marks in dark mode"
        assert not problems, problems
    finally:
        page.close()


def test_intro_in_both_modes(server, browser, screenshots):
    """The front page (no figures) kept in both modes too."""
    for mode in ("light", "dark"):
        page, problems = visit(browser, f"{server}/book/intro.html")
        try:
            page.emulate_media(color_scheme=mode)
            page.reload(wait_until="load")
            assert page.evaluate("document.documentElement.dataset.theme") == mode
            page.screenshot(path=str(screenshots / f"book__intro__{mode}.png"), full_page=True)
            assert not problems, problems
        finally:
            page.close()


# ------------------------------------------------------------------ readability measure

def _luminance(rgb):
    """WCAG relative luminance of sRGB pixels (values 0..255), shape (..., 3) -> (...)."""
    import numpy as np
    c = np.asarray(rgb, dtype=float) / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def ink_fraction(png, contrast=3.0):
    """The share of a picture's pixels that stand out from its background (its most
    common colour) with at least `contrast` : 1, WCAG's minimum for graphics."""
    import numpy as np
    from PIL import Image
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(rgb // 8, axis=0, return_counts=True)
    background = _luminance(colours[np.argmax(counts)] * 8 + 4)
    lum = _luminance(rgb)
    ratio = (np.maximum(lum, background) + 0.05) / (np.minimum(lum, background) + 0.05)
    return float(np.mean(ratio >= contrast))


def readable_in_both(light_png, dark_png):
    """A figure is readable in dark mode when at least half as much of it stands out from
    its background as in light mode (a transparent figure with black text on a dark page
    keeps only its coloured curves, far less)."""
    return ink_fraction(dark_png) >= 0.5 * ink_fraction(light_png) > 0


def test_readability_measure_catches_a_transparent_figure_on_a_dark_page():
    import numpy as np
    from PIL import Image

    def png(pixels):
        out = io.BytesIO()
        Image.fromarray(pixels.astype(np.uint8)).save(out, format="PNG")
        return out.getvalue()

    ink = np.zeros((60, 80), bool)
    ink[10:14, 5:75] = ink[20:50, 30:33] = True          # "text" and an axis, in black
    curve = np.zeros_like(ink)
    curve[40, 5:75] = True                               # one coloured curve
    def figure(background):
        pixels = np.empty((60, 80, 3))
        pixels[:] = background
        pixels[ink] = (0, 0, 0)
        pixels[curve] = (31, 119, 180)
        return png(pixels)
    white_card, dark_page = figure((255, 255, 255)), figure((18, 18, 18))
    assert readable_in_both(white_card, figure((219, 219, 219)))  # the theme's dimmed card
    assert not readable_in_both(white_card, dark_page)

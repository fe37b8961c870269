"""The built book in a real browser: Debian's headless Chromium, driven by Playwright.

Playwright only drives /usr/bin/chromium here; it never downloads a browser of its own.
The book is served from 127.0.0.1 and every request to any other host is refused, so the
test also shows that the book (math included) works with no internet.

For every page of the table of contents: no console errors, no failed requests; the math
is typeset (MathJax output present, no raw TeX delimiters left); every image loaded; and,
on chapter and exercise pages, the launch menu offers Colab. A full-page screenshot of
each page is saved in _build/screenshots/ for a person to look at.
"""
import functools
import http.server
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
            headless=True, viewport={"width": 1280, "height": 900})
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

        # Images: every one has loaded and has pixels.
        broken = page.evaluate("""() => Array.from(document.images)
            .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src)""")
        assert not broken, f"{name}: images did not load: {broken}"

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

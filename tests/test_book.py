"""The course book: configuration, table of contents, and the built HTML.

The slow tests build the student edition with the real build step (`python -m course_build
book`, i.e. `jupyter-book build . -W -n --keep-going`), once per session, and inspect it.
"""
import inspect
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from bs4 import BeautifulSoup

from book_support import (ROOT, answer_key_fragments, answer_prose, built_book,
                          find_answer_prose, find_fragments, readable_text)
from fcnet.chapters import CHAPTERS

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
COLAB = "https://colab.research.google.com"
OTHER_PAGES = ("book/intro", "book/for_students", "book/for_instructors")
# The figures each chapter must show (at least), as listed in the book's design.
FIGURES = {"01_affine_layer": 1, "02_relu": 2, "03_losses": 2, "04_two_layer_net": 1,
           "05_solver": 2, "06_tuning": 3}


def toc_files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        for key in ("parts", "chapters", "sections"):
            yield from toc_files(entry.get(key, []))


def soup(path):
    return BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")


def colab_links(page):
    return [a["href"] for a in soup(page).find_all("a", href=True)
            if a["href"].startswith(COLAB + "/")]


def colab_target(url):
    """(org/repo, branch, path in the repository) that a Colab GitHub URL opens."""
    parts = urlparse(url).path.split("/")
    assert parts[1] == "github" and parts[4] == "blob", url
    return f"{parts[2]}/{parts[3]}", parts[5], unquote("/".join(parts[6:]))


# ------------------------------------------------------------------ fast: sources

def test_toc_lists_every_chapter_then_its_exercise_in_course_order():
    files = [TOC["root"], *toc_files(TOC.get("parts", []))]
    expected = []
    for stem in CHAPTERS:
        expected += [f"book/{stem}", f"exercises/{stem}"]
    chapter_files = [f for f in files if f.startswith(("book/0", "exercises/"))]
    assert chapter_files == expected
    for name in OTHER_PAGES:
        assert name in files
    for stem in CHAPTERS:
        assert (ROOT / "book" / f"{stem}.md").is_file()
        assert (ROOT / "exercises" / f"{stem}.ipynb").is_file()


def test_config_points_colab_at_the_public_student_repository():
    repo = CONFIG["repository"]
    assert repo["url"].startswith("https://github.com/") and repo["branch"] == "main"
    assert repo.get("path_to_book", "") == ""  # so page paths are repository paths
    assert CONFIG["launch_buttons"]["colab_url"] == COLAB
    assert "sphinx_exercise" in CONFIG["sphinx"]["extra_extensions"]
    assert "sphinx-mathjax-offline" in CONFIG["sphinx"]["extra_extensions"]
    assert CONFIG["execute"]["execute_notebooks"] == "cache"
    # Exercise and solution notebooks are pages but never executed.
    for stem in CHAPTERS:
        for folder in ("exercises", "solutions/notebooks"):
            path = Path(f"/anywhere/{folder}/{stem}.ipynb")
            assert any(path.match(p) for p in CONFIG["execute"]["exclude_patterns"]), path
    assert not any(Path("/r/book/01_affine_layer.md").match(p)
                   for p in CONFIG["execute"]["exclude_patterns"])


def test_answer_key_detector_sees_highlighted_solution_code(tmp_path):
    """The leak detector must see solution code however it is rendered, and not see stubs."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    import answer_key.layers
    from course_build.answers import STUDENT, expand_solution

    source = inspect.getsource(answer_key.layers.affine_backward)
    (tmp_path / "leak.html").write_text(
        "<html><body>" + highlight(source, PythonLexer(), HtmlFormatter()) + "</body></html>")
    stub = expand_solution("answer_key.layers.affine_backward", STUDENT)
    (tmp_path / "clean.html").write_text(
        "<html><body>" + highlight(stub, PythonLexer(), HtmlFormatter()) + "</body></html>")
    hits = {path.name for path, _ in find_fragments(tmp_path)}
    assert hits == {"leak.html"}
    assert len(answer_key_fragments()) > 50


def test_instructor_toc_swaps_every_exercise_for_its_solution(tmp_path):
    from course_build.book import instructor_toc

    (tmp_path / "_toc.yml").write_text((ROOT / "_toc.yml").read_text())
    swapped = yaml.safe_load(instructor_toc(tmp_path).read_text())
    files = [swapped["root"], *toc_files(swapped.get("parts", []))]
    assert not [f for f in files if f.startswith("exercises/")]
    for stem in CHAPTERS:
        assert files.index(f"solutions/notebooks/{stem}") == files.index(f"book/{stem}") + 1
        assert (ROOT / "solutions" / "notebooks" / f"{stem}.ipynb").is_file()
    assert (tmp_path / "_toc.yml").read_text() == (ROOT / "_toc.yml").read_text()


def test_execution_cache_is_emptied_when_figure_code_or_data_changes(tmp_path, monkeypatch):
    from course_build import book as step

    for name in step.FIGURE_INPUTS:
        path = tmp_path / name
        if path.suffix == ".py":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x = 1\n")
        else:
            path.mkdir(parents=True)
            (path / "mod.py").write_text("y = 2\n")
    cache = tmp_path / step.CACHE_DIR
    monkeypatch.delenv("CIFAR10_ARCHIVE", raising=False)
    monkeypatch.delenv(step.DATA_VARIABLE, raising=False)

    def fill():
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "entry").write_text("executed")

    assert step.refresh_cache(tmp_path)            # first build: nothing to trust
    fill()
    assert not step.refresh_cache(tmp_path) and (cache / "entry").exists()
    (tmp_path / "book" / "figures.py").write_text("x = 2\n")
    assert step.refresh_cache(tmp_path) and not cache.exists()
    fill()
    assert not step.refresh_cache(tmp_path)
    monkeypatch.setenv("CIFAR10_ARCHIVE", "/data/cifar-10-python.tar.gz")
    assert step.refresh_cache(tmp_path) and not cache.exists()
    fill()
    # A --synthetic-data build never reuses the real figures, nor the other way round.
    monkeypatch.setenv(step.DATA_VARIABLE, "synthetic")
    assert step.refresh_cache(tmp_path) and not cache.exists()
    fill()
    monkeypatch.setenv(step.DATA_VARIABLE, "cifar10")
    assert step.refresh_cache(tmp_path) and not cache.exists()


# ------------------------------------------------------------------ slow: the built book

@pytest.fixture(scope="module")
def book():
    return built_book("student")


@pytest.mark.slow
def test_every_chapter_and_exercise_page_exists(book):
    for stem in CHAPTERS:
        for folder in ("book", "exercises"):
            page = book / folder / f"{stem}.html"
            assert page.is_file(), page
            assert soup(page).find("h1"), page
    for name in OTHER_PAGES:
        assert (book / f"{name}.html").is_file()
    assert (book / "index.html").is_file()


@pytest.mark.slow
def test_pages_and_boxes_are_numbered_once(book):
    """An exercise page is section N.k of its chapter, titled "Exercise: ..." rather than
    "N.k. Chapter N: ..."; the pen-and-paper problems are "Problem N.k" and the notebook
    exercise is one unnumbered "Exercise" box (issue 21)."""
    for number, stem in enumerate(CHAPTERS, 1):
        title = " ".join(article(book / "exercises" / f"{stem}.html").find("h1").get_text(
            " ").replace("#", "").split())
        assert re.match(rf"{number}\.\d+\. Exercise: ", title) and "Chapter" not in title, title
        page = soup(book / "book" / f"{stem}.html")
        titles = [" ".join(t.get_text().split())
                  for t in page.select("div.exercise p.admonition-title")]
        problems = [t for t in titles if t.startswith("Problem")]
        assert len(problems) >= 2 and all(re.match(rf"Problem {number}\.\d+", t)
                                          for t in problems), titles
        assert sum(t.startswith("Exercise") for t in titles) == 1, titles
        assert not any(re.match(r"Exercise \d", t) for t in titles), titles


@pytest.mark.slow
def test_exercise_pages_open_their_own_notebook_in_colab(book):
    url = CONFIG["repository"]["url"].rstrip("/")
    for stem in CHAPTERS:
        links = colab_links(book / "exercises" / f"{stem}.html")
        assert links, f"no Colab link on the exercise page {stem}"
        for link in links:
            repo, branch, path = colab_target(link)
            assert f"https://github.com/{repo}" == url
            assert branch == CONFIG["repository"]["branch"]
            assert path == f"exercises/{stem}.ipynb"
            assert (ROOT / path).is_file(), f"{link} names {path}, which is not in the repo"


@pytest.mark.slow
def test_chapter_pages_open_their_exercise_in_colab(book):
    for stem in CHAPTERS:
        links = colab_links(book / "book" / f"{stem}.html")
        # The theme's launch menu and the chapter's own button.
        assert len(links) >= 2, stem
        assert {colab_target(link)[2] for link in links} == {f"exercises/{stem}.ipynb"}


@pytest.mark.slow
def test_no_answer_key_code_anywhere_in_the_student_book(book):
    hits = find_fragments(book)
    assert not hits, "answer-key code in the student book:\n" + "\n".join(
        f"  {path.relative_to(book)}: {origin}" for path, origin in hits[:20])


def test_solution_stripper_removes_whole_blocks_and_nothing_else(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "book" / "_ext"))
    import course_book
    text = ("Before.\n\n````{solution} p-x\n:class: dropdown\n\n```{math}\nx\n```\n\n"
            "The answer is 42.\n````\n\nBetween.\n\n:::{solution} p-y\nAlso 7.\n:::\n"
            "After.\n```{solution} p-z\nLeft open to the end.\n")
    assert course_book.strip_solutions(text) == "Before.\n\n\nBetween.\n\nAfter.\n"
    assert course_book.strip_solutions("No solution here.\n") == "No solution here.\n"


def test_answer_detector_finds_every_kind_of_answer_in_the_sources():
    """It can fail: it finds the {solution} prose, the inline keys and their explanations."""
    origins = {origin.split(":")[0] for origin in answer_prose().values()}
    assert {f"book/{stem}.md" for stem in CHAPTERS} <= origins
    assert {"solutions/answer_key/inline_questions.py", "exercises/source/02_relu.py",
            "exercises/source/06_tuning.py"} <= origins
    found = {origin.split(":")[0] for _, origin in find_answer_prose(ROOT / "book")}
    assert {f"book/{stem}.md" for stem in CHAPTERS} <= found


@pytest.mark.slow
def test_nothing_the_student_book_serves_holds_an_answer(book):
    """Every file of the student book (pages, the ".md" and ".ipynb" downloads under
    _sources/, the search index) is free of {solution} blocks, of their prose, and of
    the inline questions' keys and explanations (issue 21)."""
    answer_prose()
    downloads = sorted((book / "_sources").rglob("*.*"))
    assert {p.relative_to(book).as_posix() for p in downloads} >= {
        f"_sources/book/{stem}{suffix}" for stem in CHAPTERS for suffix in (".md", ".ipynb")}
    import course_book  # book/_ext, on the path since answer_prose()
    for path in downloads:
        text = readable_text(path)  # a notebook's cell sources
        assert not course_book.solution_blocks(text), f"{path.relative_to(book)}: {{solution}}"
    for page in book.rglob("*.html"):
        assert not soup(page).select("div.solution"), page.relative_to(book)
    hits = find_answer_prose(book)
    assert not hits, "an answer in the student book:\n" + "\n".join(
        f"  {path.relative_to(book)}: {origin}" for path, origin in hits[:20])
    # The downloads are the pages' own text, only without the solutions.
    chapter = (book / "_sources" / "book" / "02_relu.md").read_text(encoding="utf-8")
    assert "{exercise}" in chapter and ":label: p-relu-dead" in chapter


@pytest.mark.slow
def test_the_book_never_states_inline_question_3s_key(book):
    """Inline question 3's run appears only in its exercise, and no page states its
    diagnosis: not the key's letters, not the run's numbers (issue 21)."""
    from answer_key.inline_questions import inline_q3
    from fcnet.recorded_runs import BAD_RUN
    letters = sorted(inline_q3)
    key_forms = [" and ".join(letters), ", ".join(letters), "".join(letters),
                 ", ".join(f'"{x}"' for x in letters), ", ".join(f"'{x}'" for x in letters)]
    run_numbers = [f"{BAD_RUN.train_acc_history[-1]:.0%}", f"{BAD_RUN.train_acc_history[-1]:.1%}",
                   f"{BAD_RUN.train_acc_history[-1]}"]
    for path in sorted(book.rglob("*")):
        if not path.is_file() or path.suffix not in {".html", ".md", ".ipynb", ".js"} \
                or "_static" in path.parts:
            continue
        text = " ".join(readable_text(path).split())
        for form in key_forms:
            assert f"{{{form}}}" not in text, f"{path.relative_to(book)} states {form}"
            assert not re.search(rf"question 3\W.{{0,200}}\b{form}\b", text), path
        if "exercises" in path.parts:  # the question itself
            continue
        assert "BAD_RUN" not in text and "recorded_runs" not in text, path
        assert not any(number in text for number in run_numbers), path


@pytest.mark.slow
def test_chapters_show_stub_and_check_output_but_no_errors(book):
    for stem in CHAPTERS:
        page = soup(book / "book" / f"{stem}.html")
        text = page.get_text()
        assert "raise NotImplementedError" in text, stem
        assert "grader.check" in text, stem
        assert "Traceback" not in text and "Error in" not in text, stem
        # A notebook has loaded `data` before any check needs it (issue 21).
        assert "data is not defined" not in text, stem
        assert page.select("div.exercise"), stem
        # The solution blocks exist in the sources but never reach the student book.
        assert not page.select("div.solution"), stem


@pytest.mark.slow
def test_every_figure_exists_and_is_not_empty(book):
    for stem, minimum in FIGURES.items():
        page = book / "book" / f"{stem}.html"
        images = [img["src"] for img in soup(page).select("article img")]
        assert len(images) >= minimum, f"{stem}: {len(images)} figures, expected {minimum}"
    for page in book.rglob("*.html"):
        for img in soup(page).find_all("img", src=True):
            if img["src"].startswith(("http:", "https:", "data:")):
                continue
            target = (page.parent / unquote(img["src"].split("?")[0])).resolve()
            assert target.is_file(), f"{page.relative_to(book)}: {img['src']} is missing"
            assert target.stat().st_size > 0, f"{target} is empty"


@pytest.mark.slow
def test_pages_load_mathjax_and_scripts_locally(book):
    mathjax = book / "_static" / "mathjax" / "tex-chtml.js"
    assert mathjax.is_file() and mathjax.stat().st_size > 0
    for page in book.rglob("*.html"):
        for script in soup(page).find_all("script", src=True):
            src = script["src"]
            assert not src.startswith(("http:", "https:", "//")), \
                f"{page.relative_to(book)} loads {src} from the internet"
    chapter = soup(book / "book" / "01_affine_layer.html")
    assert any("mathjax/tex-chtml.js" in s["src"] for s in chapter.find_all("script", src=True))


@pytest.mark.slow
def test_instructor_edition_shows_solutions_in_place_of_exercises(book):
    """`python -m course_build book --instructor`: same sources, solutions, own folder."""
    instructor = built_book("instructor")
    assert instructor == ROOT / "_build" / "instructor" / "html"
    for stem in CHAPTERS:
        assert (instructor / "solutions" / "notebooks" / f"{stem}.html").is_file(), stem
        assert not (instructor / "exercises" / f"{stem}.html").exists(), stem
        chapter = soup(instructor / "book" / f"{stem}.html")
        assert chapter.select("div.solution"), f"{stem}: no solution block"
        assert "Instructor edition" in chapter.get_text()
        # Its launch buttons still open the exercise, never a private solution.
        for link in colab_links(instructor / "solutions" / "notebooks" / f"{stem}.html"):
            assert colab_target(link)[2] == f"exercises/{stem}.ipynb"
    # The same leak detector that passes the student book finds the answer key here.
    leaked = {origin.split(":")[0] for _, origin in find_fragments(instructor)}
    assert "solutions/answer_key/layers.py" in leaked
    # Building it left the student edition alone.
    assert (book / "exercises" / "01_affine_layer.html").is_file()
    assert "Instructor edition" not in soup(book / "book" / "01_affine_layer.html").get_text()


# ------------------------------------------------------------------ slow: the apparatus

def article(page):
    return soup(page).select_one("article") or soup(page)


@pytest.mark.slow
def test_every_figure_is_numbered_captioned_and_referred_to_from_the_text(book):
    referred = {a["href"].split("#", 1)[1] for page in book.rglob("*.html")
                for a in article(page).select("a.reference[href*='#fig-']")}
    for stem in CHAPTERS:
        page = article(book / "book" / f"{stem}.html")
        images = page.select("img")
        assert images, stem
        for img in images:
            if "colab-logo" in (img.get("class") or []):
                continue
            figure = img.find_parent("figure")
            assert figure is not None, f"{stem}: an image outside a figure: {img['src']}"
            number = figure.select_one("figcaption .caption-number")
            assert number and number.get_text().strip().startswith("Figure "), stem
            text = figure.select_one("figcaption").get_text(" ", strip=True)
            assert len(text) > len(number.get_text()) + 20, f"{stem}: caption {text!r}"
            assert figure.get("id") in referred, f"{stem}: {figure.get('id')} is never cited"


@pytest.mark.slow
def test_bibliography_lists_the_cited_works_and_citations_link_to_it(book):
    entries = article(book / "book" / "references.html").select("div.citation")
    assert len(entries) >= 3, "the bibliography page lists no works"
    for key_text in ("Krizhevsky", "Loshchilov"):
        assert key_text in article(book / "book" / "references.html").get_text()
    links = [a for page in book.rglob("book/*.html")
             for a in article(page).select("a[href*='references.html#']")]
    assert links, "no citation links to the bibliography"
    # Entries are labelled as the text cites them, and no TeX shows through (issue 21).
    labels = [" ".join(e.select_one("span.label").get_text().split()) for e in entries]
    assert "[Krizhevsky, 2009]" in labels and "[Glorot and Bengio, 2010]" in labels, labels
    listing = article(book / "book" / "references.html").get_text()
    assert "$" not in listing and "O(1/k²)" in listing


@pytest.mark.slow
def test_front_page_states_the_licences_and_credits_cs231n(book):
    text = " ".join(article(book / "book" / "intro.html").get_text().split())
    for needed in ("CC BY 4.0", "MIT", "CS231n", "LICENSE-text"):
        assert needed in text, needed
    for name in ("LICENSE", "LICENSE-text"):
        assert (ROOT / name).is_file()
    assert CONFIG["html"]["use_issues_button"] and CONFIG["html"]["use_repository_button"]


# ------------------------------------------------------------------ slow: names students can use

# The pages students read (for_instructors is written for instructors: it names their tools).
STUDENT_PAGES = ["book/intro", "book/for_students"] + [
    f"{folder}/{stem}" for stem in CHAPTERS for folder in ("book", "exercises")]
# A path: folders and a file with an extension, or folders ending in "/".
PATH = re.compile(r"(?<![\w/.~:@-])((?:[A-Za-z_][\w.-]*/)+(?:[\w-]+\.[A-Za-z]\w*)?)(?![\w/])")
COMMAND = re.compile(r"\bpython3?\s+(?:-m\s+([A-Za-z_][\w.]*)|([\w./-]+\.py)\b)")
# Our private packages: a student can import none of them.
PRIVATE_MODULES = re.compile(r"\b((?:answer_key|autograder|course_build|benchmarks)(?:\.\w+)+)")
PLACEHOLDERS = {"NN_name": "[0-9][0-9]_*"}
DRIVE_FOLDER = re.compile(r"(?:/content/drive/)?My\s*Drive/Colab\s+Notebooks/")


def names_in(text):
    """(paths, modules run with python -m, private dotted names) named in `text`."""
    text = re.sub(r"\w+://\S+", " ", text)  # URLs name other places
    text = DRIVE_FOLDER.sub(" ", text)  # the student's own Google Drive, not the release
    paths = {m.group(1) for m in PATH.finditer(text)}
    modules, scripts = set(), set()
    for m in COMMAND.finditer(text):
        (modules if m.group(1) else scripts).add(m.group(1) or m.group(2))
    return paths | scripts, modules, set(PRIVATE_MODULES.findall(text))


def in_release(release, path):
    pattern = path.rstrip("/")
    for placeholder, glob in PLACEHOLDERS.items():
        pattern = pattern.replace(placeholder, glob)
    return any(list(base.glob(pattern)) for base in (release, release / "exercises"))


def missing_from_release(text, release):
    """What `text` names that a student with the release cannot find or run."""
    import importlib.util

    paths, modules, private = names_in(text)
    missing = [p for p in sorted(paths) if not in_release(release, p)]
    for module in sorted(modules):
        top = module.split(".")[0]
        if (release / "exercises" / top).is_dir():
            continue
        if top in {"answer_key", "autograder", "course_build", "benchmarks"} or \
                importlib.util.find_spec(top) is None:
            missing.append(f"python -m {module}")
    return missing + sorted(private)


def test_release_name_detector_on_examples(tmp_path):
    (tmp_path / "exercises" / "fcnet").mkdir(parents=True)
    (tmp_path / "exercises" / "01_affine_layer.ipynb").write_text("{}")
    (tmp_path / "exercises" / "fcnet" / "solver.py").write_text("")
    text = ("Run python benchmarks/best_model.py, read solutions/answer_key/best_model.py "
            "or answer_key.best_model; keep exercises/NN_name.ipynb and fcnet/solver.py "
            "in exercises/; python -m fcnet.solver, python -m venv, python -m autograder; "
            "1/4 of dL/dx, see https://github.com/x/y/blob/main/z.py; on Drive in "
            "My Drive/Colab Notebooks/ or /content/drive/MyDrive/Colab Notebooks/")
    assert missing_from_release(text, tmp_path) == [
        "benchmarks/best_model.py", "solutions/answer_key/best_model.py",
        "python -m autograder", "answer_key.best_model"]


@pytest.mark.slow
def test_student_book_names_only_files_and_commands_the_student_release_has(book):
    """Expected to fail until chapter 6's "Going further" stops sending students to
    benchmarks/ and solutions/ (issue 12)."""
    from course_build import student_release

    student_release.build(ROOT, ROOT)
    release = ROOT / student_release.RELEASE_DIR
    problems = {}
    for name in STUDENT_PAGES:
        missing = missing_from_release(article(book / f"{name}.html").get_text(" "), release)
        if missing:
            problems[name] = missing
    assert not problems, "the student book names what the student release lacks: " + \
        "; ".join(f"{page}: {', '.join(names)}" for page, names in problems.items())

"""Sphinx glue for the course book: Colab links that always open an exercise notebook.

The theme builds a page's Colab link from the page's own path. That is right for the
exercise pages (exercises/<stem>.ipynb exists in the public student repository) but wrong
for a chapter page (book/<stem>.md is not in that repository) and for a solution page of
the instructor edition (solutions/ is never public). This extension points every such link
at the chapter's exercise notebook instead, and adds a `{colab-button}` directive that
chapters use to show the same link in their text. It also marks every page of the
instructor edition, and of a `--synthetic-data` build, with a banner; adds to the caption
of every figure computed from synthetic images a sentence saying so (the figure cell's
text output carries the mark, see book/figures.py); lets the reader's colour scheme choose
light or dark mode; labels the bibliography's entries by author and year, as the text
cites them (`AuthorYearStyle`); and leaves out scripts that only cause browser errors
(`drop_thebe_scripts`).

    ```{colab-button} 01_affine_layer
    ```

In the student edition the `{solution}` blocks are taken out of every source before Sphinx
parses it (`strip_solutions`), not merely hidden in the HTML: the executed notebook that the
page's ".ipynb" download serves and the search index are built from the stripped text, and
the ".md" copies under `_sources/` (which Sphinx copies from the original files) are
rewritten with it when the build finishes.
"""
import json
import re
from pathlib import Path, PurePosixPath

from docutils import nodes
from docutils.parsers.rst import Directive
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.plugin import register_plugin

from course_build.book import SYNTHETIC_BANNER, SYNTHETIC_CAPTION, SYNTHETIC_MARK, data_mode
from course_build.notebooks import DEFAULT_REPOSITORY_URL
from fcnet.chapters import CHAPTERS

# The folders whose pages belong to a chapter, named by the file stem.
CHAPTER_FOLDERS = ("book", "exercises", "solutions/notebooks")


# The opening line of a MyST {solution} directive: a fence of 3+ backticks or colons.
SOLUTION_OPENING = re.compile(r"^[ \t]*(?P<fence>`{3,}|:{3,})\{solution\}")


def solution_blocks(text):
    """[(first line, last line + 1)] of every {solution} directive in MyST text. A block
    ends at the first later line that is a bare fence of its character, at least as long
    (CommonMark's rule, so shorter fences nested inside it do not end it)."""
    lines = text.splitlines(keepends=True)
    blocks, start = [], 0
    while start < len(lines):
        opening = SOLUTION_OPENING.match(lines[start])
        if not opening:
            start += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = start + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        blocks.append((start, min(end + 1, len(lines))))
        start = end + 1
    return blocks


def strip_solutions(text):
    """MyST text without its {solution} blocks (a block left open runs to the end)."""
    lines = text.splitlines(keepends=True)
    for start, end in reversed(solution_blocks(text)):
        del lines[start:end]
    return "".join(lines)


class AuthorYearLabels(BaseLabelStyle):
    """Bibliography labels in the form the text cites: "Krizhevsky, 2009", "Glorot and
    Bengio, 2010", "He et al., 2015" (pybtex's default, alpha, gives "[Kri09]")."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            last = [" ".join(person.last_names) for person in people] or ["Anonymous"]
            names = (last[0] if len(last) == 1 else " and ".join(last) if len(last) == 2
                     else f"{last[0]} et al.")
            yield f"{names}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(PlainStyle):
    """pybtex's plain style (sorted by author, then year) with author-year labels."""
    default_label_style = AuthorYearLabels


def chapter_stem(pagename):
    """The chapter stem of a chapter, exercise or solution page, else None."""
    path = PurePosixPath(pagename)
    if str(path.parent) in CHAPTER_FOLDERS and path.name in CHAPTERS:
        return path.name
    return None


def colab_url(config, stem):
    """The Colab URL that opens exercises/<stem>.ipynb of the public student repository."""
    options = config.html_theme_options
    repo = options["repository_url"].rstrip("/")
    if not repo.startswith("https://github.com/"):
        raise ValueError(f"Colab opens GitHub repositories only; repository.url is {repo}")
    org_repo = repo[len("https://github.com/"):]
    colab = options.get("launch_buttons", {}).get("colab_url", "https://colab.research.google.com")
    branch = options.get("repository_branch") or "main"
    return f"{colab.rstrip('/')}/github/{org_repo}/blob/{branch}/exercises/{stem}.ipynb"


def retarget_launch_buttons(app, pagename, templatename, context, doctree):
    """Point the launch menu of chapter and solution pages at the exercise notebook."""
    stem = chapter_stem(pagename)
    if stem is None:
        return
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if button.get("text") == "Colab":
                button["url"] = colab_url(app.config, stem)
                button["tooltip"] = f"Open the exercise {stem}.ipynb in Colab"


INSTRUCTOR_BANNER = ("Instructor edition: solutions included. "
                     "Do not publish where students can see it.")


def banners(app, pagename, templatename, context, doctree):
    """Mark every page of the instructor edition, so it is never mistaken for the book
    students may see, and every page of a synthetic-data build (or holding a synthetic
    figure), so nobody takes its figures for CIFAR-10."""
    lines = []
    if app.config.course_edition == "instructor":
        lines.append(INSTRUCTOR_BANNER)
    synthetic_page = doctree is not None and any(
        "synthetic-data" in node["classes"] for node in doctree.findall(nodes.Element))
    if app.config.course_data == "synthetic" or synthetic_page:
        lines.append(SYNTHETIC_BANNER)
    if lines:
        context["theme_announcement"] = " ".join(lines)


def synthetic_outputs(doctree):
    """The text/plain output containers of figure cells computed from synthetic images."""
    for node in doctree.findall(nodes.container):
        if node.get("mime_type") == "text/plain" and SYNTHETIC_MARK in node.astext():
            yield node


def mark_synthetic_figures(app, doctree):
    """Add SYNTHETIC_CAPTION to the caption of every synthetic-data figure (or a note
    under the output, for an output without a figure around it). Runs when the page is
    read, while each output still holds all its formats, the text one included."""
    for output in list(synthetic_outputs(doctree)):
        figure = output.parent
        while figure is not None and not isinstance(figure, nodes.figure):
            figure = figure.parent
        note = nodes.inline("", " " + SYNTHETIC_CAPTION, classes=["synthetic-data-note"])
        if figure is None:
            bundle = output.parent
            bundle["classes"].append("synthetic-data")
            bundle.parent.insert(bundle.parent.index(bundle) + 1, nodes.paragraph(
                "", "", nodes.strong("", SYNTHETIC_CAPTION), classes=["synthetic-data"]))
            continue
        if "synthetic-data" in figure["classes"]:
            continue
        figure["classes"].append("synthetic-data")
        captions = [c for c in figure.children if isinstance(c, nodes.caption)]
        if captions:
            captions[0] += note
        else:
            figure += nodes.caption("", "", nodes.inline("", SYNTHETIC_CAPTION))


def student_edition(config):
    return (config.course_strip_solutions and config.course_edition == "student"
            and config.hide_solutions)


def drop_solutions_from_source(app, docname, source):
    """Student edition: parse every MyST page without its {solution} blocks."""
    if student_edition(app.config) and app.env.doc2path(docname).endswith(".md"):
        source[0] = strip_solutions(source[0])


def name_the_student_repository(text, url):
    """`text` with the placeholder student repository (and the folder its clone makes)
    replaced by `url`, the repository an adopting course set in _config.yml."""
    url = url.rstrip("/")
    if url == DEFAULT_REPOSITORY_URL:
        return text
    old_name, new_name = (u.rsplit("/", 1)[-1] for u in (DEFAULT_REPOSITORY_URL, url))
    text = text.replace(DEFAULT_REPOSITORY_URL, url)
    return re.sub(rf"\bcd {re.escape(old_name)}\b", f"cd {new_name}", text)


def use_the_configured_repository(app, docname, source):
    """Pages write the placeholder repository; the book shows the one _config.yml names."""
    source[0] = name_the_student_repository(source[0],
                                            app.config.html_theme_options["repository_url"])


# The first heading of a chapter notebook, "# Chapter 1: The affine layer", as it appears
# in the notebook's JSON text.
NOTEBOOK_HEADING = re.compile(r'"# Chapter \d+: ')


def retitle_notebook_pages(app, docname, source):
    """An exercise (or solution) notebook is a section of its chapter in the book, which
    numbers it ("1.8."): its heading says "Exercise: The affine layer" there instead of
    repeating "Chapter 1: " (the notebook itself, in Colab, keeps its own title)."""
    folder = PurePosixPath(docname).parent.as_posix()
    if folder in ("exercises", "solutions/notebooks") and chapter_stem(docname):
        word = "Exercise" if folder == "exercises" else "Solution"
        source[0] = NOTEBOOK_HEADING.sub(f'"# {word}: ', source[0], count=1)


def strip_copied_sources(app, exception):
    """Student edition: the downloads of a page under `_sources/`, its ".md" (which Sphinx
    copies from the original file) and its executed ".ipynb", are rewritten without their
    {solution} blocks. The notebook is already built from the stripped text; rewriting it
    too keeps a notebook left over from an older build from serving one."""
    if exception is not None or not student_edition(app.config) or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    for copy in sorted(sources.rglob("*")) if sources.is_dir() else ():
        if copy.suffix == ".md":
            text = copy.read_text(encoding="utf-8")
            if solution_blocks(text):
                copy.write_text(strip_solutions(text), encoding="utf-8")
        elif copy.suffix == ".ipynb":
            notebook = json.loads(copy.read_text(encoding="utf-8"))
            cells = [c for c in notebook.get("cells", []) if c.get("cell_type") == "markdown"]
            texts = ["".join(c["source"]) for c in cells]
            if any(solution_blocks(text) for text in texts):
                for cell, text in zip(cells, texts):
                    cell["source"] = strip_solutions(text)
                copy.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n",
                                encoding="utf-8")


def rewrite_bibliographies(app, env):
    """sphinxcontrib-bibtex lists the works cited on any page, but rewrites the page of the
    bibliography only when that page itself changed, so a warm build would keep an old
    list. Return the pages holding a bibliography, which Sphinx then writes again."""
    domain = env.get_domain("cite") if "cite" in env.domains else None
    return sorted({key.docname for key in domain.bibliographies}) if domain else []


def follow_colour_scheme(app, pagename, templatename, context, doctree):
    """Start in the reader's colour scheme (light or dark; the theme's switch changes it).
    The figures are readable in both (see course.css). Without a mode the theme's script
    logs a console error on a browser's first visit."""
    context["default_mode"] = "auto"


def drop_thebe_scripts(app, pagename, templatename, context, doctree):
    """Leave out sphinx-thebe's scripts: the book has no live code, and the extension
    (always loaded by Jupyter Book) declares its inline script twice, which the browser
    reports as an error on every page."""
    files = context.get("script_files")
    if not files:
        return
    keep = []
    for js in files:
        name = getattr(js, "filename", None) or str(js)
        body = (getattr(js, "attributes", None) or {}).get("body", "")
        if "sphinx-thebe" in name or "THEBE_JS_URL" in body:
            continue
        keep.append(js)
    files[:] = keep


class colab_button(nodes.General, nodes.Element):
    """A link, styled as a button, that opens an exercise notebook in Colab."""


def visit_colab_button(self, node):
    # The theme ships the Colab logo; the path is relative to the page.
    logo = "../" * self.builder.current_docname.count("/") + "_static/images/logo_colab.png"
    self.body.append(
        f'<p class="colab-button-row"><a class="colab-button reference external" '
        f'href="{node["url"]}" target="_blank" rel="noopener">'
        f'<img src="{logo}" alt="Google Colab logo" class="colab-logo"/>'
        f'Open <code>{node["stem"]}.ipynb</code> in Colab</a></p>')
    raise nodes.SkipNode


def skip_node(self, node):
    raise nodes.SkipNode


class ColabButton(Directive):
    required_arguments = 1

    def run(self):
        stem = self.arguments[0]
        if stem not in CHAPTERS:
            raise self.error(f"unknown chapter {stem!r}; known: {', '.join(CHAPTERS)}")
        env = self.state.document.settings.env
        node = colab_button()
        node["stem"] = stem
        node["url"] = colab_url(env.config, stem)
        return [node]


def setup(app):
    # _config.yml chooses it: bibtex_default_style: course_author_year.
    register_plugin("pybtex.style.formatting", "course_author_year", AuthorYearStyle)
    app.add_node(colab_button, html=(visit_colab_button, None),
                 latex=(skip_node, None), text=(skip_node, None))
    app.add_directive("colab-button", ColabButton)
    # After the theme (priority 501) has built its launch menu.
    app.connect("html-page-context", retarget_launch_buttons, priority=600)
    app.connect("html-page-context", drop_thebe_scripts, priority=600)
    app.connect("html-page-context", follow_colour_scheme, priority=600)
    app.connect("html-page-context", banners, priority=600)
    app.connect("doctree-read", mark_synthetic_figures)
    app.connect("source-read", drop_solutions_from_source)
    app.connect("source-read", retitle_notebook_pages)
    app.connect("source-read", use_the_configured_repository)
    app.connect("build-finished", strip_copied_sources)
    app.connect("env-updated", rewrite_bibliographies)
    # "student" or "instructor"; course_build's book step sets it for the instructor edition.
    app.add_config_value("course_edition", "student", "html")
    # Whether the sources are parsed without their {solution} blocks (the student edition).
    # An "env" value: a build whose saved pages were read otherwise reads them all again.
    app.add_config_value("course_strip_solutions", True, "env")
    # "cifar10" or "synthetic": what the figures are computed from ($COURSE_BOOK_DATA,
    # which `python -m course_build book --synthetic-data` sets for Sphinx and the kernels).
    app.add_config_value("course_data", data_mode(), "env")
    return {"parallel_read_safe": True, "parallel_write_safe": True}

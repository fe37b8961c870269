"""Sphinx glue for the course book: Colab links that always open an exercise notebook.

The theme builds a page's Colab link from the page's own path. That is right for the
exercise pages (exercises/<stem>.ipynb exists in the public student repository) but wrong
for a chapter page (book/<stem>.md is not in that repository) and for a solution page of
the instructor edition (solutions/ is never public). This extension points every such link
at the chapter's exercise notebook instead, and adds a `{colab-button}` directive that
chapters use to show the same link in their text. It also marks every page of the
instructor edition with a banner, and leaves out two scripts that only cause browser
errors (see `drop_thebe_scripts` and `light_mode`).

    ```{colab-button} 01_affine_layer
    ```
"""
from pathlib import PurePosixPath

from docutils import nodes
from docutils.parsers.rst import Directive

from fcnet.chapters import CHAPTERS

# The folders whose pages belong to a chapter, named by the file stem.
CHAPTER_FOLDERS = ("book", "exercises", "solutions/notebooks")


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


def instructor_banner(app, pagename, templatename, context, doctree):
    """Mark every page of the instructor edition, so it is never mistaken for the book
    students may see."""
    if app.config.course_edition == "instructor":
        context["theme_announcement"] = (
            "Instructor edition: solutions included. Do not publish where students can see it.")


def light_mode(app, pagename, templatename, context, doctree):
    """Start pages in light mode (the figures have white backgrounds). Without a mode the
    theme's script logs a console error on a browser's first visit."""
    context["default_mode"] = "light"


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
        f'<img src="{logo}" alt="" class="colab-logo"/>'
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
    app.add_node(colab_button, html=(visit_colab_button, None),
                 latex=(skip_node, None), text=(skip_node, None))
    app.add_directive("colab-button", ColabButton)
    # After the theme (priority 501) has built its launch menu.
    app.connect("html-page-context", retarget_launch_buttons, priority=600)
    app.connect("html-page-context", drop_thebe_scripts, priority=600)
    app.connect("html-page-context", light_mode, priority=600)
    app.connect("html-page-context", instructor_banner, priority=600)
    # "student" or "instructor"; course_build's book step sets it for the instructor edition.
    app.add_config_value("course_edition", "student", "html")
    return {"parallel_read_safe": True, "parallel_write_safe": True}

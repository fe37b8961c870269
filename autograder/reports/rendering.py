"""Rendering every page and text the grader writes: Jinja2 templates, one Markdown library.

The templates live in autograder/reports/templates/. Each output has one template:

    feedback.md.j2      a student's feedback in Markdown (feedback/<id>.md)
    feedback.html.j2    the same page in HTML (feedback/<id>.html); both are rendered
                        from results.feedback_page's data
    question.txt.j2     one question's result as plain text (nbgrader cells, otter)
    check.txt.j2        one failed check as plain text (otter's test case output)
    class_report.html.j2, similarity.html.j2   the instructor's pages

Student-controlled text (ids, file names, messages from a worker) is never trusted: the
HTML templates escape everything (autoescape) and the Markdown template passes every such
value through the `md` filter, so neither a student id nor a message can put a tag, a
link or a script in a page.
"""
import functools
import re
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"


@functools.lru_cache(maxsize=None)
def environment():
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=True),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)
    env.filters.update(md=markdown_text, md_name=markdown_name, number=number,
                       percent=percent)
    return env


def render(template, **context):
    """The text of `template` (a file name in autograder/reports/templates/) with `context`."""
    return environment().get_template(template).render(**context)


def number(value):
    """Points as people write them: 10, 7.5, 0.33 (a dash for no value)."""
    return "\u2013" if value is None else f"{float(value):g}"


def percent(value, digits=0):
    return f"{100 * float(value):.{digits}f}%"


def markdown_text(text):
    """Plain text safe inside a Markdown list item or paragraph: no HTML, no emphasis,
    no link, no heading; whitespace (newlines included) folded to single spaces."""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in ("\\", "`", "*", "_", "[", "]", "#"):
        text = text.replace(char, "\\" + char)
    return text


def markdown_name(text):
    """A student id safe in a Markdown heading, as readable as can be: an underscore
    inside a word is never emphasis (CommonMark), so only the others are escaped."""
    return re.sub(r"(?<=[A-Za-z0-9])\\_(?=[A-Za-z0-9])", "_", markdown_text(text))

"""Screenshots of `grader.check` in a notebook, light and dark: docs/grader_check_light.png,
grader_check_dark.png.

    .venv/bin/python docs/grader_check_screenshots.py

The output is real: chapter 1's student notebook, with a right `affine_forward` and an
`affine_backward` that averages db over the batch (a mistake students make), is executed
with nbclient and rendered by nbconvert's JupyterLab template, light and dark. The
screenshot shows the two check cells, one passing and one failing, and their outputs.
It needs Chromium at /usr/bin/chromium (or CHROMIUM) and Playwright.
"""
import os
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE.parent / "exercises" / "01_affine_layer.ipynb"

ANSWERS = {
    "def affine_forward": '''def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    cache = (x, w, b)
    return out, cache
''',
    "def affine_backward": '''def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.mean(axis=0)
    return dx, dw, db
''',
}
CHECKS = ('grader.check("affine_forward")', 'grader.check("affine_backward")')


def executed_notebook(folder):
    """Chapter 1 with the answers above filled in, run in `folder`."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        for start, answer in ANSWERS.items():
            if cell.cell_type == "code" and cell.source.startswith(start):
                cell.source = answer
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": folder}}).execute()
    return nb


def check_cells_html(nb, theme):
    """The two check cells (code and output) alone, as nbconvert's lab template renders them."""
    shown = nbformat.v4.new_notebook(metadata=nb.metadata)
    shown.cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip() in CHECKS]
    assert len(shown.cells) == len(CHECKS), "the notebook's check cells have changed"
    body, _ = HTMLExporter(template_name="lab", theme=theme).from_notebook_node(shown)
    return body


def main():
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        nb = executed_notebook(folder)
        chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium,
                                        args=["--no-sandbox", "--disable-gpu"])
            for theme in ("light", "dark"):
                page_path = Path(folder) / f"{theme}.html"
                page_path.write_text(check_cells_html(nb, theme), encoding="utf-8")
                page = browser.new_page(viewport={"width": 820, "height": 600},
                                        color_scheme=theme, device_scale_factor=1)
                page.goto(page_path.as_uri())
                path = HERE / f"grader_check_{theme}.png"
                page.locator("main").screenshot(path=str(path))
                print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
            browser.close()


if __name__ == "__main__":
    main()

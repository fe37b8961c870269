"""Screenshots of a feedback page, light and dark: docs/feedback_light.png, feedback_dark.png.

    .venv/bin/python docs/feedback_screenshots.py

The page is a real one: a few of the course's functions, some right and some with
mistakes students make, graded in this process by the grader's own checks (the in-process
route: the code below is ours, not a student's) and written by
autograder.reports.results.write_feedback.
It needs Chromium at /usr/bin/chromium (or CHROMIUM) and Playwright.
"""
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "solutions"))

MISTAKES = '''
def affine_backward(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x2.T @ dout
    db = dout.mean(axis=0)          # averaged instead of summed
    return dx, dw, db


def relu_backward(dout, cache):
    return np.zeros_like(dout)      # shape right, values not


def softmax_loss(x, y):
    raise ValueError("shapes of scores and labels differ: fix me later")
'''


def graded_results():
    from answer_key import layers

    from autograder.grading import grade_in_process

    ns = {**vars(layers), "np": np}
    exec(compile(MISTAKES, "<example student>", "exec"), ns)
    del ns["svm_loss"]  # not answered
    questions = ("affine_forward", "affine_backward", "relu_backward", "softmax_loss",
                 "svm_loss")
    return questions, {q: grade_in_process(q, ns) for q in questions}


def main():
    from playwright.sync_api import sync_playwright

    from autograder.reports.results import write_feedback

    questions, results = graded_results()
    with tempfile.TemporaryDirectory() as folder:
        write_feedback(folder, "ada_lovelace", results, [], questions)
        page_url = (Path(folder) / "ada_lovelace.html").as_uri()
        chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium,
                                        args=["--no-sandbox", "--disable-gpu"])
            for scheme in ("light", "dark"):
                page = browser.new_page(viewport={"width": 900, "height": 900},
                                        color_scheme=scheme, device_scale_factor=1)
                page.goto(page_url)
                path = HERE / f"feedback_{scheme}.png"
                page.screenshot(path=str(path), full_page=True)
                print(f"wrote {path}")
            browser.close()


if __name__ == "__main__":
    main()

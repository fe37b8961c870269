"""The course's chapters and the question ids each one is graded on.

This is the one registry of chapters: the notebooks, the graders and the book all read it.
"""

CHAPTERS = {
    "01_affine_layer": ("affine_forward", "affine_backward"),
    "02_relu": ("relu_forward", "relu_backward", "inline_q1"),
    "03_losses": ("softmax_loss", "svm_loss"),
    "04_two_layer_net": ("two_layer_net",),
    "05_solver": ("sgd", "training"),
    "06_tuning": ("best_model", "inline_q2", "inline_q3"),
}

QUESTION_IDS = tuple(qid for qids in CHAPTERS.values() for qid in qids)


def chapter_of(qid):
    """Return the notebook stem of the chapter that asks question `qid`."""
    for stem, qids in CHAPTERS.items():
        if qid in qids:
            return stem
    raise KeyError(f"unknown question id {qid!r}; known ids: {', '.join(QUESTION_IDS)}")

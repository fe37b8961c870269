"""Similarity screening: which submissions share code that nobody else wrote?

`screen(submissions, out)` reads every student's chapter notebooks as data (the same
reader the grader uses; no student code ever runs), takes per question the definitions
the student wrote (`affine_forward`, `TwoLayerNet`, ...) without docstrings or comments,
and compares them pair by pair with copydetect (tokens with every name replaced, k-gram
fingerprints, winnowing). What does not count as evidence:

- the starter code: every fingerprint of the generated student notebook's chapter (its
  stubs, docstrings and provided cells) is removed first (copydetect's boilerplate);
- common code: a fingerprint that more than `common` students share (MOSS's `-m`) is
  removed too, so the one obvious `np.maximum(0, x)` or a solution everybody was shown
  cannot make two students look alike.

A pair's score for a question is the share of their own code (starter removed) that they
share with each other and with few others; the pair's score is the same share over all
questions, so long answers weigh more than one-line ones. It writes, highest score first,

    similarity.csv    student_a, student_b, score, then one column per question
    similarity.json   the same, with the threshold and settings, for the class report
    similarity.html   the flagged pairs side by side, the shared code highlighted

A score is a reason to look, never proof: the page says so.
"""
import ast
import csv
import functools
import hashlib
import io
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from fcnet.chapters import CHAPTERS, QUESTION_IDS, chapter_of

STARTER = Path(__file__).resolve().parents[2] / "exercises"
NOISE = 25          # copydetect's noise threshold: shorter matches (in tokens) never count
GUARANTEE = 30      # matches this long are always found (copydetect's window)
THRESHOLD = 0.5     # pairs scoring at least this are flagged
SHOWN = 30          # flagged pairs shown side by side at most


@dataclass
class Document:
    """One student's code for one question, fingerprinted twice: with the starter code
    removed (what the student wrote), and with common code removed as well (evidence)."""
    code: str
    own: object = None        # copydetect CodeFingerprint, starter removed
    evidence: object = None   # the same, common fingerprints removed too


@dataclass
class Screening:
    questions: tuple
    students: list
    pairs: list = field(default_factory=list)   # dicts, highest score first
    documents: dict = field(default_factory=dict)  # (student, qid) -> Document
    common: int = 0
    threshold: float = THRESHOLD


def screened_questions(starter=STARTER):
    """The questions whose answer is code the student writes: each name the question's
    checks need is a function or class of its chapter's starter notebook."""
    from ..hidden_checks import checks_for

    found = []
    for qid in QUESTION_IDS:
        needs = {name for check in checks_for(qid) for name in check.needs}
        defined = _defined_names(starter_code(chapter_of(qid), starter))
        if needs and needs <= defined:
            found.append(qid)
    return tuple(found)


@functools.lru_cache(maxsize=32)
def starter_code(stem, starter=STARTER):
    """The definitions of chapter `stem`'s starter notebook, as the grader reads them."""
    from ..notebook_reading import read_chapter

    path = Path(starter) / f"{stem}.ipynb"
    chapter = read_chapter(stem, path.read_bytes())
    if chapter.error:
        raise ValueError(f"the starter notebook {path} could not be read: {chapter.error}")
    return chapter.code


def _defined_names(code):
    return {node.name for node in _parse(code).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def _parse(code):
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ast.Module(body=[], type_ignores=[])


def question_code(code, names):
    """The top-level definitions `names` in `code`, without docstrings or comments, as
    normalised source (ast.unparse); "" when none is there."""
    found = definitions(code)
    return "\n\n".join(found[name] for name in sorted(found) if name in names)


@functools.lru_cache(maxsize=4096)
def definitions(code):
    """{name: normalised source} of every top-level def and class of `code` (parsed once
    per distinct text: most students of a class share a chapter's provided code)."""
    found = {}
    for node in _parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            for inner in ast.walk(node):
                _drop_docstring(inner)
            try:
                found[node.name] = ast.unparse(node)
            except (ValueError, RecursionError):
                continue
    return found


def _drop_docstring(node):
    body = getattr(node, "body", None)
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or \
            not body:
        return
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None),
                                                  ast.Constant) \
            and isinstance(first.value.value, str):
        node.body = body[1:] or [ast.Pass()]


def _names(qid):
    from ..hidden_checks import checks_for

    return {name for check in checks_for(qid) for name in check.needs}


def _stable_kgram_hashes(string, k):
    """copydetect's k-gram hashes with a hash that is the same in every process.

    copydetect hashes k-grams with Python's hash(), which is salted per process
    (PYTHONHASHSEED), so winnowing keeps different fingerprints on each run and the scores
    move by a few hundredths; the instructor's re-run must give the same table."""
    import numpy as np

    return np.array([int.from_bytes(hashlib.blake2b(string[i:i + k].encode("utf-8",
                                                                            "replace"),
                                                    digest_size=8).digest(),
                                    "little", signed=True)
                     for i in range(len(string) - k + 1)], dtype=np.int64)


def _use_stable_hashes():
    import copydetect.utils

    copydetect.utils.hashed_kgrams = _stable_kgram_hashes


def _fingerprint(code, boilerplate):
    from copydetect import CodeFingerprint

    return CodeFingerprint("answer.py", NOISE, GUARANTEE - NOISE + 1, boilerplate,
                           language="python", fp=io.StringIO(code))


def _without(fingerprint, common):
    """A copy of `fingerprint` without the fingerprints in `common` (what copydetect's
    boilerplate does after winnowing), without tokenizing the code again."""
    import copy

    from copydetect.utils import get_token_coverage

    kept = copy.copy(fingerprint)
    kept.hashes = fingerprint.hashes - common
    kept.hash_idx = {h: i for h, i in fingerprint.hash_idx.items() if h in kept.hashes}
    kept.token_coverage = get_token_coverage(kept.hash_idx, fingerprint.k,
                                             len(fingerprint.filtered_code))
    return kept


def _hashes(code):
    """Every k-gram fingerprint of `code` (window 1): what boilerplate means to copydetect."""
    import numpy as np
    from copydetect import CodeFingerprint

    return np.array(sorted(CodeFingerprint("starter.py", NOISE, 1, language="python",
                                           fp=io.StringIO(code)).hashes), dtype=np.int64)


def read_class(submissions, questions):
    """{student: {qid: code}}: each student's own definitions per question, read as data."""
    from ..submissions import discover, read_submission

    codes = {}
    for submission in discover(submissions):
        chapters = read_submission(submission)
        codes[submission.student] = {
            qid: question_code(chapters[chapter_of(qid)].code, _names(qid))
            if chapter_of(qid) in chapters and not chapters[chapter_of(qid)].error else ""
            for qid in questions}
        submission.files = {}
    return codes


def default_common(count):
    """Fingerprints shared by more than this many students are common code."""
    return max(4, count // 10)


def screen_codes(codes, questions, starter=STARTER, common=None, threshold=THRESHOLD):
    """A Screening of {student: {qid: code}}."""
    _use_stable_hashes()
    students = sorted(codes)
    common = default_common(len(students)) if common is None else common
    result = Screening(tuple(questions), students, common=common, threshold=threshold)
    shared = defaultdict(dict)  # (a, b) -> {qid: (overlap a, overlap b, own a, own b)}
    for qid in questions:
        starter_hashes = _hashes(question_code(starter_code(chapter_of(qid), starter),
                                               _names(qid)) + "\n" +
                                 starter_code(chapter_of(qid), starter))
        owners, own, evidence = defaultdict(set), {}, {}
        for student in students:
            code = codes[student].get(qid, "")
            doc = Document(code)
            if code.strip():
                if code not in own:  # identical answers are fingerprinted once
                    own[code] = _fingerprint(code, starter_hashes)
                doc.own = own[code]
                for value in doc.own.hashes:
                    owners[value].add(student)
            result.documents[(student, qid)] = doc
        frequent = {h for h, who in owners.items() if len(who) > common}
        for student in students:
            doc = result.documents[(student, qid)]
            if doc.own is not None:
                if doc.code not in evidence:
                    evidence[doc.code] = _without(doc.own, frequent)
                doc.evidence = evidence[doc.code]
        _compare_question(result, qid, owners, frequent, shared)
    result.pairs = _ranked(result, shared)
    return result


def _compare_question(result, qid, owners, frequent, shared):
    """Compare, for `qid`, only the pairs that share at least one uncommon fingerprint."""
    from copydetect.detector import compare_files

    candidates = set()
    for value, who in owners.items():
        if value not in frequent and 1 < len(who):
            candidates.update(itertools.combinations(sorted(who), 2))
    for a, b in candidates:
        doc_a, doc_b = result.documents[(a, qid)], result.documents[(b, qid)]
        if not doc_a.evidence.hashes & doc_b.evidence.hashes:
            continue
        overlap, (_, share_b), _ = compare_files(doc_a.evidence, doc_b.evidence)
        if overlap:  # in filtered tokens, as token_coverage is
            covered_b = share_b * float(doc_b.evidence.token_coverage)
            shared[(a, b)][qid] = (float(overlap), covered_b, float(doc_a.own.token_coverage),
                                   float(doc_b.own.token_coverage))


def _ranked(result, shared):
    """Pairs with any shared uncommon code, with their scores, highest first."""
    own = {key: float(doc.own.token_coverage) if doc.own is not None else 0.0
           for key, doc in result.documents.items()}
    pairs = []
    for (a, b), per_question in shared.items():
        both = [q for q in result.questions if own[(a, q)] and own[(b, q)]]
        total = sum(own[(a, q)] + own[(b, q)] for q in both)
        hit = sum(per_question[q][0] + per_question[q][1] for q in per_question)
        scores = {q: round(min(1.0, (per_question[q][0] + per_question[q][1]) /
                               (per_question[q][2] + per_question[q][3])), 3)
                  if q in per_question else 0.0 for q in result.questions}
        pairs.append({"student_a": a, "student_b": b,
                      "score": round(min(1.0, hit / total), 3) if total else 0.0,
                      "questions": scores})
    return sorted(pairs, key=lambda p: (-p["score"], p["student_a"], p["student_b"]))


def screen(submissions, out, starter=STARTER, common=None, threshold=THRESHOLD):
    """Screen the folder `submissions`; write similarity.csv, .json and .html in `out`."""
    questions = screened_questions(starter)
    result = screen_codes(read_class(submissions, questions), questions, starter, common,
                          threshold)
    write(result, out)
    return result


def write(result, out):
    from .results import csv_cell

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "similarity.csv", "w", newline="", encoding="utf-8",
              errors="backslashreplace") as f:
        writer = csv.writer(f)
        writer.writerow(["student_a", "student_b", "score", *result.questions])
        for pair in result.pairs:
            writer.writerow([csv_cell(pair["student_a"]), csv_cell(pair["student_b"]),
                             f"{pair['score']:.3f}",
                             *(f"{pair['questions'][q]:.3f}" for q in result.questions)])
    document = {"threshold": result.threshold, "common": result.common,
                "noise_tokens": NOISE, "questions": list(result.questions),
                "students": len(result.students),
                "short_questions": _short_questions(result), "pairs": result.pairs}
    (out / "similarity.json").write_text(json.dumps(document, indent=1) + "\n",
                                         encoding="utf-8", errors="backslashreplace")
    (out / "similarity.html").write_text(_page(result), encoding="utf-8",
                                         errors="backslashreplace")


def _page(result):
    from markupsafe import Markup

    from .rendering import render

    flagged = [p for p in result.pairs if p["score"] >= result.threshold][:SHOWN]
    views = []
    for pair in flagged:
        rows = []
        for qid in result.questions:
            if pair["questions"][qid] > 0:
                left, right = _highlighted(result, pair["student_a"], pair["student_b"], qid)
                rows.append({"question": qid, "score": pair["questions"][qid],
                             "left": Markup(left), "right": Markup(right)})
        views.append({**pair, "rows": rows})
    return render("similarity.html.j2", result=result, views=views,
                  flagged=sum(p["score"] >= result.threshold for p in result.pairs),
                  short=_short_questions(result))


def _highlighted(result, a, b, qid):
    """Both codes as escaped HTML with the shared (uncommon) code marked."""
    from copydetect.detector import compare_files
    from copydetect.utils import highlight_overlap
    from markupsafe import escape

    doc_a, doc_b = result.documents[(a, qid)], result.documents[(b, qid)]
    _, _, (slices_a, slices_b) = compare_files(doc_a.evidence, doc_b.evidence)
    marked = []
    for doc, slices in ((doc_a, slices_a), (doc_b, slices_b)):
        if getattr(slices, "ndim", 0) < 2 or slices.shape[1] == 0:
            marked.append(str(escape(doc.code)))
            continue
        text, _ = highlight_overlap(doc.code, slices, "<mark>", "</mark>", escape_html=True)
        marked.append(text)
    return marked


def _short_questions(result):
    """Questions whose typical answer is short (under 80 tokens): a match means little."""
    short = []
    for qid in result.questions:
        sizes = sorted(doc.own.token_coverage for (s, q), doc in result.documents.items()
                       if q == qid and doc.own is not None)
        if sizes and sizes[len(sizes) // 2] < 80:
            short.append(qid)
    return short

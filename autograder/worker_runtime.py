"""The code that runs inside a grading worker, next to the student's code.

The grader starts `python -I -S -B -c BOOTSTRAP` (inside the sandbox) and writes to its
stdin: first this file's source followed by worker_server.py's, then a config frame, then
one job frame (or, for a fork server, one job frame per task, each read by a fresh
child). Nothing of the grader is on the worker's disk. The worker

1. reads the whole job (the student's definitions, the probes' source, the cases, and for
   decoupled questions the answer key's layers), then limits itself (CPU time, address
   space, processes, file size, open files);
2. executes the target chapter's definitions one statement at a time (a failing statement
   is reported and skipped); `import_notebook("04_two_layer_net", ...)` inside them loads
   the same student's other chapters from the job;
3. runs each probe (`run_probe`) and writes one result frame per task to its result
   channel: only plain numbers, strings and numeric arrays (fcnet.checking.plain), as
   JSON and an .npz.

Frames, in order: "ready" (limits applied; from here on a failure is the student's code's
doing), one "notes", one "result" per task, "done". The student's prints go to stderr,
which the grader caps. The grader cuts the frames by their length prefix as they arrive
(sandbox/supervisor.py), accepts at most one result frame per task and one notes frame,
decodes them with `decode_frame` and judges them; nothing a worker writes is trusted
beyond being data.

The file is sent as source, so it imports only the standard library at the top, and numpy
and fcnet inside functions (they are on the worker's path only after `_setup`). The grader
imports its public names, so that each piece lives once: the frame format (encode_frame,
decode_frame), the .npy header reader (read_npy_header, for best_model.npz too), the
probe runner (run_probe, for the in-process route too) and the one-line texts of errors
(describe_error, short_text). `main()` runs only in a worker.
"""
import ast
import importlib.machinery
import io
import json
import os
import struct
import sys
import types

BOOTSTRAP = (
    "import sys\n"
    "n = int(sys.stdin.buffer.readline())\n"
    "scope = {'__name__': '__grading_runtime__'}\n"
    "exec(compile(sys.stdin.buffer.read(n), '<grading runtime>', 'exec'), scope)\n"
    "scope['main'](sys.argv[1:])\n"
)

# Modules a notebook imports only for display; inside a worker they are inert stand-ins.
DISPLAY_MODULES = ("matplotlib", "IPython", "otter", "google", "seaborn", "ipywidgets",
                   "PIL", "pandas")

_LENGTH = struct.Struct("<Q")
MAX_MESSAGE = 500


# ------------------------------------------------------------------------- frames

def encode_frame(header, arrays=None):
    """One frame: [8-byte length][8-byte JSON length][JSON header][.npz of arrays]."""
    import numpy as np

    blob = io.BytesIO()
    if arrays:
        np.savez(blob, **arrays)
    text = json.dumps(header).encode("utf-8")
    body = _LENGTH.pack(len(text)) + text + blob.getvalue()
    return _LENGTH.pack(len(body)) + body


def decode_frame(body, max_arrays_bytes=256 * 2 ** 20, max_arrays=1000, refuse=None):
    """(header, arrays) from a frame body written by a worker, treated as hostile data.

    The arrays are read with allow_pickle=False after checking every member's .npy
    header: numeric or boolean dtypes only, and at most `max_arrays_bytes` in total as
    declared, so a compressed member cannot unpack into gigabytes. `refuse(header, name,
    shape, dtype)`, when given, may return a stand-in for an array that must not be
    decoded (the grader's per-probe shapes, autograder/result_shapes.py); it is put in
    `arrays` in the array's place, and the array's data is never read.
    """
    import zipfile

    import numpy as np

    (n,) = _LENGTH.unpack_from(body, 0)
    header = json.loads(body[8:8 + n].decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("frame header is not a JSON object")
    arrays = {}
    rest = body[8 + n:]
    if not rest:
        return header, arrays
    total = 0
    with zipfile.ZipFile(io.BytesIO(rest)) as archive:
        members = [m for m in archive.infolist() if m.filename.endswith(".npy")]
        if len(members) > max_arrays:
            raise ValueError("too many arrays")
        for member in members:
            with archive.open(member) as stream:
                shape, _, dtype = read_npy_header(stream)
            if not (np.issubdtype(dtype, np.number) or dtype == np.bool_):
                raise ValueError(f"array {member.filename!r} has dtype {dtype}")
            total += int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if total > max_arrays_bytes:
                raise ValueError("the arrays are larger than allowed")
        for member in members:
            name = member.filename[:-4]
            with archive.open(member) as stream:
                shape, _, dtype = read_npy_header(stream)
                stand_in = refuse and refuse(header, name, shape, dtype)
            if stand_in is not None:
                arrays[name] = stand_in
                continue
            with archive.open(member) as stream:
                arrays[name] = np.lib.format.read_array(stream, allow_pickle=False)
    return header, arrays


def read_npy_header(stream):
    """(shape, fortran_order, dtype) of the .npy file at the start of `stream`, read by
    numpy.lib.format before any of its data: the grader checks them before allocating.

    Used for every .npy the grader receives from a student: result frames (decode_frame)
    and best_model.npz (autograder/best_model.py). ValueError for a format version other
    than 1.0 and 2.0 (3.0 only adds text field names, which no numeric array needs).
    """
    import numpy as np

    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(stream)
    raise ValueError(f"unsupported .npy format version {version}")


def _read_frame(stream):
    head = stream.read(8)
    if len(head) != 8:
        raise EOFError("no job")
    (n,) = _LENGTH.unpack(head)
    body = stream.read(n)
    if len(body) != n:
        raise EOFError("truncated job")
    return body


# ------------------------------------------------------------------------- inert modules

class _Inert:
    """Accepts any attribute, call, index or iteration and does nothing."""

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Inert()

    def __call__(self, *args, **kwargs):
        return _Inert()

    def __getitem__(self, key):
        return _Inert()

    def __setitem__(self, key, value):
        pass

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __contains__(self, item):
        return False

    def __bool__(self):
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _InertModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Inert()


class _InertFinder:
    """Meta-path finder that satisfies imports of DISPLAY_MODULES with inert modules."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.split(".")[0] in DISPLAY_MODULES:
            return importlib.machinery.ModuleSpec(name, cls, is_package=True)
        return None

    @staticmethod
    def create_module(spec):
        module = _InertModule(spec.name)
        module.__path__ = []
        return module

    @staticmethod
    def exec_module(module):
        pass


# ------------------------------------------------------------------------- student code

def short_text(text, limit=MAX_MESSAGE):
    """`text` on one line, cut to `limit` characters (then "..." is added)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def describe_error(err, limit=MAX_MESSAGE):
    """One line naming the exception and its message, for a note or a check's message."""
    return short_text(f"{type(err).__name__}: {err}", limit)


class _Chapters:
    """The student's chapter definitions, executed on demand into fresh modules."""

    def __init__(self, sources, notes):
        self.sources = sources        # stem -> definitions source
        self._notes = notes           # _Notes: what the runtime reports for the feedback
        self.modules = {}
        self.loading = set()

    def load(self, stem):
        if stem in self.modules:
            return self.modules[stem]
        if stem not in self.sources:
            raise FileNotFoundError(f"{stem}.ipynb is not in the submission (or could not "
                                    "be read)")
        if stem in self.loading:
            raise ImportError(f"{stem}.ipynb imports itself (directly or in a cycle)")
        self.loading.add(stem)
        try:
            name = "fcnet_notebook_" + "".join(c if c.isalnum() else "_" for c in stem)
            module = types.ModuleType(name)
            module.__file__ = f"{stem}.ipynb"
            sys.modules[name] = module
            run_definitions(self.sources[stem], module.__dict__, f"{stem}.ipynb", self._notes)
        finally:
            self.loading.discard(stem)
        self.modules[stem] = module
        return module

    def import_notebook(self, stem, *names):
        module = self.load(str(stem))
        missing = [n for n in names if not hasattr(module, n)]
        if missing:
            raise ImportError(f"{stem}.ipynb defines no {', '.join(missing)}")
        if not names:
            return module
        found = tuple(getattr(module, n) for n in names)
        return found[0] if len(found) == 1 else found


class _Notes:
    """The notes the runtime itself makes: each one as text and as a category
    (file, line, exception type) from which the grader can write its own text."""

    def __init__(self):
        self.texts, self.failures = [], []

    def add(self, text, filename, line, err):
        if len(self.texts) < 50:
            self.texts.append(text)
            self.failures.append({"file": filename, "line": int(line),
                                  "error": type(err).__name__[:100]})

    def frame(self):
        return {"kind": "notes", "notes": list(self.texts), "failures": list(self.failures)}


def run_definitions(source, namespace, filename, notes):
    """Execute `source` statement by statement; a failing statement is noted (in a
    _Notes) and skipped."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as err:  # the extractor parsed each cell, so this is rare
        notes.add(f"{filename}: the definitions could not be parsed ({describe_error(err)})",
                  filename, 0, err)
        return
    lines = source.splitlines()
    for node in tree.body:
        code = compile(ast.Module(body=[node], type_ignores=[]), filename, "exec")
        try:
            exec(code, namespace)
        except BaseException as err:  # SystemExit and KeyboardInterrupt too: keep going
            first = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
            notes.add(f"{filename}: `{short_text(first, 80)}` failed and was skipped "
                      f"({describe_error(err)})", filename, node.lineno, err)


def _install_notebook_import(chapters):
    """Replace fcnet.notebook_import with a version that reads the job, not the disk."""
    module = types.ModuleType("fcnet.notebook_import")
    module.import_notebook = chapters.import_notebook
    module.WIRING_CALLS = {"import_notebook", "make_affine_relu"}

    def unavailable(*args, **kwargs):
        raise RuntimeError("reading notebooks from disk is not available while grading")

    module.load_definitions = module.find_chapter = module.read_notebook = unavailable
    sys.modules["fcnet.notebook_import"] = module
    import fcnet

    fcnet.notebook_import = module


# ------------------------------------------------------------------------- limits

def _apply_limits(limits):
    import resource

    def cap(kind, value):
        # Lowering a limit is always allowed; never ask for more than the hard limit.
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_CPU, int(limits["cpu_seconds"]))
    cap(resource.RLIMIT_FSIZE, int(limits["file_bytes"]))
    cap(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    cap(resource.RLIMIT_NPROC, int(limits["processes"]))
    cap(resource.RLIMIT_AS, int(limits["address_space"]))


# ------------------------------------------------------------------------- main

def _setup(lib):
    """Make the worker's packages importable (once) and stand in for display modules."""
    if lib not in sys.path:
        sys.path.insert(0, lib)
    if _InertFinder not in sys.meta_path:
        sys.meta_path.insert(0, _InertFinder)


def _results_channel():
    """Keep the real stdout for result frames; the student's prints go to stderr."""
    results = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)

    def send(header, arrays=None):
        results.write(encode_frame(header, arrays))
    return send


def _stdin_to_devnull():
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def main(argv=()):
    """Entry point inside a worker (called by BOOTSTRAP): a config frame, then one job;
    or, with argv ["serve"], the fork server of worker_server.py (sent along with this)."""
    config = json.loads(_read_frame(sys.stdin.buffer).decode("utf-8"))
    if list(argv)[:1] == ["serve"]:
        return serve(config)  # noqa: F821 (defined by worker_server.py in the same source)
    send = _results_channel()
    _setup(config["lib"])
    # The job's bytes are handed over, never kept in a local of this frame: student code
    # runs below it and can walk the stack.
    run_job(_read_job_then_close_stdin(), send)
    os._exit(0)  # skip interpreter shutdown: no student atexit hooks, no lingering threads


def _read_job_then_close_stdin():
    body = _read_frame(sys.stdin.buffer)
    _stdin_to_devnull()
    return body


def _unpack_job(body):
    """(job header, case arrays, probes module, reference namespace or None) from the
    job's bytes. The source texts are compiled here and dropped: neither the bytes nor
    the texts outlive this call."""
    job_length = _LENGTH.unpack_from(body, 0)[0]
    job = json.loads(body[8:8 + job_length].decode("utf-8"))
    _setup(job["lib"])

    import numpy as np

    arrays = {}
    if len(body) > 8 + job_length:
        with np.load(io.BytesIO(body[8 + job_length:]), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    del body
    probes = types.ModuleType("grading_probes")
    exec(compile(job.pop("probes"), "<probes>", "exec"), probes.__dict__)
    reference = None
    if job.get("reference"):
        # Compiled from memory: no file behind it, so no source to inspect.
        reference = {"__name__": "reference_layers"}
        exec(compile(job.pop("reference"), "<reference>", "exec"), reference)
    job.pop("reference", None)
    return job, arrays, probes, reference


def run_job(body, send):
    """Run one job (a frame body) and send its result frames.

    `body` is deleted before any student code runs, and the student's definitions run
    in _load_target, whose frame holds only the chapters' sources (the student's own).
    """
    job, arrays, probes, reference = _unpack_job(body)
    del body
    _apply_limits(job.pop("limits"))

    send({"kind": "ready"})  # from here on, a failure is the student's code's doing
    target, tasks = job["target"], job["tasks"]
    ns, notes = _load_target(job.pop("chapters"), target)
    del job
    send(notes)

    import numpy as np

    for task in tasks:
        send(*_run_task(task, arrays, ns, probes, reference, target, np))
    send({"kind": "done"})


def _load_target(sources, target):
    """(namespace of the target chapter, its notes frame)."""
    notes = _Notes()
    chapters = _Chapters(sources, notes)
    _install_notebook_import(chapters)
    try:
        ns = chapters.load(target).__dict__
    except Exception as err:
        ns = {}
        notes.add(f"{target}.ipynb could not be loaded ({describe_error(err)})",
                  f"{target}.ipynb", 0, err)
    return ns, notes.frame()


def _run_task(task, arrays, ns, probes, reference, target, np):
    """(result header, arrays) of one probe task; the student's errors become statuses."""
    case = dict(task["scalars"])
    for name in task["arrays"]:
        case[name] = arrays[f"{task['case']}/{name}"]
    for name, path in task.get("shared", {}).items():  # large inputs: read-only, mapped
        case[name] = np.load(path, mmap_mode="r", allow_pickle=False)
    fields, out_arrays = run_probe(probes, task, ns, case, reference, chapter=target)
    if fields["status"] == "ok":
        fields["arrays"] = sorted(out_arrays)
    return {"kind": "result", "key": task["key"], **fields}, out_arrays or None


def run_probe(probes, task, ns, case, reference=None, chapter="", errors=BaseException):
    """Run one probe on the student's definitions `ns`: (fields, arrays). The one probe
    runner of every route: the worker calls it, and so does the grader's in-process
    route (autograder.grading).

    `task` names the probe, a function of the module `probes` ("probe"), the names it
    reads from `ns` ("needs") and the seed np.random gets first ("np_seed"). With
    `reference` (the answer key's layers) the probe runs on `probes.decoupled(ns,
    reference)`. Its outputs become plain data by fcnet.checking.plain, split into
    `fields["scalars"]` and `arrays`. `fields["status"]` is "ok", "missing", "not
    implemented" or "error" (with a "message"); an exception in `errors` raised by the
    student's code becomes a status (the worker counts SystemExit and KeyboardInterrupt
    too; the in-process route lets Ctrl-C through).
    """
    import numpy as np

    missing = [n for n in task["needs"] if n not in ns]
    if missing:
        where = f" in {chapter}.ipynb" if chapter else ""
        return {"status": "missing", "missing": missing,
                "message": f"{', '.join(missing)} is not defined{where}"}, {}
    np.random.seed(int(task.get("np_seed", 0)))
    try:
        from fcnet.checking import plain  # here: the student's code may have broken it

        probe = getattr(probes, task["probe"])
        if reference is not None:
            with probes.decoupled(ns, reference) as view:
                outputs = plain(probe(view, case))
        else:
            outputs = plain(probe(ns, case))
    except NotImplementedError as err:
        return {"status": "not implemented",
                "message": short_text(str(err) or "still raises NotImplementedError")}, {}
    except errors as err:  # the student's code raised
        return {"status": "error", "error": type(err).__name__[:100],
                "message": describe_error(err)}, {}
    arrays = {k: v for k, v in outputs.items() if isinstance(v, np.ndarray)}
    return {"status": "ok", "scalars": {k: v for k, v in outputs.items() if k not in arrays}}, \
        arrays

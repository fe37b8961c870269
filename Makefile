# Two commands for a fresh machine (see README):
#   make all    build everything: notebooks, graders' bundles, the book, the student release
#   make test   run the whole test suite
# and, for course staff, make test-fast: the tests marked neither slow, cifar nor sandbox
# (CONTRIBUTING.md).
# Both create or reuse .venv/ from the pinned requirements.txt and this project's own install.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# nbgrader finds its own tools (alembic) only with the venv's bin/ on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: all test test-fast venv clean

all: venv
	$(PY) -m course_build all $(BUILD_FLAGS)

test: venv
	$(PY) -m pytest $(PYTEST_FLAGS)

test-fast: venv
	$(PY) -m pytest -m "not slow and not cifar and not sandbox" $(PYTEST_FLAGS)

venv: $(VENV)/.installed

# setuptools prints an information-only notice ("Editable installation ... folders with the same
# name as your package") for every editable install of a package-dir layout like ours; here
# those folders are the packages themselves, so the notice is silenced for that one command.
$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3"
	$(PY) -m pip install --quiet -r requirements.txt
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $@

clean:
	rm -rf _build $(VENV)

# rnncourse: the two commands are `make book` and `make test`.
# This Makefile owns the virtual environment: it creates .venv and installs requirements.txt.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BUILD  := _build
# The strict build flags; rnncourse.exercises.student_book.STRICT holds the same (tests/test_build_flags.py checks).
JB_FLAGS := -W -n --keep-going

# One BLAS/OpenMP thread per process: the chapters' small matrices gain nothing from more, the
# numbers are the same on every run, and a busy machine does not slow them down tenfold.
# The benchmark (make bench) is run without this limit.
THREADS := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# make test runs its tests on two processes (pytest-xdist), beside the strict book build, which starts
# in the background as soon as the tests are collected (tests/conftest.py). Each test goes to the next
# free process, except that a module marked xdist_group runs in one process (its costly module fixture,
# a lab server or a set of graded submissions, then runs once).
XDIST := -n 2 --dist loadgroup

.PHONY: book book-clean test unit nbval lab student bench clean help sandbox

help:
	@echo "make book   build the book into $(BUILD)/html, re-running only chapters whose code or package changed"
	@echo "make book-clean   the strict build from an empty $(BUILD): every chapter runs (what make test and CI check)"
	@echo "make test   run every test: package, strict book build, chapters' checked outputs, browser, wheel"
	@echo "make lab    open the chapters as notebooks in JupyterLab"
	@echo "make student OUT=dir   write the student version (no solutions)"
	@echo "make bench  run the performance benchmark"
	@echo "make unit   the package's tests only (no book build, no browser)"
	@echo "make nbval  run every chapter as a notebook and compare its outputs (or one: make nbval BOOK=book/04_bptt.md)"
	@echo "make sandbox   install bubblewrap for the grader (apt-get, when run as root; make test runs it first)"
	@echo "make clean  remove $(BUILD), student/ and the test caches"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

# Incremental: Sphinx re-reads changed pages, and a chapter re-executes only when its code cells or
# the rnncourse package changed (execution cache in $(BUILD)/.jupyter_cache, see _config.yml).
book: $(STAMP)
	@start=$$(date +%s); \
	$(THREADS) $(VENV)/bin/jupyter-book build . $(JB_FLAGS) || { \
	  find $(BUILD)/html/reports -name '*.err.log' -newermt "@$$start" -exec sh -c 'echo "== $$1"; tail -n 40 "$$1"' _ {} \; 2>/dev/null; exit 1; }; \
	echo "Book built in $$(( $$(date +%s) - start )) s"
	@$(PY) -m rnncourse times $(BUILD)
	@echo "The site is in $(BUILD)/html: open $(BUILD)/html/index.html"

# The grader runs submissions inside bubblewrap (Debian's bubblewrap package): installed here when
# running as root with apt-get; otherwise the grading tests say how to install it and are skipped.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  elif [ "$$(uname -s)" != Linux ]; then echo "bubblewrap is missing: the sandbox needs Linux (a Linux machine, VM, WSL2 or a container), or grade with --no-sandbox (macOS): the grading tests will be skipped"; \
	  else echo "bubblewrap is missing (sudo apt-get install bubblewrap): the grading tests will be skipped"; fi; }

book-clean:
	rm -rf $(BUILD)
	@$(MAKE) --no-print-directory book

# Each chapter executes once, in the strict build from an empty $(BUILD); the chapters' checked outputs
# are compared with the notebooks it executed (tests/test_chapter_outputs.py).
test: $(STAMP) sandbox
	@start=$$(date +%s); \
	$(THREADS) $(PY) -m pytest $(XDIST) tests || status=$$?; \
	echo "make test took $$(( $$(date +%s) - start )) s"; \
	exit $${status:-0}

unit: $(STAMP)
	$(THREADS) $(PY) -m pytest tests -m "not book and not browser"

# Every chapter in a kernel of its own under nbval (or one: make nbval BOOK=book/04_bptt.md).
nbval: $(STAMP)
	$(THREADS) $(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider $(or $(BOOK),book)

# The project's own JupyterLab (jupyter/, never your global ~/.jupyter): a chapter opens as a
# notebook with its MyST rendered, and saving it unchanged rewrites nothing (book/jupytext.toml).
# Its kernels get the book build's one BLAS thread, so that a chapter prints the numbers of the book's page
# (a float32 training run with two threads rounds differently and drifts to other samples).
lab: $(STAMP)
	$(THREADS) JUPYTER_CONFIG_DIR=$(CURDIR)/jupyter $(VENV)/bin/jupyter lab book/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# The student book is executed as make book executes the instructor edition: with the same threads, it prints
# the same numbers (tests/test_grading.py checks both targets).
student: $(STAMP)
	$(THREADS) $(PY) -m rnncourse student $(or $(OUT),student)

bench: $(STAMP)
	$(PY) benchmarks/bench_rnn.py

clean:
	rm -rf $(BUILD) student .pytest_cache .book_build .hypothesis

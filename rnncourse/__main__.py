"""The command line of rnncourse: ``python -m rnncourse COMMAND ...``.

Commands (``python -m rnncourse COMMAND --help`` for their options):

- ``student OUTDIR``: the student version: ``OUTDIR/notebooks/NN_slug.ipynb`` (solutions
  removed, outputs cleared) and ``OUTDIR/html`` (the book built without solutions);
- ``grade SUBMISSION.ipynb [...]``: grade submitted notebooks, each in a sandbox, print a table;
  ``--json FILE`` writes the gradebook, ``--csv FILE`` the grades for an LMS import, ``--feedback-dir DIR``
  one feedback file per student;
- ``nbgrader OUTDIR CHAPTER [...]``: a ready nbgrader course (source notebooks, config, kernel);
- ``exercises [CHAPTER]``: the graded exercises, their points and what the student writes;
- ``times BUILD_DIR``: each chapter's execution time in a Jupyter Book build (``make book``).

Each command is one function ``cmd_<name>(args) -> exit status`` below, registered in
:func:`parser`; add a command the same way. Bad input exits with status 2 and one line on stderr:
a command raises :class:`UsageError`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


class UsageError(Exception):
    """Bad input: :func:`main` prints the message on stderr and returns 2."""


def _book_root(given) -> Path:
    """The folder with ``_toc.yml`` and chapters in ``book/``: as given, else the current folder, else the
    package's checkout."""
    from rnncourse.exercises.student import chapter_paths

    for candidate in ([Path(given)] if given else [Path.cwd(), PACKAGE_ROOT]):
        if (candidate / "_toc.yml").exists() and (candidate / "book").is_dir():
            if not chapter_paths(candidate / "book"):
                raise UsageError(f"expected chapters (NN_slug.md) in {candidate / 'book'}, but it has none")
            return candidate.resolve()
    if given:
        raise UsageError(f"--book: expected a folder with _toc.yml and book/ in it, got {given}")
    raise UsageError(f"no book in {Path.cwd()} or {PACKAGE_ROOT}: expected a folder with _toc.yml and book/; "
                     "pass --book")


def _load_checkers(modules) -> None:
    """Import each ``--checkers`` module; :class:`UsageError` for one that is not there."""
    from rnncourse.exercises.registry import load_checkers

    for module in modules:
        try:
            load_checkers(module)
        except (FileNotFoundError, ModuleNotFoundError, ValueError) as err:
            raise UsageError(f"--checkers: expected a .py file or a module name, got {module!r} ({err})") from err


# ----------------------------------------------------------------------------- student

def cmd_student(args) -> int:
    from rnncourse.exercises.student import write_student_notebooks
    from rnncourse.exercises.student_book import build_student_book

    root, out = _book_root(args.book), Path(args.outdir)
    try:
        written = write_student_notebooks(root / "book", out / "notebooks")
    except OSError as err:
        raise UsageError(f"no student notebooks written: expected a folder to write in, but {err.filename}: "
                         f"{err.strerror}") from err
    except ValueError as err:           # one line: a YAML error spans several
        raise UsageError(f"no student notebooks written: {' '.join(str(err).split())}") from err
    n_removed = sum(len(lines) for lines in written.values())
    print(f"{len(written)} student notebooks in {out / 'notebooks'} ({n_removed} solution lines removed)")
    if args.no_book:
        return 0
    print("building the student book (solutions hidden) ...", flush=True)
    try:
        # Without execution the figures, and so the references to them, are missing: not strict.
        site = build_student_book(root, out, execute=not args.no_execute, strict=not args.no_execute)
    except OSError as err:
        raise UsageError(f"no student book built: {err} (the notebooks are written; --no-book skips the book)")
    except RuntimeError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"student book in {site} (no solution line found in it): open {site / 'index.html'}")
    return 0


# ----------------------------------------------------------------------------- grade

#: Folders that hold copies, not submissions (a zip made on a Mac adds ``__MACOSX/.../._NAME`` for each file).
SKIPPED_FOLDERS = frozenset({".ipynb_checkpoints", "__MACOSX"})


def _notebooks_in(folder: Path) -> list:
    """The ``.ipynb`` files in ``folder`` and below, whatever the case of ``.ipynb``; left out: those in
    :data:`SKIPPED_FOLDERS`, and hidden files and folders (names starting with ``.``) below ``folder``."""
    def kept(f: Path) -> bool:
        below = f.relative_to(folder).parts         # the folder given may itself lie in a hidden one
        return not any(part in SKIPPED_FOLDERS or part.startswith(".") for part in below)

    return sorted(f for f in folder.rglob("*") if f.suffix.lower() == ".ipynb" and kept(f))


#: How many skipped files ``grade`` names on stderr; the others are counted.
SKIPPED_SHOWN = 10


def _skipped_in(folder: Path) -> list:
    """The files in ``folder`` and below that are not notebooks but are named like one: ``ipynb`` in the name, in
    any case (``02.ipynb.txt``), or a name that starts like a chapter notebook, ``NN_`` (``02_structure.py``; also
    as Canvas or Moodle rename it, as the grader reads a notebook's chapter from its name). Other files (notes,
    figures, an LMS's receipts, the grader's earlier outputs) are left out silently, and so are those
    :func:`_notebooks_in` leaves out: in :data:`SKIPPED_FOLDERS`, and hidden files and folders."""
    from rnncourse.exercises.grade import lms_download
    from rnncourse.exercises.student import chapter_id

    def meant(f: Path) -> bool:
        below = f.relative_to(folder).parts
        if any(part in SKIPPED_FOLDERS or part.startswith(".") for part in below):
            return False
        name = f.name.lower()
        uploaded = lms_download(f.name.rsplit("\\", 1)[-1])[1]
        return (not name.endswith(".ipynb") and ("ipynb" in name or chapter_id(uploaded) != "?")
                and f.is_file())

    return sorted(f for f in folder.rglob("*") if meant(f))


def _submissions(paths) -> tuple:
    """``(notebooks, roots, problems)``: the notebooks given and those in the folders given, each once, for each
    the path given that it was found in first (its root, which says who it is from: the notebook itself, for one
    given by itself, see ``student_ids``), and what names none.

    A symbolic link named ``.ipynb`` is kept, for the grader to refuse with a note (links to folders
    are not searched). A file given that is not named ``.ipynb`` (the LMS's zip) is a :class:`UsageError`.
    """
    found, roots, problems, seen = [], [], [], set()
    for p in map(Path, paths):
        if p.exists() and not p.is_dir() and p.suffix.lower() != ".ipynb":
            kind = " (a zip archive: unzip it first)" if p.suffix.lower() == ".zip" else ""
            raise UsageError(f"expected a .ipynb notebook or a folder, got {p}{kind}")
        inside = _notebooks_in(p) if p.is_dir() else [p]
        kept = []
        for f in inside:
            # Its folder resolved, not the notebook: a link stays apart from the file it leads to (it is refused).
            where = f.parent.resolve() / f.name
            if (f.exists() or f.is_symlink()) and where not in seen:
                kept.append(f)
                seen.add(where)
        found, roots = found + kept, roots + [p] * len(kept)
        if not p.exists():
            problems.append(f"{p} (no such file)")
        elif not inside:
            others = [str(f.relative_to(p)) for f in _skipped_in(p)]
            held = (f", which holds {', '.join(others[:3])}{' ...' if len(others) > 3 else ''} (not a notebook: ask "
                    "for the .ipynb file)" if others else "")
            problems.append(f"{p} (a folder without .ipynb files){held}")
    return found, roots, problems


def _seconds(text: str) -> float:
    """The argparse type of a time limit: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def _count(text: str) -> int:
    """The argparse type of a resource count (megabytes, processes, jobs, the table's width): a whole number >= 1."""
    if not text.strip().isdecimal() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _points(specs) -> dict:
    """``{name: points}`` from the ``--points`` options ``NAME=N`` and ``FILE.json``; ``ValueError`` for one
    that is neither."""
    points = {}
    for spec in specs:
        if "=" in spec:
            name, value = spec.split("=", 1)
            if not value.strip().isdecimal():
                raise ValueError(f"expected NAME=N with N a whole number >= 0 (ch04.rnn_backward=5), got {spec!r}")
            points[name.strip()] = int(value)
            continue
        try:
            loaded = json.loads(Path(spec).read_text(encoding="utf-8"))
        except OSError as err:
            raise ValueError(f"expected NAME=N or a JSON file, got {spec!r}, which cannot be read ({err.strerror})")
        except ValueError as err:
            raise ValueError(f"expected a JSON file {{name: points}}, got {spec}, which is not JSON ({err})")
        if not isinstance(loaded, dict):
            raise ValueError(f"expected a JSON object {{name: points}} in {spec}, got a {type(loaded).__name__}")
        points.update(loaded)
    return points


def _descriptor(path):
    """The number of the open file of this process that ``path`` names through its links (``/dev/stdout`` is 1,
    ``/dev/fd/3`` is 3), or ``None``."""
    import os
    import re

    own = re.compile(rf"/(?:proc/(?:self|thread-self|{os.getpid()})|dev)/fd/(\d+)")
    path = os.path.abspath(path)
    for _ in range(40):                                  # the most links the kernel follows
        match = own.fullmatch(path)
        if match:
            return int(match.group(1))
        if not os.path.islink(path):
            return None
        path = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
    return None


def _output(option: str, value) -> tuple:
    """Where the ``option`` file ``value`` is written, and how: ``("descriptor", n)`` for an open file of this
    process (``/dev/stdout``), ``("stream", path)`` for a character device or a pipe, written in place,
    ``("file", path)`` for a regular file or a new one, where a symbolic link leads; :class:`UsageError`
    for anything else, and for a file whose folder is missing or not writable."""
    import os
    import stat

    fd = _descriptor(value)
    if fd is not None:
        try:
            os.fstat(fd)
        except OSError as err:
            raise UsageError(f"{option}: expected a file to write, got {value}, which names file descriptor {fd} "
                             f"({err.strerror})") from err
        return "descriptor", fd
    try:
        mode = os.stat(value).st_mode                   # through links: what would be written
    except (FileNotFoundError, NotADirectoryError):
        mode = None                                     # a new file (or a link to one)
    except OSError as err:
        raise UsageError(f"{option}: expected a file to write, got {value} ({err.strerror})") from err
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        return "stream", Path(value)
    if mode is not None and stat.S_ISDIR(mode):
        raise UsageError(f"{option}: expected a file to write, got {value}, which is a folder")
    if mode is not None and not stat.S_ISREG(mode):
        kind = "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file"
        raise UsageError(f"{option}: expected a regular file, a character device or a pipe to write, got {value}, "
                         f"which is {kind}")
    path = Path(os.path.realpath(value)) if os.path.islink(value) else Path(value)
    if not path.parent.is_dir():
        raise UsageError(f"{option}: expected a file in an existing folder, got {value}, but {path.parent} "
                         "is not a folder")
    if not os.access(path.parent, os.W_OK):       # the file is written beside it, then renamed
        raise UsageError(f"{option}: expected a file in a folder you may write, got {value} (permission "
                         f"denied on {path.parent})")
    return "file", path


def _check_outputs(args, ids) -> None:
    """Refuse, before any grading, a ``--json``/``--csv`` file that cannot be written, two outputs that are one
    file or the roster, a roster that cannot be read whole or holds none of the students' ``ids`` (or lacks
    its ``--roster-key`` column), and roster options that would be ignored."""
    import csv
    import os

    from rnncourse.exercises.grade import SAVE_AS_UTF8, read_roster

    if args.roster and not args.csv:
        raise UsageError(f"--roster {args.roster}: expected with --csv FILE (the roster shapes the CSV), got no --csv")
    if args.roster_key and not args.roster:
        raise UsageError(f"--roster-key {args.roster_key}: expected with --roster FILE.csv, got no --roster")
    files = {os.path.realpath(args.roster): f"the roster {args.roster}"} if args.roster else {}
    for option, value in (("--json", args.json), ("--csv", args.csv)):
        if value is None:
            continue
        how, where = _output(option, value)
        if how != "file":                       # a device, a pipe or stdout (a descriptor) may well take both
            continue
        if os.path.realpath(where) in files:
            raise UsageError(f"{option}: expected a file of its own, got {value}, which is "
                             f"{files[os.path.realpath(where)]} too: one would replace the other; name another file")
        files[os.path.realpath(where)] = f"the {option} file"
    if args.roster:
        try:
            with open(args.roster, newline="", encoding="utf-8-sig") as f:
                header = next(csv.reader(f), [])
        except (OSError, ValueError, csv.Error) as err:
            reason = (err.strerror or err) if isinstance(err, OSError) else err
            fix = f"; {SAVE_AS_UTF8}" if isinstance(err, UnicodeDecodeError) else ""
            raise UsageError(f"--roster: expected a CSV file to read, got {args.roster} ({reason}){fix}") from err
        if not header:
            raise UsageError(f"--roster: the roster {args.roster} is empty; it needs a header row and one row per "
                             "student")
        if args.roster_key and args.roster_key not in header:
            raise UsageError(f"--roster-key: the roster {args.roster} has no column {args.roster_key!r}; "
                             f"its columns are {header}")
        try:
            read_roster(args.roster, args.roster_key, ids)
        except (OSError, ValueError) as err:
            raise UsageError(f"--roster: {err}") from err


def _check_student_row(args, paths, roots) -> None:
    """Refuse a ``--student`` that would put the notebooks in another student's row of the roster: where the
    folder layout or the rule of ``student_id`` says they are of a student the roster has a row for (``grade
    subs/bob --student alice``, with ``subs/bob/04_bptt.ipynb``; ``grade subs --student bob``, with
    ``subs/carol.ipynb``), the grades are that student's, not ``--student``'s."""
    from rnncourse.exercises.grade import layout_students, printable, read_roster, roster_form, student_ids

    student = args.student.strip()
    try:
        _, rows, col = read_roster(args.roster, args.roster_key, [student])
    except (OSError, ValueError) as err:
        raise UsageError(f"--roster: {err}") from err
    listed = {roster_form(row[col]) for row in rows if len(row) > col}
    for path, layout, rule in zip(paths, layout_students(paths, roots), student_ids(paths, roots)):
        who = next((w for w in (layout, rule)
                    if w is not None and roster_form(w) != roster_form(student) and roster_form(w) in listed), None)
        if who is not None:
            raise UsageError(printable(
                f"--student: {path} is the notebook of {who} by the folder layout, and the roster {args.roster} has "
                f"a row for {who}: --student {student} would put {who}'s grades in the row of {student}; grade it "
                f"without --student, or give {student}'s own notebooks"))


def _replace(path: Path, data: bytes, keep: bool = True) -> None:
    """Write ``data`` into a new file beside ``path``, then rename it over ``path`` (a symbolic link there is
    replaced itself, never followed). With ``keep``, the new file keeps the permissions (and, where allowed,
    the owner) of the regular file it replaces; else, or where there was none, it is the grader's own and
    readable by its owner only."""
    import os
    import stat
    import tempfile

    temporary = None
    try:
        try:
            old = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            old = None
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        with open(fd, "wb") as f:
            f.write(data)
            if keep and old is not None and stat.S_ISREG(old.st_mode):
                os.chmod(f.fileno(), old.st_mode & 0o7777)
                try:
                    os.chown(f.fileno(), old.st_uid, old.st_gid)
                except PermissionError:                 # not root: the file becomes the grader's own
                    pass
        os.replace(temporary, path)
    except BaseException:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _write(option: str, path, text: str) -> None:
    """Write ``text`` to ``path``; :class:`UsageError` naming ``option`` when that fails.

    UTF-8, with what it cannot hold (undecodable bytes of a file name) written ``\\udcxx``. A character
    device or a pipe (``/dev/null``, a FIFO) and an open file of this process (``/dev/stdout``) are
    written in place. A file is written whole or not at all: into a new file in the same folder,
    renamed over ``path`` once complete, so a failure leaves ``path`` as it was; through a symbolic
    link, the file it leads to is replaced and the link stays. A file that was there keeps its
    permissions; a new one is readable by its owner only (it holds students' grades).
    """
    import os

    data = text.encode("utf-8", "backslashreplace")
    how, where = _output(option, path)
    try:
        if how == "descriptor":
            sys.stdout.flush()
            sys.stderr.flush()
            with open(os.dup(where), "wb") as f:       # shares the offset of what was printed before
                f.write(data)
        elif how == "stream":
            with open(where, "wb") as f:
                f.write(data)
        else:
            _replace(where, data)
    except OSError as err:
        raise UsageError(f"{option}: nothing written to {path} ({err.strerror or err}); the grades are in the table "
                         "above") from err


def _check_feedback_dir(value, outputs=()) -> None:
    """Refuse, before any grading, a ``--feedback-dir`` that is not a folder, a symbolic link to nothing, or
    cannot be made or written, and ``outputs`` (``(option, path)``: ``--json``, ``--csv``) that the feedback
    would replace: in that folder, named ``index.json`` or ``*.txt``."""
    import os

    from rnncourse.exercises.grade import FEEDBACK_INDEX

    folder = Path(value)
    for option, path in outputs:
        if path is None:
            continue
        where = Path(os.path.realpath(path))            # as it is written: through links
        if where == Path(os.path.realpath(folder)):
            raise UsageError(f"--feedback-dir: expected a folder of its own, got {value}, which {option} names too")
        if where.parent == Path(os.path.realpath(folder)) and (
                where.name.casefold() == FEEDBACK_INDEX.casefold() or where.suffix.casefold() == ".txt"):
            raise UsageError(f"--feedback-dir: expected a folder that {option} {path} is not in, since that name is "
                             f"one the feedback may take ({FEEDBACK_INDEX} or a student's .txt); name another file "
                             "or folder")
    if folder.is_symlink() and not folder.exists():
        raise UsageError(f"--feedback-dir: expected a folder for the students' feedback, got {value}, a symbolic "
                         f"link to {os.readlink(folder)}, which does not exist")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--feedback-dir: expected a folder for the students' feedback, got {value}, which is not "
                         "a folder")
    where = folder if folder.is_dir() else folder.parent
    if not where.is_dir():
        raise UsageError(f"--feedback-dir: expected a folder, or a new one in an existing folder, got {value}, but "
                         f"{where} is not a folder")
    if not os.access(where, os.W_OK | os.X_OK):
        raise UsageError(f"--feedback-dir: expected a folder you may write, got {value} (permission denied on "
                         f"{where})")


def _earlier_index(folder: Path, index: dict) -> dict:
    """The entries of the index an earlier run left in ``folder`` that still hold: each names the file this
    grader writes for its student, a regular file that is there, not taken (in any case) by this run's ``index``.
    One line on stderr when there is an index that cannot be read as one."""
    import stat

    from rnncourse.exercises.grade import FEEDBACK_INDEX, feedback_file_name, printable

    path = folder / FEEDBACK_INDEX
    try:
        if not stat.S_ISREG(path.lstat().st_mode) or path.stat().st_size > 50_000_000:
            raise ValueError("not a regular file of a reasonable size")
        earlier = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(earlier, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, RecursionError) as err:       # RecursionError: JSON nested too deep
        print(printable(f"warning: the earlier {path} was not read ({str(err)[:200]}); the new one lists this "
                        "run's students only"), file=sys.stderr)
        return {}
    taken = {name.casefold() for name in index}
    kept, dropped = {}, []
    for name, sid in earlier.items():
        if (isinstance(name, str) and isinstance(sid, str) and name.casefold() not in taken
                and feedback_file_name(sid) == name and (folder / name).is_file()
                and not (folder / name).is_symlink()):
            kept[name] = sid
        elif isinstance(name, str) and name.casefold() not in taken and (folder / name).is_file():
            dropped.append(name)
    if dropped:
        print(printable(f"warning: the earlier {path} lists {', '.join(sorted(dropped)[:5])}"
                        f"{' ...' if len(dropped) > 5 else ''}, not the file this grader writes for the id it gives; "
                        "the new index leaves them out, so check whose they are before handing them back"),
              file=sys.stderr)
    return kept


def _write_feedback(value, files: dict) -> tuple:
    """Write each of ``files`` (``{file name: text}``, from ``feedback_files``) whole into the folder ``value``,
    made if missing, and return what failed, one line each (a file that cannot be written does not stop the
    others), and the line that says what was written (``None`` when the folder could not be made). A new folder
    is readable by its owner only, and each file is written new, the grader's own and readable by its owner only
    (they hold grades); a symbolic link in the folder is replaced, not followed.
    The index keeps the entries of an earlier run's (a regrade of one student leaves the others listed)."""
    from rnncourse.exercises.grade import FEEDBACK_INDEX, printable

    folder = Path(value)
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError as err:
        return [f"--feedback-dir: no feedback written: cannot make the folder {value} ({err.strerror or err})"], None
    index = json.loads(files[FEEDBACK_INDEX])
    index = {**_earlier_index(folder, index), **index}
    files = {**files, FEEDBACK_INDEX: json.dumps(index, indent=2) + "\n"}
    failed, written, index_written = [], 0, False
    for name, text in files.items():
        try:
            _replace(folder / name, text.encode("utf-8", "backslashreplace"), keep=False)
            written += name != FEEDBACK_INDEX
            index_written = index_written or name == FEEDBACK_INDEX
        except OSError as err:
            what = (f"the index {FEEDBACK_INDEX}, which says whose each file is" if name == FEEDBACK_INDEX
                    else f"{name}, whose feedback is in the table above")
            failed.append(printable(f"--feedback-dir: not written to {value}: {what} ({err.strerror or err})"))
    return failed, printable(f"feedback for {written} student{'s' if written != 1 else ''} written to {value}, one "
                             "file each" + (f", and {FEEDBACK_INDEX}, which says whose each file is" if index_written
                                            else ""))


def cmd_grade(args) -> int:
    from dataclasses import asdict

    from rnncourse.exercises.grade import (SandboxUnavailable, check_chapter, check_one_per_student, check_points,
                                           feedback_files, format_table, grade_all, gradebook, grades_csv,
                                           missing_from_roster, student_ids)
    from rnncourse.exercises.sandbox import NO_SANDBOX_WARNING, NOT_ON_WINDOWS, Limits

    if sys.platform == "win32":
        raise UsageError(f"grading refused: {NOT_ON_WINDOWS}")
    paths, roots, problems = _submissions(args.submissions)
    if problems:
        raise UsageError(f"no such submission: {', '.join(problems)}")
    try:
        students = student_ids(paths, roots, args.student)
    except ValueError as err:
        raise UsageError(f"--student: {err}") from err
    _check_outputs(args, students)
    skipped = _skipped_files(args.submissions, args.student, students,
                             (args.json, args.csv, args.roster, args.feedback_dir))
    if args.student is not None and args.roster:
        _check_student_row(args, paths, roots)
    if args.feedback_dir is not None:
        _check_feedback_dir(args.feedback_dir, (("--json", args.json), ("--csv", args.csv)))
    if args.book_dir and not Path(args.book_dir).is_dir():
        raise UsageError(f"--book-dir: expected the book's folder of chapters, got {args.book_dir}, which is not a "
                         "folder")
    _load_checkers(args.checkers)
    try:
        points = check_points(_points(args.points))
    except (TypeError, ValueError) as err:
        raise UsageError(f"--points: {err}") from err
    try:
        check_chapter(args.chapter)
    except ValueError as err:
        raise UsageError(f"--chapter: {err}") from err
    if args.csv:
        try:
            check_one_per_student(paths, students, args.chapter, roots)
        except ValueError as err:
            raise UsageError(f"--csv: no CSV possible: {err}") from err
    if args.no_sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    book = args.book_dir or (PACKAGE_ROOT / "book")
    limits = Limits(memory_mb=args.memory_mb, processes=args.processes)
    settings = {"timeout": args.timeout, "exercise_timeout": args.exercise_timeout,
                "only_exercises": args.exercises_only, "checkers": args.checkers, "points": points,
                "chapter": args.chapter, "sandbox": not args.no_sandbox, "limits": asdict(limits)}
    try:
        results = grade_all(paths, roots=roots, student=args.student, jobs=args.jobs, checkers=args.checkers,
                            timeout=args.timeout, exercise_timeout=args.exercise_timeout, points=settings["points"],
                            chapter=args.chapter, only_exercises=args.exercises_only,
                            book_dir=book if Path(book).is_dir() else None, sandbox=not args.no_sandbox, limits=limits)
    except SandboxUnavailable as err:
        raise UsageError(f"grading refused: {err}") from err
    # Every file asked for is written before the table is printed: a reader that leaves early (grade ... | head)
    # loses the table, never the grades. What goes to stdout itself, or to a device or a pipe, follows the table.
    def csv_text():
        try:
            return grades_csv(results, args.roster, args.roster_key)
        except (OSError, ValueError) as err:
            raise UsageError(f"no CSV written: {err}") from err

    outputs = []                                        # (option, path, its text when asked for, what to say)
    if args.json:
        outputs.append(("--json", args.json, lambda: json.dumps(gradebook(results, settings), indent=2) + "\n",
                        f"gradebook written to {args.json}"))
    if args.csv:
        outputs.append(("--csv", args.csv, csv_text, f"grades for an LMS import written to {args.csv}"))
    # A file refused (the CSV, for a roster the grader refuses) fails the run last: the other files, the table
    # and the warnings come first, so the run's grades and feedback are kept.
    table, done, refused = format_table(results, width=args.width), [], []
    for option, path, text, message in outputs:
        try:
            data, later = text(), _output(option, path)[0] != "file"
            if not later:
                _write(option, path, data)
        except UsageError as err:
            refused.append((option, err))
            continue
        done.append((option, path, data if later else None, message))
    unwritten = []
    if args.feedback_dir is not None:
        unwritten, line = _write_feedback(args.feedback_dir, feedback_files(results))
        done += [(None, None, None, line)] if line else []
    _print_after_the_table(table, done)
    # Without the CSV, the warnings do not speak of it.
    said = (argparse.Namespace(**{**vars(args), "csv": None, "roster": None}) if "--csv" in dict(refused)
            else args)
    missing = missing_from_roster(results, said.roster, said.roster_key) if said.roster else []
    _warn_missing(missing, results, said)
    _warn_skipped(skipped, said)
    not_graded = _warn_not_graded(results, said, missing)
    if args.no_sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    for line in unwritten:
        print(line, file=sys.stderr)
    if refused:
        raise UsageError("\n".join(str(err) for _, err in refused))
    return 2 if unwritten else 1 if missing or not_graded else 0


def _stdout_gone() -> None:
    """After a :class:`BrokenPipeError` on stdout (its reader, ``head`` say, has left): send what is still to be
    printed, and the interpreter's last flush, to ``os.devnull``, so that the command ends quietly (Python's
    documented recipe, in the :mod:`signal` module's notes on SIGPIPE)."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _print_after_the_table(table: str, done) -> None:
    """Print ``table``, then for each of ``done``, ``(option, path, text, line)``, write ``text`` (when not
    ``None``: stdout itself, a device or a pipe) and print ``line``; stop printing, quietly, when stdout's reader
    has left."""
    try:
        print(table)
        for option, path, text, line in done:
            if text is not None:
                _write(option, path, text)
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_gone()


def _warn_missing(missing, results, args) -> None:
    """One line on stderr for each graded student the roster has no row for (so no grades in the CSV)."""
    from rnncourse.exercises.grade import printable

    for sid in missing:
        names = ", ".join(sub.submission for sub in results if sub.student == sid)
        print(printable(f"warning: student {sid} ({names}) is not in the roster {args.roster}: their grades are in "
                         f"the table, not in {args.csv}; add them to the roster, or name the column with "
                         "--roster-key"), file=sys.stderr)


def _skipped_files(given, student, students, own=()) -> list:
    """``(file, who)`` for each file in the folders ``given`` that is not a notebook but may have been meant as
    one (:func:`_skipped_in`), once each: ``who`` is the student it is from, by ``--student`` or the folder layout,
    where that student has no notebook among ``students`` (the ids of the notebooks graded), else ``None``.
    Those of students without a notebook come first. Left out: the grader's own files ``own`` (``--json``,
    ``--csv``, ``--roster``, and what is in ``--feedback-dir``), which may lie in a folder given."""
    import os

    from rnncourse.exercises.grade import layout_students, roster_form

    own = [Path(os.path.realpath(path)) for path in own if path]
    files, roots, seen = [], [], set()
    for p in map(Path, given):
        for f in _skipped_in(p) if p.is_dir() else []:
            where = f.parent.resolve() / f.name
            if where not in seen and not any(where == path or path in where.parents for path in own):
                files.append(f)
                roots.append(p)
                seen.add(where)
    if student is not None:
        owners = [student.strip()] * len(files)
    else:
        try:
            owners = layout_students(files, roots)
        except ValueError:
            owners = [None] * len(files)
    graded = {roster_form(sid) for sid in students}
    found = [(f, who if who is not None and roster_form(who) not in graded else None)
             for f, who in zip(files, owners)]
    return sorted(found, key=lambda item: item[1] is None)      # stable: in order within each group


def _roster_chapters(args) -> set:
    """The chapters of the grade columns (``ch04.rnn_backward (3)``, an earlier run's CSV) of the ``--roster`` that
    the ``--csv`` is written from: in a regrade into them, a cell this run does not grade keeps its value."""
    import csv
    import re

    if not (args.csv and args.roster):
        return set()
    try:
        with open(args.roster, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f), [])
    except (OSError, ValueError, csv.Error):            # UnicodeDecodeError is a ValueError
        return set()
    return {name.split(".")[0] for name in header if re.fullmatch(r"\w+\.\w+ \(\d+\)( \(\d+\))?", name.strip())}


def _warn_skipped(skipped, args) -> None:
    """One line on stderr for each of the first :data:`SKIPPED_SHOWN` files of ``skipped`` (from
    :func:`_skipped_files`), naming the student who has no notebook graded at all; a count of the others."""
    from rnncourse.exercises.grade import printable

    for f, who in skipped[:SKIPPED_SHOWN]:
        if who is None:
            what = "if it was meant as a submission, ask for the .ipynb file"
        else:
            row = (f", so their row in {args.csv} keeps the roster's values" if _roster_chapters(args) else
                   f", so their row in {args.csv} is empty" if args.roster else
                   f", so {args.csv} has no row for them" if args.csv else ", so they have no grades")
            what = f"student {who} has no notebook here{row}: ask for the .ipynb file"
        print(printable(f"skipped {f}: not a notebook (.ipynb); nothing of it is graded; {what}"), file=sys.stderr)
    if len(skipped) > SKIPPED_SHOWN:
        print(f"... and {len(skipped) - SKIPPED_SHOWN} more files that are not notebooks were skipped (the first "
              f"{SKIPPED_SHOWN} are named above)", file=sys.stderr)


def _warn_not_graded(results, args, missing=()) -> list:
    """One line on stderr for each submission refused, unreadable or failed on by the grader, or of which nothing
    was graded (no chapter found, a file name and metadata that name two chapters): not graded is not zero, its
    cells in the CSV are empty, or keep the values of a ``--roster`` that has its chapter's grade columns (but for
    a student of ``missing``, whom the roster lacks); return those submissions."""
    from rnncourse.exercises.grade import NOT_GRADED, printable

    failed = [sub for sub in results if sub.status in NOT_GRADED
              or not sub.exercises and any(note.startswith("nothing graded: ") for note in sub.notes)]
    for sub in failed:
        nothing = [note for note in sub.notes if note.startswith("nothing graded: ")]
        why = (nothing or sub.notes or [""])[0].removeprefix("not graded: ").removeprefix("nothing graded: ")
        kept = sub.chapter in _roster_chapters(args) and sub.student not in missing
        where = (f"; its cells in {args.csv} keep the roster's values (not this run's)" if kept else
                 f"; its cells in {args.csv} are empty, not zero" if args.csv else "")
        status = f" ({sub.status})" if sub.status in NOT_GRADED else ""
        print(printable(f"warning: {sub.submission} (student {sub.student}) is not graded{status}: "
                         f"{why}{where}"), file=sys.stderr)
    return failed


# ----------------------------------------------------------------------------- nbgrader

def cmd_nbgrader(args) -> int:
    from rnncourse.exercises.nbgrader_course import CourseHasChapters, write_nbgrader_course

    root, out = _book_root(args.book), Path(args.outdir)
    try:
        written = write_nbgrader_course(root / "book", out, args.chapters, course_id=args.course_id,
                                        timeout=args.timeout, force=args.force)
    except OSError as err:
        raise UsageError(f"no nbgrader course written: expected a folder to write in, but {err.filename}: "
                         f"{err.strerror}") from err
    except CourseHasChapters as err:                   # worded for the command line, not the function
        raise UsageError(CourseHasChapters(err.paths, "--force")) from err
    except ValueError as err:
        raise UsageError(str(err)) from err
    for chapter, graded in written.items():
        print(f"{out / 'source' / chapter}: {len(graded)} autograded tests cells, "
              f"{sum(p for _, p in graded)} points")
    print(f"nbgrader course in {out}: cd {out} && nbgrader generate_assignment {args.chapters[0]}")
    if importlib.util.find_spec("nbgrader") is None and shutil.which("nbgrader") is None:
        print("nbgrader is not installed: pip install nbgrader==0.9.6 (or pip install -e .[nbgrader]; an optional "
              "extra), then run the command above; the course is written", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------- exercises

def cmd_exercises(args) -> int:
    from rnncourse.exercises.grade import check_chapter
    from rnncourse.exercises.registry import all_exercises, chapter_exercises

    _load_checkers(args.checkers)
    try:
        check_chapter(args.chapter)
    except ValueError as err:
        raise UsageError(str(err)) from err
    found = all_exercises() if args.chapter is None else chapter_exercises(args.chapter)
    width = max(len(e.name) for e in found)
    print(f"{'exercise':<{width}}  points  what the student writes")
    for e in found:
        print(f"{e.name:<{width}}  {e.points:>6}  {e.description}")
    print(f"{'total':<{width}}  {sum(e.points for e in found):>6}")
    return 0


# ----------------------------------------------------------------------------- times

def _book_order(env) -> list:
    """Docnames in the order of the book's table of contents (depth first from the root)."""
    order, stack = [], [env.config.root_doc]
    while stack:
        doc = stack.pop()
        if doc not in order:
            order.append(doc)
            stack += reversed(env.toctree_includes.get(doc, []))
    return order + sorted(set(env.found_docs) - set(order))


def cmd_times(args) -> int:
    import pickle

    pickled = Path(args.build_dir) / ".doctrees" / "environment.pickle"
    if not pickled.exists():
        raise UsageError(f"no {pickled}: expected the build folder that holds .doctrees (_build, not _build/html); "
                         "build the book first (make book)")
    try:
        env = pickle.loads(pickled.read_bytes())
    except ModuleNotFoundError:     # Sphinx itself is missing: main() names the extra to install
        raise
    except Exception as err:        # a truncated or foreign pickle fails in many ways
        raise UsageError(f"{pickled}: expected a Sphinx build environment, got a file that does not unpickle "
                         f"({type(err).__name__}: {err}); build the book again (make book)") from err
    from myst_nb.sphinx_ import NbMetadataCollector     # after the checks, which need no myst-nb

    rows = []
    for doc in _book_order(env):
        try:
            data = NbMetadataCollector.get_exec_data(env, doc)
        except KeyError:
            data = None
        if data:
            rows.append((doc, data.get("runtime"), data.get("method", ""), bool(data.get("succeeded"))))
    if not rows:
        print("no executed notebook in this build")
        return 0
    width = max(len("docname"), *(len(r[0]) for r in rows))
    print(f"{'docname':<{width}}  {'seconds':>8}  {'method':<7}  ok")
    for doc, seconds, method, ok in rows:
        shown = f"{seconds:8.1f}" if seconds is not None else f"{'-':>8}"
        print(f"{doc:<{width}}  {shown}  {method or '-':<7}  {'yes' if ok else 'FAILED'}")
    total = sum(r[1] or 0.0 for r in rows)
    failed = [r[0] for r in rows if not r[3]]
    print(f"{'total':<{width}}  {total:8.1f}" + (f"  ({len(failed)} failed: {', '.join(failed)})" if failed else ""))
    for doc in failed:
        # After a failed build, `make book` with the page unchanged prints Sphinx's "build succeeded" (nothing
        # was read again), so say where the failure comes from and what to do.
        report = Path(args.build_dir) / "html" / "reports" / f"{doc}.err.log"
        where = f"its traceback is in {report}" if report.is_file() else "its page shows the error"
        print(f"{doc} failed to execute, in this build or in an earlier one (a page that has not changed is not run "
              f"again): {where}; fix the chapter or the package, then build again", file=sys.stderr)
    return 1 if failed else 0


# ----------------------------------------------------------------------------- parser

def parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per command."""
    p = argparse.ArgumentParser(prog="python -m rnncourse", description="rnncourse for instructors: the student "
                                "version, grading, an nbgrader course, the graded exercises, build times.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("student", help="write the student version: notebooks and book without solutions")
    s.add_argument("outdir", help="output folder (notebooks/ and html/ go in it)")
    s.add_argument("--book", help="the book's root folder (default: the current folder or the checkout)")
    s.add_argument("--no-book", action="store_true", help="write the notebooks only, do not build the book")
    s.add_argument("--no-execute", action="store_true", help="build the book without running the chapters (quick preview: no outputs, not strict)")
    s.set_defaults(run=cmd_student)

    g = sub.add_parser("grade", help="grade submitted notebooks")
    g.add_argument("submissions", nargs="+", help="notebooks, or folders searched for *.ipynb")
    g.add_argument("--json", metavar="FILE", help="write the gradebook as JSON")
    g.add_argument("--csv", metavar="FILE", help="write the grades as CSV for Canvas, Moodle or Gradescope: "
                   "one row per student, one column per exercise, a total")
    g.add_argument("--roster", metavar="FILE.csv", help="with --csv: the class list (e.g. the LMS's gradebook "
                   "export); the CSV keeps its columns and rows and adds the grades")
    g.add_argument("--roster-key", metavar="COLUMN", help="the roster column that holds the student ids "
                   "(the table's first column; default: found)")
    g.add_argument("--no-sandbox", action="store_true", help="DANGEROUS: run submissions without the sandbox, "
                   "with your user's rights (only for submissions you trust)")
    g.add_argument("--memory-mb", type=_count, default=4096, help="address space of a submission (default 4096)")
    g.add_argument("--processes", type=_count, default=64, help="processes a submission may run (default 64)")
    g.add_argument("--timeout", type=_seconds, default=300, metavar="SECONDS",
                   help="time limit for running one notebook's cells (default 300)")
    g.add_argument("--exercise-timeout", type=_seconds, default=30, metavar="SECONDS",
                   help="time limit for checking one exercise (default 30); a whole submission, restarts of its "
                   "sandbox included, may take 2 x (timeout + 30 s to start) + exercises x this at most")
    g.add_argument("--exercises-only", action="store_true",
                   help="run only the opening code cells, up to the first that imports rnncourse, and the cells "
                   "after the Exercises heading (every cell where there is none)")
    g.add_argument("--checkers", action="append", default=[], metavar="FILE_OR_MODULE",
                   help="extra checkers (a .py file or module registering exercises); repeatable")
    g.add_argument("--points", action="append", default=[], metavar="NAME=N|FILE.json",
                   help="points of an exercise, or a JSON file {name: points}; repeatable")
    g.add_argument("--chapter", metavar="chNN", help="grade every submission as this chapter (default: from "
                   "its file name NN_..., else from its metadata, else from its check calls)")
    g.add_argument("--jobs", type=_count, default=1, help="submissions graded at the same time (default 1)")
    g.add_argument("--student", metavar="NAME", help="who the notebooks are from, for one student's notebooks "
                   "that the folder layout does not name (grade subs/bob --student bob); refused for notebooks the "
                   "layout gives to several students, or to another student of the --roster")
    g.add_argument("--feedback-dir", metavar="DIR", help="write one text file per student into DIR (made if "
                   "missing): each exercise's points and feedback, and the notes about the notebook; DIR/index.json "
                   "says whose each file is")
    g.add_argument("--book-dir", help="the chapters, to find exercise function names (default: the book/ folder "
                   "of the checkout rnncourse runs from, where there is one)")
    g.add_argument("--width", type=_count, default=110, help="width of the printed table")
    g.set_defaults(run=cmd_grade)

    n = sub.add_parser("nbgrader", help="write an nbgrader course (source notebooks, config, kernel) for chapters")
    n.add_argument("outdir", help="the course folder to write (nbgrader's course root)")
    n.add_argument("chapters", nargs="+", help="chapters with coding exercises, e.g. ch02 ch04")
    n.add_argument("--course-id", default="rnncourse", help="nbgrader's course id (default rnncourse)")
    n.add_argument("--timeout", type=int, default=300, help="seconds nbgrader lets a cell run (default 300)")
    n.add_argument("--book", help="the book's root folder (default: the current folder or the checkout)")
    n.add_argument("--force", action="store_true", help="replace the source notebooks of these chapters if the "
                   "course has them")
    n.set_defaults(run=cmd_nbgrader)

    e = sub.add_parser("exercises", help="list the graded exercises and their points")
    e.add_argument("chapter", nargs="?", help="only this chapter, e.g. ch04")
    e.add_argument("--checkers", action="append", default=[], metavar="FILE_OR_MODULE",
                   help="extra checkers to list too; repeatable")
    e.set_defaults(run=cmd_exercises)

    t = sub.add_parser("times", help="execution time of each chapter in a book build")
    t.add_argument("build_dir", help="the build folder, e.g. _build")
    t.set_defaults(run=cmd_times)
    return p


# The optional extra that brings each module a command may need (pyproject.toml).
EXTRAS = {"jupytext": "instructor", "nbformat": "instructor", "markdown_it": "instructor",
          "mdit_py_plugins": "instructor", "yaml": "instructor", "IPython": "instructor",
          "sphinx": "book", "myst_nb": "book", "torch": "torch"}


#: The arguments each command takes by position (the others are options, ``--name``).
_POSITIONAL = {"cmd_student": ("outdir",), "cmd_grade": ("submissions",), "cmd_nbgrader": ("outdir", "chapters"),
              "cmd_exercises": ("chapter",), "cmd_times": ("build_dir",)}


def _check_no_empty_values(args, positional) -> None:
    """:class:`UsageError` for an argument given as an empty or blank string (an unset shell variable): ``grade ''``
    would grade the current folder, ``student ''`` write into it. ``positional`` holds the names of the command's
    arguments given by position; every other argument is named by its option, ``--`` and the name."""
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and not item.strip():
                option = name if name in positional else "--" + name.replace("_", "-")
                raise UsageError(f"{option}: expected a value, got an empty one ({item!r}: an unset shell variable?)")


def main(argv=None) -> int:
    """Run the command named in ``argv``; return its exit status."""
    # A student's name that stdout cannot encode (a Windows console, PYTHONIOENCODING=cp1252) is printed escaped.
    try:
        sys.stdout.reconfigure(errors="backslashreplace")
    except (AttributeError, ValueError, OSError):       # no reconfigure (a replaced stdout), or a closed one
        pass
    args = parser().parse_args(argv)
    try:
        _check_no_empty_values(args, _POSITIONAL.get(args.run.__name__, ()))
        status = args.run(args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:                  # stdout's reader has left (... | head): what it wanted, it has
        _stdout_gone()
        return 1
    except UsageError as err:
        from rnncourse.exercises.grade import printable

        print("\n".join(printable(line) for line in str(err).split("\n")), file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        extra = EXTRAS.get((err.name or "").partition(".")[0])
        if extra is None:
            raise
        print(f"this command needs {err.name}, which is not installed: pip install 'rnncourse[{extra}]'",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

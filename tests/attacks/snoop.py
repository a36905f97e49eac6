# Looks for secrets: frames, the environment, /proc of other processes, the checkers' files; finds none.
# %%
import os, sys
found = []
for frame in sys._current_frames().values():
    while frame is not None:
        if {"token", "expected", "reference"} & set(frame.f_locals):
            found.append(frame.f_code.co_name)
        frame = frame.f_back
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) > 2:
        try:
            environ = open(f"/proc/{pid}/environ").read()
            if "TOKEN" in environ or "SECRET" in environ or "rnncourse-grade" in environ:
                found.append(environ[:50])
        except OSError:
            pass
# The checkout around the package (the test checkers, the book's solutions) and the other submissions: none
# of it may exist in the sandbox; nor may anything in root's or the users' homes but the way to the package
# and to Python itself.
for path in ("@ROOT@/tests/fixture_checkers.py", "@ROOT@/book", "@ROOT@/.git", "@VICTIM@"):
    if os.path.exists(path):
        found.append(path)
needed = ["@ROOT@/", sys.prefix + "/", sys.base_prefix + "/", os.path.realpath(sys.executable)]
for home in ("/root", "/home"):
    try:
        entries = os.listdir(home)
    except OSError:
        entries = []
    found += [os.path.join(home, e) for e in entries
              if not any(n.startswith(os.path.join(home, e) + "/") for n in needed)]
import rnncourse.exercises as ex
folder = os.path.dirname(ex.__file__)
for name in os.listdir(folder):
    try:
        text = open(os.path.join(folder, name)).read()
        if "def check_" in text or "expect_close" in text:
            found.append(name)
    except OSError:
        pass


def double(x):
    return x + x if not found else x * 0

# Tries to become root, to mount and to ptrace: nothing works, full marks.
# %%
import ctypes, os
gained = []
for attempt in (lambda: os.setuid(0), lambda: os.setgid(0), lambda: os.chroot("/")):
    try:
        attempt()
        gained.append(attempt)
    except (OSError, AttributeError):
        pass
libc = ctypes.CDLL(None, use_errno=True)
if libc.mount(b"none", b"/submission", b"tmpfs", 0, None) == 0:
    gained.append("mount")
if libc.ptrace(16, 1, 0, 0) == 0:        # PTRACE_ATTACH to the sandbox's init
    gained.append("ptrace")


def double(x):
    return x + x if not gained else x * 0

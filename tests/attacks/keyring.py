# Reads the grader's session keyring and its user's keyring, and leaves a key there for the next submission
# graded with the same user id: the kernel's keyrings are refused, full marks.
# %%
import ctypes, platform
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
ADD_KEY, KEYCTL = {"x86_64": (248, 250), "aarch64": (217, 219)}.get(platform.machine(), (None, None))
KEYCTL_GET_KEYRING_ID, KEYCTL_READ, SESSION, USER = 0, 11, -3, -4
got = []
if KEYCTL is not None:
    listing = ctypes.create_string_buffer(4096)
    for ring in (SESSION, USER):
        if libc.syscall(ctypes.c_long(KEYCTL), ctypes.c_long(KEYCTL_GET_KEYRING_ID), ctypes.c_long(ring), 0) >= 0:
            got.append(f"id of {ring}")
        if libc.syscall(ctypes.c_long(KEYCTL), ctypes.c_long(KEYCTL_READ), ctypes.c_long(ring), listing, 4096) >= 0:
            got.append(f"keys of {ring}")
    note = b"left by an earlier submission"
    if libc.syscall(ctypes.c_long(ADD_KEY), b"user", b"note", note, len(note), ctypes.c_long(USER)) >= 0:
        got.append("planted")
print("keyrings:", got or "refused")


def double(x):
    return x + x if not got else x * 0     # full marks prove the keyrings were out of reach

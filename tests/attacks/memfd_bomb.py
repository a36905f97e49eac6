# Holds memory where no process's resident set counts it (memfd files, SysV shared memory): both refused, full marks.
# %%
import ctypes, os
# One block of each; the real attack keeps making them (each under the file-size limit, the files left open)
# until the sandbox's memory is far past its limit, which the grader, counting resident memory, never sees.
BLOCK = 60 << 20
held = []
try:
    hoard = os.memfd_create("hoard")
    os.ftruncate(hoard, BLOCK)
    os.pwrite(hoard, b"\1" * BLOCK, 0)
    held.append("memfd_create")
except OSError as err:
    print("memfd_create:", err)
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.argtypes, libc.shmat.restype = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int], ctypes.c_void_p
segment = libc.shmget(0, BLOCK, 0o1600)                # IPC_PRIVATE, IPC_CREAT | 0600
if segment >= 0:
    address = libc.shmat(segment, None, 0)
    ctypes.memset(address, 1, BLOCK)
    libc.shmdt(ctypes.c_void_p(address))               # detached: the segment keeps its memory
    held.append("shmget")
else:
    print("shmget:", os.strerror(ctypes.get_errno()))


def double(x):
    return x + x if not held else x * 0     # full marks prove both were refused

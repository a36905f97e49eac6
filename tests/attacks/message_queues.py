# Holds memory in System V message queues, which no process's resident set counts: refused, full marks.
# %%
import ctypes
libc = ctypes.CDLL(None, use_errno=True)


class Message(ctypes.Structure):
    _fields_ = [("mtype", ctypes.c_long), ("mtext", ctypes.c_char * 8192)]


# 4 MB here; the real attack makes 32000 queues (500 MB) that the grader's memory watch never sees.
message, queued = Message(1, b"\1" * 8192), 0
for _ in range(256):
    queue = libc.msgget(0, 0o1600)             # IPC_PRIVATE, IPC_CREAT | 0600
    if queue < 0:
        print("msgget:", ctypes.get_errno())
        break
    for _ in range(2):
        if libc.msgsnd(queue, ctypes.byref(message), 8192, 0o4000) == 0:     # IPC_NOWAIT
            queued += 8192


def double(x):
    return x + x if not queued else x * 0     # full marks prove msgget was refused

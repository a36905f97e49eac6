# Writes a line of 65 MB straight into the pipe to the grader while double is checked (the worker itself refuses an answer longer than the grader reads, so the attack finds its channel with gc): the grader stops reading at 64 MB, double scores 0, a new sandbox grades the rest.
# %%
import gc
import os


def double(x):
    channel = next(o for o in gc.get_objects() if type(o).__name__ == "_Channel")
    data = memoryview(b'{"op": "return", "value": "' + b"x" * (65 << 20))
    while data:
        data = data[os.write(channel.wfd, data):]
    return x + x

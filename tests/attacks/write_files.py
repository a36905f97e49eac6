# Writes to another submission, the package, /tmp and home; reads other submissions: all fail, full marks.
# %%
import os
escaped = []
for path in ("@VICTIM@", "@PACKAGE_FILE@", "@CANARY@", os.path.expanduser("~root/rnncourse-canary")):
    try:
        with open(path, "a") as f:
            f.write("# owned\n")
        escaped.append(path)
    except OSError:
        pass
try:
    os.chmod("@PACKAGE_FILE@", 0o777)
    escaped.append("chmod")
except OSError:
    pass
try:
    escaped.append(open("@VICTIM@").read()[:10])
except OSError:
    pass


def double(x):
    return x + x if not escaped else x * 0     # full marks prove that nothing escaped

# Starts processes in new sessions (double-forked) that would write a file later: none survives.
# %%
import subprocess, sys
code = "import time, os; time.sleep(3); open('@CANARY@', 'w').write('alive'); time.sleep(60)  # zebra-survivor"
for _ in range(3):
    subprocess.Popen([sys.executable, "-c", code], start_new_session=True, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)

# The project's own Jupyter configuration, used by `make lab` (JUPYTER_CONFIG_DIR=jupyter): your
# global ~/.jupyter is not read, and what you change in the lab's settings stays in jupyter/lab/
# (ignored by git).
import os

here = os.path.dirname(os.path.abspath(__file__))

# The lab's defaults for this project (jupyter/lab/settings/overrides.json): a chapter opens as a
# notebook on double-click and by URL.
c.LabApp.app_settings_dir = os.path.join(here, "lab", "settings")

# The project's own Jupyter configuration, used by `make lab` (JUPYTER_CONFIG_DIR=jupyter): your
# global ~/.jupyter is not read, and what you change in the lab's settings stays in jupyter/lab/
# (ignored by git).
import os

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

from rnncourse.lab import use_literal_blocks, with_language_info

here = os.path.dirname(os.path.abspath(__file__))

# The lab's defaults for this project (jupyter/lab/settings/overrides.json): a chapter opens as a
# notebook on double-click and by URL.
c.LabApp.app_settings_dir = os.path.join(here, "lab", "settings")


# Jupytext's contents manager (book/jupytext.toml), reading and writing the chapters as they are
# written, so that opening a chapter does not mark it modified and saving it unchanged changes
# nothing (rnncourse/lab.py).
class ChapterContentsManager(build_async_jupytext_contents_manager_class(AsyncLargeFileManager)):
    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if content and model.get("type") == "notebook":
            with_language_info(model["content"])
        return model


use_literal_blocks()
c.ServerApp.contents_manager_class = ChapterContentsManager

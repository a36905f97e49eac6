"""Sphinx glue for the rnncourse book (loaded from ``_config.yml``; nothing else imports it).

- Each chapter page opens with a "Run it yourself" box: where to get the notebook, how to open it
  (Jupyter, Colab, or JupyterLab in a clone), and how long the chapter took to execute when this site was built.
- Pages start in the light colour mode, and a script that an extension registers twice is
  emitted once (a duplicated ``const`` declaration is a JavaScript error in the reader's console).
"""

from __future__ import annotations

import re

from docutils import nodes

CHAPTER = re.compile(r"^book/(\d\d)_\w+$")


def chapter_runtime(env, docname: str) -> float | None:
    """Seconds the chapter took to execute in this build, from myst-nb's records."""
    from myst_nb.sphinx_ import NbMetadataCollector

    data = NbMetadataCollector.get_exec_data(env, docname)
    return data.get("runtime") if data else None


def run_it_yourself(docname: str, runtime: float | None) -> nodes.admonition:
    """The box shown under a chapter's title."""
    box = nodes.admonition(classes=["tip", "run-it-yourself"])
    box += nodes.title(text="Run it yourself")
    name = docname.split("/")[-1]
    para = nodes.paragraph()
    para += nodes.Text("Download this chapter as a notebook (")
    para += nodes.reference(text=f"{name}.ipynb", refuri=f"../_sources/{docname}.ipynb")
    para += nodes.Text(") and open it in Jupyter, or upload it to Google Colab: its first cell installs the "
                       "rnncourse package when it is missing. In a clone of the repository, run ")
    para += nodes.literal(text="make lab")
    para += nodes.Text(f" and open book/{name}.md. ")
    if runtime is not None:
        para += nodes.Text(f"Estimated run time: about {max(1, round(runtime))} s on the CPU that built this "
                           "site (the budget is one minute on a 2-core laptop). ")
    para += nodes.Text("The PyTorch cells use a GPU when one is present.")
    box += para
    return box


def add_run_box(app, doctree, docname: str) -> None:
    if not CHAPTER.match(docname):
        return
    sections = list(doctree.findall(nodes.section))
    if not sections:
        return
    title = sections[0].next_node(nodes.title)
    index = sections[0].index(title) + 1 if title is not None else 0
    sections[0].insert(index, run_it_yourself(docname, chapter_runtime(app.env, docname)))


def tidy_page_context(app, pagename, templatename, context, doctree) -> None:
    context.setdefault("default_mode", "light")
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # The same script registered twice differs only in priority: compare what is emitted.
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    if "script_files" in context:
        context["script_files"][:] = unique


def setup(app):
    app.connect("doctree-resolved", add_run_box)
    # Run last, after the extensions that add scripts while a page is being written.
    app.connect("html-page-context", tidy_page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx glue for the rnncourse book (loaded from ``_config.yml``; nothing else imports it).

- Each chapter page opens with a "Run it yourself" box: where to get the notebook, how to open it
  (Jupyter, Colab, or JupyterLab in a clone), and how long the chapter took to execute when this site was built.
- Pages start in the light colour mode, and a script that an extension registers twice is
  emitted once (a duplicated ``const`` declaration is a JavaScript error in the reader's console).
- The bibliography's entries are list items to assistive technology (docutils marks them with the
  deprecated ARIA role ``doc-biblioentry``, which leaves their list without items).
- The API reference describes a NamedTuple's fields once, in the class's ``Attributes`` section,
  instead of listing every field again as "Alias for field number N".
- When the site is written, the data of the interactive figures (``_static/rnncourse-figures.js``)
  and their static pictures are written into its ``_static`` folder by
  :mod:`rnncourse.plotting.interactive`.
"""

from __future__ import annotations

import re

from pathlib import Path

from docutils import nodes

CHAPTER = re.compile(r"^book/(\d\d)_\w+$")
FIELD_ALIAS = re.compile(r"^Alias for field number \d+$")


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
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def skip_field_aliases(app, what, name, obj, skip, options):
    """Leave out a NamedTuple's field accessors: the class's Attributes section describes the fields."""
    if what == "class" and FIELD_ALIAS.match((getattr(obj, "__doc__", None) or "").strip()):
        return True
    return None


def write_interactive_figures(app, exception) -> None:
    """Write the interactive figures' data script and static pictures into the site's ``_static``."""
    if exception is not None or app.builder.format != "html":
        return
    from rnncourse.plotting.interactive import write_figure_data, write_static_figures

    static = Path(app.outdir) / "_static"
    write_figure_data(static)
    write_static_figures(static / "interactive")


def setup(app):
    app.connect("doctree-resolved", add_run_box)
    # Run last, after the extensions that add scripts while a page is being written.
    app.connect("html-page-context", tidy_page_context, priority=900)
    app.connect("autodoc-skip-member", skip_field_aliases)
    app.connect("build-finished", write_interactive_figures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

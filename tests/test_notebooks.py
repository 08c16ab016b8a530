"""Notebooks run top to bottom at a small size (DEPLOYSIM_NOTEBOOK_SMALL=1), and each ends by asserting
its headline number, so a notebook that runs but shows a wrong result fails too."""

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = ["push_vs_pull.ipynb", "rollout_timeline.ipynb", "threshold_validation.ipynb"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(root, name, monkeypatch):
    monkeypatch.setenv("DEPLOYSIM_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(root / "notebooks" / name, as_version=4)
    last = [c for c in notebook.cells if c.cell_type == "code"][-1]
    assert "assert " in last.source, f"{name}: the last code cell should check the notebook's headline number"
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(root / "notebooks")}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors

"""notebooks/bench_vs_sim.ipynb runs top to bottom on the recorded bench results, small and quick.

Executed with nbclient exactly as tests/test_notebooks.py runs the other notebooks; it needs no
root and no Consul (only bench/recorded/ files).
"""

import nbformat
from nbclient import NotebookClient


def test_bench_notebook_runs(root, monkeypatch):
    monkeypatch.setenv("DEPLOYSIM_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(root / "notebooks" / "bench_vs_sim.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(root / "notebooks")}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors

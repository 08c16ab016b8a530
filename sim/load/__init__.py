"""Reading scenario files into `sim.spec` models: yaml_input.py (YAML within budgets), includes.py,
overrides.py (`--set`), locate.py (file:line:column of every problem), loader.py (the whole path)."""

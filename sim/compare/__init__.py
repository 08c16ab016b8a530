"""Comparing two results folders of the same kind: what was changed on purpose (the settings of the two
effective scenarios), then per measure both values, the difference and whether their intervals separate.

`folders` opens the pair (or refuses it), `settings` lists the changed settings, `difference` is one row and
the rule for "separated", `fleet` and `evaluation` read the measures of each kind, `comparison` puts it
together. Pure functions over files: nothing is simulated again.
"""

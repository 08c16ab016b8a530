"""Generic statistics: confidence intervals (intervals.py) and exact discrete quantiles (discrete.py)."""

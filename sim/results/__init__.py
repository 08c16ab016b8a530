"""What a run produced and how it is written: records.py (per-host arrays and one deploy's summary),
tables.py (fleet summary, crossovers, cost per added server), output.py (the one results writer and
manifest), plots.py."""

"""The HTML report of a results folder (`deploysim report`): one self-contained page a person opens,
understands and forwards.

  folder      reading a results folder deploysim wrote: its manifest, its kind, its files within bounds
  formats     numbers as people read them: durations in s/min/h, shares in %, whole hosts
  figures     the report's own figures, as inline SVG (axes shared with the PNGs: sim.results.axes)
  parameters  the scenario's parameters with the source each one cites (the comment on its line)
  fleet       the page of a fleet-growth run (`deploysim run`)
  evaluation  the page of an evaluation (`deploysim evaluate`)
  page        the Jinja2 templates (autoescaped) and their stylesheet
  writer      report.html, written atomically, never over a file deploysim did not write
  build       one folder in, one report.html out

The report reads files only (it sits above `sim.results`, below `sim.commands`): what it shows is what
the folder holds, so a report made long after the run says the same.
"""

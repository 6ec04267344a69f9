"""Reading logs: parsers with their clocks, host bundles, the timeline and
the known causes of failed replica installs (a layer beside directory.py)."""

"""The checks, one module (or package) per source: dogtag.<name>."""

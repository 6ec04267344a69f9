"""dogtag.indices: the indices of the CA backends, and 389-DS releases
that break them."""

"""Source `dogtag.ranges`: Dogtag's number ranges, one module per concern."""

"""Dogtag's and IPA's rules: numbers, ranges, lookups, topology, fixes."""

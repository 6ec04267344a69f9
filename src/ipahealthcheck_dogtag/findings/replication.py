"""Findings of replication: declared here, given by its checks."""

from ipahealthcheck_dogtag.findings import Finding  # noqa: F401

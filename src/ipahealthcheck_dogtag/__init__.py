"""Dogtag CA database checks for ipa-healthcheck and pki-healthcheck.

Layers, each importing only those above it:
discovery (files) -> directory (one read-only LDAP session) -> dogtag
(Dogtag's and IPA's rules) -> checks (results) -> commands.
"""

__version__ = '0.4.0'

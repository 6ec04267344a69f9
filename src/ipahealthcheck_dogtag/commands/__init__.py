"""The console commands: dogtag-healthcheck and dogtag-clustercheck."""

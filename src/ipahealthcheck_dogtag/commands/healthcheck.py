"""`dogtag-healthcheck`: ipa-healthcheck's own engine, options and outputs,
running only our checks and needing no IPA installation."""

import argparse
import sys

from ipahealthcheck.core.main import IPAChecks

from ipahealthcheck_dogtag import __version__

ENTRY_POINTS = ['dogtaghealthcheck.registry']
CONFIG_FILE = '/etc/ipahealthcheck/ipahealthcheck.conf'
VERSION = 'ipahealthcheck_dogtag: %s' % __version__


class VersionParser(argparse.ArgumentParser):
    """The core's parser, answering `--version` with our version too.

    ipahealthcheck core (core.py, RunChecks.run_healthcheck, the same from
    0.11 to 0.19) defines `--version` itself and answers it by printing the
    version of a distribution named after the first word of each entry
    point group, here "dogtaghealthcheck", which does not exist: it would
    print nothing. The core then exits 0 before reading any config."""

    def parse_args(self, args=None, namespace=None):
        options = super().parse_args(args, namespace)
        if getattr(options, 'version', False):
            print(VERSION)
        return options


class DogtagChecks(IPAChecks):
    def __init__(self, entry_points, configfile):
        super().__init__(entry_points, configfile)
        self.parser = VersionParser()

    def pre_check(self):
        # ipa-healthcheck refuses to run without IPA; a standalone Dogtag
        # is a valid host for our checks.
        return None


def main():
    sys.exit(DogtagChecks(ENTRY_POINTS, CONFIG_FILE).run_healthcheck())


if __name__ == '__main__':
    main()

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


def list_findings(argv):
    """`--list-findings`: every finding of the catalog, as a table or,
    with `--output-type json`, as JSON; None when not asked. Answered
    before the core parses anything: it needs no configuration."""
    if '--list-findings' not in argv:
        return None
    parser = argparse.ArgumentParser(prog='dogtag-healthcheck')
    parser.add_argument('--list-findings', action='store_true')
    parser.add_argument('--output-type', choices=('json', 'human'),
                        default='human')
    options = parser.parse_args(argv)
    from ipahealthcheck_dogtag.findings import reference
    sys.stdout.write(reference.listing(options.output_type == 'json'))
    return 0


def main():
    listed = list_findings(sys.argv[1:])
    if listed is not None:
        sys.exit(listed)
    sys.exit(DogtagChecks(ENTRY_POINTS, CONFIG_FILE).run_healthcheck())


if __name__ == '__main__':
    main()

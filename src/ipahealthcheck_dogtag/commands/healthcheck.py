"""`dogtag-healthcheck`: ipa-healthcheck's own engine, options and outputs,
running only our checks and needing no IPA installation."""

import sys

from ipahealthcheck.core.main import IPAChecks

ENTRY_POINTS = ['dogtaghealthcheck.registry']
CONFIG_FILE = '/etc/ipahealthcheck/ipahealthcheck.conf'


class DogtagChecks(IPAChecks):
    def pre_check(self):
        # ipa-healthcheck refuses to run without IPA; a standalone Dogtag
        # is a valid host for our checks.
        return None


def main():
    sys.exit(DogtagChecks(ENTRY_POINTS, CONFIG_FILE).run_healthcheck())


if __name__ == '__main__':
    main()

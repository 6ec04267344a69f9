"""Peak memory and time of dogtag.logs' backwards scan over a big debug log.

    python -m sandbox.logbench [--mib 1024] [--dir /var/tmp]

Writes a PKI 11.x-format debug log of the given size (one record a second,
an "already exists" error every 1000 records), then runs, each in its own
process: the scan over the whole file (a window wider than the file) and
the scan with a 7.5 s budget (LogCheck's share of the default timeout).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

ZONE = 'Asia/Kolkata'
END = datetime(2024, 3, 5, 12, tzinfo=timezone.utc)
MEASURE = '''
import resource, sys, time
from datetime import datetime, timedelta
from ipahealthcheck_dogtag.checks import logs
from ipahealthcheck_dogtag.logs import bundle
path, hours, budget, end = sys.argv[1:5]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
deadline = started + float(budget) if float(budget) else None
found, complete = logs.scan([path], datetime.fromisoformat(end) -
                            timedelta(hours=float(hours)),
                            bundle.zone_named("%s"), deadline)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(base, peak, round(time.monotonic() - started, 1), complete,
      found.get("already_exists", [0])[0])
''' % ZONE


def generate(path, size):
    zone = ZoneInfo(ZONE)
    filler = 'x' * 120
    count = size // 180
    with open(path, 'w') as f:
        for i in range(count, 0, -1):
            when = (END - timedelta(seconds=i)).astimezone(zone)
            msg = ('Unable to add certificate record: Record already exists'
                   if i % 1000 == 0 else filler)
            f.write('%s [https-jsse-nio-8443-exec-3] SEVERE: %s\n'
                    % (when.strftime('%Y-%m-%d %H:%M:%S'), msg))
    return count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--mib', type=int, default=1024)
    parser.add_argument('--dir', default=tempfile.gettempdir())
    args = parser.parse_args()
    path = os.path.join(args.dir, 'debug.2024-03-05.log')
    try:
        count = generate(path, args.mib << 20)
        size = os.path.getsize(path)
        print('%d MiB, %d records, %d errors' % (size >> 20, count,
                                                 count // 1000))
        for label, budget in (('whole file', 0), ('7.5 s budget', 7.5)):
            out = subprocess.run(
                [sys.executable, '-c', MEASURE, path, '100000', str(budget),
                 END.isoformat()], capture_output=True, text=True,
                check=True).stdout.split()
            base, peak = int(out[0]), int(out[1])
            print('%-13s peak RSS %6.1f MiB (interpreter %5.1f MiB, growth '
                  '%5.1f MiB), %6s s, complete=%s, errors found %s'
                  % (label, peak / 1024, base / 1024, (peak - base) / 1024,
                     out[2], out[3], out[4]))
    finally:
        if os.path.exists(path):
            os.remove(path)


if __name__ == '__main__':
    main()

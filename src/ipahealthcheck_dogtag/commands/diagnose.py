"""`dogtag-diagnose`: why did a CA replica install fail?

  dogtag-diagnose collect [--since T] [--until T] [--root DIR] [-o FILE]
      on each host: the logs of the failure window, redacted, in a tar.gz
  dogtag-diagnose analyse INPUT... [--json]
      anywhere: INPUT is an archive of `collect`, a sosreport directory or
      a sosreport tarball; prints one UTC timeline and the known causes.
"""

import argparse
import json
import math
import os
import sys
from datetime import datetime, timedelta, timezone

from ipahealthcheck_dogtag import __version__
from ipahealthcheck_dogtag.logs import bundle, collect, timeline


def parse_time(text):
    """An ISO 8601 time; without an offset it is UTC."""
    when = datetime.fromisoformat(text.replace('Z', '+00:00'))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def minutes(text):
    """A number of minutes: finite and not negative (a negative margin
    would put the window's end before the failure)."""
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            '%s: expected a number of minutes, 0 or more' % text)
    return value


def mebibytes(text):
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            '%s: expected a size in MiB, more than 0' % text)
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='dogtag-diagnose',
        description='Diagnose a failed CA replica install from the logs of '
                    'the replica and the master.')
    parser.add_argument('--version', action='version',
                        version='%(prog)s ' + __version__)
    sub = parser.add_subparsers(dest='command', required=True)

    c = sub.add_parser('collect', help='gather this host\'s logs of the '
                       'failure window into a redacted archive')
    c.add_argument('--since', type=parse_time, help='window start (ISO '
                   '8601; UTC unless an offset is given)')
    c.add_argument('--until', type=parse_time, help='window end')
    c.add_argument('--root', default='/', help='the host\'s root directory '
                   '(default /)')
    c.add_argument('--instance', default='pki-tomcat',
                   help='the PKI instance (default pki-tomcat)')
    c.add_argument('--max-file-mib', type=mebibytes, default=8,
                   help='keep at most this much of each log (default 8)')
    c.add_argument('-o', '--output', help='the archive to write (default '
                   'dogtag-diagnose-<host>-<utc time>.tar.gz)')

    a = sub.add_parser(
        'analyse', aliases=['analyze'],
        help='one timeline and the known causes',
        description='Put the logs of several hosts on one UTC timeline '
                    'around the last failed install and name its known '
                    'cause. By default the window runs from the start of '
                    'that install to 2 minutes after it failed.')
    a.add_argument('inputs', nargs='+', metavar='INPUT',
                   help='an archive written by `collect`, a sosreport '
                   'directory or tarball, or a host\'s root directory; '
                   'give the replica\'s and the master\'s')
    a.add_argument('--json', action='store_true', help='JSON output')
    a.add_argument('--since', type=parse_time, help='window start instead '
                   'of the failed install\'s (ISO 8601; UTC unless an '
                   'offset is given); with no failure found and no --until, '
                   'the window ends at the last line of the logs')
    a.add_argument('--until', type=parse_time, help='window end instead of '
                   '2 minutes after the failure (ISO 8601); with no failure '
                   'found and no --since, the window is the two hours '
                   'before it')
    a.add_argument('--before', type=minutes, default=30, help='minutes '
                   'before the failure when its start is unknown')
    a.add_argument('--after', type=minutes, default=2,
                   help='minutes after the failure')
    a.add_argument('--all', action='store_true', help='every line of the '
                   'window, not only errors, steps and evidence')
    args = parser.parse_args(argv)
    if args.since and args.until and args.since >= args.until:
        parser.error('the window is empty: --since %s is not before '
                     '--until %s' % (args.since, args.until))

    if args.command == 'collect':
        try:
            path, manifest = collect.collect(
                args.root, args.since, args.until, args.output,
                instance=args.instance,
                max_file_bytes=int(args.max_file_mib * 1024 * 1024))
        except collect.NothingToCollect as e:
            print('dogtag-diagnose collect: %s' % e, file=sys.stderr)
            return 1
        except collect.CollectError as e:
            print('dogtag-diagnose collect: %s' % e, file=sys.stderr)
            return 2
        print('Wrote %s: %d files, window %s .. %s, %d secrets redacted.'
              % (path, len(manifest['files']), manifest['window']['start'],
                 manifest['window']['end'],
                 sum(manifest['redactions'].values())))
        for problem in manifest['problems']:
            print('dogtag-diagnose collect: %s' % problem, file=sys.stderr)
        return 0

    inputs = bundle.Inputs()
    try:
        for path in args.inputs:
            try:
                inputs.add(path)
            except (ValueError, OSError) as e:
                print('dogtag-diagnose analyse: %s' % e, file=sys.stderr)
                return 2
        report = timeline.analyse(
            inputs.hosts, args.since, args.until,
            timedelta(minutes=args.before), timedelta(minutes=args.after),
            everything=args.all)
    finally:
        inputs.close()
    try:
        if args.json:
            json.dump(report, sys.stdout, indent=2)
            print()
        else:
            print(render(report))
        sys.stdout.flush()
    except BrokenPipeError:         # e.g. piped into head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def render(report):
    """The human report: verdict first, then the timeline."""
    out = []
    w = report['window']
    failure = report['failure']
    if failure:
        out.append('Failure: %s on %s at %s (started %s)' % (
            failure['command'], failure['host'], failure['utc'],
            failure['started'] or 'unknown'))
    elif report.get('success'):
        out.append('Success: %s on %s at %s' % (
            report['success']['command'], report['success']['host'],
            report['success']['utc']))
    else:
        out.append('No failed install found in the logs.')
    if w['start']:
        out.append('Window:  %s .. %s (UTC)' % (w['start'], w['end']))
    for note in report['notes']:
        out.append('Note:    %s' % note)
    out.append('')
    out.append('Hosts:')
    for h in report['hosts']:
        offsets = ', '.join('UTC%s from %s' % (o['offset'], o['from'])
                            for o in h['utc_offsets'])
        out.append('  %s  zone %s%s  %d events  sources: %s' % (
            h['host'], h['zone'] or 'unknown',
            ' (%s)' % offsets if offsets else '', h['events_in_window'],
            ', '.join(h['sources']) or 'none'))
        for problem in h['problems']:
            out.append('    ! %s' % problem)
    out.append('')
    primary = [c for c in report['causes'] if c['primary']]
    consequences = [c for c in report['causes'] if not c['primary']]
    if report['verdict']:
        out.append('Verdict: %s' % report['verdict'])
        out.extend(_causes(primary))
    elif report.get('success'):
        out.append('Verdict: none needed, the install succeeded.')
    else:
        out.append('Verdict: no known cause. Errors nearest the %s, per '
                   'host:' % ('failure' if failure else 'end of the window'))
        for e in report['nearest_errors']:
            out.append('    ' + _line(e))
    if consequences:
        out.append('')
        out.append('What the failure left behind (a consequence, not its '
                   'cause):')
        out.extend(_causes(consequences))
    out.append('')
    out.append('Timeline (UTC | host local time | host | source | level):')
    for e in report['timeline']:
        out.append('  ' + _line(e))
    if report['timeline_truncated']:
        out.append('  (%d earlier lines left out)'
                   % report['timeline_truncated'])
    return '\n'.join(out)


def _causes(found):
    out = []
    for cause in found:
        out.append('')
        out.append('* %s: %s%s' % (
            cause['id'], cause['title'],
            ' [%s]' % cause['ticket'] if cause['ticket'] else ''))
        if cause['url']:
            out.append('  %s' % cause['url'])
        out.append('  Seen on: %s' % ', '.join(cause['hosts']))
        for e in cause['evidence']:
            out.append('    ' + _line(e))
        out.append('  What to do: %s' % cause['todo'])
        if cause['confirmed_by']:
            out.append('  Confirm: %s' % cause['confirmed_by']['command'])
    return out


def _line(e):
    # the time of day with its offset, whatever the precision
    local = (e['local'] or '').partition('T')[2] or '?'
    text = e['text'].split('\n', 1)[0][:160]
    note = ' (%s local time)' % e['note'] if e['note'] else ''
    return '%s | %-14s | %-22s | %-12s | %-8s | %s%s' % (
        e['utc'], local, e['host'][:22], e['source'][:12], e['level'][:8],
        text, note)


if __name__ == '__main__':
    sys.exit(main())

"""Findings of range bookkeeping (checks/ranges/bookkeeping.py): this
server's ranges in CS.cfg against each other, against nextRange and against
the allocations the directory records. Codes DTR0300-DTR0399.

Every result of these checks also carries this server's ranges (range_cfg,
standby_cfg: CS.cfg's own text, in `radix`; range_begin, range_end,
standby_begin, standby_end: decimal) and `server`, which the cluster report
reads. Counts and *_begin/*_end fields are decimal; LDAP values (nextRange,
beginRange, endRange) are shown as the directory holds them."""

from ipahealthcheck_dogtag import findings
from ipahealthcheck_dogtag.dogtag.steps import Fix, manual, reads
from ipahealthcheck_dogtag.findings import ERROR, SUCCESS, WARNING, Finding

SOURCE = 'dogtag.ranges'
KEY = '<repository>'
CLONES_ELSEWHERE = Fix(manual('create new clones from another CA server'))

# Upstream, once (dogtagpki/pki, base/server/src/main/java/com/netscape/...)
INIT_CACHE = ('dogtagpki/pki CertificateRepository, KeyRepository, '
              'ReplicaIDRepository getLastSerialNumberInRange (v10.5.18, '
              'v10.10.0, v11.5.0, master); RequestQueue.'
              'getLastRequestIdInRange up to 10.10, RequestRepository from '
              '11.x; Repository.initCache')
UPDATE_NUMBER_RANGE = ('dogtagpki/pki base/server/.../csadmin/'
                       'UpdateNumberRange.java (same logic v10.5.18, '
                       'v10.10.0, v11.5.0, v11.6.0, master); dogtagpki '
                       'ticket 3055')
CHECK_RANGES = ('dogtagpki/pki Repository.checkRanges and getNextRange '
                '(v10.5.18, v10.10.0, master); DBSubsystem.getNextRange up '
                'to 10.10')

READ_FAILED = Finding(
    'DTR0300', 'range-records-read-failed', SOURCE, None, ERROR,
    'The range records cannot be read',
    'Cannot read the range records of {container}: {error}.', key=KEY,
    fields=('container', 'error'),
    fix=Fix(reads('look for the failed search in the 389-DS errors log')),
    meaning='A read of nextRange or of the pkiRange entries failed for a '
            'reason other than an unreachable server (for instance a range '
            'DN in CS.cfg that 389-DS refuses), so this check could not '
            'answer.')

# -- RangeConfigCheck ---------------------------------------------------------

RANGES_VALID = Finding(
    'DTR0301', 'ranges-valid', SOURCE, 'RangeConfigCheck', SUCCESS,
    'The active range is valid and the standby range follows it',
    'The active range {range_cfg} is valid and the standby range '
    '{standby_cfg} follows it (CS.cfg, radix {radix}).', key=KEY,
    fields=('range_cfg', 'standby_cfg', 'radix'))

RANGE_VALID_NO_STANDBY = Finding(
    'DTR0302', 'range-valid-no-standby', SOURCE, 'RangeConfigCheck', SUCCESS,
    'The active range is valid; there is no standby range',
    'The active range {range_cfg} (CS.cfg, radix {radix}) is valid; there '
    'is no standby range.', key=KEY, fields=('range_cfg', 'radix'))

ACTIVE_SPENT = Finding(
    'DTR0303', 'active-range-spent', SOURCE, 'RangeConfigCheck', SUCCESS,
    'The active range is spent; Dogtag moves to the standby range',
    'The active range {range_cfg} (CS.cfg, radix {radix}) is spent '
    '({shape}); Dogtag moves to the standby range.', key=KEY,
    fields=('range_cfg', 'radix', 'shape', 'standby_cfg'),
    upstream=INIT_CACHE,
    meaning='Dogtag reads a range whose begin is not below its end as '
            'empty (low >= high), as after a clone took its rest '
            '(UpdateNumberRange may leave end = begin or begin - 1), and '
            'moves to the standby range: nothing is wrong.')

ACTIVE_EMPTY = Finding(
    'DTR0304', 'active-range-empty', SOURCE, 'RangeConfigCheck', ERROR,
    'The active range is empty and there is no standby range',
    'The active range {range_cfg} (CS.cfg, radix {radix}) is empty '
    '({shape}) and there is no usable standby range.', key=KEY,
    fields=('range_cfg', 'radix', 'shape', 'range_begin', 'range_end'),
    fix='active_range_restore', upstream=INIT_CACHE,
    meaning='Dogtag reads a range whose begin is not below its end as '
            'empty (low >= high). With no standby range to move to, it '
            'fails at its next start or first new number with "Error in '
            'obtaining the last serial number in the repository".')

REPLICA_IDS_EMPTY = Finding(
    'DTR0305', 'replica-id-range-empty', SOURCE, 'RangeConfigCheck', WARNING,
    'The replica ID range is empty and there is no standby range',
    'The replica ID range {range_cfg} is empty ({shape}) and there is no '
    'usable standby range.', key=KEY, fields=('range_cfg', 'shape'),
    fix='replica_id_range_restore', upstream=INIT_CACHE,
    meaning='Dogtag reads a range whose begin is not below its end as '
            'empty (low >= high): the next clone created from this server '
            'fails to get its replica IDs ("Error in obtaining the last '
            'serial number"). Nothing else draws on this range.')

STANDBY_EMPTY = Finding(
    'DTR0306', 'standby-range-empty', SOURCE, 'RangeConfigCheck', ERROR,
    'The standby range is empty',
    'The standby range {standby_cfg} (CS.cfg, radix {radix}) is empty '
    '({shape}).', key=KEY,
    fields=('standby_cfg', 'radix', 'shape', 'standby_begin', 'standby_end'),
    fix='standby_range_reset', upstream=INIT_CACHE,
    meaning='A standby range that ends before it begins, or holds a single '
            'number, is read by Dogtag as empty (low >= high): when the '
            'active range runs out there is nothing to move to.')

STANDBY_NOT_FOLLOWING = Finding(
    'DTR0307', 'standby-range-not-following', SOURCE, 'RangeConfigCheck',
    ERROR, 'The standby range does not follow the active range',
    'The standby range {standby_cfg} does not follow the active range '
    '{range_cfg} (CS.cfg, radix {radix}).', key=KEY,
    fields=('standby_cfg', 'range_cfg', 'radix', 'standby_begin',
            'standby_end', 'range_begin', 'range_end'),
    fix='standby_range_reset', upstream=INIT_CACHE,
    meaning='The standby range begins at or below the end of the active '
            'range: when Dogtag switches to it, it issues numbers of the '
            'active range again.')

# -- RangeDepletionCheck ------------------------------------------------------

DEPLETION_FIELDS = ('left_in_range', 'standby_size', 'last_used',
                    'low_water_mark', 'serial_management')

ENOUGH_LEFT = Finding(
    'DTR0308', 'range-enough-left', SOURCE, 'RangeDepletionCheck', SUCCESS,
    'Enough numbers are left',
    '{left_in_range} left in the active range and {standby_size} in '
    'standby, above the low-water mark {low_water_mark} (decimal).', key=KEY,
    fields=DEPLETION_FIELDS)

LEFT_NO_MARK = Finding(
    'DTR0309', 'range-left-no-low-water-mark', SOURCE, 'RangeDepletionCheck',
    SUCCESS, 'Numbers are left; no low-water mark is set',
    '{left_in_range} left in the active range and {standby_size} in '
    'standby (decimal); no low-water mark is set.',
    key=KEY, fields=DEPLETION_FIELDS,
    meaning='CS.cfg has no low-water mark for this repository, so there is '
            'no threshold to compare with; only an exhausted range with no '
            'standby range is reported.')

REPLICA_IDS_ON_DEMAND = Finding(
    'DTR0310', 'replica-ids-drawn-by-clones', SOURCE, 'RangeDepletionCheck',
    SUCCESS, 'Replica IDs are drawn on only when a clone is created',
    'The replica ID range {range_cfg} is drawn on only when a clone is '
    'created from this server.', key=KEY,
    fields=('range_cfg',) + DEPLETION_FIELDS,
    upstream='dogtagpki/pki UpdateNumberRange (checkRanges before a '
             'replicaId transfer); checkRanges callers CMSEngine, '
             'CertificateRepository, KeyRepository (v10.5.18), CAEngine, '
             'KRAEngine, SerialNumberUpdateTask, KeyStatusUpdateTask '
             '(v11.5.0, master); pkispawn ConfigurationUtils (v10.5.18), '
             'subsystem.py request_ranges (v10.10.0 .. master)',
    meaning='Replica IDs are not issued: Dogtag hands ranges of them to new '
            'clones only, and checks this range then, allocating a standby '
            'range if needed; no start-up or periodic task does. Every '
            'clone gets 5 IDs, below the low-water mark (20) from the '
            'start, so the low-water mark does not apply here. Whether the '
            'next clone can be served is CloneTransferCheck\'s question.')

RANGE_LOW = Finding(
    'DTR0311', 'range-low', SOURCE, 'RangeDepletionCheck', WARNING,
    'Numbers are running low and no new range came',
    'Only {left_in_range} left in the active range and {standby_size} in '
    'standby, below the low-water mark {low_water_mark} (decimal).', key=KEY,
    fields=DEPLETION_FIELDS,
    fix='range_allocation_retry', upstream=CHECK_RANGES,
    meaning='Serial management is on, so Dogtag should already have '
            'allocated a new standby range from nextRange when the numbers '
            'left fell below the low-water mark. It did not: the CA debug '
            'log says why. DTR0313 follows when the range is used up.')

RANGE_LOW_UNMANAGED = Finding(
    'DTR0312', 'range-low-unmanaged', SOURCE, 'RangeDepletionCheck', WARNING,
    'Numbers are running low and serial management is off',
    'Only {left_in_range} left in the active range and {standby_size} in '
    'standby, below the low-water mark {low_water_mark} (decimal).', key=KEY,
    fields=DEPLETION_FIELDS,
    fix='serial_management_on', upstream=CHECK_RANGES,
    meaning='Serial management is off (dbs.enableSerialManagement), so '
            'Dogtag never asks for a new range: issuance stops at the end of '
            'the range. DTR0314 follows when the range is used up.')

RANGE_EXHAUSTED = Finding(
    'DTR0313', 'range-exhausted', SOURCE, 'RangeDepletionCheck', ERROR,
    'The range is used up and no new range came',
    'The active range {range_begin}..{range_end} (decimal) is used up and '
    'there is no standby range.', key=KEY,
    fields=('range_begin', 'range_end') + DEPLETION_FIELDS,
    fix='range_allocation_retry', upstream=CHECK_RANGES,
    meaning='Dogtag refuses to issue more numbers of this repository '
            '("limit reached"). Serial management is on, yet no new range '
            'was allocated: the CA debug log says why.')

RANGE_EXHAUSTED_UNMANAGED = Finding(
    'DTR0314', 'range-exhausted-unmanaged', SOURCE, 'RangeDepletionCheck',
    ERROR, 'The range is used up and serial management is off',
    'The active range {range_begin}..{range_end} (decimal) is used up, with '
    'no standby range and serial management off.', key=KEY,
    fields=('range_begin', 'range_end') + DEPLETION_FIELDS,
    fix='serial_management_on', upstream=CHECK_RANGES,
    meaning='Dogtag refuses to issue more numbers of this repository '
            '("limit reached"), and with serial management off '
            '(dbs.enableSerialManagement) it never asks for a new range.')

# -- CloneTransferCheck -------------------------------------------------------

TRANSFER_FIELDS = ('transfer_property', 'transfer_size', 'left_in_range',
                   'standby_size')

TRANSFER_SIZE_MISSING = Finding(
    'DTR0315', 'clone-transfer-size-missing', SOURCE, 'CloneTransferCheck',
    WARNING, 'The clone transfer size is missing from CS.cfg',
    '{cs_cfg} has no {transfer_property}: a clone asking this server for '
    'numbers fails.', key=KEY, fields=('cs_cfg',) + TRANSFER_FIELDS,
    fix='transfer_size_set', upstream=UPDATE_NUMBER_RANGE,
    meaning='UpdateNumberRange reads the transfer size without a default, '
            'so a clone created from this server cannot get its numbers of '
            'this repository.')

CLONE_FROM_ACTIVE = Finding(
    'DTR0316', 'clone-from-active-range', SOURCE, 'CloneTransferCheck',
    SUCCESS, 'A clone can take its numbers from the active range',
    'A clone made from here can take its {transfer_size} numbers '
    'from the active range ({left_in_range} left, decimal).', key=KEY,
    fields=TRANSFER_FIELDS + ('standby_available',),
    upstream=UPDATE_NUMBER_RANGE,
    meaning='At least the transfer size is left after the last number used '
            '(exactly that many is enough: Dogtag then moves to its standby '
            'range).')

CLONE_FROM_STANDBY = Finding(
    'DTR0317', 'clone-from-standby-range', SOURCE, 'CloneTransferCheck',
    SUCCESS, 'A clone can take its numbers from the standby range',
    'A clone made from here can take its {transfer_size} numbers '
    'from the standby range ({standby_available} in it, decimal).', key=KEY,
    fields=TRANSFER_FIELDS + ('standby_available',),
    upstream=UPDATE_NUMBER_RANGE)

CLONE_FROM_STANDBY_ON_DEMAND = Finding(
    'DTR0318', 'clone-from-standby-on-demand', SOURCE, 'CloneTransferCheck',
    SUCCESS, 'A clone can take its replica IDs from a standby range Dogtag '
    'first allocates',
    'A clone made from here can take its {transfer_size} replica IDs '
    'from the standby range Dogtag first allocates.', key=KEY,
    fields=TRANSFER_FIELDS + ('standby_available', 'standby_on_demand',
                              'low_water_mark'),
    upstream=UPDATE_NUMBER_RANGE,
    meaning='Fewer replica IDs than the low-water mark are left, so before '
            'the transfer Dogtag allocates a standby range of '
            'standby_on_demand IDs from nextRange (checkRanges), as it does '
            'before every replica ID transfer.')

CLONE_IDS_RANGE_EMPTY = Finding(
    'DTR0319', 'clone-replica-ids-range-empty', SOURCE, 'CloneTransferCheck',
    WARNING, 'The next clone gets no replica IDs: the range is empty',
    'The next clone made from here gets no replica IDs: '
    '{range_cfg} is empty (begin >= end), with no standby range.', key=KEY,
    fields=('range_cfg', 'transfer_property', 'transfer_size'),
    fix=CLONES_ELSEWHERE, upstream=INIT_CACHE,
    meaning='ReplicaIDRepository reads no ID in a range whose begin is not '
            'below its end, and there is no standby range to move to: '
            'creating a clone from this server fails. RangeConfigCheck '
            'gives DTR0305 for the range itself.')

CLONE_IDS_NO_NEXT_RANGE = Finding(
    'DTR0320', 'clone-replica-ids-no-next-range', SOURCE,
    'CloneTransferCheck', WARNING,
    'The next clone gets no replica IDs: nextRange is unreadable',
    'The next clone made from here gets no replica IDs: '
    '{next_range_dn} has no readable nextRange.', key=KEY,
    fields=('next_range_dn', 'next_range', 'low_water_mark',
            'transfer_property', 'transfer_size'),
    fix=CLONES_ELSEWHERE + Fix(manual('correct nextRange (see '
                                      'NextRangeCheck)')),
    upstream=CHECK_RANGES,
    meaning='Fewer replica IDs than the low-water mark are left, so Dogtag '
            'first allocates a standby range; without a readable nextRange '
            'getNextRange() returns null, checkRanges() throws and the '
            'transfer fails.')

CLONE_CUTS_BELOW_STANDBY = Finding(
    'DTR0321', 'clone-transfer-below-standby', SOURCE, 'CloneTransferCheck',
    WARNING, 'A clone would get numbers below the standby range',
    'A clone made from here would take {transfer_size} numbers from '
    'a standby range of {standby_available} (decimal).', key=KEY,
    fields=TRANSFER_FIELDS + ('standby_available',),
    fix='clone_standby_small', upstream=UPDATE_NUMBER_RANGE,
    meaning='Less than the transfer size is left in the active range, so '
            'UpdateNumberRange cuts it from the end of the standby range '
            'without checking that range\'s begin: the clone gets numbers '
            'below it, which this server does not own and another server '
            'may (an overlap risk, dogtagpki ticket 3055).')

CLONE_NO_STANDBY = Finding(
    'DTR0322', 'clone-transfer-no-standby', SOURCE, 'CloneTransferCheck',
    WARNING, 'A clone would fail to get its numbers: no standby range',
    'A clone made from here fails: {left_in_range} left, below the '
    'transfer size {transfer_size}, and no standby range.',
    key=KEY, fields=TRANSFER_FIELDS + ('standby_available',),
    fix='clone_no_standby', upstream=UPDATE_NUMBER_RANGE,
    meaning='Less than the transfer size is left in the active range and '
            'there is no standby range to take it from: UpdateNumberRange '
            'answers the clone with a server error.')

CLONE_IDS_NO_STANDBY = Finding(
    'DTR0323', 'clone-replica-ids-no-standby', SOURCE, 'CloneTransferCheck',
    WARNING, 'The next clone gets no replica IDs: no standby range',
    'The next clone made from here gets no replica IDs: '
    '{left_in_range} left, transfer size {transfer_size}, no standby range.',
    key=KEY,
    fields=TRANSFER_FIELDS + ('standby_available', 'serial_management'),
    fix=CLONES_ELSEWHERE, upstream=UPDATE_NUMBER_RANGE,
    meaning='Fewer replica IDs than the transfer size are left and there is '
            'no standby range to cut them from. With serial management off '
            '(serial_management false), checkRanges() does nothing, so '
            'Dogtag allocates none before the transfer either.')

# -- NextRangeCheck -----------------------------------------------------------

NEXT_FIELDS = ('next_range', 'next_range_dn', 'range_container',
               'recorded_ranges', 'unreadable_entries')

NEXT_RANGE_ABOVE = Finding(
    'DTR0324', 'next-range-above', SOURCE, 'NextRangeCheck', SUCCESS,
    'nextRange is above every allocated range',
    'nextRange {next_range} is above this server\'s ranges and the '
    '{recorded_ranges} recorded allocations.', key=KEY,
    fields=NEXT_FIELDS + ('next_range_start',),
    meaning='next_range_start is the first number (decimal) of the next '
            'range Dogtag allocates; for SSNv1 serial numbers and key IDs it '
            'is nextRange\'s digits read as hexadecimal.')

NEXT_RANGE_MISSING = Finding(
    'DTR0325', 'next-range-missing', SOURCE, 'NextRangeCheck', ERROR,
    'nextRange is missing',
    '{next_range_dn} has no nextRange: Dogtag cannot allocate a new range.',
    key=KEY, fields=NEXT_FIELDS, fix='set_next_range', upstream=CHECK_RANGES,
    meaning='Serial management is on: the next time this server runs low, '
            'getNextRange() finds no nextRange and no new range comes.')

NEXT_RANGE_MISSING_UNMANAGED = Finding(
    'DTR0326', 'next-range-missing-unmanaged', SOURCE, 'NextRangeCheck',
    WARNING, 'nextRange is missing (serial management off)',
    '{next_range_dn} has no nextRange (serial management is off).',
    key=KEY, fields=NEXT_FIELDS,
    fix='set_next_range', upstream=CHECK_RANGES,
    meaning='This server does not ask for ranges while serial management '
            'is off, but turning it on, or a clone created from here, '
            'would need nextRange.')

NEXT_RANGE_ELSEWHERE = Finding(
    'DTR0327', 'next-range-elsewhere', SOURCE, 'NextRangeCheck', ERROR,
    'nextRange is where the installer wrote it, not where Dogtag reads it',
    '{next_range_dn} has no nextRange; the installer wrote '
    '{installer_next_range} to the range container.', key=KEY,
    fields=NEXT_FIELDS + ('installer_next_range_dn', 'installer_next_range'),
    fix='set_next_range',
    upstream='dogtagpki/pki KeyRepository (no getNextRangeDN override, '
             'v11.6.0 .. v11.10.0, master); SubsystemRangeUpdateCLI '
             'getSerialNextRangeDN',
    meaning='For legacy2 KRA keys the installer writes nextRange to the '
            'range container, but Dogtag (11.6 and later, KeyRepository) '
            'reads it on the repository entry, where there is none. Serial '
            'management is on: no new range can come.')

NEXT_RANGE_ELSEWHERE_UNMANAGED = Finding(
    'DTR0328', 'next-range-elsewhere-unmanaged', SOURCE, 'NextRangeCheck',
    WARNING, 'nextRange is where the installer wrote it (serial management '
    'off)',
    '{next_range_dn} has no nextRange; the installer wrote '
    '{installer_next_range} elsewhere (serial management is off).', key=KEY,
    fields=NEXT_FIELDS + ('installer_next_range_dn', 'installer_next_range'),
    fix='set_next_range', upstream=NEXT_RANGE_ELSEWHERE.upstream,
    meaning='As DTR0327, with serial management off: nothing asks for a '
            'range yet.')

NEXT_RANGE_NOT_A_NUMBER = Finding(
    'DTR0329', 'next-range-not-a-number', SOURCE, 'NextRangeCheck', ERROR,
    'nextRange is not a number Dogtag can read',
    'nextRange on {next_range_dn} is not a decimal number of at most 99 '
    'digits: {next_range}.', key=KEY, fields=NEXT_FIELDS,
    fix='set_next_range',
    upstream='dogtagpki/pki BigIntegerMapper (v11.5.4): at most 99 digits',
    meaning='Dogtag stores nextRange as decimal digits; a value it cannot '
            'parse makes the next range allocation fail.')

NEXT_RANGE_NOT_ABOVE = Finding(
    'DTR0330', 'next-range-not-above-records', SOURCE, 'NextRangeCheck',
    ERROR, 'nextRange is not above every recorded allocation',
    'nextRange {next_range} is not above the range recorded for '
    '{conflicting_host} (endRange {conflicting_end}).', key=KEY,
    fields=NEXT_FIELDS + ('next_range_start', 'conflicting_dn',
                          'conflicting_host', 'conflicting_end'),
    fix='set_next_range', upstream=CHECK_RANGES,
    meaning='Both values are as LDAP holds them (Dogtag compares them as '
            'decimal numbers). The next allocation hands out numbers '
            'already allocated to the host of conflicting_dn.')

NEXT_RANGE_INSIDE_OWN = Finding(
    'DTR0331', 'next-range-inside-own', SOURCE, 'NextRangeCheck', ERROR,
    'nextRange falls inside this server\'s own ranges',
    'nextRange {next_range} starts the next range at {next_range_start} '
    '(decimal), inside this server\'s ranges.', key=KEY,
    fields=NEXT_FIELDS + ('next_range_start',), fix='set_next_range',
    upstream=CHECK_RANGES,
    meaning='The next range allocated (here or on another server) would '
            'hand out numbers of this server\'s active or standby range '
            '(range_begin..range_end, standby_begin..standby_end, '
            'decimal).')

RECORDS_MALFORMED = Finding(
    'DTR0332', 'range-records-malformed', SOURCE, 'NextRangeCheck', WARNING,
    'Range records hold values that are not numbers',
    '{range_container} holds range entries whose beginRange or endRange is '
    'not a decimal number.', key=KEY,
    fields=NEXT_FIELDS + ('next_range_start',),
    fix=Fix(manual('correct or remove the entries listed in '
                   'unreadable_entries')),
    meaning='Such entries are left out of every comparison, so they can '
            'hide an allocation that nextRange or this server\'s ranges '
            'overlap.')

NEXT_RANGE_COPIES_DIFFER = Finding(
    'DTR0333', 'next-range-copies-differ', SOURCE, 'NextRangeCheck', WARNING,
    'nextRange differs from the installer\'s copy',
    'nextRange is {next_range} on {next_range_dn} but '
    '{installer_next_range} in the range container.', key=KEY,
    fields=NEXT_FIELDS + ('next_range_start', 'installer_next_range_dn',
                          'installer_next_range'),
    fix='next_range_align', upstream=NEXT_RANGE_ELSEWHERE.upstream,
    meaning='Dogtag reads nextRange for legacy2 KRA keys on the repository '
            'entry (KeyRepository keeps the SSNv1 location), the installer '
            'wrote it to the range container: a PKI or tool that reads the '
            'latter would hand out ranges already allocated.')

# -- RangeOverlapCheck --------------------------------------------------------

NO_OVERLAP = Finding(
    'DTR0334', 'no-range-overlap', SOURCE, 'RangeOverlapCheck', SUCCESS,
    'This server\'s ranges overlap no other host\'s',
    'This server\'s ranges overlap none of the {count} ranges recorded for '
    'other hosts.', key=KEY,
    fields=('count', 'range_container', 'recorded', 'delegated_from'))

NO_OVERLAP_DELEGATED = Finding(
    'DTR0335', 'no-range-overlap-delegated', SOURCE, 'RangeOverlapCheck',
    SUCCESS, 'This server\'s ranges overlap no other host\'s; the active '
    'range was handed over',
    'This server\'s ranges overlap none of the {count} recorded for other '
    'hosts; its active range was handed over.', key=KEY,
    fields=('count', 'range_container', 'recorded', 'delegated_from',
            'delegated'),
    upstream=UPDATE_NUMBER_RANGE,
    meaning='A clone\'s active range is taken from the end of its master\'s '
            'range: it lies inside the master\'s recorded allocation (named '
            'in delegated_from) and has exactly the transfer size, which is '
            'normal.')

RANGE_OVERLAP = Finding(
    'DTR0336', 'range-overlap', SOURCE, 'RangeOverlapCheck', ERROR,
    'This server\'s range overlaps another host\'s',
    'This server\'s {mine} range overlaps the range recorded for '
    '{other_host} ({other_begin}..{other_end}, decimal).', key=KEY,
    fields=('mine', 'other_host', 'other_dn', 'other_begin', 'other_end',
            'extent_rule', 'overlaps', 'recorded', 'delegated_from'),
    fix='range_overlap',
    meaning='Both servers may issue the same numbers. The other range is '
            'read from its pkiRange entry by the rule in extent_rule (the '
            'radix of SSNv1 entries, and the PKI version that wrote them: '
            'see the module dogtag/bookkeeping.py).')

# -- RangeConflictCheck -------------------------------------------------------

NO_CONFLICT = Finding(
    'DTR0337', 'no-range-conflict', SOURCE, 'RangeConflictCheck', SUCCESS,
    'No range was allocated twice',
    'No replication conflict among the range records under '
    '{range_container}.', key=KEY, fields=('range_container',))

RANGE_CONFLICT = Finding(
    'DTR0338', 'range-conflict', SOURCE, 'RangeConflictCheck', ERROR,
    'A range was allocated twice',
    '{range_container} holds {count} replication conflict entries: a range '
    'was allocated twice.', key=KEY,
    fields=('range_container', 'count', 'conflicts', 'conflict_dn',
            'conflict_host', 'conflict_range', 'conflict'),
    fix='range_conflict',
    meaning='Two servers allocated the same range before either saw the '
            'other\'s record; 389-DS keeps both, one as a hidden conflict '
            'entry (conflict_dn; conflict_range as LDAP holds it), and both '
            'servers may issue its numbers.')


# -- RangeRecordCheck ---------------------------------------------------------

RECORD_FIELDS = ('range_cfg', 'radix', 'range_container', 'dogtag_uses')
RECORD_FOUND = RECORD_FIELDS + ('record_dn', 'record_ldap', 'record_end',
                                'reserved_end', 'extent_rule')
USES_CS_CFG = ('dogtagpki/pki CertificateRepository, KeyRepository, '
               'RequestRepository, ReplicaIDRepository (v11.5.0: ranges '
               'from dbs.*; initLegacyGenerator in master); Repository.'
               'getNextRange writes the records, hasRangeConflict finds one '
               'by host, port and beginRange; SubsystemIdGeneratorUpdateCLI '
               '(v11.6.0 .. master) reads endRange back; PR #4840')

RANGE_NOT_RECORDED = Finding(
    'DTR0339', 'range-not-recorded', SOURCE, 'RangeRecordCheck', SUCCESS,
    'The active range has no record of its own',
    'The active range {range_cfg} (CS.cfg, radix {radix}) has no record: it '
    'was not allocated from nextRange.', key=KEY, fields=RECORD_FIELDS,
    upstream=USES_CS_CFG,
    meaning='Only ranges allocated from nextRange are recorded: a master\'s '
            'first range (pkispawn writes only nextRange: '
            'SubsystemRangeUpdateCLI, v11.5.0) and a range a clone received '
            'from its master have none, which is normal.')

RANGE_RECORD_AGREES = Finding(
    'DTR0340', 'range-record-agrees', SOURCE, 'RangeRecordCheck', SUCCESS,
    'The active range agrees with its record',
    'The active range {range_cfg} (CS.cfg, radix {radix}) agrees with its '
    'record {record_ldap} (LDAP).', key=KEY, fields=RECORD_FOUND,
    upstream=USES_CS_CFG)

RANGE_RECORD_RADIX_GAP = Finding(
    'DTR0341', 'range-record-radix-gap', SOURCE, 'RangeRecordCheck',
    SUCCESS, 'The record of the active range keeps numbers Dogtag never uses',
    'The record {record_ldap} (LDAP) keeps {unused} numbers after the active '
    'range that Dogtag never uses (decimal).', key=KEY,
    fields=RECORD_FOUND + ('unused',), upstream=USES_CS_CFG,
    meaning='The SSNv1 radix defect of PKI 10.11 and later (dogtagpki/pki '
            'PR #4840): the record\'s digits are CS.cfg\'s hex digits, but '
            'its end was computed by adding the increment in decimal, so the '
            'CS.cfg end (Dogtag\'s arithmetic, which it uses) lies below the '
            'record\'s end read as hex, and every later allocation starts '
            'above the latter. Nothing fails: the numbers between, counted '
            'in unused, are only lost. Migrating to SSNv2 (pki-server '
            'ca-id-generator-update, PKI 11.6 and later) extends CS.cfg to '
            'the record\'s end.')

RANGE_RECORD_HANDED_OVER = Finding(
    'DTR0342', 'range-record-tail-handed-over', SOURCE, 'RangeRecordCheck',
    SUCCESS, 'The active range ends below its record by what clones took',
    'The active range ends {handed_over} numbers below its record '
    '{record_ldap}: {clones} clone transfers (decimal).', key=KEY,
    fields=RECORD_FOUND + ('handed_over', 'clones'),
    upstream=UPDATE_NUMBER_RANGE,
    meaning='UpdateNumberRange lowers the end of the active range by the '
            'transfer size for each clone made from it: the numbers missing '
            'are a whole number of transfers, as expected.')

RANGE_PAST_RECORD = Finding(
    'DTR0343', 'range-past-record', SOURCE, 'RangeRecordCheck', WARNING,
    'The active range goes past its record',
    'The active range {range_cfg} (CS.cfg, radix {radix}) goes past its '
    'record {record_ldap}; Dogtag uses CS.cfg.', key=KEY,
    fields=RECORD_FOUND + ('beyond',), fix='range_end_to_record',
    upstream=USES_CS_CFG,
    meaning='Dogtag issues numbers up to the CS.cfg end, but the directory '
            'records this server\'s allocation as ending at reserved_end '
            '(decimal): the beyond numbers above it belong to no record, so a '
            'later allocation or a range set by hand elsewhere may hand them '
            'to another server, and no other server\'s check can see that '
            'this one uses them.')

RANGE_SHORT_OF_RECORD = Finding(
    'DTR0344', 'range-short-of-record', SOURCE, 'RangeRecordCheck', WARNING,
    'The active range ends below its record',
    'The active range {range_cfg} (CS.cfg, radix {radix}) ends below its '
    'record {record_ldap}; Dogtag uses CS.cfg.', key=KEY,
    fields=RECORD_FOUND + ('unused',),
    fix=Fix(reads('look for the clones made from this server (their '
                  'CS.cfg ranges lie just above this end) and for an edit '
                  'of CS.cfg (CS.cfg.bak)'),
            manual('if no clone holds them, the numbers up to the record\'s '
                   'end (reserved_end, decimal) are only unused; restore '
                   'the end from CS.cfg.bak if it was changed by mistake')),
    upstream=USES_CS_CFG,
    meaning='The CS.cfg end is below the end the record keeps, by a count '
            '(unused, decimal) that clone transfers do not explain: the '
            'configuration was edited, or a bookkeeping defect (dogtagpki/'
            'pki PR #4840) left the two apart. Dogtag issues only up to the '
            'CS.cfg end, then moves to its standby range; nothing overlaps.')


# Every result these checks give about a repository carries its range.
findings.carry(findings.REPOSITORY, [
    f for f in findings.CATALOG.values()
    if f.source == SOURCE and f.name != 'range-random'])

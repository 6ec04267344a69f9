"""Read a log backwards from its end, record by record, in fixed blocks.

Memory is bounded by the block size plus the longest record kept (records
are cut at MAX_RECORD_LINES lines and MAX_LINE bytes a line), whatever the
file's size; the caller stops reading at the start of its window.
"""

import os

BLOCK = 1 << 16
MAX_LINE = 1 << 14
MAX_RECORD_LINES = 50


def reverse_lines(path, block=BLOCK):
    """The lines of a file, last first, as text without the newline."""
    with open(path, 'rb') as f:
        f.seek(0, os.SEEK_END)
        position = f.tell()
        rest = b''
        while position > 0:
            size = min(block, position)
            position -= size
            f.seek(position)
            chunk = f.read(size) + rest
            lines = chunk.split(b'\n')
            rest = lines[0]
            if len(rest) > MAX_LINE:        # a huge line: keep its end
                rest = rest[-MAX_LINE:]
            for line in reversed(lines[1:]):
                yield line[:MAX_LINE].decode('utf-8', 'replace')
        yield rest.decode('utf-8', 'replace')


def reverse_records(path, fmt):
    """(header match, [continuation lines]) of a file, last record first."""
    following = []
    for line in reverse_lines(path):
        m = fmt.header.match(line)
        if m:
            yield m, list(reversed(following))
            following = []
        elif not line:
            continue                    # the file's final newline
        elif len(following) < MAX_RECORD_LINES:
            following.append(line)
        else:
            following = following[1:] + [line]

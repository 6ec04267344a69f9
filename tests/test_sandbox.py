"""The sandbox itself: instances that live under their prefix on any
machine, and planted faults that are proven or fail loudly."""

import os

import pytest

from sandbox import cadb
from sandbox.ds import DirectoryServer


def test_paths_stay_under_the_prefix_outside_a_container(tmp_path,
                                                         monkeypatch):
    """lib389's dscreate (389-ds-base 2.3.1 and 3.1.2, lib389/instance/
    setup.py) asks `systemd-detect-virt -c` and, outside a container, keeps
    the database home (BerkeleyDB's region files) in /dev/shm/slapd-<name>.
    A machine that says "not a container" must change nothing."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    asked = tmp_path / 'asked'
    fake = bin_dir / 'systemd-detect-virt'
    fake.write_text('#!/bin/sh\necho "$@" >> %s\necho none\nexit 1\n' % asked)
    fake.chmod(0o755)
    monkeypatch.setenv('PATH', '%s:%s' % (bin_dir, os.environ['PATH']))
    prefix = str(tmp_path / 'ds')
    ds = DirectoryServer(root=prefix).create()
    try:
        assert asked.read_text().split() == ['-c']   # the VM branch ran
        paths = ds.paths()
        assert paths['db_home_dir'] == paths['db_dir']
        for key in ('db_dir', 'ldapi', 'error_log', 'access_log', 'lock_dir',
                    'cert_dir'):
            assert paths[key].startswith(prefix + '/'), (key, paths[key])
        assert os.path.exists(paths['ldapi'])
        files = os.listdir(paths['db_dir'])
        if ds.db_lib == 'mdb':
            assert 'data.mdb' in files
        else:   # the region files are where the sandbox looks for them
            assert any(name.startswith('__db.') for name in files), files
    finally:
        ds.destroy()


def test_a_plant_that_did_not_take_says_so(scenario, ds):
    scenario.build(certs=range(1, 11), ca_requests=range(1, 3), kra=False)
    names = scenario.tree.vlv_index_names(['allCerts'])
    # No record added behind the index: nothing can be stale.
    with pytest.raises(cadb.PlantError) as failed:
        cadb.make_stale_vlv(ds, names, [])
    text = str(failed.value)
    assert text.startswith('the sandbox could not plant a stale VLV index')
    assert 'a one-level search finds 10 records, the last 10' in text
    # The index is complete and built, so it is not "unbuilt" either.
    with pytest.raises(cadb.PlantError, match='unbuilt VLV index'):
        cadb.verify_vlv_unbuilt(ds, names)
    cadb.verify_vlv_complete(ds, names)


def test_the_stale_index_answers_the_old_picture(scenario, ds):
    scenario.build(certs=range(1, 21), ca_requests=range(1, 3), kra=False)
    name = scenario.tree.vlv_index_names(['allCerts'])[0]
    cadb.make_stale_vlv(ds, [name], scenario.tree.certs_(range(21, 24)))
    view = cadb.VLVView(ds, name)
    assert (view.vlv_last, view.content_count, view.enabled) == (20, 20, True)
    assert (view.real_last, view.records) == (23, 23)
    # It stays so across a restart, as in the field.
    ds.restart()
    assert cadb.VLVView(ds, name).content_count == 20

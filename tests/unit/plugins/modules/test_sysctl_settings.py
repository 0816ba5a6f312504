# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sysctl_settings against a fake /proc/sys and a fake root for the sysctl.d files."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat

import pytest

from ansible.module_utils import basic

from ansible_collections.overlaynet.vpn.plugins.module_utils import _sysctl
from ansible_collections.overlaynet.vpn.plugins.modules import sysctl_settings
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import call_main, patch_exits

PATH = '/etc/sysctl.d/60-overlaynet-wireguard.conf'
FORWARDING = {
    'net.ipv4.ip_forward': 1,
    'net.ipv6.conf.all.forwarding': 1,
    'net.ipv4.conf.all.send_redirects': 0,
    'net.ipv4.conf.default.send_redirects': 0,
}
# A host that does not forward yet, as the kernel starts.
BOOT_VALUES = {
    'net/ipv4/ip_forward': '0',
    'net/ipv6/conf/all/forwarding': '0',
    'net/ipv4/conf/all/send_redirects': '1',
    'net/ipv4/conf/default/send_redirects': '1',
    'net/ipv4/conf/wg1/send_redirects': '1',
    'net/ipv4/conf/eth0.100/send_redirects': '1',
    'net/ipv4/tcp_rmem': '4096\t131072\t6291456',
}


class Host(object):
    """The fake host: /proc/sys under proc, the files under root."""

    def __init__(self, tmp_path):
        self.proc = tmp_path / 'proc' / 'sys'
        self.root = tmp_path / 'root'
        for key, value in BOOT_VALUES.items():
            self.set_live(key, value)
        (self.root / 'etc' / 'sysctl.d').mkdir(parents=True)

    def live(self, key):
        return (self.proc / _sysctl.key_to_path(key)).read_text().strip()

    def set_live(self, key, value):
        path = self.proc / _sysctl.key_to_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + '\n')

    def file(self, path=PATH):
        return self.root / path.lstrip('/')

    def write_file(self, path, text):
        target = self.file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


@pytest.fixture
def host(tmp_path, monkeypatch):
    patch_exits(monkeypatch)
    fake = Host(tmp_path)
    monkeypatch.setattr(sysctl_settings, 'SYSCTL_ROOT', str(fake.proc))
    monkeypatch.setattr(sysctl_settings, 'CONFIG_ROOT', str(fake.root))
    return fake


@pytest.fixture
def warnings(monkeypatch):
    messages = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: messages.append(msg))
    return messages


def run_ok(args, check_mode=False, diff=False):
    return call_main(sysctl_settings.main, dict(dict(path=PATH), **args), check_mode, diff)


def run_fail(args, check_mode=False):
    return call_main(sysctl_settings.main, dict(dict(path=PATH), **args), check_mode, fail=True)


def forwarding_file(before):
    return _sysctl.render_config(dict((key, str(value)) for key, value in FORWARDING.items()), before, 'overlaynet.vpn.wireguard')


# -- present ---------------------------------------------------------------------------------------

def test_first_run_writes_what_differs_and_records_the_values_before(host):
    result = run_ok(dict(settings=FORWARDING, comment='overlaynet.vpn.wireguard'))

    assert result['changed'] is True
    assert result['file_changed'] is True
    assert result['changed_settings'] == {
        'net.ipv4.ip_forward': dict(before='0', after='1'),
        'net.ipv6.conf.all.forwarding': dict(before='0', after='1'),
        'net.ipv4.conf.all.send_redirects': dict(before='1', after='0'),
        'net.ipv4.conf.default.send_redirects': dict(before='1', after='0'),
    }
    assert [host.live(key) for key in FORWARDING] == ['1', '1', '0', '0']
    assert host.file().read_text() == (
        '# overlaynet.vpn.wireguard\n'
        + _sysctl.MANAGED_LINE + '\n'
        '# before: net.ipv4.ip_forward = 0\n'
        'net.ipv4.ip_forward = 1\n'
        '# before: net.ipv6.conf.all.forwarding = 0\n'
        'net.ipv6.conf.all.forwarding = 1\n'
        '# before: net.ipv4.conf.all.send_redirects = 1\n'
        'net.ipv4.conf.all.send_redirects = 0\n'
        '# before: net.ipv4.conf.default.send_redirects = 1\n'
        'net.ipv4.conf.default.send_redirects = 0\n')
    assert stat.S_IMODE(host.file().stat().st_mode) == 0o644
    assert os.listdir(str(host.file().parent)) == [os.path.basename(PATH)]


def test_rerun_changes_nothing(host):
    run_ok(dict(settings=FORWARDING, comment='overlaynet.vpn.wireguard'))
    content = host.file().read_text()

    result = run_ok(dict(settings=FORWARDING, comment='overlaynet.vpn.wireguard'))

    assert result['changed'] is False
    assert result['file_changed'] is False
    assert result['changed_settings'] == {}
    assert host.file().read_text() == content


def test_a_value_changed_by_hand_is_put_back_with_the_file_unchanged(host):
    run_ok(dict(settings=FORWARDING, comment='overlaynet.vpn.wireguard'))
    content = host.file().read_text()
    host.set_live('net.ipv4.ip_forward', '0')
    host.set_live('net.ipv4.conf.all.send_redirects', '2')

    result = run_ok(dict(settings=FORWARDING, comment='overlaynet.vpn.wireguard'))

    assert result['changed'] is True
    assert result['file_changed'] is False
    assert result['changed_settings'] == {'net.ipv4.ip_forward': dict(before='0', after='1'),
                                          'net.ipv4.conf.all.send_redirects': dict(before='2', after='0')}
    assert host.live('net.ipv4.ip_forward') == '1'
    assert host.live('net.ipv4.conf.all.send_redirects') == '0'
    # The record still holds the value from before the first change, not the hand-made one.
    assert host.file().read_text() == content


def test_before_values_survive_a_rewrite(host):
    run_ok(dict(settings={'net.ipv4.ip_forward': 1}))
    host.set_live('net.ipv4.ip_forward', '5')

    run_ok(dict(settings={'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1}, comment='now two'))

    parsed = _sysctl.parse_config(host.file().read_text())
    assert parsed['before'] == {'net.ipv4.ip_forward': '0', 'net.ipv6.conf.all.forwarding': '0'}
    assert host.file().read_text().startswith('# now two\n')


def test_a_value_already_right_is_persisted_without_a_write_or_a_record(host, monkeypatch):
    host.set_live('net.ipv4.ip_forward', '1')
    monkeypatch.setattr(_sysctl.SysctlSettings, 'live_writable', lambda self, key: False)
    monkeypatch.setattr(_sysctl.SysctlSettings, 'write_live', _refuse_write(errno.EROFS))

    result = run_ok(dict(settings={'net.ipv4.ip_forward': 1}))

    assert result['changed'] is True
    assert result['changed_settings'] == {}
    assert result['file_changed'] is True
    assert _sysctl.parse_config(host.file().read_text()) == dict(settings={'net.ipv4.ip_forward': '1'}, before={}, excluded=set())


def test_a_value_right_at_first_and_changed_by_hand_later_is_no_value_from_before(host):
    host.set_live('net.ipv4.ip_forward', '1')
    run_ok(dict(settings={'net.ipv4.ip_forward': 1}))
    content = host.file().read_text()
    host.set_live('net.ipv4.ip_forward', '0')

    result = run_ok(dict(settings={'net.ipv4.ip_forward': 1}))

    assert result['changed_settings'] == {'net.ipv4.ip_forward': dict(before='0', after='1')}
    assert result['file_changed'] is False
    assert host.file().read_text() == content


def test_values_compare_with_whitespace_folded(host):
    result = run_ok(dict(settings={'net.ipv4.tcp_rmem': '4096 131072   6291456'}))
    assert result['changed_settings'] == {}


def test_slash_names_and_dotted_interface_names_as_sysctl_reads_them(host):
    result = run_ok(dict(settings={'net/ipv4/ip_forward': '1'}, live_settings={'net.ipv4.conf.eth0/100.send_redirects': 0}))

    assert sorted(result['changed_settings']) == ['net.ipv4.conf.eth0/100.send_redirects', 'net.ipv4.ip_forward']
    assert host.live('net/ipv4/conf/eth0.100/send_redirects') == '0'
    assert 'net.ipv4.ip_forward = 1\n' in host.file().read_text()


def test_live_settings_are_applied_but_not_persisted_and_skipped_when_missing(host):
    result = run_ok(dict(settings={'net.ipv4.conf.all.send_redirects': 0},
                         live_settings={'net.ipv4.conf.wg1.send_redirects': 0, 'net.ipv4.conf.wg9.send_redirects': 0}))

    assert host.live('net.ipv4.conf.wg1.send_redirects') == '0'
    assert result['changed_settings']['net.ipv4.conf.wg1.send_redirects'] == dict(before='1', after='0')
    assert result['skipped_settings'] == ['net.ipv4.conf.wg9.send_redirects']
    assert 'wg1' not in host.file().read_text()
    assert not (host.proc / 'net/ipv4/conf/wg9').exists()


def test_check_mode_predicts_and_writes_nothing(host):
    result = run_ok(dict(settings=FORWARDING, comment='overlaynet.vpn.wireguard'), check_mode=True, diff=True)

    assert result['changed'] is True
    assert result['file_changed'] is True
    assert result['changed_settings']['net.ipv4.ip_forward'] == dict(before='0', after='1')
    assert host.live('net.ipv4.ip_forward') == '0'
    assert not host.file().exists()
    file_diff, live_diff = result['diff']
    assert file_diff['before'] == ''
    assert file_diff['after'] == forwarding_file({'net.ipv4.ip_forward': '0', 'net.ipv6.conf.all.forwarding': '0',
                                                  'net.ipv4.conf.all.send_redirects': '1', 'net.ipv4.conf.default.send_redirects': '1'})
    assert live_diff['before'].splitlines()[0] == 'net.ipv4.ip_forward = 0'
    assert live_diff['after'].splitlines()[0] == 'net.ipv4.ip_forward = 1'


def test_file_mode_is_fixed(host):
    run_ok(dict(settings={'net.ipv4.ip_forward': 1}))
    os.chmod(str(host.file()), 0o600)

    result = run_ok(dict(settings={'net.ipv4.ip_forward': 1}))

    assert result['changed'] is True and result['file_changed'] is True
    assert stat.S_IMODE(host.file().stat().st_mode) == 0o644


def test_sysctl_d_is_created(host):
    host.file().parent.rmdir()
    run_ok(dict(settings={'net.ipv4.ip_forward': 1}))
    assert stat.S_IMODE(host.file().parent.stat().st_mode) == 0o755


def test_a_key_left_out_of_settings_is_restored(host):
    run_ok(dict(settings=FORWARDING))

    result = run_ok(dict(settings={'net.ipv4.ip_forward': 1}))

    assert result['restored_settings']['net.ipv6.conf.all.forwarding'] == dict(
        before='1', after='0', source='the value recorded before this file changed it')
    assert host.live('net.ipv6.conf.all.forwarding') == '0'
    assert host.live('net.ipv4.conf.all.send_redirects') == '1'
    assert host.live('net.ipv4.ip_forward') == '1'
    assert _sysctl.parse_config(host.file().read_text())['before'] == {'net.ipv4.ip_forward': '0'}


def test_a_key_moved_to_live_settings_is_not_restored(host):
    run_ok(dict(settings={'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.send_redirects': 0}))

    result = run_ok(dict(settings={'net.ipv4.ip_forward': 1}, live_settings={'net.ipv4.conf.all.send_redirects': 0}))

    assert result['changed_settings'] == {}
    assert result['restored_settings'] == {} and result['kept_settings'] == {}
    assert host.live('net.ipv4.conf.all.send_redirects') == '0'
    assert 'send_redirects' not in host.file().read_text()


# -- refusals --------------------------------------------------------------------------------------

def _refuse_write(error):
    def write_live(self, key, value):
        raise OSError(error, os.strerror(error))
    return write_live


def test_read_only_proc_sys_fails_before_any_change_with_the_container_advice(host, monkeypatch):
    monkeypatch.setattr(_sysctl.SysctlSettings, 'live_writable', lambda self, key: key != 'net.ipv6.conf.all.forwarding')
    for check_mode in (True, False):
        result = run_fail(dict(settings=FORWARDING), check_mode=check_mode)

        assert result['problems'] == [_sysctl.unwritable_message('net.ipv6.conf.all.forwarding', '0', '1')]
        assert result['msg'] == (
            "sysctl net.ipv6.conf.all.forwarding is 0, needs 1, and /proc/sys is read-only here (a container's default): set it when "
            "the container is created (podman/docker run --sysctl net.ipv6.conf.all.forwarding=1; "
            "LXC: lxc.sysctl.net.ipv6.conf.all.forwarding = 1) or give the container a writable /proc/sys")
        assert host.live('net.ipv4.ip_forward') == '0'
        assert not host.file().exists()


def test_a_write_that_fails_anyway_undoes_the_other_writes(host, monkeypatch):
    real_write = _sysctl.SysctlSettings.write_live

    def write_live(self, key, value):
        if key == 'net.ipv4.conf.all.send_redirects':
            raise OSError(errno.EROFS, 'Read-only file system')
        real_write(self, key, value)
    monkeypatch.setattr(_sysctl.SysctlSettings, 'write_live', write_live)

    result = run_fail(dict(settings=FORWARDING))

    assert result['problems'] == [_sysctl.unwritable_message('net.ipv4.conf.all.send_redirects', '1', '0')]
    assert [host.live(key) for key in FORWARDING] == ['0', '0', '1', '1']
    assert not host.file().exists()


def test_permission_denied_and_a_value_the_kernel_rejects(host, monkeypatch):
    monkeypatch.setattr(_sysctl.SysctlSettings, 'write_live', _refuse_write(errno.EPERM))
    denied = run_fail(dict(settings={'net.ipv4.ip_forward': 1}))
    assert 'the kernel refuses the write here (Operation not permitted): set it when the container is created' in denied['msg']

    monkeypatch.setattr(_sysctl.SysctlSettings, 'write_live', _refuse_write(errno.EINVAL))
    rejected = run_fail(dict(settings={'net.ipv4.ip_forward': 9}))
    assert rejected['msg'] == 'sysctl net.ipv4.ip_forward is 0, needs 9, and the kernel rejects the value (Invalid argument)'


def test_a_kernel_that_keeps_another_value_fails_the_run(host, monkeypatch):
    monkeypatch.setattr(_sysctl.SysctlSettings, 'write_live', lambda self, key, value: host.set_live(key, '2'))
    result = run_fail(dict(settings={'net.ipv4.ip_forward': 1}))
    assert result['msg'] == 'sysctl net.ipv4.ip_forward is 2 after writing 1: the kernel keeps another value'


def test_a_setting_that_does_not_exist_fails(host):
    result = run_fail(dict(settings={'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwardin': 1}))
    assert result['msg'] == _sysctl.unknown_key_message('net.ipv6.conf.all.forwardin', '1')
    assert host.live('net.ipv4.ip_forward') == '0'


@pytest.mark.parametrize('args, message', [
    (dict(settings={'net.ipv4.ip_forward': '1\nkernel.modprobe = /tmp/x'}), "settings: the value of net.ipv4.ip_forward must be on one line"),
    (dict(settings={'net.ipv4.ip_forward': True}), 'settings: the value of net.ipv4.ip_forward must be an integer or a string'),
    (dict(settings={'net/../../x': 1}), "settings: sysctl name 'net/../../x' has an empty"),
    (dict(settings={}, live_settings={'net.ipv4.conf.*.send_redirects': 0}), 'live_settings: sysctl name'),
    (dict(settings={'net.ipv4.ip_forward': 1}, live_settings={'net/ipv4/ip_forward': 1}), 'net.ipv4.ip_forward is in both settings and live_settings'),
    (dict(settings={}, path='/etc/sysctl.conf'), 'path /etc/sysctl.conf must be a file named *.conf directly in /etc/sysctl.d'),
    (dict(settings={}, path='/etc/sysctl.d/60-x.cfg'), 'path /etc/sysctl.d/60-x.cfg must be a file named *.conf'),
    (dict(settings={}, comment='two\nlines'), 'comment must be one line'),
    (dict(), 'state is present but all of the following are missing: settings'),
])
def test_refusals(host, args, message):
    assert message in run_fail(args)['msg']
    assert host.live('net.ipv4.ip_forward') == '0'


# -- absent ----------------------------------------------------------------------------------------

def test_absent_restores_the_recorded_values_and_removes_the_file(host):
    run_ok(dict(settings=FORWARDING))

    result = run_ok(dict(state='absent'), diff=True)

    assert result['changed'] is True
    assert result['file_changed'] is True
    assert result['restored_settings']['net.ipv4.ip_forward'] == dict(before='1', after='0', source='the value recorded before this file changed it')
    assert result['changed_settings']['net.ipv4.conf.all.send_redirects'] == dict(before='0', after='1')
    assert [host.live(key) for key in FORWARDING] == ['0', '0', '1', '1']
    assert not host.file().exists()
    assert result['diff'][0]['after'] == '' and result['diff'][0]['before'].startswith(_sysctl.MANAGED_LINE)

    again = run_ok(dict(state='absent'))
    assert again['changed'] is False


def test_absent_in_check_mode_changes_nothing(host):
    run_ok(dict(settings=FORWARDING))
    result = run_ok(dict(state='absent'), check_mode=True)
    assert result['changed'] is True
    assert sorted(result['restored_settings']) == sorted(FORWARDING)
    assert host.file().exists()
    assert host.live('net.ipv4.ip_forward') == '1'


def test_absent_prefers_what_other_configuration_files_give(host):
    run_ok(dict(settings={'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.send_redirects': 0}))
    host.write_file('/usr/lib/sysctl.d/50-default.conf', 'net.ipv4.conf.*.send_redirects = 1\nnet.ipv4.ip_forward = 0\n')
    host.write_file('/etc/sysctl.d/99-admin.conf', 'net.ipv4.ip_forward = 1\n')
    host.write_file('/etc/sysctl.conf', '# net.ipv4.ip_forward = 0\n')

    result = run_ok(dict(state='absent'))

    assert result['kept_settings'] == {'net.ipv4.ip_forward': 'already 1, as /etc/sysctl.d/99-admin.conf gives it'}
    assert result['restored_settings'] == {
        'net.ipv4.conf.all.send_redirects': dict(before='0', after='1', source='/usr/lib/sysctl.d/50-default.conf')}


def test_absent_leaves_what_another_overlaynet_role_still_sets(host):
    openvpn = '/etc/sysctl.d/60-overlaynet-openvpn.conf'
    run_ok(dict(settings={'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1}))
    run_ok(dict(settings={'net.ipv4.ip_forward': 1}, path=openvpn))
    # The second role found forwarding on already and shares the first one's record of before.
    assert _sysctl.parse_config(host.file(openvpn).read_text())['before'] == {'net.ipv4.ip_forward': '0'}

    first = run_ok(dict(state='absent'))

    assert first['kept_settings'] == {'net.ipv4.ip_forward': 'still set to 1 by %s' % openvpn}
    assert sorted(first['restored_settings']) == ['net.ipv6.conf.all.forwarding']
    assert host.live('net.ipv4.ip_forward') == '1'

    last = run_ok(dict(state='absent', path=openvpn))

    assert last['restored_settings'] == {'net.ipv4.ip_forward': dict(before='1', after='0', source='the value recorded before this file changed it')}
    assert host.live('net.ipv4.ip_forward') == '0'


def test_absent_without_a_record_leaves_the_value(host):
    host.write_file(PATH, 'net.ipv4.ip_forward = 1\n')
    host.set_live('net.ipv4.ip_forward', '1')

    result = run_ok(dict(state='absent'))

    assert result['changed'] is True and result['changed_settings'] == {}
    assert result['kept_settings'] == {'net.ipv4.ip_forward': 'no other file sets it and no earlier value was recorded'}
    assert host.live('net.ipv4.ip_forward') == '1'
    assert not host.file().exists()


def test_absent_warns_when_a_value_cannot_be_restored(host, monkeypatch, warnings):
    run_ok(dict(settings={'net.ipv4.ip_forward': 1}))
    monkeypatch.setattr(_sysctl.SysctlSettings, 'write_live', _refuse_write(errno.EROFS))

    result = run_ok(dict(state='absent'))

    assert result['restored_settings'] == {}
    assert warnings == ['cannot restore sysctl net.ipv4.ip_forward to 0 (Read-only file system); it stays 1']
    assert not host.file().exists()


def test_absent_skips_settings_that_no_longer_exist(host):
    host.write_file(PATH, '# before: net.ipv4.conf.wg7.send_redirects = 1\nnet.ipv4.conf.wg7.send_redirects = 0\n')
    result = run_ok(dict(state='absent'))
    assert result['kept_settings'] == {'net.ipv4.conf.wg7.send_redirects': 'does not exist here'}

# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import _sysctl as sysctl

# The message of the brief, written out by hand: the code must produce exactly this text.
READ_ONLY_HUB1 = ("host hub1: sysctl net.ipv4.ip_forward is 0, needs 1, and /proc/sys is read-only here (a container's default): "
                  "set it when the container is created (podman/docker run --sysctl net.ipv4.ip_forward=1; "
                  "LXC: lxc.sysctl.net.ipv4.ip_forward = 1) or give the container a writable /proc/sys")


# -- keys and values -----------------------------------------------------------------------------

@pytest.mark.parametrize('key, path', [
    # The examples of sysctl.d(5).
    ('kernel.domainname', 'kernel/domainname'),
    ('kernel/domainname', 'kernel/domainname'),
    ('net.ipv4.conf.enp3s0/200.forwarding', 'net/ipv4/conf/enp3s0.200/forwarding'),
    ('net/ipv4/conf/enp3s0.200/forwarding', 'net/ipv4/conf/enp3s0.200/forwarding'),
    ('key/middle.part.with.dots/foo', 'key/middle.part.with.dots/foo'),
    ('key.middle/part/with/dots.foo', 'key/middle.part.with.dots/foo'),
    ('vm', 'vm'),
])
def test_key_to_path_follows_sysctl(key, path):
    assert sysctl.key_to_path(key) == path


@pytest.mark.parametrize('key, canonical', [
    ('net/ipv4/ip_forward', 'net.ipv4.ip_forward'),
    ('net.ipv4.ip_forward', 'net.ipv4.ip_forward'),
    ('net/ipv4/conf/eth0.100/send_redirects', 'net.ipv4.conf.eth0/100.send_redirects'),
])
def test_canonical_key_is_the_dotted_form_sysctl_prints(key, canonical):
    assert sysctl.canonical_key(key) == canonical


@pytest.mark.parametrize('key', ['', '  ', 'net.ipv4..ip_forward', 'net/../../etc/passwd', 'net.ipv4.conf.*.rp_filter',
                                 'net.ipv4.ip_forward ', 'a=b', '.net.ipv4', 'net.ipv4.', None, 5])
def test_key_problem_refuses_names_that_are_no_single_setting(key):
    assert sysctl.key_problem(key)


@pytest.mark.parametrize('key', ['net.ipv4.ip_forward', 'net/ipv6/conf/all/forwarding', 'net.ipv4.conf.wg-hub_1.send_redirects'])
def test_key_problem_accepts_setting_names(key):
    assert sysctl.key_problem(key) is None


@pytest.mark.parametrize('value, text', [(1, '1'), (0, '0'), (' 1 ', '1'), ('4096 131072\t6291456', '4096 131072\t6291456')])
def test_format_value(value, text):
    assert sysctl.format_value(value) == text


@pytest.mark.parametrize('value, fragment', [
    (True, 'not true or false'), (None, 'integer or a string'), (1.5, 'integer or a string'),
    ('1\nkernel.x = 2', 'one line'), ('1\r2', 'one line'), ('', 'not be empty'),
])
def test_format_value_refuses(value, fragment):
    with pytest.raises(ValueError) as excinfo:
        sysctl.format_value(value)
    assert fragment in str(excinfo.value)


def test_values_compare_with_whitespace_folded():
    assert sysctl.same_value('4096\t131072\t6291456\n', '4096 131072 6291456')
    assert sysctl.same_value(1, '1\n')
    assert not sysctl.same_value('1', '01')


def test_settings_from_params_normalises_and_lists_every_problem():
    settings, problems = sysctl.settings_from_params(
        {'net/ipv4/ip_forward': 1, 'net.ipv4.ip_forward': '1', 'kernel.x': True, 'a..b': 1, 'vm.swappiness': ' 10 '}, 'settings')
    assert settings == {'net.ipv4.ip_forward': '1', 'vm.swappiness': '10'}
    assert len(problems) == 3
    assert problems[0] == 'settings: net.ipv4.ip_forward is given twice (as net.ipv4.ip_forward)'
    assert problems[1].startswith('settings: the value of kernel.x must be an integer or a string')
    assert problems[2].startswith("settings: sysctl name 'a..b' has an empty")
    assert list(settings) == ['net.ipv4.ip_forward', 'vm.swappiness']


@pytest.mark.parametrize('path', ['/etc/sysctl.d/60-overlaynet-wireguard.conf', '/etc/sysctl.d/./x.conf'])
def test_path_inside_sysctl_d(path):
    assert sysctl.path_problem(path) is None


@pytest.mark.parametrize('path', ['/etc/sysctl.conf', '/etc/sysctl.d/x.txt', '/etc/sysctl.d/sub/x.conf', '/run/sysctl.d/x.conf',
                                  '/etc/sysctl.d/../x.conf', '/etc/sysctl.d/.conf', '/etc/sysctl.d/.hidden.conf', 'x.conf'])
def test_path_outside_sysctl_d_or_not_conf(path):
    assert sysctl.path_problem(path) == 'path %s must be a file named *.conf directly in /etc/sysctl.d' % path


# -- messages ------------------------------------------------------------------------------------

def test_settings_problems_read_only_message_is_the_documented_text():
    problems = sysctl.settings_problems({'net.ipv4.ip_forward': '0'}, {'net.ipv4.ip_forward': False}, {'net.ipv4.ip_forward': 1}, 'hub1')
    assert problems == [READ_ONLY_HUB1]


def test_settings_problems_nothing_when_the_value_is_already_right_on_a_read_only_host():
    assert sysctl.settings_problems({'net.ipv4.ip_forward': '1\n'}, False, {'net.ipv4.ip_forward': 1}, 'hub1') == []


def test_settings_problems_nothing_when_writable():
    assert sysctl.settings_problems({'net.ipv4.ip_forward': '0'}, True, {'net.ipv4.ip_forward': 1}, 'hub1') == []
    # A key missing from the writable dict counts as writable.
    assert sysctl.settings_problems({'net.ipv4.ip_forward': '0'}, {}, {'net.ipv4.ip_forward': 1}, 'hub1') == []


def test_settings_problems_one_bool_for_every_key_and_path_forms():
    problems = sysctl.settings_problems(
        {'net/ipv4/ip_forward': '0', 'net.ipv6.conf.all.forwarding': '1', 'net.ipv4.conf.all.send_redirects': '1'}, False,
        {'net.ipv4.ip_forward': 1, 'net/ipv6/conf/all/forwarding': 1, 'net.ipv4.conf.all.send_redirects': 0}, 'hub1')
    assert problems == [READ_ONLY_HUB1, READ_ONLY_HUB1.replace('net.ipv4.ip_forward', 'net.ipv4.conf.all.send_redirects')
                        .replace('is 0, needs 1', 'is 1, needs 0').replace('=1', '=0').replace('= 1)', '= 0)')]


def test_settings_problems_missing_setting():
    problems = sysctl.settings_problems({'net.ipv6.conf.all.forwarding': None}, True, {'net.ipv6.conf.all.forwarding': 1, 'vm.x': 2}, 'h')
    assert problems == [
        'host h: sysctl net.ipv6.conf.all.forwarding does not exist here (no /proc/sys/net/ipv6/conf/all/forwarding), needs 1: '
        'check the name; an IPv6 setting needs the IPv6 stack (not disabled with ipv6.disable=1), a setting of one interface '
        'needs that interface',
        'host h: sysctl vm.x does not exist here (no /proc/sys/vm/x), needs 2: check the name; an IPv6 setting needs the IPv6 '
        'stack (not disabled with ipv6.disable=1), a setting of one interface needs that interface',
    ]


def test_messages_without_host_have_no_prefix():
    assert sysctl.unwritable_message('net.ipv4.ip_forward', '0', '1') == READ_ONLY_HUB1[len('host hub1: '):]


def test_write_failure_messages():
    read_only = sysctl.write_failure_message('net.ipv4.ip_forward', '0', '1', OSError(errno.EROFS, 'Read-only file system'))
    assert read_only == READ_ONLY_HUB1[len('host hub1: '):]
    denied = sysctl.write_failure_message('net.ipv4.ip_forward', '0', '1', OSError(errno.EPERM, 'x'))
    assert 'and the kernel refuses the write here (Operation not permitted): set it when the container is created' in denied
    invalid = sysctl.write_failure_message('net.ipv4.ip_forward', '0', '7', OSError(errno.EINVAL, 'x'))
    assert invalid == 'sysctl net.ipv4.ip_forward is 0, needs 7, and the kernel rejects the value (Invalid argument)'


# -- the file ------------------------------------------------------------------------------------

def test_parse_config_reads_what_sysctl_reads():
    parsed = sysctl.parse_config(
        '# comment = 1\n'
        '; also a comment = 2\n'
        '\n'
        '  net.ipv4.ip_forward=0\n'
        'net/ipv4/ip_forward = 1\n'
        '-net.ipv6.conf.all.forwarding = 1 \n'
        'net.ipv4.conf.*.rp_filter = 2\n'
        '-net.ipv4.conf.all.rp_filter\n'
        'garbage line\n'
        'kernel.core_pattern = |/usr/bin/x %p # not a comment\n')
    assert parsed['settings'] == {
        'net.ipv4.ip_forward': '1',
        'net.ipv6.conf.all.forwarding': '1',
        'net.ipv4.conf.*.rp_filter': '2',
        'kernel.core_pattern': '|/usr/bin/x %p # not a comment',
    }
    assert parsed['excluded'] == set(['net.ipv4.conf.all.rp_filter'])
    assert parsed['before'] == {}


def test_parse_config_of_nothing():
    assert sysctl.parse_config(None) == dict(settings={}, before={}, excluded=set())


def test_render_config_puts_each_before_value_above_its_key():
    text = sysctl.render_config({'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1'},
                                {'net.ipv4.ip_forward': '0'}, 'overlaynet.vpn.wireguard: this host forwards')
    assert text == (
        '# overlaynet.vpn.wireguard: this host forwards\n'
        + sysctl.MANAGED_LINE + '\n'
        '# before: net.ipv4.ip_forward = 0\n'
        'net.ipv4.ip_forward = 1\n'
        'net.ipv6.conf.all.forwarding = 1\n')
    parsed = sysctl.parse_config(text)
    assert parsed['settings'] == {'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1'}
    assert parsed['before'] == {'net.ipv4.ip_forward': '0'}


def test_render_config_without_comment_starts_with_the_managed_line():
    assert sysctl.render_config({}, {}, None) == sysctl.MANAGED_LINE + '\n'


# -- sysctl.d precedence ---------------------------------------------------------------------------

def test_ordered_config_files_by_name_with_shadowing_and_sysctl_conf_last():
    paths = [
        '/usr/lib/sysctl.d/50-default.conf', '/etc/sysctl.d/50-default.conf', '/run/sysctl.d/50-default.conf',
        '/lib/sysctl.d/10-early.conf', '/usr/local/lib/sysctl.d/99-late.conf', '/etc/sysctl.d/README',
        '/etc/sysctl.conf', '/usr/lib/sysctl.d/30-x.conf', '/lib/sysctl.d/30-x.conf', '/etc/other.d/00-x.conf',
    ]
    assert sysctl.ordered_config_files(paths) == [
        '/lib/sysctl.d/10-early.conf', '/usr/lib/sysctl.d/30-x.conf', '/etc/sysctl.d/50-default.conf',
        '/usr/local/lib/sysctl.d/99-late.conf', '/etc/sysctl.conf']


def test_ordered_config_files_ignored_path_unshadows_a_later_directory():
    paths = ['/etc/sysctl.d/60-x.conf', '/usr/lib/sysctl.d/60-x.conf']
    assert sysctl.ordered_config_files(paths) == ['/etc/sysctl.d/60-x.conf']
    assert sysctl.ordered_config_files(paths, '/etc/sysctl.d/60-x.conf') == ['/usr/lib/sysctl.d/60-x.conf']


def _parsed(*files):
    return [(path, sysctl.parse_config(text)) for path, text in files]


def test_configured_value_later_file_wins():
    files = _parsed(('/usr/lib/sysctl.d/10-a.conf', 'net.ipv4.ip_forward = 1\n'), ('/etc/sysctl.conf', 'net.ipv4.ip_forward = 0\n'))
    assert sysctl.configured_value('net.ipv4.ip_forward', files) == ('0', '/etc/sysctl.conf')
    assert sysctl.configured_value('net.ipv4.tcp_syncookies', files) == (None, None)


def test_configured_value_explicit_wins_over_a_later_glob():
    files = _parsed(('/etc/sysctl.d/10-a.conf', 'net.ipv4.conf.all.send_redirects = 1\n'),
                    ('/etc/sysctl.d/20-b.conf', 'net.ipv4.conf.*.send_redirects = 0\n'))
    assert sysctl.configured_value('net.ipv4.conf.all.send_redirects', files) == ('1', '/etc/sysctl.d/10-a.conf')
    assert sysctl.configured_value('net.ipv4.conf.default.send_redirects', files) == ('0', '/etc/sysctl.d/20-b.conf')
    # A glob stands for one component: it does not reach settings deeper down.
    assert sysctl.configured_value('net.ipv4.conf.x.y.send_redirects', files) == (None, None)


def test_configured_value_glob_exclusion():
    files = _parsed(('/usr/lib/sysctl.d/50-default.conf', 'net.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n'))
    assert sysctl.configured_value('net.ipv4.conf.all.rp_filter', files) == (None, None)
    assert sysctl.configured_value('net.ipv4.conf.default.rp_filter', files) == ('2', '/usr/lib/sysctl.d/50-default.conf')


def test_is_overlaynet_file():
    own = '/etc/sysctl.d/60-overlaynet-wireguard.conf'
    assert sysctl.is_overlaynet_file('/etc/sysctl.d/60-overlaynet-openvpn.conf', own)
    assert not sysctl.is_overlaynet_file(own, own)
    assert not sysctl.is_overlaynet_file('/usr/lib/sysctl.d/60-overlaynet-openvpn.conf', own)
    assert not sysctl.is_overlaynet_file('/etc/sysctl.d/99-sysctl.conf', own)


# -- plans ---------------------------------------------------------------------------------------

def test_plan_writes_only_what_differs():
    writes = sysctl.plan_writes({'a.b': '1', 'a.c': '0', 'a.d': '4096 87380', 'a.gone': '1'},
                                {'a.b': '0', 'a.c': '0', 'a.d': '4096\t87380', 'a.gone': None})
    assert writes == {'a.b': dict(before='0', after='1')}


def test_plan_before_values_records_keeps_and_inherits():
    others = _parsed(('/etc/sysctl.d/60-overlaynet-openvpn.conf',
                      '# before: net.ipv6.conf.all.forwarding = 0\nnet.ipv6.conf.all.forwarding = 1\n'
                      '# before: vm.x = 5\nvm.x = 7\n'))
    before = sysctl.plan_before_values(
        {'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1', 'net.ipv4.conf.all.send_redirects': '0', 'vm.x': '6'},
        {'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1', 'net.ipv4.conf.all.send_redirects': '1', 'vm.x': '6'},
        {'net.ipv4.ip_forward': '1'}, {'net.ipv4.ip_forward': '0'}, others)
    assert before == {
        'net.ipv4.ip_forward': '0',            # recorded earlier: kept even though the live value is right now
        'net.ipv6.conf.all.forwarding': '0',   # already right because of the other role: its record is shared
        'net.ipv4.conf.all.send_redirects': '1',  # about to change: the live value is recorded
    }                                          # vm.x: right already, the other file sets another value


def test_plan_before_values_does_not_take_a_hand_change_for_a_value_from_before():
    # Recorded: kept.
    assert sysctl.plan_before_values({'a.b': '1'}, {'a.b': '7'}, {'a.b': '1'}, {'a.b': '0'}, []) == {'a.b': '0'}
    # Set by the file already without a record (it was right when first set): nothing to record.
    assert sysctl.plan_before_values({'a.b': '1'}, {'a.b': '7'}, {'a.b': '1'}, {}, []) == {}


def test_plan_restores_every_branch():
    other_files = _parsed(('/etc/sysctl.d/60-overlaynet-openvpn.conf', 'net.ipv6.conf.all.forwarding = 1\nnet.ipv4.conf.all.send_redirects = 1\n'))
    parsed_files = other_files + _parsed(('/etc/sysctl.conf', 'net.ipv4.ip_forward = 0\n'))
    old_settings = {'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1', 'net.ipv4.conf.all.send_redirects': '0',
                    'net.ipv4.conf.default.send_redirects': '0', 'vm.a': '1', 'vm.b': '1', 'net.ipv4.conf.wg1.send_redirects': '0'}
    recorded = {'net.ipv4.ip_forward': '1', 'net.ipv4.conf.default.send_redirects': '1', 'vm.b': '1'}
    live = {'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1', 'net.ipv4.conf.all.send_redirects': '0',
            'net.ipv4.conf.default.send_redirects': '0', 'vm.a': '1', 'vm.b': '1', 'net.ipv4.conf.wg1.send_redirects': None}
    restores, kept = sysctl.plan_restores(old_settings, recorded, live, other_files, parsed_files)
    assert restores == {
        # Another file gives it a value: that wins over the recorded one.
        'net.ipv4.ip_forward': dict(before='1', after='0', source='/etc/sysctl.conf'),
        # Another overlaynet file sets it to another value: the files decide.
        'net.ipv4.conf.all.send_redirects': dict(before='0', after='1', source='/etc/sysctl.d/60-overlaynet-openvpn.conf'),
        'net.ipv4.conf.default.send_redirects': dict(before='0', after='1', source='the value recorded before this file changed it'),
    }
    assert kept == {
        'net.ipv6.conf.all.forwarding': 'still set to 1 by /etc/sysctl.d/60-overlaynet-openvpn.conf',
        'vm.a': 'no other file sets it and no earlier value was recorded',
        'vm.b': 'already 1, as the value recorded before this file changed it gives it',
        'net.ipv4.conf.wg1.send_redirects': 'does not exist here',
    }


def test_render_live_values():
    assert sysctl.render_live_values({'a.b': '4096\t1', 'a.c': None}) == 'a.b = 4096 1\na.c = (does not exist)\n'

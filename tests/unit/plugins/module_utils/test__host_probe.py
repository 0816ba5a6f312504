# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess
import sys

import pytest

from ansible.plugins.filter.core import get_hash

from ansible_collections.overlaynet.vpn.plugins.module_utils import _host_probe as hp
from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.fake_host_tree import (
    DEBIAN_OS_RELEASE,
    GROUP,
    PRIVATE_KEY,
    PUBLIC_KEY,
    USER,
    assert_no_private_key,
    link,
    on_host,
    write,
)
# NIST FIPS 180-2, appendix B.1: SHA-256 of "abc".
SHA256_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'


# ---------------------------------------------------------------------------------------------
# os-release
# ---------------------------------------------------------------------------------------------

UBUNTU = '''PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
ID=ubuntu
ID_LIKE=debian
'''
MINT = 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_ID="22"\n'
ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n'
ALMA = 'ID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\n'
ORACLE = 'ID="ol"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n'
AMAZON = 'ID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
CENTOS_STREAM = 'ID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="9"\n'
ALPINE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n'
OPENSUSE = 'NAME="openSUSE Leap"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\nVERSION_ID="15.6"\n'
# A name that only contains "debian" is not Debian (the shell probe's substring test said it was).
DEBIANISH = 'ID=notdebian\nID_LIKE="arch"\n'


def test_parse_os_release_removes_quotes_and_escapes():
    text = '''# a comment
NAME="Example \\"Linux\\""
ID='example'
ID_LIKE="rhel  fedora"
VERSION_ID=1.2
EMPTY=
BROKEN="unbalanced

not an assignment
'''
    assert hp.parse_os_release(text) == {
        'NAME': 'Example "Linux"',
        'ID': 'example',
        'ID_LIKE': 'rhel  fedora',
        'VERSION_ID': '1.2',
        'EMPTY': '',
        'BROKEN': 'unbalanced',
    }


@pytest.mark.parametrize('text, family', [
    (DEBIAN_OS_RELEASE, 'Debian'),
    (UBUNTU, 'Debian'),
    (MINT, 'Debian'),
    (ROCKY, 'RedHat'),
    (ALMA, 'RedHat'),
    (FEDORA, 'RedHat'),
    (ORACLE, 'RedHat'),
    (AMAZON, 'RedHat'),
    (CENTOS_STREAM, 'RedHat'),
    (ALPINE, 'unsupported'),
    (OPENSUSE, 'unsupported'),
    (DEBIANISH, 'unsupported'),
    ('', 'unsupported'),
])
def test_os_family(text, family):
    assert hp.os_family(hp.parse_os_release(text)) == family


def test_os_release_in_etc_wins(tmp_path):
    write(tmp_path, '/etc/os-release', UBUNTU)
    write(tmp_path, '/usr/lib/os-release', ROCKY)
    assert hp.read_os_release(str(tmp_path))['ID'] == 'ubuntu'


def test_os_release_in_usr_lib_is_the_fallback(tmp_path):
    write(tmp_path, '/usr/lib/os-release', ROCKY)
    assert hp.read_os_release(str(tmp_path))['VERSION_ID'] == '9.4'


def test_no_os_release(tmp_path):
    result = hp.probe_host({}, '/usr/bin', str(tmp_path))
    assert result == dict(os_family='unsupported', os_id=None, os_version_id=None, os_version_codename=None)


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

def test_command_directories_add_the_sbin_directories_once():
    assert hp.command_directories('/usr/local/bin:/usr/bin:/sbin:relative::/usr/bin') == [
        '/usr/local/bin', '/usr/bin', '/sbin', '/usr/sbin', '/usr/local/sbin']
    assert hp.command_directories('') == ['/usr/sbin', '/sbin', '/usr/local/sbin']
    assert hp.command_directories(None) == ['/usr/sbin', '/sbin', '/usr/local/sbin']


def test_missing_commands(tmp_path):
    root = str(tmp_path)
    write(root, '/usr/bin/wg', '#!/bin/sh\n', 0o755)
    write(root, '/usr/sbin/nft', '#!/bin/sh\n', 0o755)  # not in PATH: found in sbin
    write(root, '/opt/tools/wg-quick', '#!/bin/sh\n', 0o755)
    write(root, '/usr/bin/not-executable', 'data\n', 0o644)
    os.makedirs(on_host(root, '/usr/bin/a-directory'))
    write(root, '/usr/local/sbin/wireguard-go', 'binary', 0o755)
    commands = ['wg', 'nft', 'wg-quick', 'not-executable', 'a-directory', 'absent', 'absent',
                '/usr/local/sbin/wireguard-go', '/usr/bin/wireguard-go']
    assert hp.missing_commands(commands, '/usr/bin', root) == [
        'wg-quick', 'not-executable', 'a-directory', 'absent', '/usr/bin/wireguard-go']
    assert hp.missing_commands(['wg-quick'], '/usr/bin:/opt/tools', root) == []


# ---------------------------------------------------------------------------------------------
# Enabled template instances
# ---------------------------------------------------------------------------------------------

def test_instances_of_templates_from_names():
    names = [
        'overlaynet-wireguard@wg1.service',
        'overlaynet-wireguard@wg0.service',
        'overlaynet-wireguard@.service',
        'overlaynet-wireguard@wg2.timer',
        'overlaynet-wireguard-nftables.service',
        'wg-quick@wg9.service',
        'getty@tty1.service',
        'openvpn-server@office.service',
        'ssh.service',
    ]
    assert hp.instances_of_templates(['overlaynet-wireguard', 'wg-quick@', 'openvpn-server@.service', 'ocserv'], names) == {
        'overlaynet-wireguard': ['wg0', 'wg1'],
        'wg-quick@': ['wg9'],
        'openvpn-server@.service': ['office'],
        'ocserv': [],
    }


def test_enabled_instances_in_every_wants_directory(tmp_path):
    root = str(tmp_path)
    system = '/etc/systemd/system/'
    # What systemctl enable writes: a link to the template (here dangling, which still counts).
    link(root, system + 'multi-user.target.wants/overlaynet-wireguard@wg0.service', '/etc/systemd/system/overlaynet-wireguard@.service')
    write(root, system + 'multi-user.target.wants/overlaynet-wireguard@wg1.service', '[Unit]\n')
    link(root, system + 'network-online.target.wants/overlaynet-wireguard@wg1.service', '/nowhere')
    link(root, system + 'network-online.target.wants/overlaynet-wireguard@wg2.service', '/nowhere')
    link(root, system + 'multi-user.target.requires/overlaynet-wireguard@wg3.service', '/nowhere')
    write(root, system + 'overlaynet-wireguard@wg4.service', '[Unit]\n')
    write(root, system + 'broken.wants', 'a file, not a directory')
    assert hp.enabled_instances(['overlaynet-wireguard'], root) == {'overlaynet-wireguard': ['wg0', 'wg1', 'wg2']}


def test_no_systemd_directory(tmp_path):
    assert hp.enabled_instances(['overlaynet-wireguard'], str(tmp_path)) == {'overlaynet-wireguard': []}


# ---------------------------------------------------------------------------------------------
# Files and globs
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('st_mode, text', [
    (0o100600, '0600'),
    (0o100755, '0755'),
    (0o040700, '0700'),
    (0o104755, '4755'),
    (0o041777, '1777'),
    (0o100000, '0000'),
])
def test_format_mode(st_mode, text):
    assert hp.format_mode(st_mode) == text


def test_file_facts_of_a_regular_file(tmp_path):
    write(tmp_path, '/usr/local/sbin/helper', b'abc', 0o750)
    assert hp.file_facts('/usr/local/sbin/helper', str(tmp_path)) == dict(
        exists=True, mode='0750', owner=USER, group=GROUP, sha256=SHA256_ABC)


def test_file_checksum_equals_the_jinja_hash_of_the_rendered_text(tmp_path):
    # What a role compares: lookup('template') | hash('sha256') against the file the template wrote.
    rendered = '#!/bin/sh\r\n# déjà vu\n\tno final newline'
    write(tmp_path, '/usr/local/sbin/helper', rendered, 0o755)
    assert hp.file_facts('/usr/local/sbin/helper', str(tmp_path))['sha256'] == get_hash(rendered, 'sha256')


def test_file_facts_follow_links(tmp_path):
    write(tmp_path, '/opt/wireguard-go-1', b'abc', 0o755)
    link(tmp_path, '/usr/local/sbin/wireguard-go', on_host(tmp_path, '/opt/wireguard-go-1'))
    assert hp.file_facts('/usr/local/sbin/wireguard-go', str(tmp_path))['sha256'] == SHA256_ABC
    assert hp.file_facts('/usr/local/sbin/wireguard-go', str(tmp_path))['mode'] == '0755'


def test_file_facts_of_what_is_not_a_regular_file(tmp_path):
    root = str(tmp_path)
    os.makedirs(on_host(root, '/etc/wireguard'))
    os.chmod(on_host(root, '/etc/wireguard'), 0o700)
    link(root, '/etc/dangling', '/nowhere')
    absent = dict(exists=False, mode=None, owner=None, group=None, sha256=None)
    assert hp.file_facts('/etc/wireguard', root) == dict(exists=True, mode='0700', owner=USER, group=GROUP, sha256=None)
    assert hp.file_facts('/etc/dangling', root) == absent
    assert hp.file_facts('/etc/absent', root) == absent


@pytest.mark.skipif(os.geteuid() != 0, reason='only root can give a file to a user without a name')
def test_owner_without_a_name_is_its_number(tmp_path):
    path = write(tmp_path, '/etc/orphan', 'x')
    os.chown(path, 54321, 54322)
    facts = hp.file_facts('/etc/orphan', str(tmp_path))
    assert (facts['owner'], facts['group']) == ('54321', '54322')


def test_glob_paths(tmp_path):
    root = str(tmp_path)
    for name in ('wg1.psk', 'wg0.psk', '.wg0.psk.tmp', '.hidden.psk', 'wg0.key', 'wg0.conf'):
        write(root, '/etc/wireguard/' + name, 'x')
    assert hp.glob_paths('/etc/wireguard/*.psk', root) == ['/etc/wireguard/wg0.psk', '/etc/wireguard/wg1.psk']
    assert hp.glob_paths('/etc/wireguard/wg?.*', root) == [
        '/etc/wireguard/wg0.conf', '/etc/wireguard/wg0.key', '/etc/wireguard/wg0.psk', '/etc/wireguard/wg1.psk']
    assert hp.glob_paths('/etc/openvpn/*.conf', root) == []


def test_glob_paths_under_a_root_with_glob_characters(tmp_path):
    root = on_host(tmp_path, '/host[1]*')
    write(root, '/etc/wireguard/wg0.psk', 'x')
    assert hp.glob_paths('/etc/wireguard/*.psk', root) == ['/etc/wireguard/wg0.psk']


def test_glob_paths_on_the_real_root():
    assert hp.glob_paths('/') == ['/']


# ---------------------------------------------------------------------------------------------
# sysctl
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('key, path', [
    ('net.ipv4.ip_forward', 'net/ipv4/ip_forward'),
    ('net.ipv6.conf.all.forwarding', 'net/ipv6/conf/all/forwarding'),
    ('net.ipv4.conf.eth0/100.forwarding', 'net/ipv4/conf/eth0.100/forwarding'),
    ('net/ipv4/conf/eth0.100/forwarding', 'net/ipv4/conf/eth0.100/forwarding'),
    ('kernel', 'kernel'),
])
def test_sysctl_relative_path(key, path):
    assert hp.sysctl_relative_path(key) == path


@pytest.mark.parametrize('key', ['', 'net..ipv4', '.net.ipv4', 'net.ipv4.', '../../etc/shadow', 'net/../../etc/shadow', '/net/ipv4'])
def test_sysctl_key_that_is_not_one(key):
    with pytest.raises(ValueError, match='is not a sysctl key'):
        hp.sysctl_relative_path(key)


def test_read_sysctl(tmp_path):
    root = str(tmp_path)
    write(root, '/proc/sys/net/ipv4/ip_forward', '1\n')
    write(root, '/proc/sys/net/ipv4/ip_local_port_range', '32768\t60999\n')
    write(root, '/proc/sys/net/ipv4/conf/eth0.100/forwarding', '0\n')
    assert hp.read_sysctl('net.ipv4.ip_forward', root) == '1'
    assert hp.read_sysctl('net.ipv4.ip_local_port_range', root) == '32768\t60999'
    assert hp.read_sysctl('net.ipv4.conf.eth0/100.forwarding', root) == '0'
    assert hp.read_sysctl('net.ipv6.conf.all.forwarding', root) is None
    assert hp.read_sysctl('net.ipv4', root) is None


def test_sysctl_writable_asks_access_for_write(tmp_path, monkeypatch):
    root = str(tmp_path)
    forward = write(root, '/proc/sys/net/ipv4/ip_forward', '1\n')
    write(root, '/proc/sys/net/ipv6/conf/all/forwarding', '1\n')
    asked = []

    # access(2) answers EROFS (False) for a read-only /proc/sys; root's own tmp files are always writable.
    def fake_access(path, mode):
        asked.append((path, mode))
        return path != forward

    monkeypatch.setattr(hp.os, 'access', fake_access)
    assert hp.sysctl_writable('net.ipv4.ip_forward', root) is False
    assert hp.sysctl_writable('net.ipv6.conf.all.forwarding', root) is True
    assert hp.sysctl_writable('net.ipv4.absent', root) is False
    assert asked == [(forward, os.W_OK), (on_host(root, '/proc/sys/net/ipv6/conf/all/forwarding'), os.W_OK)]


def test_sysctl_writable_without_a_fake_access(tmp_path):
    write(tmp_path, '/proc/sys/net/ipv4/ip_forward', '1\n', 0o644)
    assert hp.sysctl_writable('net.ipv4.ip_forward', str(tmp_path)) is True


# ---------------------------------------------------------------------------------------------
# WireGuard keys
# ---------------------------------------------------------------------------------------------

def write_key_dir(root):
    write(root, '/etc/wireguard/wg0.key', PRIVATE_KEY + '\n', 0o600)
    write(root, '/etc/wireguard/wg1.key', 'not a key\n', 0o640)
    write(root, '/etc/wireguard/wg2.key', PRIVATE_KEY, 0o600)  # no final newline, as wg accepts
    write(root, '/etc/wireguard/big.key', PRIVATE_KEY + ' ' * hp.MAX_KEY_FILE_SIZE, 0o600)
    write(root, '/etc/wireguard/binary.key', b'\xff' * 45, 0o600)
    write(root, '/etc/wireguard/.wg0.key.0a1b2c.tmp', PRIVATE_KEY + '\n', 0o600)
    write(root, '/etc/wireguard/wg0.conf', '[Interface]\n', 0o600)
    os.makedirs(on_host(root, '/etc/wireguard/dir.key'))
    link(root, '/etc/wireguard/dangling.key', '/nowhere')
    link(root, '/etc/wireguard/linked.key', on_host(root, '/etc/wireguard/wg0.key'))


def test_wireguard_keys(tmp_path):
    root = str(tmp_path)
    write_key_dir(root)
    owner = '%s:%s' % (USER, GROUP)
    keys = hp.wireguard_keys('/etc/wireguard', root)
    assert_no_private_key(keys)
    assert keys == {
        'wg0': {'permissions': '600:' + owner, 'public_key': PUBLIC_KEY},
        'wg1': {'permissions': '640:' + owner, 'public_key': 'invalid'},
        'wg2': {'permissions': '600:' + owner, 'public_key': PUBLIC_KEY},
        'big': {'permissions': '600:' + owner, 'public_key': 'invalid'},
        'binary': {'permissions': '600:' + owner, 'public_key': 'invalid'},
        'linked': {'permissions': '600:' + owner, 'public_key': PUBLIC_KEY},
    }
    assert hp.wireguard_keys('/etc/wireguard/', root)['wg0']['public_key'] == PUBLIC_KEY
    assert hp.wireguard_keys('/etc/absent', root) == {}


# ---------------------------------------------------------------------------------------------
# The throw-away link
# ---------------------------------------------------------------------------------------------

class FakeModule(object):
    """Records the commands run; `ip link add` succeeds when the kernel knows the link type."""

    def __init__(self, link_types=('wireguard',), ip='/usr/sbin/ip', delete_rc=0):
        self.link_types = link_types
        self.ip = ip
        self.delete_rc = delete_rc
        self.commands = []
        self.warnings = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return self.ip if name == 'ip' else None

    def run_command(self, args, **kwargs):
        self.commands.append(' '.join(args))
        if args[1:3] == ['link', 'add']:
            if args[-1] in self.link_types:
                return 0, '', ''
            return 2, '', 'Error: Unknown device type.\n'
        return self.delete_rc, '', 'Cannot find device "owgprobe0"\n' if self.delete_rc else ''

    def warn(self, message):
        self.warnings.append(message)


def test_link_added_and_deleted(tmp_path):
    module = FakeModule()
    assert hp.can_create_link(module, 'wireguard', 'owgprobe0', str(tmp_path)) is True
    assert module.commands == ['/usr/sbin/ip link add dev owgprobe0 type wireguard', '/usr/sbin/ip link delete dev owgprobe0']
    assert module.warnings == []


def test_link_type_unknown_to_the_kernel(tmp_path):
    module = FakeModule(link_types=())
    assert hp.can_create_link(module, 'wireguard', 'owgprobe0', str(tmp_path)) is False
    assert module.commands == ['/usr/sbin/ip link add dev owgprobe0 type wireguard']


def test_link_left_over_is_deleted_first(tmp_path):
    os.makedirs(on_host(tmp_path, '/sys/class/net'))
    link(tmp_path, '/sys/class/net/owgprobe0', '../../devices/virtual/net/owgprobe0')
    module = FakeModule()
    assert hp.can_create_link(module, 'wireguard', 'owgprobe0', str(tmp_path)) is True
    assert module.commands == ['/usr/sbin/ip link delete dev owgprobe0', '/usr/sbin/ip link add dev owgprobe0 type wireguard',
                               '/usr/sbin/ip link delete dev owgprobe0']


def test_no_ip_command(tmp_path):
    module = FakeModule(ip=None)
    assert hp.can_create_link(module, 'wireguard', 'owgprobe0', str(tmp_path)) is False
    assert module.commands == []


def test_link_that_cannot_be_deleted_is_reported(tmp_path):
    module = FakeModule(delete_rc=1)
    assert hp.can_create_link(module, 'wireguard', 'owgprobe0', str(tmp_path)) is True
    assert module.warnings == ['could not delete the test link owgprobe0: Cannot find device "owgprobe0"']


# ---------------------------------------------------------------------------------------------
# The whole read
# ---------------------------------------------------------------------------------------------

def test_probe_host_reads_only_what_is_asked(tmp_path):
    root = str(tmp_path)
    write(root, '/etc/os-release', DEBIAN_OS_RELEASE)
    write_key_dir(root)
    assert hp.probe_host({}, '/usr/bin', root) == dict(os_family='Debian', os_id='debian', os_version_id='12',
                                                       os_version_codename='bookworm')
    only_keys = hp.probe_host(dict(commands=None, wireguard_key_dir='/etc/wireguard'), '/usr/bin', root)
    assert sorted(only_keys) == ['os_family', 'os_id', 'os_version_codename', 'os_version_id', 'wireguard_keys']
    assert_no_private_key(only_keys)


def test_probe_host_with_every_option(tmp_path):
    root = str(tmp_path)
    write(root, '/etc/os-release', ROCKY)
    write(root, '/usr/bin/wg', '', 0o755)
    write(root, '/etc/wireguard/wg0.psk', 'x', 0o600)
    write(root, '/proc/sys/net/ipv4/ip_forward', '0\n')
    link(root, '/etc/systemd/system/multi-user.target.wants/overlaynet-wireguard@wg0.service', '/nowhere')
    result = hp.probe_host(dict(
        commands=['wg', 'nft'],
        unit_templates=['overlaynet-wireguard'],
        files=['/etc/wireguard/wg0.psk', '/etc/absent'],
        globs=['/etc/wireguard/*.psk'],
        sysctls=['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'],
        wireguard_key_dir='/etc/wireguard',
    ), '/usr/bin', root)
    assert result == dict(
        os_family='RedHat',
        os_id='rocky',
        os_version_id='9.4',
        os_version_codename=None,
        missing_commands=['nft'],
        enabled_instances={'overlaynet-wireguard': ['wg0']},
        files={
            '/etc/wireguard/wg0.psk': dict(exists=True, mode='0600', owner=USER, group=GROUP, sha256=get_hash('x', 'sha256')),
            '/etc/absent': dict(exists=False, mode=None, owner=None, group=None, sha256=None),
        },
        globbed={'/etc/wireguard/*.psk': ['/etc/wireguard/wg0.psk']},
        sysctls={'net.ipv4.ip_forward': '0', 'net.ipv6.conf.all.forwarding': None},
        sysctls_writable={'net.ipv4.ip_forward': True, 'net.ipv6.conf.all.forwarding': False},
        wireguard_keys={},
    )


def test_probe_host_refuses_a_bad_sysctl_key(tmp_path):
    with pytest.raises(ValueError, match="'net..ipv4' is not a sysctl key"):
        hp.probe_host(dict(sysctls=['net.ipv4.ip_forward', 'net..ipv4']), '/usr/bin', str(tmp_path))


def test_json_files_are_read_back_and_anything_else_is_none(tmp_path):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, 'var/lib/overlaynet/peers'))
    with open(os.path.join(root, 'var/lib/overlaynet/peers/wireguard.json'), 'w') as handle:
        handle.write('{"system": "wireguard", "peers": [{"peer": "b"}]}\n')
    with open(os.path.join(root, 'var/lib/overlaynet/peers/broken.json'), 'w') as handle:
        handle.write('{"system": ')
    assert hp.read_json_file('/var/lib/overlaynet/peers/wireguard.json', root) == {'system': 'wireguard', 'peers': [{'peer': 'b'}]}
    assert hp.read_json_file('/var/lib/overlaynet/peers/broken.json', root) is None
    assert hp.read_json_file('/var/lib/overlaynet/peers/missing.json', root) is None
    result = hp.probe_host({'json_files': ['/var/lib/overlaynet/peers/wireguard.json']}, '/usr/bin', root)
    assert result['json_files'] == {'/var/lib/overlaynet/peers/wireguard.json': {'system': 'wireguard', 'peers': [{'peer': 'b'}]}}


def test_a_json_file_larger_than_the_limit_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(hp, 'MAX_JSON_FILE_SIZE', 16)
    (tmp_path / 'big.json').write_text('{"peers": ["%s"]}' % ('x' * 32))
    assert hp.read_json_file('/big.json', str(tmp_path)) is None


# --- X.509 keys and active units ---------------------------------------------------------------

def test_x509_keys_say_whether_the_certificate_on_the_host_holds_its_key(tmp_path):
    from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.x509_helpers import certificate_pem, ec_key, pem_of
    key = ec_key()
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / 'server.key').write_text(pem_of(key))
    (tmp_path / 'etc' / 'server.crt').write_text(certificate_pem(key.public_key()))
    (tmp_path / 'etc' / 'other.crt').write_text(certificate_pem(ec_key().public_key()))
    (tmp_path / 'etc' / 'garbage.key').write_text('not a key\n')
    options = {'x509_keys': {
        'server': {'key': '/etc/server.key', 'certificate': '/etc/server.crt'},
        'mismatch': {'key': '/etc/server.key', 'certificate': '/etc/other.crt'},
        'broken': {'key': '/etc/garbage.key', 'certificate': '/etc/server.crt'},
        'missing': {'key': '/etc/none.key', 'certificate': '/etc/none.crt'},
    }}
    result = hp.probe_host(options, '', str(tmp_path))
    keys = result['x509_keys']
    assert result['python_cryptography'] is True
    assert keys['server']['key_valid'] and keys['server']['certificate_matches_key']
    assert keys['server']['certificate_not_after'] == '2031-07-14T09:30:05Z'
    assert not keys['mismatch']['certificate_matches_key'] and keys['mismatch']['key_valid']
    assert (keys['broken']['key_valid'], keys['broken']['certificate_matches_key']) == (False, False)
    assert keys['missing'] == {'key_valid': False, 'certificate_matches_key': False, 'certificate_not_after': None,
                               'certificate_sha256': None}
    assert 'PRIVATE' not in repr(result)


def test_a_probe_without_x509_keys_does_not_import_cryptography(tmp_path):
    """It costs a host about 0.4 s of CPU: only a probe that reads keys pays it."""
    script = ("import sys; from ansible_collections.overlaynet.vpn.plugins.module_utils import _host_probe as hp; "
              "hp.probe_host({'files': ['/etc/hostname']}, '', sys.argv[1]); print('cryptography' in sys.modules)")
    result = subprocess.run([sys.executable, '-c', script, str(tmp_path)], capture_output=True, text=True, check=True,
                            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert result.stdout.strip() == 'False', result.stderr


def test_x509_keys_without_cryptography_are_unknown(tmp_path, monkeypatch):
    monkeypatch.setattr(_x509, 'HAS_CRYPTOGRAPHY', False)
    result = hp.probe_host({'x509_keys': {'server': {'key': '/k', 'certificate': '/c'}}}, '', str(tmp_path))
    assert (result['python_cryptography'], result['x509_keys']) == (False, {'server': None})


def test_active_units_from_one_systemctl_run():
    calls = []

    def run(argv):
        calls.append(argv)
        return 3, 'active\nfailed\nactive\n', ''
    units = ['a.service', 'b.service', 'c.service']
    assert hp.active_units(units, run) == ['a.service', 'c.service']
    assert calls == [['systemctl', 'is-active'] + units]
    assert hp.active_units([], run) == [] and len(calls) == 1


def test_ufw_comment_reads_the_roles_ufw_rules_from_ufws_files(tmp_path):
    from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.test__ufw import write_host
    root = write_host(tmp_path)
    result = hp.probe_host(dict(ufw_comment='overlaynet.vpn wireguard'), '/usr/bin', root)
    assert result['ufw'] == dict(installed=True, enabled=True, rules=['in/wg0', 'route/wg0', 'udp/51820'], partial_rules=[],
                                 other_rules=['tcp/22', 'udp/1194'])
    assert 'ufw' not in hp.probe_host({}, '/usr/bin', root)

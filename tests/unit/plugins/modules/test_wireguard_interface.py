# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import ipaddress
import json
import os
import shutil
import stat

import pytest

from ansible.module_utils import basic

from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_conf import parse_wg_quick
from ansible_collections.overlaynet.vpn.plugins.module_utils import _systemd_service as systemd_service
from ansible_collections.overlaynet.vpn.plugins.module_utils import _wireguard_apply as wireguard_apply
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_runtime import apply_inputs_digest, desired_interface, interface_fingerprint
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import public_key_from_private
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_files import PEER_A, PEER_B, PEER_C, PRIVATE, PSK_A, new_key
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, FakeClock, patch_exits
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import module_args as arguments_of_run
from ansible_collections.overlaynet.vpn.plugins.modules import wireguard_interface

SECRETS = (PRIVATE, PSK_A)
HANDSHAKE_A = 1767225600

CONF = '''[Interface]
Address = 10.77.0.1/24
ListenPort = 51820
PostUp = echo up

[Peer]
PublicKey = %s
AllowedIPs = 10.77.0.2/32, 192.168.10.0/24
Endpoint = 198.51.100.7:51820
PersistentKeepalive = 25

[Peer]
PublicKey = %s
AllowedIPs = 10.77.0.3/32
Endpoint = peer-b.example.net:51820
''' % (PEER_A, PEER_B)

PEER_C_SECTION = '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.77.0.4/32\n' % PEER_C

MUTATING = ('systemctl start', 'systemctl restart', 'systemctl stop', 'systemctl daemon-reload', 'systemctl disable',
            'systemctl enable', 'ip link delete', 'wg syncconf', 'wg set')

# What `wireguard-go --version` prints: Debian's package, and a build from the Go module.
PACKAGE_GO_VERSION = """wireguard-go v0.0.20220316

Userspace WireGuard daemon for linux-amd64.
Information available at https://www.wireguard.com.
Copyright (C) Jason A. Donenfeld <Jason@zx2c4.com>.
"""
BUILT_GO_VERSION = PACKAGE_GO_VERSION.replace('v0.0.20220316', 'v0.0.20250522')
UAPI_SOCKET_INODE = 40175


# ---------------------------------------------------------------------------------------------
# A small in-memory system: systemd unit running wg-quick (with the role's secret loader), ip, wg
# ---------------------------------------------------------------------------------------------

def _fake_sections(text):
    """[(section name, {lower-case key: [values]})], parsed independently of the module's parser."""
    sections = []
    for raw in text.splitlines():
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        if line.startswith('['):
            sections.append((line.strip('[]').lower(), {}))
            continue
        key, value = [part.strip() for part in line.split('=', 1)]
        sections[-1][1].setdefault(key.lower(), []).append(value)
    return sections


def _networks(values):
    return [str(ipaddress.ip_network(item.strip(), strict=False)) for value in values for item in value.split(',') if item.strip()]


class FakeSystem(object):
    def __init__(self, paths):
        self.paths = paths
        self.service_active = False
        self.link = None
        # The kind of link the unit creates at its next start, and the binary its userspace daemon runs.
        self.kind = 'wireguard'
        self.unit_binary = paths['package_go']
        self.versions = {os.path.realpath(paths['package_go']): PACKAGE_GO_VERSION,
                         os.path.realpath(paths['built_go']): BUILT_GO_VERSION}
        self.daemon = None
        self.next_pid = 900
        self.calls = []
        self.next_random_port = 40000
        self.handshakes = {PEER_A: HANDSHAKE_A}
        # Switches for failure scenarios.
        self.syncconf_drops_psk = False
        self.syncconf_result = None
        self.link_appears = True
        self.dump_fails = False

    # -- helpers -------------------------------------------------------------------------------

    def command_names(self):
        """'systemctl start', 'wg syncconf', 'ip link delete', 'ip -j addr', ... for each call."""
        names = []
        for args, _data in self.calls:
            program = os.path.basename(args[0])
            names.append(' '.join([program] + args[1:3 if program == 'ip' else 2]))
        return names

    def mutating_calls(self):
        return [name for name in self.command_names() if name in MUTATING]

    # -- the userspace daemon, as /proc shows it ---------------------------------------------------

    def start_daemon(self):
        self.next_pid += 1
        self.daemon = dict(pid=self.next_pid, exe=os.path.realpath(self.unit_binary), deleted=False)
        self.write_proc()

    def stop_daemon(self):
        self.daemon = None
        self.write_proc()

    def replace_binary(self, path, version_output):
        """Install a new file at path in place: a daemon running the old one now shows it deleted."""
        path = os.path.realpath(path)
        write(path, '#!/bin/sh\n# replaced\n')
        os.chmod(path, 0o755)
        self.versions[path] = version_output
        if self.daemon and self.daemon['exe'] == path:
            self.daemon['deleted'] = True
            self.write_proc()

    def write_proc(self):
        root = self.paths['proc']
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(os.path.join(root, 'net'))
        os.makedirs(os.path.join(root, '1', 'fd'))
        os.symlink('/usr/lib/systemd/systemd', os.path.join(root, '1', 'exe'))
        os.symlink('socket:[18734]', os.path.join(root, '1', 'fd', '3'))
        table = ['Num       RefCount Protocol Flags    Type St Inode Path',
                 '0000000000000000: 00000002 00000000 00010000 0001 01 18734 /run/systemd/private',
                 '0000000000000000: 00000003 00000000 00000000 0001 03 22017']
        if self.daemon is not None:
            table.append('0000000000000000: 00000002 00000000 00010000 0001 01 %d /var/run/wireguard/wg0.sock' % UAPI_SOCKET_INODE)
            pid_dir = os.path.join(root, str(self.daemon['pid']))
            os.makedirs(os.path.join(pid_dir, 'fd'))
            os.symlink(self.daemon['exe'] + (' (deleted)' if self.daemon['deleted'] else ''), os.path.join(pid_dir, 'exe'))
            for number, target in enumerate(['/dev/null', '/dev/net/tun', 'socket:[%d]' % UAPI_SOCKET_INODE]):
                os.symlink(target, os.path.join(pid_dir, 'fd', str(number)))
        with open(os.path.join(root, 'net', 'unix'), 'w') as output:
            output.write('\n'.join(table) + '\n')

    def random_port(self):
        self.next_random_port += 1
        return self.next_random_port

    def resolve(self, endpoint):
        host, port = endpoint.rsplit(':', 1)
        try:
            ipaddress.ip_address(host.strip('[]'))
            return endpoint
        except ValueError:
            return '192.0.2.99:%s' % port

    def wg_quick_up(self):
        if self.link is not None:
            return 1, '', "wg-quick: `wg0' already exists\n"
        if not self.link_appears:
            return 0, '', ''
        sections = _fake_sections(open(self.paths['conf']).read())
        interface = [values for name, values in sections if name == 'interface'][0]
        addresses = []
        for value in interface.get('address', []):
            addresses.extend(item.strip() for item in value.split(','))
        peers = {}
        for name, values in sections:
            if name != 'peer':
                continue
            peers[values['publickey'][0]] = {
                'psk': None,
                'endpoint': self.resolve(values['endpoint'][0]) if 'endpoint' in values else None,
                'allowed_ips': _networks(values.get('allowedips', [])),
                'keepalive': int(values.get('persistentkeepalive', ['0'])[0]),
            }
        self.link = {
            'kind': self.kind,
            'addresses': [str(ipaddress.ip_interface(address)) for address in addresses],
            'mtu': int(interface['mtu'][0]) if 'mtu' in interface else 1420,
            'private_key': None,
            'listen_port': int(interface['listenport'][0]) if 'listenport' in interface else self.random_port(),
            'fwmark': 0,
            'peers': peers,
        }
        if self.kind == 'tun':
            self.start_daemon()
        # The role's ExecStartPost loader: private key, and psks of known peers only.
        self.link['private_key'] = open(self.paths['key']).read().strip()
        if os.path.exists(self.paths['psk']):
            for line in open(self.paths['psk']).read().splitlines():
                if line.strip() and not line.startswith('#'):
                    peer, psk = line.split()
                    if peer in peers:
                        peers[peer]['psk'] = psk
        return 0, '', ''

    def syncconf(self, data):
        if self.syncconf_result is not None:
            return self.syncconf_result
        sections = _fake_sections(data)
        interface = sections[0][1]
        self.link['private_key'] = interface['privatekey'][0]
        # setconf semantics: an absent ListenPort means port 0 (a new random port), absent FwMark means off.
        self.link['listen_port'] = int(interface['listenport'][0]) if 'listenport' in interface else self.random_port()
        self.link['fwmark'] = int(interface['fwmark'][0], 0) if 'fwmark' in interface else 0
        peers = {}
        for name, values in sections[1:]:
            public_key = values['publickey'][0]
            old = self.link['peers'].get(public_key, {})
            peers[public_key] = {
                'psk': None if self.syncconf_drops_psk else values.get('presharedkey', [None])[0],
                'endpoint': self.resolve(values['endpoint'][0]) if 'endpoint' in values else old.get('endpoint'),
                'allowed_ips': _networks(values.get('allowedips', [])),
                'keepalive': int(values.get('persistentkeepalive', ['0'])[0]),
            }
        self.link['peers'] = peers
        return 0, '', ''

    def dump(self):
        link = self.link
        lines = ['\t'.join([link['private_key'] or '(none)', 'PUBLIC', str(link['listen_port']),
                            '0x%x' % link['fwmark'] if link['fwmark'] else 'off'])]
        for public_key, peer in link['peers'].items():
            lines.append('\t'.join([
                public_key, peer['psk'] or '(none)', peer['endpoint'] or '(none)', ','.join(peer['allowed_ips']) or '(none)',
                str(self.handshakes.get(public_key, 0)), '0', '0', str(peer['keepalive']) if peer['keepalive'] else 'off']))
        return '\n'.join(lines) + '\n'

    # -- the fake run_command --------------------------------------------------------------------

    def run_command(self, module, args, check_rc=False, data=None, binary_data=False, **kwargs):
        assert isinstance(args, list), 'commands must be argument lists'
        self.calls.append((list(args), data))
        program, rest = os.path.basename(args[0]), args[1:]
        no_device = (1, '', 'Device "wg0" does not exist.\n')
        if program == 'systemctl':
            verb = rest[0]
            if verb == 'is-active':
                return (0, 'active\n', '') if self.service_active else (3, 'inactive\n', '')
            if verb == 'start':
                if self.service_active:
                    return 0, '', ''
                rc, out, err = self.wg_quick_up()
                self.service_active = rc == 0
                return rc, out, err
            if verb == 'daemon-reload':
                return 0, '', ''
            if verb == 'restart':
                self.link = None
                if self.daemon is not None:
                    self.stop_daemon()
                rc, out, err = self.wg_quick_up()
                self.service_active = rc == 0
                return rc, out, err
            if verb == 'is-enabled':
                return (0, 'enabled\n', '') if self.enabled else (1, 'disabled\n', '')
            if verb in ('enable', 'disable'):
                self.enabled = verb == 'enable'
                return 0, '', ''
            if verb == 'stop':
                self.link = None
                self.service_active = False
                if self.daemon is not None:
                    self.stop_daemon()
                return 0, '', ''
        if program == 'wg-quick' and rest[0] == 'strip':
            with open(rest[1]) as handle:
                text = handle.read()
            return (1, '', 'Line unrecognized: `Bogus=1\'\n') if 'Bogus' in text else (0, '', '')
        if program == 'ip':
            if rest[:4] == ['-j', 'addr', 'show', 'dev']:
                if self.link is None:
                    return no_device
                addr_info = [{'family': 'inet6' if ':' in address else 'inet', 'local': address.split('/')[0],
                              'prefixlen': int(address.split('/')[1]), 'scope': 'global'} for address in self.link['addresses']]
                return 0, json.dumps([{'ifname': 'wg0', 'mtu': self.link['mtu'], 'addr_info': addr_info}]), ''
            if rest[:3] == ['link', 'show', 'dev']:
                return (0, '7: wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420\n', '') if self.link is not None else no_device
            if rest[:5] == ['-d', '-j', 'link', 'show', 'dev']:
                if self.link is None:
                    return no_device
                return 0, json.dumps([{'ifname': 'wg0', 'linkinfo': {'info_kind': self.link['kind']}}]), ''
            if rest[:3] == ['link', 'delete', 'dev']:
                if self.link is None:
                    return 1, '', 'Cannot find device "wg0"\n'
                self.link = None
                return 0, '', ''
        if program == 'wg':
            if rest[0] == 'show' and rest[2:] == ['dump']:
                if self.link is None:
                    return 1, '', 'Unable to access interface: No such device\n'
                if self.dump_fails:
                    return 1, '', 'Unable to access interface: Protocol not supported\n'
                return 0, self.dump(), ''
            if rest[0] == 'syncconf':
                assert rest[1:] == ['wg0', '/dev/stdin'] and data is not None and not binary_data
                if self.link is None:
                    return 1, '', 'Unable to modify interface: No such device\n'
                return self.syncconf(data)
        if program == 'wireguard-go':
            assert rest == ['--version'] and os.access(args[0], os.X_OK), 'unexpected %r' % (args,)
            return 0, self.versions[args[0]], ''
        raise AssertionError('unexpected command %r' % (args,))


# ---------------------------------------------------------------------------------------------
# Running the module
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def system(tmp_path, monkeypatch):
    paths = {
        'conf': str(tmp_path / 'wg0.conf'),
        'key': str(tmp_path / 'wg0.key'),
        'psk': str(tmp_path / 'wg0.psk'),
        'state_dir': str(tmp_path / 'state' / 'wireguard'),
        'proc': str(tmp_path / 'proc'),
        'package_go': str(tmp_path / 'usr' / 'bin' / 'wireguard-go'),
        'built_go': str(tmp_path / 'usr' / 'local' / 'sbin' / 'wireguard-go'),
    }
    for binary in ('package_go', 'built_go'):
        os.makedirs(os.path.dirname(paths[binary]))
        write(paths[binary], '#!/bin/sh\n')
        os.chmod(paths[binary], 0o755)
    write(paths['conf'], CONF)
    write(paths['key'], PRIVATE + '\n')
    write(paths['psk'], '# peer public key, preshared key\n%s %s\n' % (PEER_A, PSK_A))
    fake = FakeSystem(paths)
    fake.enabled = False
    fake.write_proc()
    monkeypatch.setattr(wireguard_apply, 'PROC_ROOT', paths['proc'])
    patch_exits(monkeypatch)

    def fake_run_command(module, *args, **kwargs):
        return fake.run_command(module, *args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', fake_run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: '/usr/bin/' + name)
    clock = FakeClock()
    # The shared service driver does the bounded waiting.
    monkeypatch.setattr(systemd_service, 'time', clock)
    fake.clock = clock
    return fake


def write(path, content):
    with open(path, 'w') as output:
        output.write(content)
    os.chmod(path, 0o600)


def module_args(system, **extra):
    args = dict(name='wg0', config_path=system.paths['conf'], private_key_path=system.paths['key'],
                preshared_keys_path=system.paths['psk'], state_dir=system.paths['state_dir'])
    args.update(extra)
    return args


def run(system, check_mode=False, diff=False, **extra):
    args = module_args(system, **extra)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    system.calls = []
    with arguments_of_run(args):
        with pytest.raises((ExitJson, FailJson)) as excinfo:
            wireguard_interface.main()
    result = excinfo.value.args[0]
    result['_failed'] = isinstance(excinfo.value, FailJson)
    assert_no_secrets(result)
    return result


def run_ok(system, **kwargs):
    result = run(system, **kwargs)
    assert not result['_failed'], result['msg']
    return result


def run_fail(system, **kwargs):
    result = run(system, **kwargs)
    assert result['_failed'], result
    return result


def assert_no_secrets(result):
    dumped = json.dumps(result)
    for secret in SECRETS:
        assert secret not in dumped


def fingerprint_file(system):
    return os.path.join(system.paths['state_dir'], 'wg0.applied')


def conf_fingerprint(text):
    return interface_fingerprint(desired_interface(parse_wg_quick(text)))


def started(system):
    run_ok(system)
    assert system.service_active and system.link is not None
    return system


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------

def test_first_start(system):
    result = run_ok(system)
    assert result['changed'] is True
    assert result['action'] == 'start'
    assert result['interface'] == 'wg0'
    assert result['implementation'] == 'kernel'
    assert result['userspace_binary'] is None and result['userspace_version'] is None
    assert result['peers_added'] == sorted([PEER_A, PEER_B])
    assert result['peers_removed'] == [] and result['peers_changed'] == {}
    assert result['latest_handshakes'] == {PEER_A: HANDSHAKE_A, PEER_B: None}
    assert system.mutating_calls() == ['systemctl start', 'wg syncconf']
    assert ['/usr/bin/systemctl', 'start', 'wg-quick@wg0.service'] in [args for args, _data in system.calls]

    # The secrets went to wg on stdin, never into an argument list.
    syncconf_data = [data for args, data in system.calls if args[1] == 'syncconf']
    assert len(syncconf_data) == 1
    assert 'PrivateKey = %s' % PRIVATE in syncconf_data[0]
    assert 'PresharedKey = %s' % PSK_A in syncconf_data[0]
    for args, _data in system.calls:
        for secret in SECRETS:
            assert not any(secret in arg for arg in args)

    assert system.link['private_key'] == PRIVATE
    assert system.link['peers'][PEER_A]['psk'] == PSK_A
    assert system.link['listen_port'] == 51820

    # The applied fingerprint is recorded, 0600 in a 0700 directory.
    with open(fingerprint_file(system)) as recorded:
        assert recorded.read().strip() == conf_fingerprint(CONF)
    assert stat.S_IMODE(os.stat(fingerprint_file(system)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(system.paths['state_dir']).st_mode) == 0o700


def test_rerun_changes_nothing(system):
    started(system)
    result = run_ok(system)
    assert result['changed'] is False
    assert result['action'] == 'none'
    assert system.mutating_calls() == []
    assert result['peers_added'] == [] and result['peers_removed'] == [] and result['peers_changed'] == {}
    assert result['latest_handshakes'] == {PEER_A: HANDSHAKE_A, PEER_B: None}


def test_peer_added_is_synced_without_restart(system):
    started(system)
    port_before = system.link['listen_port']
    write(system.paths['conf'], CONF + PEER_C_SECTION)
    result = run_ok(system)
    assert result['action'] == 'sync' and result['changed'] is True
    assert result['peers_added'] == [PEER_C]
    assert system.mutating_calls() == ['wg syncconf']
    assert system.link['peers'][PEER_C]['allowed_ips'] == ['10.77.0.4/32']
    assert system.link['listen_port'] == port_before
    assert run_ok(system)['action'] == 'none'


def test_peer_removed_and_changed_are_synced(system):
    started(system)
    write(system.paths['conf'], CONF.split('\n[Peer]\nPublicKey = %s' % PEER_B)[0].replace('PersistentKeepalive = 25', 'PersistentKeepalive = 10'))
    result = run_ok(system)
    assert result['action'] == 'sync'
    assert result['peers_removed'] == [PEER_B]
    assert result['peers_changed'] == {PEER_A: ['persistent_keepalive']}
    assert sorted(system.link['peers']) == [PEER_A]
    assert system.link['peers'][PEER_A]['keepalive'] == 10


def test_preshared_key_change_is_synced_and_not_shown(system):
    started(system)
    new_psk = new_key()
    write(system.paths['psk'], '%s %s\n' % (PEER_A, new_psk))
    result = run_ok(system, diff=True)
    assert result['action'] == 'sync'
    assert result['peers_changed'] == {PEER_A: ['preshared_key']}
    assert system.link['peers'][PEER_A]['psk'] == new_psk
    assert new_psk not in json.dumps(result)


def test_listen_port_left_open_keeps_the_live_port(system):
    write(system.paths['conf'], CONF.replace('ListenPort = 51820\n', ''))
    run_ok(system)
    port = system.link['listen_port']
    write(system.paths['conf'], CONF.replace('ListenPort = 51820\n', '') + PEER_C_SECTION)
    assert run_ok(system)['action'] == 'sync'
    # wg syncconf without ListenPort would have moved the interface to a new random port.
    assert system.link['listen_port'] == port


def test_address_change_restarts(system):
    started(system)
    write(system.paths['conf'], CONF.replace('Address = 10.77.0.1/24', 'Address = 10.77.0.1/24, fd77::1/64'))
    result = run_ok(system)
    assert result['action'] == 'restart' and result['changed'] is True
    assert system.mutating_calls() == ['systemctl restart', 'wg syncconf']
    assert sorted(system.link['addresses']) == ['10.77.0.1/24', 'fd77::1/64']
    with open(fingerprint_file(system)) as recorded:
        assert recorded.read().strip() != conf_fingerprint(CONF)
    assert run_ok(system)['action'] == 'none'


def test_hook_change_restarts_through_the_fingerprint(system):
    started(system)
    write(system.paths['conf'], CONF.replace('PostUp = echo up', 'PostUp = echo up again'))
    result = run_ok(system)
    assert result['action'] == 'restart'
    assert system.mutating_calls() == ['systemctl restart', 'wg syncconf']


def test_routed_network_change_restarts(system):
    started(system)
    write(system.paths['conf'], CONF.replace('192.168.10.0/24', '192.168.10.0/24, 192.168.20.0/24'))
    assert run_ok(system)['action'] == 'restart'


def test_address_drift_without_fingerprint_restarts(system):
    started(system)
    os.remove(fingerprint_file(system))
    system.link['addresses'] = ['10.99.0.1/24']
    result = run_ok(system)
    assert result['action'] == 'restart'
    assert system.link['addresses'] == ['10.77.0.1/24']


def test_matching_interface_without_fingerprint_is_adopted(system):
    started(system)
    os.remove(fingerprint_file(system))
    result = run_ok(system)
    assert result['action'] == 'none' and result['changed'] is False
    with open(fingerprint_file(system)) as recorded:
        assert recorded.read().strip() == conf_fingerprint(CONF)


def test_force_restart(system):
    started(system)
    result = run_ok(system, force_restart=True)
    assert result['action'] == 'restart'
    assert system.mutating_calls() == ['systemctl restart', 'wg syncconf']


def test_daemon_reload_runs_first_then_the_start(system):
    result = run_ok(system, daemon_reload=True)
    assert result['action'] == 'start'
    assert system.mutating_calls() == ['systemctl daemon-reload', 'systemctl start', 'wg syncconf']


def test_daemon_reload_is_not_run_in_check_mode(system):
    run_ok(system, daemon_reload=True, check_mode=True)
    assert system.mutating_calls() == []


def test_check_mode_runs_only_observation_commands(system):
    result = run_ok(system, check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['action'] == 'start'
    assert result['peers_added'] == sorted([PEER_A, PEER_B])
    assert result['implementation'] is None
    assert result['latest_handshakes'] == {}
    assert system.mutating_calls() == []
    assert set(system.command_names()) <= {'systemctl is-active', 'ip -j addr', 'ip link show', 'ip -d -j', 'wg show'}
    assert system.link is None and not system.service_active
    assert not os.path.exists(system.paths['state_dir'])
    assert result['diff'][-1]['before'] == '(interface down)\n'
    assert 'peer %s' % PEER_A in result['diff'][-1]['after']


def test_check_mode_predicts_sync_and_restart(system):
    started(system)
    write(system.paths['conf'], CONF + PEER_C_SECTION)
    result = run_ok(system, check_mode=True)
    assert (result['action'], result['changed'], result['peers_added']) == ('sync', True, [PEER_C])
    assert system.mutating_calls() == []
    write(system.paths['conf'], CONF.replace('10.77.0.1/24', '10.77.0.1/25'))
    result = run_ok(system, check_mode=True)
    assert (result['action'], result['changed']) == ('restart', True)
    assert system.mutating_calls() == []
    assert result['latest_handshakes'] == {PEER_A: HANDSHAKE_A, PEER_B: None}


def test_diff_shows_peers_without_secrets(system):
    started(system)
    write(system.paths['conf'], CONF + PEER_C_SECTION)
    result = run_ok(system, diff=True)
    assert 'peer %s' % PEER_C not in result['diff'][-1]['before']
    assert 'peer %s\n  allowed ips: 10.77.0.4/32\n' % PEER_C in result['diff'][-1]['after']
    assert 'addresses: 10.77.0.1/24\n' in result['diff'][-1]['before']


def test_verify_failure_reports_without_secrets(system):
    system.syncconf_drops_psk = True
    result = run_fail(system)
    assert 'wg0 does not match its configuration after start' in result['msg']
    assert PEER_A in result['msg'] and 'preshared_key' in result['msg']
    for secret in SECRETS:
        assert secret not in result['msg']
    # Not recorded as applied, so the next run tries again.
    assert not os.path.exists(fingerprint_file(system))


def test_syncconf_failure_scrubs_keys_from_stderr(system):
    started(system)
    write(system.paths['conf'], CONF + PEER_C_SECTION)
    system.syncconf_result = (1, '', 'Key is not the correct length or format: `%s\'\nPeer %s psk %s\n' % (PRIVATE, PEER_C, PSK_A))
    result = run_fail(system)
    assert 'wg syncconf wg0 failed (rc 1)' in result['msg']
    assert result['msg'].count('(secret)') == 2
    assert PEER_C in result['msg']
    assert result['rc'] == 1


def test_leftover_link_is_deleted_before_start(system):
    started(system)
    system.service_active = False
    result = run_ok(system)
    assert result['action'] == 'start'
    assert system.mutating_calls() == ['ip link delete', 'systemctl start', 'wg syncconf']
    assert ['/usr/bin/ip', 'link', 'delete', 'dev', 'wg0'] in [args for args, _data in system.calls]
    assert system.service_active and system.link is not None


def test_active_unit_without_link_is_restarted(system):
    started(system)
    system.link = None
    result = run_ok(system)
    assert result['action'] == 'start'
    # systemctl start would do nothing for an active unit.
    assert system.mutating_calls() == ['systemctl restart', 'wg syncconf']
    assert system.link is not None


def test_unreadable_wireguard_state_restarts(system, monkeypatch):
    started(system)
    system.dump_fails = True
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, message: warnings.append(message))
    calls = []

    def heal(*args, **kwargs):
        calls.append(args)
        system.dump_fails = False
        return FakeSystem.wg_quick_up(system)
    monkeypatch.setattr(system, 'wg_quick_up', heal)
    result = run_ok(system)
    assert result['action'] == 'restart'
    assert len(calls) == 1
    assert warnings and 'Protocol not supported' in warnings[0]


def test_link_that_never_appears_fails_after_bounded_wait(system):
    system.link_appears = False
    result = run_fail(system)
    assert 'is not active with its link wg0 10 seconds after systemctl start' in result['msg']
    assert 'journalctl -u wg-quick@wg0.service' in result['msg']
    assert system.clock.sleeps and set(system.clock.sleeps) == {0.2}
    assert 45 <= len(system.clock.sleeps) <= 55
    assert system.mutating_calls() == ['systemctl start']


def test_userspace_implementation(system):
    system.kind = 'tun'
    result = run_ok(system)
    assert result['implementation'] == 'userspace'
    assert result['userspace_binary'] == os.path.realpath(system.paths['package_go'])
    assert result['userspace_version'] == '0.0.20220316'
    assert [os.path.realpath(system.paths['package_go']), '--version'] in [args for args, _data in system.calls]


# ---------------------------------------------------------------------------------------------
# userspace_binary
# ---------------------------------------------------------------------------------------------

def started_userspace(system, binary):
    """The unit runs wg0 in userspace under system.paths[binary]."""
    system.kind = 'tun'
    system.unit_binary = system.paths[binary]
    result = run_ok(system, userspace_binary=system.paths[binary])
    assert result['implementation'] == 'userspace'
    assert system.daemon['exe'] == os.path.realpath(system.paths[binary])
    return result


def test_userspace_daemon_of_the_wanted_binary_is_left_alone(system):
    result = started_userspace(system, 'built_go')
    assert result['action'] == 'start'
    assert result['userspace_binary'] == os.path.realpath(system.paths['built_go'])
    assert result['userspace_version'] == '0.0.20250522'
    pid = system.daemon['pid']
    result = run_ok(system, userspace_binary=system.paths['built_go'])
    assert (result['action'], result['changed']) == ('none', False)
    assert system.mutating_calls() == []
    assert (result['userspace_binary'], result['userspace_version']) == (os.path.realpath(system.paths['built_go']), '0.0.20250522')
    # A symbolic link to the running binary names the same file.
    link = os.path.join(os.path.dirname(system.paths['built_go']), 'wg-userspace')
    os.symlink(system.paths['built_go'], link)
    assert run_ok(system, userspace_binary=link)['action'] == 'none'
    assert system.daemon['pid'] == pid


def test_userspace_daemon_of_another_binary_is_restarted(system):
    started_userspace(system, 'package_go')
    package_go, built_go = os.path.realpath(system.paths['package_go']), os.path.realpath(system.paths['built_go'])
    pid = system.daemon['pid']
    system.unit_binary = system.paths['built_go']

    result = run_ok(system, userspace_binary=system.paths['built_go'], check_mode=True, diff=True)
    assert (result['action'], result['changed']) == ('restart', True)
    assert system.mutating_calls() == []
    assert system.daemon == dict(pid=pid, exe=package_go, deleted=False)
    # Check mode reports what runs now.
    assert (result['userspace_binary'], result['userspace_version']) == (package_go, '0.0.20220316')
    assert 'userspace binary: %s\n' % package_go in result['diff'][-1]['before']
    assert 'userspace binary: %s\n' % built_go in result['diff'][-1]['after']

    result = run_ok(system, userspace_binary=system.paths['built_go'])
    assert (result['action'], result['changed']) == ('restart', True)
    assert system.mutating_calls() == ['systemctl restart', 'wg syncconf']
    assert system.daemon['exe'] == built_go and system.daemon['pid'] != pid
    assert (result['implementation'], result['userspace_binary'], result['userspace_version']) == ('userspace', built_go, '0.0.20250522')
    assert run_ok(system, userspace_binary=system.paths['built_go'])['action'] == 'none'


def test_binary_replaced_on_disk_restarts(system):
    started_userspace(system, 'built_go')
    built_go = os.path.realpath(system.paths['built_go'])
    system.replace_binary(built_go, BUILT_GO_VERSION.replace('0.0.20250522', '0.0.20250901'))

    result = run_ok(system, userspace_binary=system.paths['built_go'], check_mode=True, diff=True)
    assert (result['action'], result['changed']) == ('restart', True)
    assert system.mutating_calls() == []
    # The file on disk is not what runs, so its version is not asked for.
    assert (result['userspace_binary'], result['userspace_version']) == (built_go, None)
    assert 'wireguard-go --version' not in system.command_names()
    assert 'userspace binary: %s (replaced on disk)\n' % built_go in result['diff'][-1]['before']

    result = run_ok(system, userspace_binary=system.paths['built_go'])
    assert result['action'] == 'restart'
    assert system.mutating_calls() == ['systemctl restart', 'wg syncconf']
    assert system.daemon['deleted'] is False
    assert (result['userspace_binary'], result['userspace_version']) == (built_go, '0.0.20250901')
    assert run_ok(system, userspace_binary=system.paths['built_go'])['action'] == 'none'


def test_kernel_link_with_userspace_binary_restarts(system):
    started(system)
    # The unit now starts the interface in userspace (the role changed it).
    system.kind = 'tun'
    system.unit_binary = system.paths['built_go']
    result = run_ok(system, userspace_binary=system.paths['built_go'], check_mode=True, diff=True)
    assert (result['action'], result['implementation'], result['userspace_binary']) == ('restart', 'kernel', None)
    assert system.mutating_calls() == []
    assert 'userspace binary: (none, kernel link)\n' in result['diff'][-1]['before']

    result = run_ok(system, userspace_binary=system.paths['built_go'])
    assert result['action'] == 'restart'
    assert system.mutating_calls() == ['systemctl restart', 'wg syncconf']
    assert (result['implementation'], result['userspace_binary']) == ('userspace', os.path.realpath(system.paths['built_go']))


def test_without_userspace_binary_the_daemon_is_only_reported(system):
    started_userspace(system, 'package_go')
    package_go = os.path.realpath(system.paths['package_go'])
    system.unit_binary = system.paths['built_go']
    system.replace_binary(package_go, PACKAGE_GO_VERSION)
    result = run_ok(system, diff=True)
    assert (result['action'], result['changed']) == ('none', False)
    assert system.mutating_calls() == []
    assert (result['userspace_binary'], result['userspace_version']) == (package_go, None)
    assert 'userspace binary' not in result['diff'][-1]['before']


def test_restart_that_keeps_another_binary_fails(system):
    started_userspace(system, 'package_go')
    # The unit still starts the package's binary.
    result = run_fail(system, userspace_binary=system.paths['built_go'])
    assert 'wg0 does not match its configuration after restart' in result['msg']
    assert '"userspace_binary": "its daemon runs %s, not %s"' % (os.path.realpath(system.paths['package_go']), system.paths['built_go']) in result['msg']
    assert system.mutating_calls() == ['systemctl restart', 'wg syncconf']


def test_start_as_kernel_link_with_userspace_binary_fails(system):
    result = run_fail(system, userspace_binary=system.paths['built_go'])
    assert 'wg0 does not match its configuration after start' in result['msg']
    assert 'it is a kernel WireGuard link, not a userspace one run by %s' % system.paths['built_go'] in result['msg']


def test_userspace_daemon_not_found_warns_without_restart(system, monkeypatch):
    started_userspace(system, 'built_go')
    system.stop_daemon()
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, message: warnings.append(message))
    result = run_ok(system, userspace_binary=system.paths['built_go'])
    assert (result['action'], result['implementation'], result['userspace_binary']) == ('none', 'userspace', None)
    assert system.mutating_calls() == []
    assert warnings == ['cannot find the userspace daemon of wg0 (no process listens on /var/run/wireguard/wg0.sock); '
                        'not checking that it runs %s' % system.paths['built_go']]


def test_version_is_not_asked_of_a_binary_that_cannot_run(system):
    started_userspace(system, 'built_go')
    os.chmod(system.paths['built_go'], 0o644)
    result = run_ok(system, userspace_binary=system.paths['built_go'])
    assert (result['action'], result['userspace_binary'], result['userspace_version']) == ('none', os.path.realpath(system.paths['built_go']), None)
    assert 'wireguard-go --version' not in system.command_names()


def test_stopped_userspace_interface(system):
    started_userspace(system, 'built_go')
    result = run_ok(system, state='stopped', check_mode=True)
    assert (result['action'], result['userspace_binary']) == ('stop', os.path.realpath(system.paths['built_go']))
    assert result['userspace_version'] == '0.0.20250522'
    result = run_ok(system, state='stopped')
    assert (result['action'], result['implementation'], result['userspace_binary'], result['userspace_version']) == ('stop', None, None, None)
    assert system.daemon is None


def test_hostname_endpoint_that_roamed_is_not_a_change(system):
    started(system)
    system.link['peers'][PEER_B]['endpoint'] = '203.0.113.50:61000'
    assert run_ok(system)['action'] == 'none'
    system.link['peers'][PEER_A]['endpoint'] = '203.0.113.51:61000'
    result = run_ok(system)
    assert result['action'] == 'sync' and result['peers_changed'] == {PEER_A: ['endpoint']}


def test_stopped(system):
    started(system)
    result = run_ok(system, state='stopped')
    assert (result['action'], result['changed']) == ('stop', True)
    assert system.mutating_calls() == ['systemctl stop']
    assert not system.service_active
    assert not os.path.exists(fingerprint_file(system))
    assert result['implementation'] is None
    result = run_ok(system, state='stopped')
    assert (result['action'], result['changed']) == ('none', False)
    assert system.mutating_calls() == []


def test_stopped_check_mode(system):
    started(system)
    result = run_ok(system, state='stopped', check_mode=True)
    assert (result['action'], result['changed']) == ('stop', True)
    assert system.mutating_calls() == []
    assert system.service_active and os.path.exists(fingerprint_file(system))


def test_defaults_name_the_standard_paths(system):
    args = dict(name='wg0')
    with arguments_of_run(args):
        with pytest.raises(FailJson) as excinfo:
            wireguard_interface.main()
    # No /etc/wireguard/wg0.conf here; the error names the default path.
    assert '/etc/wireguard/wg0.conf' in excinfo.value.args[0]['msg']


def test_invalid_private_key_file_names_the_file_without_echo(system):
    secret_like = PRIVATE[:-4] + '=\n'
    write(system.paths['key'], secret_like)
    result = run_fail(system)
    assert 'invalid private key file %s' % system.paths['key'] in result['msg']
    assert PRIVATE[:-4] not in result['msg']
    assert system.calls == []


def test_invalid_psk_file_names_the_file_without_echo(system):
    psk = new_key()
    write(system.paths['psk'], '%s %s extra\n' % (PEER_A, psk))
    result = run_fail(system)
    assert 'invalid preshared key file %s: line 1' % system.paths['psk'] in result['msg']
    assert psk not in result['msg']


def test_missing_psk_file_means_no_preshared_keys(system):
    os.remove(system.paths['psk'])
    run_ok(system)
    assert system.link['peers'][PEER_A]['psk'] is None
    assert run_ok(system)['action'] == 'none'


def test_secret_in_conf_is_refused_without_echo(system):
    write(system.paths['conf'], CONF.replace('ListenPort = 51820', 'ListenPort = 51820\nPrivateKey = %s' % PRIVATE))
    result = run_fail(system)
    assert 'invalid configuration file %s: line 4: PrivateKey does not belong' % system.paths['conf'] in result['msg']
    assert system.calls == []


def test_invalid_conf_names_the_file(system):
    write(system.paths['conf'], CONF.replace('ListenPort = 51820', 'ListenPort 51820'))
    result = run_fail(system)
    assert result['msg'] == 'invalid configuration file %s: line 3: expected "Key = Value"' % system.paths['conf']


def test_invalid_interface_name(system):
    result = run_fail(system, name='wg0/../x')
    assert result['msg'].startswith('name: ')
    assert system.calls == []


def test_config_parameter_writes_the_file_and_shows_its_diff(system):
    started(system)
    new_conf = CONF.replace('10.77.0.1/24', '10.77.0.9/24')
    result = run_ok(system, config=new_conf, diff=True)
    assert result['changed'] is True and result['action'] == 'restart'
    with open(system.paths['conf']) as handle:
        assert handle.read() == new_conf
    assert oct(os.stat(system.paths['conf']).st_mode & 0o777) == '0o600'
    file_diff = result['diff'][0]
    assert file_diff['before_header'] == system.paths['conf']
    assert '10.77.0.1/24' in file_diff['before'] and '10.77.0.9/24' in file_diff['after']
    assert run_ok(system, config=new_conf)['changed'] is False


def test_config_parameter_in_check_mode_previews_without_writing(system):
    started(system)
    new_conf = CONF.replace('10.77.0.1/24', '10.77.0.9/24')
    result = run_ok(system, config=new_conf, check_mode=True, diff=True)
    assert result['changed'] is True and result['action'] == 'restart'
    with open(system.paths['conf']) as handle:
        assert handle.read() == CONF
    assert system.mutating_calls() == []


def test_config_refused_by_wg_quick_is_not_written(system):
    started(system)
    result = run_fail(system, config=CONF + '\n[Interface]\nBogus=1\n')
    assert 'refuses' in result['msg'] or 'invalid' in result['msg']
    with open(system.paths['conf']) as handle:
        assert handle.read() == CONF


def test_check_mode_before_the_key_exists_predicts_a_start(system):
    os.remove(system.paths['key'])
    os.remove(system.paths['conf'])
    result = run_ok(system, config=CONF, check_mode=True, diff=True)
    assert result['changed'] is True and result['action'] == 'start'
    assert result['diff'][0]['before'] == '' and result['diff'][0]['after'] == CONF
    assert not os.path.exists(system.paths['conf'])
    assert (result['implementation'], result['userspace_binary'], result['userspace_version']) == (None, None, None)


def test_enabled_parameter(system):
    started(system)
    assert run_ok(system, enabled=True, check_mode=True)['changed'] is True
    assert system.enabled is False
    assert run_ok(system, enabled=True)['changed'] is True
    assert system.enabled is True
    assert run_ok(system, enabled=True)['changed'] is False


def test_absent_stops_disables_and_removes_the_files(system):
    started(system)
    run_ok(system, enabled=True)
    result = run_ok(system, state='absent', diff=True)
    assert (result['action'], result['changed']) == ('remove', True)
    assert system.mutating_calls() == ['systemctl stop', 'systemctl disable']
    assert not system.service_active and not system.enabled and system.link is None
    for path in (system.paths['conf'], system.paths['key'], system.paths['psk'], fingerprint_file(system)):
        assert not os.path.exists(path)
        assert path in result['removed_files']
    assert PRIVATE not in json.dumps(result) and PSK_A not in json.dumps(result)
    assert result['diff']['after'] == ''
    result = run_ok(system, state='absent')
    assert (result['action'], result['changed'], result['removed_files']) == ('none', False, [])
    assert system.mutating_calls() == []


def test_absent_check_mode_changes_nothing(system):
    started(system)
    result = run_ok(system, state='absent', check_mode=True)
    assert (result['action'], result['changed']) == ('remove', True)
    assert system.mutating_calls() == []
    assert system.service_active and os.path.exists(system.paths['key'])


def test_absent_deletes_a_link_left_without_its_unit(system):
    started(system)
    system.service_active = False
    result = run_ok(system, state='absent')
    assert result['changed'] is True
    assert system.mutating_calls() == ['ip link delete']
    assert system.link is None


# ---------------------------------------------------------------------------------------------
# The converged record: what the probe compares so that the role can skip the apply step
# ---------------------------------------------------------------------------------------------

class ProbeModule(object):
    """What LiveInterface needs of an AnsibleModule, running commands on the fake system."""

    def __init__(self, system):
        self.system = system

    def get_bin_path(self, name, required=False):
        return '/usr/bin/' + name

    def run_command(self, args, data=None):
        return self.system.run_command(self, args, data=data)


def converged_record(system):
    with open(os.path.join(system.paths['state_dir'], 'wg0.converged')) as handle:
        return json.load(handle)


def live_digest(system):
    return wireguard_apply.LiveInterface(ProbeModule(system), 'wg0', 'wg-quick@wg0.service', ProbeModule(system).run_command).digest()


def test_the_record_matches_what_the_probe_reads_until_something_moves(system):
    started(system)
    record = converged_record(system)
    assert stat.S_IMODE(os.stat(os.path.join(system.paths['state_dir'], 'wg0.converged')).st_mode) == 0o600
    assert record['live'] == live_digest(system)
    assert record['report'] == {'implementation': 'kernel', 'userspace_binary': None, 'userspace_version': None}
    with open(system.paths['conf'], 'rb') as handle:
        config_sha = hashlib.sha256(handle.read()).hexdigest()
    with open(system.paths['psk'], 'rb') as handle:
        psk_sha = hashlib.sha256(handle.read()).hexdigest()
    assert record['inputs'] == apply_inputs_digest(config_sha, public_key_from_private(PRIVATE), psk_sha, None, None, 'wg-quick@wg0.service')
    # A rerun that changes nothing records the same.
    run_ok(system)
    assert converged_record(system) == record
    # Drift: another live private key is another live state.
    system.link['private_key'] = new_key()
    assert live_digest(system) != record['live']
    # Counters and handshakes are not part of it.
    run_ok(system)
    record = converged_record(system)
    system.handshakes[PEER_A] = HANDSHAKE_A + 120
    assert live_digest(system) == record['live']


def test_a_stopped_or_removed_interface_leaves_no_record(system):
    started(system)
    run_ok(system, state='stopped')
    assert not os.path.exists(os.path.join(system.paths['state_dir'], 'wg0.converged'))
    started(system)
    run_ok(system, state='absent')
    assert not os.path.exists(os.path.join(system.paths['state_dir'], 'wg0.converged'))


def test_check_mode_writes_no_record(system):
    run_ok(system, check_mode=True)
    assert not os.path.exists(os.path.join(system.paths['state_dir'], 'wg0.converged'))

# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The apply step of overlaynet.vpn.wireguard_interface: bring a live WireGuard interface to its
# wg-quick file and key files. The unit is driven through the shared SystemdService; what is
# WireGuard's own is here: the link, `wg show` / `wg syncconf`, and the userspace daemon. The
# decisions (what differs, which action) are the pure functions of _wireguard_runtime.

import hashlib
import json
import os

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import addresses_differ, interface_name_problem
from ansible_collections.overlaynet.vpn.plugins.module_utils._secrets import scrub_secrets
from ansible_collections.overlaynet.vpn.plugins.module_utils._systemd_service import WAIT_TIMEOUT_SECONDS, SystemdService, removal_diff
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_conf import parse_private_key_file, parse_psk_file, parse_wg_quick
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_runtime import (
    apply_inputs_digest,
    assemble_runtime_config,
    daemon_exe_text,
    desired_interface,
    desired_runtime,
    empty_runtime,
    has_runtime_differences,
    interface_fingerprint,
    link_implementation,
    live_state_digest,
    parse_ip_addr_json,
    parse_wg_dump,
    plan_action,
    render_diff,
    runtime_differences,
    runtime_for_sync,
    runtime_secrets,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_userspace import (
    find_userspace_daemon,
    parse_version_output,
    uapi_socket_paths,
    userspace_binary_difference,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import ensure_parent_directory, read_text_or_none, write_private_file
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import KEY_SHAPED, public_key_from_private

MAX_INPUT_FILE_SIZE = 1024 * 1024
# Where the userspace daemon of an interface is looked for; tests point it at a fake tree.
PROC_ROOT = '/proc'


class LiveInterface(object):
    """Reads one live WireGuard interface. The apply step and the probe read it the same way,
    so the digest the probe computes equals the one the apply step recorded when nothing moved."""

    def __init__(self, module, name, unit, run):
        self.module = module
        self.name = name
        self.unit = unit
        self.run = run
        self.wg = module.get_bin_path('wg')
        self.ip = module.get_bin_path('ip')
        self.systemctl = module.get_bin_path('systemctl')

    def active(self):
        return self.run([self.systemctl, 'is-active', self.unit])[0] == 0

    def link_exists(self):
        return self.run([self.ip, 'link', 'show', 'dev', self.name])[0] == 0

    def addresses(self):
        """{'addresses', 'mtu'}, or None when the link does not exist. Raises ValueError on output it cannot read."""
        rc, stdout, _stderr = self.run([self.ip, '-j', 'addr', 'show', 'dev', self.name])
        if rc != 0:
            return None
        return parse_ip_addr_json(stdout)

    def runtime(self):
        """(runtime, error text): runtime None with the stderr (not scrubbed) when `wg show` fails."""
        rc, stdout, stderr = self.run([self.wg, 'show', self.name, 'dump'])
        if rc != 0:
            return None, stderr or 'rc %d' % rc
        try:
            return parse_wg_dump(stdout), None
        except ValueError as exc:
            return None, to_native(exc)

    def implementation(self):
        rc, stdout, _stderr = self.run([self.ip, '-d', '-j', 'link', 'show', 'dev', self.name])
        if rc != 0:
            return None
        return link_implementation(stdout)

    def daemon(self):
        """{'pid', 'exe', 'deleted'} of the daemon serving the interface's UAPI socket, or None."""
        return find_userspace_daemon(self.name, proc_root=PROC_ROOT)

    def digest(self):
        """live_state_digest of the interface now, or None without the tools to read it."""
        if not (self.wg and self.ip and self.systemctl):
            return None
        try:
            link = self.addresses()
        except ValueError:
            return None
        runtime = self.runtime()[0] if link is not None else None
        implementation = self.implementation() if link is not None else None
        daemon = self.daemon() if implementation == 'userspace' else None
        return live_state_digest(runtime, link, implementation, daemon_exe_text(daemon), self.active())


class InterfaceManager(object):
    """Runs the commands for one interface; every message it builds is scrubbed of keys.

    The unit itself (commands, enable, daemon-reload, the applied-state fingerprint, checked
    config writes, file removal) is driven by the shared SystemdService; what is WireGuard's
    own (the link, wg show/syncconf, the userspace daemon) is here."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.name = params['name']
        self.config_path = params['config_path'] or '/etc/wireguard/%s.conf' % self.name
        self.private_key_path = params['private_key_path'] or '/etc/wireguard/%s.key' % self.name
        self.preshared_keys_path = params['preshared_keys_path'] or '/etc/wireguard/%s.psk' % self.name
        self.unit = params['service'] or 'wg-quick@%s.service' % self.name
        self.fingerprint_path = os.path.join(params['state_dir'], '%s.applied' % self.name)
        self.converged_path = os.path.join(params['state_dir'], '%s.converged' % self.name)
        self.service = SystemdService(module, self.unit, fingerprint_path=self.fingerprint_path, scrub=self.scrub)
        self.wg = module.get_bin_path('wg', required=True)
        self.ip = module.get_bin_path('ip', required=True)
        self.live = LiveInterface(module, self.name, self.unit, self.run)
        # Every key seen so far (from the files and from `wg show dump`), to scrub tool output.
        self.secrets = []
        self.public_keys = []

    # -- messages and commands ---------------------------------------------------------------

    def scrub(self, text):
        return scrub_secrets(text, self.secrets, self.public_keys, KEY_SHAPED)

    def clean(self, text):
        return self.service.clean(text)

    def fail(self, msg, **kwargs):
        self.service.fail(msg, interface=self.name, **kwargs)

    def run(self, args, data=None):
        return self.service.run(args, data=data)

    def run_or_fail(self, args, what):
        rc, stdout, stderr = self.run(args)
        if rc != 0:
            self.fail('%s failed (rc %d): %s' % (what, rc, self.clean(stderr) or '(no error output)'), rc=rc)
        return stdout

    def systemctl_or_fail(self, verb):
        self.run_or_fail([self.service.systemctl, verb, self.unit], 'systemctl %s %s' % (verb, self.unit))

    # -- files ---------------------------------------------------------------------------------

    def read_text(self, path, what, missing_ok=False):
        if missing_ok and not os.path.exists(path):
            return None
        try:
            with open(path, 'rb') as input_file:
                content = input_file.read(MAX_INPUT_FILE_SIZE + 1)
        except (IOError, OSError) as exc:
            self.fail('cannot read %s %s: %s' % (what, path, to_native(exc.strerror or exc.__class__.__name__)))
        if len(content) > MAX_INPUT_FILE_SIZE:
            self.fail('%s %s is larger than %d bytes' % (what, path, MAX_INPUT_FILE_SIZE))
        try:
            return content.decode('utf-8')
        except UnicodeDecodeError:
            self.fail('%s %s is not UTF-8 text' % (what, path))

    def load_desired(self):
        conf_text = self.module.params['config']
        if conf_text is None:
            conf_text = self.read_text(self.config_path, 'configuration file')
        self.config_text = conf_text
        try:
            conf = parse_wg_quick(conf_text)
        except ValueError as exc:
            self.fail('invalid configuration file %s: %s' % (self.config_path, to_native(exc)))
        key_text = self.read_text(self.private_key_path, 'private key file', missing_ok=self.module.check_mode)
        if key_text is None:
            return None, None
        try:
            private_key = parse_private_key_file(key_text)
        except ValueError as exc:
            self.fail('invalid private key file %s: %s' % (self.private_key_path, to_native(exc)))
        self.secrets.append(private_key)
        self.private_key = private_key
        psk_text = self.read_text(self.preshared_keys_path, 'preshared key file', missing_ok=True)
        self.psk_text = psk_text
        try:
            psks = parse_psk_file(psk_text or '')
        except ValueError as exc:
            self.fail('invalid preshared key file %s: %s' % (self.preshared_keys_path, to_native(exc)))
        self.secrets.extend(psks.values())
        self.public_keys.extend(psks)
        try:
            runtime = desired_runtime(conf, private_key, psks)
            interface = desired_interface(conf)
        except ValueError as exc:
            self.fail('invalid configuration file %s: %s' % (self.config_path, to_native(exc)))
        self.public_keys.extend(runtime['peers'])
        return runtime, interface

    # -- the config file and the unit ----------------------------------------------------------------

    def sync_config_file(self):
        """Write the config parameter to config_path when it differs, after wg-quick's own
        parser accepted it; returns a diff dict or None."""
        desired = self.module.params['config']
        if desired is None:
            return None
        return self.service.sync_file(self.config_path, desired, check=self.wg_quick_problem)

    def wg_quick_problem(self, path):
        """What `wg-quick strip` says against a candidate file, None when it accepts it."""
        wg_quick = self.module.get_bin_path('wg-quick', required=True)
        rc, _stdout, stderr = self.run([wg_quick, 'strip', path])
        if rc != 0:
            return 'wg-quick refuses the configuration of %s: %s' % (self.name, self.clean(stderr) or 'rc %d' % rc)
        return None

    def daemon_reload(self):
        if self.module.params['daemon_reload']:
            self.service.daemon_reload()

    def unit_enabled(self):
        return self.service.is_enabled()

    def ensure_enabled(self):
        """Apply the enabled parameter; returns True when the unit's boot setting changed."""
        return self.service.ensure_enabled(self.module.params['enabled'])

    def read_applied_fingerprint(self):
        return self.service.read_fingerprint()

    def write_applied_fingerprint(self, fingerprint):
        self.service.write_fingerprint(fingerprint)

    def inputs_digest(self):
        """apply_inputs_digest of what this run was given (after load_desired)."""
        binary = self.module.params['userspace_binary']
        return apply_inputs_digest(
            _sha256_text(self.config_text),
            public_key_from_private(self.private_key),
            _sha256_text(self.psk_text) if self.psk_text is not None else None,
            binary,
            _sha256_file(binary) if binary else None,
            self.unit,
        )

    def write_converged(self, live_digest, report):
        """Record what this run applied and what the interface looked like after it: the next
        run's probe compares, and the role skips the apply step when nothing moved."""
        text = json.dumps(dict(inputs=self.inputs_digest(), live=live_digest, report=report), sort_keys=True) + '\n'
        if read_text_or_none(self.converged_path) == text:
            return
        try:
            ensure_parent_directory(self.converged_path)
            write_private_file(self.converged_path, text)
        except (IOError, OSError) as exc:
            self.fail('cannot record the converged state in %s: %s' % (self.converged_path, to_native(exc.strerror or exc)))

    def remove_applied_fingerprint(self):
        self.remove_file(self.fingerprint_path)
        self.remove_file(self.converged_path)

    def remove_file(self, path):
        self.service.remove_file(path)

    # -- observation -----------------------------------------------------------------------------

    def service_active(self):
        return self.service.is_active()

    def link_exists(self):
        return self.live.link_exists()

    def read_addresses(self):
        """{'addresses', 'mtu'}, or None when the link does not exist."""
        try:
            return self.live.addresses()
        except ValueError as exc:
            self.fail('cannot read the addresses of %s: %s' % (self.name, to_native(exc)))

    def read_runtime(self):
        """(runtime, error text): runtime None with the scrubbed stderr when `wg show` fails."""
        runtime, error = self.live.runtime()
        if runtime is None:
            return None, self.clean(error)
        # The dump holds the live keys: remember them before anything can quote them.
        self.secrets.extend(runtime_secrets(runtime))
        self.public_keys.extend(runtime['peers'])
        return runtime, None

    def read_implementation(self):
        return self.live.implementation()

    def read_userspace_daemon(self):
        """{'pid', 'exe', 'deleted'} of the daemon serving the interface's UAPI socket, or None."""
        return self.live.daemon()

    def read_userspace_version(self, daemon):
        # A replaced binary would report the new file's version, not the running one's.
        if daemon is None or daemon['deleted'] or not (os.path.isfile(daemon['exe']) and os.access(daemon['exe'], os.X_OK)):
            return None
        rc, stdout, _stderr = self.run([daemon['exe'], '--version'])
        if rc != 0:
            return None
        return parse_version_output(stdout)

    def implementation_report(self, implementation, daemon):
        """The implementation, userspace_binary and userspace_version return values."""
        if implementation != 'userspace':
            daemon = None
        return dict(
            implementation=implementation,
            userspace_binary=daemon['exe'] if daemon else None,
            userspace_version=self.read_userspace_version(daemon),
        )

    # -- changes ---------------------------------------------------------------------------------

    def wait_for_interface(self):
        """Poll until the unit is active and the link exists; False after WAIT_TIMEOUT_SECONDS."""
        return self.service.wait_until(lambda: self.link_exists() and self.service_active(), WAIT_TIMEOUT_SECONDS)

    def syncconf(self, runtime):
        config_text = assemble_runtime_config(runtime)
        rc, _stdout, stderr = self.run([self.wg, 'syncconf', self.name, '/dev/stdin'], data=config_text)
        if rc != 0:
            self.fail('wg syncconf %s failed (rc %d): %s' % (self.name, rc, self.clean(stderr) or '(no error output)'), rc=rc)

    def start_or_restart(self, action, service_was_active, link_existed):
        if action == 'start' and link_existed and not service_was_active:
            # A leftover link (a crashed daemon, a manual `ip link add`) makes `wg-quick up` fail.
            self.run_or_fail([self.ip, 'link', 'delete', 'dev', self.name], 'ip link delete dev %s' % self.name)
        # `systemctl start` does nothing for a unit that is active without its link, so restart it.
        verb = 'restart' if action == 'restart' or service_was_active else 'start'
        self.systemctl_or_fail(verb)
        if not self.wait_for_interface():
            self.fail('%s is not active with its link %s %d seconds after systemctl %s (see journalctl -u %s)'
                      % (self.unit, self.name, WAIT_TIMEOUT_SECONDS, verb, self.unit))


def _sha256_text(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def _sha256_file(path):
    digest = hashlib.sha256()
    try:
        with open(path, 'rb') as handle:
            for block in iter(lambda: handle.read(1024 * 1024), b''):
                digest.update(block)
    except (IOError, OSError):
        return None
    return digest.hexdigest()


def _running_binary_text(implementation, daemon):
    if implementation == 'kernel':
        return '(none, kernel link)'
    if daemon is None:
        return '(unknown)'
    return daemon['exe'] + (' (replaced on disk)' if daemon['deleted'] else '')


def _latest_handshakes(runtime):
    if runtime is None:
        return {}
    return dict((public_key, peer.get('latest_handshake') or None) for public_key, peer in runtime['peers'].items())


def run_started(manager):
    module = manager.module
    manager.daemon_reload()
    config_diff = manager.sync_config_file()
    enabled_changed = manager.ensure_enabled()
    runtime, interface = manager.load_desired()
    if runtime is None:
        # Check mode before the key exists: the interface will be started once it does.
        result = dict(changed=True, action='start', interface=manager.name, implementation=None,
                      userspace_binary=None, userspace_version=None,
                      peers_added=[], peers_removed=[], peers_changed={}, latest_handshakes={})
        if module._diff and config_diff:
            result['diff'] = [config_diff]
        return result
    fingerprint = interface_fingerprint(interface)

    service_active = manager.service_active()
    link = manager.read_addresses()
    live_runtime, runtime_error = (manager.read_runtime() if link is not None else (None, None))
    applied_fingerprint = manager.read_applied_fingerprint()

    force_restart = module.params['force_restart']
    if link is not None and service_active and live_runtime is None:
        module.warn('cannot read the WireGuard state of %s (%s); restarting %s' % (manager.name, runtime_error, manager.unit))
        force_restart = True

    implementation = manager.read_implementation() if link is not None else None
    daemon = manager.read_userspace_daemon() if implementation == 'userspace' else None
    wanted_binary = module.params['userspace_binary']
    if wanted_binary and link is not None and service_active and not force_restart:
        if implementation == 'userspace' and daemon is None:
            module.warn('cannot find the userspace daemon of %s (no process listens on %s); not checking that it runs %s'
                        % (manager.name, uapi_socket_paths(manager.name)[0], wanted_binary))
        if userspace_binary_difference(wanted_binary, implementation, daemon):
            force_restart = True

    differences = runtime_differences(runtime, live_runtime or empty_runtime())
    action = plan_action(
        service_active=service_active,
        link_exists=link is not None,
        desired_fingerprint=fingerprint,
        applied_fingerprint=applied_fingerprint,
        live_addresses=link['addresses'] if link else None,
        desired_addresses=interface['addresses'],
        live_mtu=link['mtu'] if link else None,
        desired_mtu=interface['mtu'],
        runtime_diff=differences,
        force_restart=force_restart,
    )
    result = dict(
        changed=action != 'none' or config_diff is not None or enabled_changed,
        action=action,
        interface=manager.name,
        peers_added=differences['peers_added'],
        peers_removed=differences['peers_removed'],
        peers_changed=differences['peers_changed'],
        latest_handshakes=_latest_handshakes(live_runtime),
    )
    if module._diff:
        before, after = render_diff(live_runtime, runtime, link, interface)
        if wanted_binary and link is not None:
            before += 'userspace binary: %s\n' % _running_binary_text(implementation, daemon)
            after += 'userspace binary: %s\n' % os.path.realpath(wanted_binary)
        live_diff = dict(before_header='%s (live)' % manager.name, after_header='%s (configured)' % manager.name,
                         before=before, after=after)
        result['diff'] = [config_diff, live_diff] if config_diff else [live_diff]
    if module.check_mode:
        result.update(manager.implementation_report(implementation, daemon))
        return result

    if action in ('start', 'restart'):
        manager.start_or_restart(action, service_active, link is not None)
        # wg-quick has just set up the interface; fill in what the file leaves open from it.
        started_runtime, _error = manager.read_runtime()
        manager.syncconf(runtime_for_sync(runtime, started_runtime))
    elif action == 'sync':
        manager.syncconf(runtime_for_sync(runtime, live_runtime))

    if action != 'none':
        final_runtime, runtime_error = manager.read_runtime()
        final_link = manager.read_addresses()
        implementation = manager.read_implementation()
        daemon = manager.read_userspace_daemon() if implementation == 'userspace' else None
        problems = {}
        if final_runtime is None:
            problems['wg show'] = runtime_error
        else:
            remaining = runtime_differences(runtime, final_runtime)
            if has_runtime_differences(remaining):
                problems['runtime'] = remaining
        if final_link is None:
            problems['link'] = 'missing'
        else:
            if addresses_differ(final_link['addresses'], interface['addresses']):
                problems['addresses'] = dict(live=final_link['addresses'], configured=interface['addresses'])
            if interface['mtu'] is not None and final_link['mtu'] != interface['mtu']:
                problems['mtu'] = dict(live=final_link['mtu'], configured=interface['mtu'])
        if wanted_binary:
            binary_difference = userspace_binary_difference(wanted_binary, implementation, daemon)
            if binary_difference:
                problems['userspace_binary'] = binary_difference
        if problems:
            manager.fail('%s does not match its configuration after %s: %s' % (manager.name, action, json.dumps(problems, sort_keys=True)),
                         action=action)
        result['latest_handshakes'] = _latest_handshakes(final_runtime)
    report = manager.implementation_report(implementation, daemon)
    result.update(report)

    if applied_fingerprint != fingerprint:
        # After a start or restart this records what wg-quick applied; otherwise the running
        # interface already matches what can be observed, so it is adopted as applied.
        manager.write_applied_fingerprint(fingerprint)
    if action == 'none':
        final_runtime, final_link, final_active = live_runtime, link, service_active
    else:
        final_active = True
    manager.write_converged(live_state_digest(final_runtime, final_link, implementation, daemon_exe_text(daemon), final_active), report)
    return result


def run_stopped(manager):
    module = manager.module
    active = manager.service_active()
    action = 'stop' if active else 'none'
    if not module.check_mode:
        if active:
            manager.systemctl_or_fail('stop')
        manager.remove_applied_fingerprint()
    implementation = manager.read_implementation()
    daemon = manager.read_userspace_daemon() if implementation == 'userspace' else None
    result = dict(
        changed=active,
        action=action,
        interface=manager.name,
        peers_added=[],
        peers_removed=[],
        peers_changed={},
        latest_handshakes={},
    )
    result.update(manager.implementation_report(implementation, daemon))
    return result


def run_absent(manager):
    """Stop and disable the unit, delete a leftover link, remove the interface's files."""
    module = manager.module
    active = manager.service_active()
    enabled = manager.unit_enabled()
    link_left = manager.link_exists()
    files = [path for path in (manager.config_path, manager.private_key_path, manager.preshared_keys_path,
                               manager.fingerprint_path, manager.converged_path) if os.path.exists(path)]
    changed = active or enabled or link_left or bool(files)
    result = dict(changed=changed, action='remove' if changed else 'none', interface=manager.name,
                  implementation=None, userspace_binary=None, userspace_version=None, removed_files=files,
                  peers_added=[], peers_removed=[], peers_changed={}, latest_handshakes={})
    if module._diff and manager.config_path in files:
        result['diff'] = removal_diff(manager.config_path)
    if module.check_mode or not changed:
        return result
    if active:
        manager.systemctl_or_fail('stop')
    if enabled:
        manager.systemctl_or_fail('disable')
    if manager.link_exists():
        manager.run_or_fail([manager.ip, 'link', 'delete', 'dev', manager.name], 'ip link delete dev %s' % manager.name)
    for path in files:
        manager.remove_file(path)
    return result


def run_module(module):
    problem = interface_name_problem(module.params['name'])
    if problem:
        module.fail_json(msg='name: %s' % problem)
    manager = InterfaceManager(module)
    if module.params['state'] == 'stopped':
        return run_stopped(manager)
    if module.params['state'] == 'absent':
        return run_absent(manager)
    return run_started(manager)

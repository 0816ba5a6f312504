# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Filters of the OpenVPN roles. The logic lives in module_utils (_openvpn_inventory,
# _openvpn_validate, _openvpn_plan); these wrappers only turn ValueError into AnsibleFilterError
# and tell the readers of hostvars which error means "undefined".
# Documentation: one sidecar file per filter next to this file (openvpn_server_plan.yml, ...). This
# file deliberately has no DOCUMENTATION: ansible-doc would show it for every filter defined
# here instead of the sidecars.

from ansible_collections.overlaynet.vpn.plugins.plugin_utils._filters import UNDEFINED as _UNDEFINED, filter_error as _filter_error
# module_utils are imported inside the filters (why: docs/dev/architecture.md, "Filter plugins").


def openvpn_validate(hostvars, groups):
    """Every problem of the OpenVPN inventory ([] when valid): `hostvars | openvpn_validate(groups)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_validate import validate
    return validate(hostvars, groups, _UNDEFINED)


def openvpn_server_plan(hostvars, groups, host):
    """The instances of a server host: `hostvars | openvpn_server_plan(groups, inventory_hostname)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import server_plan
    return _filter_error('openvpn_server_plan', server_plan, hostvars, groups, host, _UNDEFINED)


def openvpn_client_plan(hostvars, groups, host):
    """The connections of a client host: `hostvars | openvpn_client_plan(groups, inventory_hostname)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import client_plan
    return _filter_error('openvpn_client_plan', client_plan, hostvars, groups, host, _UNDEFINED)


def openvpn_pki_request(hostvars, groups, host):
    """The openvpn_pki options of a server host's CA: `hostvars | openvpn_pki_request(groups, inventory_hostname)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import pki_request
    return _filter_error('openvpn_pki_request', pki_request, hostvars, groups, host, _UNDEFINED)


def openvpn_peers_record(plan, role):
    """The peers of a host's plan for the connectivity report: `openvpn_server__plan | openvpn_peers_record('server')`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import peers_record
    return _filter_error('openvpn_peers_record', peers_record, plan, role)


def openvpn_peers_merged(existing, plan, role):
    """overlaynet_peers with this role's OpenVPN peers replaced: `overlaynet_peers | openvpn_peers_merged(plan, 'server')`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import merged_peers
    return _filter_error('openvpn_peers_merged', merged_peers, existing, plan, role)


def openvpn_pki_options(hostvars, groups, host):
    """The openvpn_pki options of a server host's PKI, with this run's CSRs: `hostvars | openvpn_pki_options(groups, server)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import pki_options
    return _filter_error('openvpn_pki_options', pki_options, hostvars, groups, host, _UNDEFINED)


def openvpn_server_files(plans, pki_path, host, secret=False, users=None, users_path=None):
    """The files of a server host, public or secret ones, read from its PKI on the controller:
    `openvpn_server__plan | openvpn_server_files(pki_path, inventory_hostname)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_files import server_pki_texts, server_public_files, server_secret_files
    pki = server_pki_texts(pki_path, host)
    if not secret:
        return server_public_files(plans, pki)
    return _filter_error('openvpn_server_files', server_secret_files, host, plans, pki, users or {}, users_path)


def openvpn_client_files(plans, pki_root, host, secret=False, hostvars=None, groups=None):
    """The files of a client host, public or secret ones, read from its servers' PKIs on the controller:
    `openvpn_client__plan | openvpn_client_files(pki_root, inventory_hostname)`; the secret ones need hostvars and groups
    for the passwords."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_files import client_pki_texts, client_public_files, client_secret_files
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import client_passwords
    servers = sorted(set(plan['server'] for plan in plans if plan['state'] == 'present' and plan['server'] is not None))
    texts = dict((server, client_pki_texts(pki_root, server, host)) for server in servers)
    if not secret:
        return client_public_files(plans, texts)
    passwords = _filter_error('openvpn_client_files', client_passwords, hostvars, groups, host, _UNDEFINED)
    return client_secret_files(plans, texts, passwords)


def openvpn_profiles(hostvars, groups, host, pki_path, profile_dir):
    """The inline profiles of a server host's unmanaged clients that differ from the files on the controller:
    `hostvars | openvpn_profiles(groups, inventory_hostname, pki_path, profile_dir)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_files import profiles_to_write
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import unmanaged_profiles
    profiles = _filter_error('openvpn_profiles', unmanaged_profiles, hostvars, groups, host, _UNDEFINED)
    return profiles_to_write(profiles, pki_path, profile_dir)


def openvpn_client_config(plan, profile=None):
    """The config file of one client connection plan (profile: the text of its profile_file): `item | openvpn_client_config`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_files import client_config_text
    return client_config_text(plan, profile)


def openvpn_client_required_files(plan):
    """The files one client connection's config names: `item | openvpn_client_required_files`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_files import client_required_files
    return client_required_files(plan)


def openvpn_certificate_current(key_facts, probed_key_file, controller_certificate_path, key_mode='0600'):
    """Whether a host's key and certificate need no signing request in this run:
    `probe.x509_keys.server | openvpn_certificate_current(probe.files[key_path], pki_path ~ '/issued/' ~ host ~ '.crt')`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_files import certificate_current
    return certificate_current(key_facts, probed_key_file, controller_certificate_path, key_mode=key_mode)


def openvpn_client_key_checks(plans):
    """The x509_keys option of a client host's probe: `openvpn_client__plan | openvpn_client_key_checks`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_files import client_key_checks
    return client_key_checks(plans)


class FilterModule(object):
    """OpenVPN filters of overlaynet.vpn."""

    def filters(self):
        return {
            'openvpn_validate': openvpn_validate,
            'openvpn_server_plan': openvpn_server_plan,
            'openvpn_client_plan': openvpn_client_plan,
            'openvpn_pki_request': openvpn_pki_request,
            'openvpn_peers_record': openvpn_peers_record,
            'openvpn_peers_merged': openvpn_peers_merged,
            'openvpn_pki_options': openvpn_pki_options,
            'openvpn_server_files': openvpn_server_files,
            'openvpn_client_files': openvpn_client_files,
            'openvpn_profiles': openvpn_profiles,
            'openvpn_client_config': openvpn_client_config,
            'openvpn_client_required_files': openvpn_client_required_files,
            'openvpn_certificate_current': openvpn_certificate_current,
            'openvpn_client_key_checks': openvpn_client_key_checks,
        }

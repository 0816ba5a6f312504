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

from jinja2 import Undefined

from ansible.errors import AnsibleFilterError, AnsibleUndefinedVariable

from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import client_plan, peers_record, pki_request, server_plan
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_validate import validate

# A host variable that templates to something undefined counts as unset, as with Jinja's default():
# reading it raises the first (ansible-core before 2.19) or gives the second (2.19 and later).
_UNDEFINED = (AnsibleUndefinedVariable, Undefined)


def _filter_error(name, function, *args):
    try:
        return function(*args)
    except ValueError as exc:
        raise AnsibleFilterError('%s: %s' % (name, exc))


def openvpn_validate(hostvars, groups):
    """Every problem of the OpenVPN inventory ([] when valid): `hostvars | openvpn_validate(groups)`."""
    return validate(hostvars, groups, _UNDEFINED)


def openvpn_server_plan(hostvars, groups, host):
    """The instances of a server host: `hostvars | openvpn_server_plan(groups, inventory_hostname)`."""
    return _filter_error('openvpn_server_plan', server_plan, hostvars, groups, host, _UNDEFINED)


def openvpn_client_plan(hostvars, groups, host):
    """The connections of a client host: `hostvars | openvpn_client_plan(groups, inventory_hostname)`."""
    return _filter_error('openvpn_client_plan', client_plan, hostvars, groups, host, _UNDEFINED)


def openvpn_pki_request(hostvars, groups, host):
    """The openvpn_pki options of a server host's CA: `hostvars | openvpn_pki_request(groups, inventory_hostname)`."""
    return _filter_error('openvpn_pki_request', pki_request, hostvars, groups, host, _UNDEFINED)


def openvpn_peers_record(plan, role):
    """The peers of a host's plan for the connectivity report: `openvpn_server__plan | openvpn_peers_record('server')`."""
    return _filter_error('openvpn_peers_record', peers_record, plan, role)


class FilterModule(object):
    """OpenVPN filters of overlaynet.vpn."""

    def filters(self):
        return {
            'openvpn_validate': openvpn_validate,
            'openvpn_server_plan': openvpn_server_plan,
            'openvpn_client_plan': openvpn_client_plan,
            'openvpn_pki_request': openvpn_pki_request,
            'openvpn_peers_record': openvpn_peers_record,
        }

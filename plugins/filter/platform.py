# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Filters that check what a host's platform allows (kernel settings, containers) from a probe's
# readings, before any host changes. The logic lives in module_utils, shared with the modules
# that fail with the same messages. Documentation: one sidecar file per filter next to this
# file (sysctl_problems.yml); no DOCUMENTATION here, as in wireguard.py.

from ansible.errors import AnsibleFilterError

from ansible_collections.overlaynet.vpn.plugins.module_utils._sysctl import settings_problems


def sysctl_problems(live_values, writable, wanted, host):
    """Messages for the wanted kernel settings a host lacks and cannot set ([] when none):
    `probed_values | sysctl_problems(probed_writable, wanted, inventory_hostname)`."""
    if not isinstance(wanted, dict) or not isinstance(live_values, dict):
        raise AnsibleFilterError('sysctl_problems: the live values and the wanted settings must be dictionaries')
    try:
        return settings_problems(live_values, writable, wanted, host)
    except ValueError as exc:
        raise AnsibleFilterError('sysctl_problems: %s' % exc)


class FilterModule(object):
    """Platform checks of overlaynet.vpn."""

    def filters(self):
        return {
            'sysctl_problems': sysctl_problems,
        }

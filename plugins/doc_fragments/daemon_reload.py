# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The daemon_reload option of the modules that manage a systemd unit (wireguard_interface,
    # headscale_server, tailscale_node); each takes daemon_reload=dict(type='bool', default=False):
    #   extends_documentation_fragment: [overlaynet.vpn.daemon_reload, overlaynet.vpn.attributes]
    DOCUMENTATION = r'''
options:
  daemon_reload:
    description:
      - Run C(systemctl daemon-reload) before anything else, so that a unit file written just before takes effect in
        this same module run (no separate task for it). Not run in check mode.
    type: bool
    default: false
'''

# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# What headscale and Tailscale agree on (tags, the shape of a pre-auth key) and the server's view
# of a node. The tailscale role's filters read these in every Ansible worker of a node's tasks,
# where each import is compiled anew: this file imports nothing heavy, and must stay so.

import re

from ansible_collections.overlaynet.vpn.plugins.module_utils._values import is_mapping

TAG_PATTERN = re.compile(r'^tag:[a-z][a-z0-9-]*$')
# A key as headscale 0.28+ mints it (also its masked form in lists), or as 0.26/0.27 do (48 hex digits).
KEY_TEXT = re.compile(r'hskey-auth-[A-Za-z0-9_*-]+|(?<![0-9A-Za-z])[0-9A-Fa-f]{48}(?![0-9A-Za-z])')


def tag_problem(tag):
    """Why headscale (or a Tailscale client) would refuse tag on a pre-auth key, None when it is fine."""
    if not isinstance(tag, str) or not TAG_PATTERN.match(tag):
        return '%r is not a tag such as tag:server ("tag:", then a lower-case letter, lower-case letters, digits and "-")' % (tag,)
    return None


def lost_on_server(status, server_nodes):
    """Whether a node's server no longer has it: the node holds a node key (status: its `tailscale status` as the
    probe read it) that none of the server's nodes (its probe's headscale_nodes; None when not read) has. tailscaled
    cannot tell: a node deleted on the server keeps showing itself running, without peers."""
    if not is_mapping(status) or not status.get('have_node_key') or not status.get('node_key') or not isinstance(server_nodes, list):
        return False
    return all(not is_mapping(node) or node.get('node_key') != status['node_key'] for node in server_nodes)


def must_join(plan, probe, node_kept, state_dir, check_mode):
    """Whether a node joins with a pre-auth key in this run: it is to be present, the run is not in check mode, and
    either it never started tailscaled (its probe found no state_dir: tailscaled makes it when it first starts) or
    overlaynet.vpn.tailscale_node found that it needs a key (node_kept, that module's result in this run)."""
    if not is_mapping(plan) or plan.get('state') != 'present' or check_mode:
        return False
    files = probe.get('files') if is_mapping(probe) else None
    state_directory = files.get(state_dir) if is_mapping(files) else None
    never_started = not (is_mapping(state_directory) and state_directory.get('exists'))
    return never_started or bool(is_mapping(node_kept) and node_kept.get('needs_auth_key'))

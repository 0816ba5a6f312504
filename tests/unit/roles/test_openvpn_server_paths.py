# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The server's PKI files on the host have one name in Python (the instance plans, which server.conf
# reads) and one in the role's vars (the probe, the key request, the CRL check timer): the two agree.

import os
import re

import yaml

from ansible_collections.overlaynet.vpn.plugins.module_utils import _openvpn_plan

VARS = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'openvpn_server', 'vars', 'main.yml')


def role_vars():
    with open(VARS) as handle:
        variables = yaml.safe_load(handle)

    def resolved(value):
        return re.sub(r'\{\{ (\w+) \}\}', lambda match: resolved(variables[match.group(1)]), value)
    return resolved


def test_the_role_names_the_pki_files_as_the_plans_do():
    resolved = role_vars()
    assert resolved('{{ openvpn_server__pki_dir }}') == _openvpn_plan.SERVER_PKI_DIR
    assert resolved('{{ openvpn_server__ca_path }}') == _openvpn_plan.SERVER_CA_FILE
    assert resolved('{{ openvpn_server__cert_path }}') == _openvpn_plan.SERVER_CERT_FILE
    assert resolved('{{ openvpn_server__crl_path }}') == _openvpn_plan.SERVER_CRL_FILE
    assert resolved('{{ openvpn_server__crl_ahead_path }}') == _openvpn_plan.SERVER_CRL_AHEAD_FILE

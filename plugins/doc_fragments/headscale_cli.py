# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The options and requirements of the modules that drive the local headscale CLI
    # (headscale_user, headscale_preauthkey, headscale_routes). Their argument_spec comes from
    # module_utils._headscale_cli.cli_argument_spec, which must take the same options:
    #   extends_documentation_fragment: [overlaynet.vpn.headscale_cli, overlaynet.vpn.attributes]
    DOCUMENTATION = r'''
options:
  version:
    description:
      - The headscale version on the server (C(0.26.x) to C(0.29.x)), for the differences of its CLI and the warnings
        about them.
    type: str
    default: 0.29.3
  config_path:
    description:
      - The configuration file the CLI reads to find the server's unix socket (C(--config)). When unset, the CLI reads
        C($HEADSCALE_CONFIG) or C(/etc/headscale/config.yaml).
    type: path
requirements:
  - headscale 0.26 to 0.29, its server running, on the target; the module runs as a user who may use its unix socket
    (usually root).
'''

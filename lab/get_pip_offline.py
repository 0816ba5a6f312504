# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for get-pip.py, which ansible-test downloads from a host these machines cannot
reach. ansible-test runs it in an empty venv with pip's install arguments; here pip comes
from Python's bundled wheel (ensurepip), then installs the pinned packages from PyPI."""
from __future__ import absolute_import, division, print_function

import ensurepip
import os
import subprocess
import sys

# get-pip.py's own switches, not pip's.
OWN_OPTIONS = ("--no-setuptools", "--no-wheel")

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null in this process; the install below must see
# the machine's pip configuration (index, certificates) again.
os.environ.pop("PIP_CONFIG_FILE", None)
arguments = [argument for argument in sys.argv[1:] if argument not in OWN_OPTIONS]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade"] + arguments))

# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commands on the controller and inside lab hosts."""
from __future__ import absolute_import, division, print_function

import subprocess


class LabError(SystemExit):
    """A lab fault, reported as one message (the host, the check, the likely missing piece)."""

    def __init__(self, message):
        super(LabError, self).__init__("lab: " + message)


def run(args, check=True, capture=True, input_text=None, timeout=None, env=None, cwd=None):
    result = subprocess.run(args, check=False, text=True, input=input_text, timeout=timeout, env=env, cwd=cwd,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.PIPE if capture else None)
    if check and result.returncode != 0:
        raise LabError("command failed (%d): %s\n%s" % (
            result.returncode, " ".join(args), (result.stderr or "").strip()))
    return result


def podman(*args, **kwargs):
    return run(["podman"] + list(args), **kwargs)


def on(host, command, check=True, timeout=None):
    """Run a shell command inside a lab host; returns the CompletedProcess."""
    return podman("exec", host, "sh", "-c", command, check=check, timeout=timeout)


def shell_quote(text):
    return "'" + str(text).replace("'", "'\"'\"'") + "'"

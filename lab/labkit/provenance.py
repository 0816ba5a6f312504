# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a benchmark measured: the commit of the checkout, so results name their code, and the
machine it ran on."""
from __future__ import absolute_import, division, print_function

import os
import platform
import re
import subprocess


def commit_description(repo_dir):
    """'commit abc1234 (2026-11-29)', plus ' with uncommitted changes' for a dirty tree, or
    'an unknown commit' outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", repo_dir] + list(args), capture_output=True, text=True, check=False)

    head = git("log", "-1", "--format=%h (%cs)")
    if head.returncode != 0 or not head.stdout.strip():
        return "an unknown commit"
    dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    return "commit %s%s" % (head.stdout.strip(), " with uncommitted changes" if dirty else "")


def cpu_model(cpuinfo_path="/proc/cpuinfo"):
    """The 'model name' of the first CPU, or 'unknown CPU'."""
    try:
        with open(cpuinfo_path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def machine_text():
    """'HOST, CPU MODEL, N cores, kernel VERSION'."""
    return "%s, %s, %d cores, kernel %s" % (platform.node(), cpu_model(), os.cpu_count(), platform.release())


def role_version(role_dir):
    """The version of a role a bench runs side by side: 'commit abc1234, 2026-11-29' for a git
    checkout of the role itself (not of a repository around it), else 'version X.Y.Z', the
    newest in its CHANGELOG.md, else 'unknown version'."""
    def git(*args):
        return subprocess.run(["git", "-C", role_dir] + list(args), capture_output=True, text=True, check=False)

    toplevel = git("rev-parse", "--show-toplevel").stdout.strip()
    if toplevel and os.path.realpath(toplevel) == os.path.realpath(role_dir):
        return "commit " + git("log", "-1", "--format=%h, %cs").stdout.strip()
    try:
        with open(os.path.join(role_dir, "CHANGELOG.md"), encoding="utf-8") as handle:
            for line in handle:
                match = re.match(r"^#+\s*(?:Version\s+)?v?(\d+\.\d+\.\d+)", line)
                if match:
                    return "version " + match.group(1)
    except OSError:
        pass
    return "unknown version"

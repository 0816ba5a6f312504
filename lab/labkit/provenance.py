# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a benchmark measured: the commit of the checkout, so results name their code."""
from __future__ import absolute_import, division, print_function

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

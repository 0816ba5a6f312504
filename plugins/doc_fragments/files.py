# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The files and directories options of the modules that write small files in one run (rendered_files,
    # binaries); their argument spec is module_utils._files.files_argument_spec().
    DOCUMENTATION = r'''
options:
  files:
    description:
      - Text files to write where their content, mode or ownership differs, each atomically and with its mode from its
        first byte, after the directories of O(directories). Missing parent directories are created.
      - Not for secrets unless the task has C(no_log), since the content is a module argument and shown in the diff.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The whole text of the file.
        type: str
        required: true
      mode:
        description: Octal mode, for example C('0640').
        type: str
        default: '0644'
      owner:
        description: Owner of the file.
        type: str
        default: root
      group:
        description: Group of the file.
        type: str
        default: root
  directories:
    description:
      - Directories to create where missing, or whose mode or ownership to correct, before the files are written.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      mode:
        description: Octal mode, for example C('0750').
        type: str
        default: '0755'
      owner:
        description: Owner of the directory.
        type: str
        default: root
      group:
        description: Group of the directory.
        type: str
        default: root
'''

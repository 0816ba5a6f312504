# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Where a role takes a program from, the same way in every role of the collection: the
# distribution's package, a file from the controller, or a release URL with its checksum. A
# role names the settings with one prefix, for example wireguard_userspace:
#
#   <prefix>_source    package (default), file or url
#   <prefix>_file      controller path of the binary (source file)
#   <prefix>_url       http(s) address the host downloads (source url)
#   <prefix>_checksum  sha256:<64 hex digits> of that download (source url)
#   <prefix>_binary    absolute path to install to ('' for the role's choice)
#
# The checks run on the controller (filters do), so "a file on the controller" is a file here.

import os
import re

SOURCES = ('package', 'file', 'url')
SETTING_DEFAULTS = {'source': 'package', 'file': '', 'url': '', 'checksum': '', 'binary': ''}

# Python's re.match, as Jinja's `match` test used it: a URL needs a scheme and a host; '$'
# lets a checksum end in one newline.
_URL = re.compile(r'^https?://[^/]+')
_CHECKSUM = re.compile(r'^sha256:[0-9a-fA-F]{64}$')


def setting_variables(prefix):
    """Variable name -> role default of every setting, e.g. {'wireguard_userspace_source': 'package', ...}."""
    return dict(('%s_%s' % (prefix, setting), default) for setting, default in SETTING_DEFAULTS.items())


def install_settings(prefix, variables):
    """{source, file, url, checksum, binary} of a host from its variables (as read with setting_variables' defaults)."""
    return dict((setting, variables.get('%s_%s' % (prefix, setting), default)) for setting, default in SETTING_DEFAULTS.items())


def _matches(pattern, value):
    return isinstance(value, str) and pattern.match(value) is not None


def install_source_problems(prefix, host, settings):
    """Messages 'host <host>: <prefix>_<setting>: <problem>' for one host's install settings ([] when fine).

    settings: {source, file, url, checksum, binary}; absent ones take the role defaults. Only
    the settings the source uses are checked, and the binary path whatever the source.
    """
    settings = dict(SETTING_DEFAULTS, **settings)
    source = settings['source']
    problems = []

    def problem(setting, text):
        problems.append('host %s: %s_%s: %s' % (host, prefix, setting, text))

    binary = settings['binary']
    if binary and not (isinstance(binary, str) and binary.startswith('/')):
        problem('binary', '%s is not an absolute path' % (binary,))
    if source not in SOURCES:
        problem('source', '%r must be one of %s' % (source, ', '.join(SOURCES)))
    elif source == 'file':
        path = settings['file']
        if not (isinstance(path, str) and path and os.path.isfile(path)):
            problem('file', '%s is not a file on the controller (%s_source: file)' % (path or '(empty)', prefix))
    elif source == 'url':
        url = settings['url']
        if not _matches(_URL, url):
            problem('url', '%s is not an http(s) address (%s_source: url)' % (url or '(empty)', prefix))
        elif not _matches(_CHECKSUM, settings['checksum']):
            problem('checksum', 'must be sha256: and 64 hex digits (%s_source: url)' % prefix)
    return problems

# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# A stand-in for Ansible's hostvars: mappings (not dicts) that template a value when it is read.

from collections.abc import Mapping


class UndefinedError(Exception):
    """What reading a value that templates to something undefined raises (AnsibleUndefinedVariable)."""


class UndefinedValue(object):
    """What reading such a value gives instead, in ansible-core 2.19 templates (a Jinja Undefined)."""


class LazyVariables(Mapping):
    """One host's variables. A value that is a callable is 'templated' (called) when it is read;
    every read is recorded, so that tests can tell which variables a reader touched."""

    def __init__(self, variables, reads):
        self._variables = variables
        self._reads = reads

    def __getitem__(self, name):
        self._reads.append(name)
        value = self._variables[name]
        return value() if callable(value) else value

    def __iter__(self):
        raise AssertionError('a reader must not list all variables of a host (each read templates one)')

    def __len__(self):
        return len(self._variables)

    def __contains__(self, name):
        return name in self._variables


class LazyHostVars(Mapping):
    """host -> LazyVariables; reads lists every variable read, as (host, name)."""

    def __init__(self, hosts):
        self.reads = []
        self._hosts = hosts

    def __getitem__(self, host):
        reads = []
        self.reads.append((host, reads))
        return LazyVariables(self._hosts[host], reads)

    def __iter__(self):
        return iter(self._hosts)

    def __len__(self):
        return len(self._hosts)

    def __contains__(self, host):
        return host in self._hosts

    def names_read(self):
        return sorted(set((host, name) for host, names in self.reads for name in names))


def undefined_error():
    raise UndefinedError('undefined')


UNDEFINED = (UndefinedError, UndefinedValue)

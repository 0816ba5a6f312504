# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# One read of a host for overlaynet.vpn.host_probe: the facts every system's role needs before
# it changes anything (OS, missing commands, enabled unit instances, file checksums, sysctls),
# plus one check per system (WireGuard: kernel support, key files).
#
# Every function that reads the host takes the root of the tree it reads, so that tests build
# a fake tree; paths given and returned are always as seen on the host (root stripped). Nothing
# here starts a process except can_create_link, which takes the AnsibleModule for that.

import glob
import grp
import json
import os
import pwd
import shlex
import stat

from ansible_collections.overlaynet.vpn.plugins.module_utils._file_facts import DigestCache, is_executable_file
from ansible_collections.overlaynet.vpn.plugins.module_utils._ufw import read_ufw
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import is_valid_key, public_key_from_private

ROOT = '/'
# Searched after PATH, since a module run over SSH by a non-login shell often lacks them.
SBIN_DIRECTORIES = ('/usr/sbin', '/sbin', '/usr/local/sbin')
# os-release(5): /etc/os-release wins, /usr/lib/os-release is the fallback.
OS_RELEASE_PATHS = ('/etc/os-release', '/usr/lib/os-release')
DEBIAN_IDS = frozenset(['debian', 'ubuntu'])
REDHAT_IDS = frozenset(['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol', 'amzn'])
SYSTEMD_SYSTEM_DIR = '/etc/systemd/system'
WIREGUARD_PROBE_LINK = 'owgprobe0'
# A WireGuard key file is 45 bytes; a larger file is not read whole, as it cannot be a key.
MAX_KEY_FILE_SIZE = 4096
# Digests of large files (binaries) by identity, so that a rerun hashes only what changed (_file_facts).
DIGEST_CACHE_PATH = '/var/cache/overlaynet/file-digests.json'


# ---------------------------------------------------------------------------------------------
# Paths under a root
# ---------------------------------------------------------------------------------------------

def on_root(root, host_path):
    """The path under root of a path as the host sees it."""
    return os.path.join(root, host_path.lstrip('/'))


def as_host_path(root, rooted_path):
    """The path as the host sees it of a path under root."""
    if root == '/':
        return rooted_path
    return '/' + os.path.relpath(rooted_path, root)


def glob_paths(pattern, root=ROOT):
    """The sorted host paths matching an absolute glob pattern (dot files only by a dot, as in a shell)."""
    rooted_pattern = os.path.join(glob.escape(root), pattern.lstrip('/'))
    return sorted(as_host_path(root, path) for path in glob.glob(rooted_pattern))


# ---------------------------------------------------------------------------------------------
# Operating system
# ---------------------------------------------------------------------------------------------

def parse_os_release(text):
    """{KEY: value} from the text of os-release(5): shell-style assignments, quotes and escapes removed."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#') or '=' not in line:
            continue
        key, raw_value = line.split('=', 1)
        try:
            words = shlex.split(raw_value)
        except ValueError:  # unbalanced quotes: keep what is there
            words = [raw_value.strip('"\'')]
        values[key.strip()] = ' '.join(words)
    return values


def os_family(os_release):
    """'Debian', 'RedHat' or 'unsupported', from ID and then ID_LIKE (derivatives name their parents there)."""
    ids = [os_release.get('ID', '').lower()] + os_release.get('ID_LIKE', '').lower().split()
    for os_id in ids:
        if os_id in DEBIAN_IDS:
            return 'Debian'
        if os_id in REDHAT_IDS:
            return 'RedHat'
    return 'unsupported'


def read_os_release(root=ROOT):
    """{KEY: value} of the host's os-release file; {} when there is none."""
    for path in OS_RELEASE_PATHS:
        try:
            with open(on_root(root, path), 'rb') as release_file:
                return parse_os_release(release_file.read().decode('utf-8', 'replace'))
        except (IOError, OSError):
            continue
    return {}


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

def command_directories(path_variable):
    """The directories a command is looked for in: those of PATH, then the sbin directories, once each."""
    directories = []
    for directory in (path_variable or '').split(os.pathsep) + list(SBIN_DIRECTORIES):
        if directory and os.path.isabs(directory) and directory not in directories:
            directories.append(directory)
    return directories


def missing_commands(commands, path_variable, root=ROOT):
    """The commands (names, or absolute paths) not found as executable files, in the order given."""
    directories = command_directories(path_variable)
    missing = []
    for command in commands:
        if command in missing:
            continue
        if os.path.isabs(command):
            candidates = [command]
        else:
            candidates = [os.path.join(directory, command) for directory in directories]
        if not any(is_executable_file(on_root(root, candidate)) for candidate in candidates):
            missing.append(command)
    return missing


# ---------------------------------------------------------------------------------------------
# systemd unit instances
# ---------------------------------------------------------------------------------------------

def _template_name(template):
    # 'name', 'name@' and 'name@.service' all name the template 'name'.
    if template.endswith('.service'):
        template = template[:-len('.service')]
    return template.rstrip('@')


def instances_of_templates(templates, unit_names):
    """{template: sorted instances} of the TEMPLATE@INSTANCE.service names among unit_names."""
    instances = dict((template, set()) for template in templates)
    wanted = dict((_template_name(template), template) for template in templates)
    for unit_name in unit_names:
        if '@' not in unit_name or not unit_name.endswith('.service'):
            continue
        template_name, instance = unit_name[:-len('.service')].split('@', 1)
        if instance and template_name in wanted:
            instances[wanted[template_name]].add(instance)
    return dict((template, sorted(names)) for template, names in instances.items())


def wanted_unit_names(root=ROOT):
    """Names of the entries (links or files, even dangling links) in /etc/systemd/system/*.wants/."""
    names = set()
    for wants_dir in glob_paths(SYSTEMD_SYSTEM_DIR + '/*.wants', root):
        try:
            names.update(os.listdir(on_root(root, wants_dir)))
        except OSError:
            continue  # not a directory, or gone meanwhile
    return sorted(names)


def enabled_instances(templates, root=ROOT):
    """{template: sorted instances} of the template units enabled for a target."""
    return instances_of_templates(templates, wanted_unit_names(root))


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

def format_mode(st_mode):
    """Permission bits as a four-digit octal string, for example '0600'."""
    return '%04o' % stat.S_IMODE(st_mode)


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # no such user: the number is all there is
        return str(uid)


def group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def file_facts(path, root=ROOT, digests=None):
    """{exists, mode, owner, group, sha256} of a path, symlinks followed; sha256 for regular files only,
    from digests (a DigestCache) when given."""
    try:
        status = os.stat(on_root(root, path))
    except OSError:
        return dict(exists=False, mode=None, owner=None, group=None, sha256=None)
    return dict(
        exists=True,
        mode=format_mode(status.st_mode),
        owner=user_name(status.st_uid),
        group=group_name(status.st_gid),
        sha256=(digests or DigestCache(None)).sha256(on_root(root, path)) if stat.S_ISREG(status.st_mode) else None,
    )


MAX_JSON_FILE_SIZE = 1024 * 1024


def read_json_file(path, root=ROOT):
    """The parsed content of a small JSON file a role wrote (state it reads back), or None when
    the file is missing, too large or not JSON: a record to fall back on, never required."""
    try:
        with open(on_root(root, path), 'rb') as input_file:
            content = input_file.read(MAX_JSON_FILE_SIZE + 1)
    except (IOError, OSError):
        return None
    if len(content) > MAX_JSON_FILE_SIZE:
        return None
    try:
        return json.loads(content.decode('utf-8'))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# sysctl
# ---------------------------------------------------------------------------------------------

def sysctl_relative_path(key):
    """The path below /proc/sys of a sysctl key, as sysctl(8) maps it.

    Dots separate the levels; a key whose first separator is a slash is taken as a path, and
    otherwise a slash stands for a dot inside a level (net.ipv4.conf.eth0/100.forwarding is the
    VLAN interface eth0.100). Raises ValueError for a key with an empty, '.' or '..' level.
    """
    first_separator = next((character for character in key if character in './'), '/')
    if first_separator == '/':
        path = key
    else:
        path = ''.join({'.': '/', '/': '.'}.get(character, character) for character in key)
    levels = path.split('/')
    if any(level in ('', '.', '..') for level in levels):
        raise ValueError('sysctls: %r is not a sysctl key (expected dotted names such as net.ipv4.ip_forward)' % key)
    return '/'.join(levels)


def sysctl_proc_path(key, root=ROOT):
    return on_root(root, '/proc/sys/' + sysctl_relative_path(key))


def read_sysctl(key, root=ROOT):
    """The value of a sysctl as sysctl(8) prints it (surrounding whitespace removed), or None when absent or unreadable."""
    try:
        with open(sysctl_proc_path(key, root), 'rb') as value_file:
            return value_file.read().decode('utf-8', 'replace').strip()
    except (IOError, OSError):
        return None


def sysctl_writable(key, root=ROOT):
    """Whether the sysctl could be written, asked without writing.

    access(2) with W_OK answers what a write would meet: the file's permissions as /proc/sys
    checks them (including the network namespace's owner) and EROFS when /proc/sys is mounted
    read-only, as in a default container.
    """
    path = sysctl_proc_path(key, root)
    return os.path.isfile(path) and os.access(path, os.W_OK)


# ---------------------------------------------------------------------------------------------
# WireGuard
# ---------------------------------------------------------------------------------------------

def _public_key_of_key_file(path):
    try:
        with open(path, 'rb') as key_file:
            content = key_file.read(MAX_KEY_FILE_SIZE + 1)
    except (IOError, OSError):
        return 'invalid'
    if len(content) > MAX_KEY_FILE_SIZE or not is_valid_key(content):
        return 'invalid'
    return public_key_from_private(content)


def wireguard_keys(key_dir, root=ROOT):
    """{interface: {permissions: 'MODE:OWNER:GROUP', public_key}} of the regular files <key_dir>/*.key.

    public_key is 'invalid' when the file does not hold a private key; the private key itself
    is never returned.
    """
    keys = {}
    for path in glob_paths(os.path.join(glob.escape(key_dir), '*.key'), root):
        rooted_path = on_root(root, path)
        try:
            status = os.stat(rooted_path)
        except OSError:
            continue  # a dangling link holds no key
        if not stat.S_ISREG(status.st_mode):
            continue
        keys[os.path.basename(path)[:-len('.key')]] = dict(
            permissions='%o:%s:%s' % (stat.S_IMODE(status.st_mode), user_name(status.st_uid), group_name(status.st_gid)),
            public_key=_public_key_of_key_file(rooted_path),
        )
    return keys


def can_create_link(module, link_type, name, root=ROOT):
    """Whether the kernel creates a link of link_type, found by adding a throw-away link and deleting it.

    Whether a kernel module is built in, loadable or absent (containers, LXC) cannot be told
    reliably any other way.
    """
    ip = module.get_bin_path('ip')
    if ip is None:
        return False
    if os.path.lexists(on_root(root, '/sys/class/net/' + name)):
        # Left over by a probe interrupted between add and delete; the name is ours.
        module.run_command([ip, 'link', 'delete', 'dev', name])
    rc, dummy, dummy = module.run_command([ip, 'link', 'add', 'dev', name, 'type', link_type])
    if rc != 0:
        if os.geteuid() != 0:
            module.warn('%s links: not running as root, so the kernel refusing the test link may only mean no permission' % link_type)
        return False
    rc, dummy, stderr = module.run_command([ip, 'link', 'delete', 'dev', name])
    if rc != 0:
        module.warn('could not delete the test link %s: %s' % (name, stderr.strip()))
    return True


# ---------------------------------------------------------------------------------------------
# The whole read
# ---------------------------------------------------------------------------------------------

def active_units(units, run):
    """The units of `units` that systemd reports active, in the order given (one `systemctl is-active` run)."""
    if not units:
        return []
    dummy, stdout, dummy = run(['systemctl', 'is-active'] + list(units))
    states = stdout.split()
    return [unit for unit, state in zip(units, states) if state == 'active']


def probe_host(options, path_variable, root=ROOT, digests=None):
    """The result of host_probe for its options, without the checks that need the AnsibleModule.

    Only what an option asks for is read; OS facts are always returned. digests: the DigestCache
    for the checksums of files (none: every file hashed). Raises ValueError for
    an option value that cannot be read (a sysctl key that is not one).
    """
    os_release = read_os_release(root)
    result = dict(
        os_family=os_family(os_release),
        os_id=os_release.get('ID'),
        os_version_id=os_release.get('VERSION_ID'),
        os_version_codename=os_release.get('VERSION_CODENAME'),
    )
    if options.get('commands') is not None:
        result['missing_commands'] = missing_commands(options['commands'], path_variable, root)
    if options.get('unit_templates') is not None:
        result['enabled_instances'] = enabled_instances(options['unit_templates'], root)
    if options.get('files') is not None:
        result['files'] = dict((path, file_facts(path, root, digests)) for path in options['files'])
    if options.get('globs') is not None:
        result['globbed'] = dict((pattern, glob_paths(pattern, root)) for pattern in options['globs'])
    if options.get('json_files') is not None:
        result['json_files'] = dict((path, read_json_file(path, root)) for path in options['json_files'])
    if options.get('sysctls') is not None:
        result['sysctls'] = dict((key, read_sysctl(key, root)) for key in options['sysctls'])
        result['sysctls_writable'] = dict((key, sysctl_writable(key, root)) for key in options['sysctls'])
    if options.get('wireguard_key_dir') is not None:
        result['wireguard_keys'] = wireguard_keys(options['wireguard_key_dir'], root)
    if options.get('x509_keys') is not None:
        result['python_cryptography'], result['x509_keys'] = x509_keys(options['x509_keys'], root)
    if options.get('ufw_comment') is not None:
        result['ufw'] = read_ufw(options['ufw_comment'], root)
    return result


def x509_keys(pairs, root=ROOT):
    """(whether cryptography is installed, {name: key_and_certificate_facts() of the pair}). Without cryptography (not
    installed yet) nothing can be read: every entry is None. Imported here, not at the top: the cryptography library
    takes about 0.4 s of CPU to import on a small host, which every probe would pay, and only hosts with keys ask."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509
    from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_key_request import key_and_certificate_facts
    facts = dict((name, key_and_certificate_facts(on_root(root, pair['key']), on_root(root, pair['certificate']))
                  if _x509.HAS_CRYPTOGRAPHY else None)
                 for name, pair in sorted(pairs.items()))
    return _x509.HAS_CRYPTOGRAPHY, facts

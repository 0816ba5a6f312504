# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kernel settings under /proc/sys and the sysctl.d files that persist them.

Pure functions (key names, values, the file format with its before-values, sysctl.d
precedence, the plans of live writes and restores, the messages) and SysctlSettings, the
small class that reads and writes a host for the sysctl_settings module.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fnmatch
import os
import stat

from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import read_text_or_none, write_private_file

SYSCTL_D = '/etc/sysctl.d'
# sysctl.d(5) and `sysctl --system`: a file name in an earlier directory shadows the same name
# in a later one, the files apply in the order of their names, /etc/sysctl.conf applies last.
CONFIG_DIRS = ('/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d')
SYSCTL_CONF = '/etc/sysctl.conf'
BEFORE_PREFIX = '# before: '
MANAGED_LINE = ('# Managed by Ansible (overlaynet.vpn.sysctl_settings). A "before:" line keeps the value its key had '
                'before this file changed it, to restore it when the file is removed.')
READ_ONLY_REASON = "/proc/sys is read-only here (a container's default)"
_GLOB_CHARACTERS = '*?['


# -- keys and values -----------------------------------------------------------------------------

def _swap_separators(text):
    return ''.join('/' if char == '.' else '.' if char == '/' else char for char in text)


def key_to_path(key):
    """The path of key below /proc/sys, as sysctl(8) reads it: when the first separator is a
    '.', dots and slashes are swapped (net.ipv4.conf.eth0/100.forwarding is
    net/ipv4/conf/eth0.100/forwarding); when it is a '/', the key is already a path."""
    for char in key:
        if char == '/':
            return key
        if char == '.':
            break
    return _swap_separators(key)


def canonical_key(key):
    """The dotted form of key that sysctl(8) prints (net.ipv4.ip_forward for net/ipv4/ip_forward)."""
    return _swap_separators(key_to_path(key))


def key_problem(key):
    """Why key cannot name a setting under /proc/sys, or None."""
    if not isinstance(key, str) or not key.strip():
        return 'a sysctl name must be a non-empty string'
    if any(char.isspace() or char in '=\0' + _GLOB_CHARACTERS for char in key):
        return 'sysctl name %r must not contain whitespace, "=" or glob characters' % key
    if any(part in ('', '.', '..') for part in key_to_path(key).split('/')):
        return 'sysctl name %r has an empty, "." or ".." component' % key
    return None


def format_value(value):
    """The text of a setting's value (an integer or a string on one line); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError('must be an integer or a string (write 1 or 0, not true or false), got %r' % (value,))
    text = str(value).strip()
    if '\n' in text or '\r' in text:
        raise ValueError('must be on one line, got %r' % (text,))
    if not text:
        raise ValueError('must not be empty')
    return text


def normalise_value(text):
    """A value as sysctl(8) compares it: words separated by single spaces (the kernel prints tabs)."""
    return ' '.join(str(text).split())


def same_value(first, second):
    return normalise_value(first) == normalise_value(second)


def settings_from_params(settings, what):
    """(canonical key -> value text, problems) of a settings option, in the order given."""
    result = {}
    problems = []
    for key, value in (settings or {}).items():
        problem = key_problem(key)
        if problem:
            problems.append('%s: %s' % (what, problem))
            continue
        name = canonical_key(key)
        if name in result:
            problems.append('%s: %s is given twice (as %s)' % (what, name, key))
            continue
        try:
            result[name] = format_value(value)
        except ValueError as exc:
            problems.append('%s: the value of %s %s' % (what, name, exc))
    return result, problems


def path_problem(path):
    """Why path cannot be the file of this module, or None."""
    directory, name = os.path.split(os.path.normpath(path))
    if directory != SYSCTL_D or not name.endswith('.conf') or name.startswith('.') or name == '.conf':
        return 'path %s must be a file named *.conf directly in %s' % (path, SYSCTL_D)
    return None


# -- messages ------------------------------------------------------------------------------------

def _host_prefix(host):
    return 'host %s: ' % host if host else ''


def unwritable_message(key, current, wanted, host=None, reason=READ_ONLY_REASON):
    """The problem of a setting that differs and cannot be written, with the advice for containers."""
    return ('%ssysctl %s is %s, needs %s, and %s: set it when the container is created (podman/docker run --sysctl %s=%s; '
            'LXC: lxc.sysctl.%s = %s) or give the container a writable /proc/sys'
            % (_host_prefix(host), key, normalise_value(current), wanted, reason, key, wanted, key, wanted))


def unknown_key_message(key, wanted, host=None):
    return ('%ssysctl %s does not exist here (no /proc/sys/%s), needs %s: check the name; an IPv6 setting needs the IPv6 '
            'stack (not disabled with ipv6.disable=1), a setting of one interface needs that interface'
            % (_host_prefix(host), key, key_to_path(key), wanted))


def settings_problems(live_values, writable, wanted, host=None):
    """One message per wanted setting that does not exist or differs and cannot be written.

    live_values maps keys to their current value or None (no such setting; a key missing
    counts as None), writable maps keys to booleans (a key missing counts as writable) or is
    one boolean for every key, wanted maps keys to values. Keys may be dotted or paths."""
    live = dict((canonical_key(key), value) for key, value in (live_values or {}).items())
    if isinstance(writable, dict):
        writable_keys = dict((canonical_key(key), bool(value)) for key, value in writable.items())
    else:
        writable_keys = None
    problems = []
    for key, value in wanted.items():
        name = canonical_key(key)
        wanted_text = format_value(value)
        current = live.get(name)
        if current is None:
            problems.append(unknown_key_message(name, wanted_text, host))
        elif not same_value(current, wanted_text):
            can_write = writable_keys.get(name, True) if writable_keys is not None else bool(writable)
            if not can_write:
                problems.append(unwritable_message(name, current, wanted_text, host))
    return problems


def write_failure_message(key, current, wanted, exc):
    """Why writing wanted to key failed, from the OSError of the write."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    if exc.errno == errno.EROFS:
        return unwritable_message(key, current, wanted)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return unwritable_message(key, current, wanted, reason='the kernel refuses the write here (%s)' % reason)
    return 'sysctl %s is %s, needs %s, and the kernel rejects the value (%s)' % (key, normalise_value(current), wanted, reason)


# -- the file ------------------------------------------------------------------------------------

def _split_assignment(text):
    key, _separator, value = text.partition('=')
    return key.strip(), value.strip()


def parse_config(text):
    """{'settings', 'before', 'excluded'} of a sysctl.d file: its assignments by canonical key
    (the last one of a key wins; glob keys kept as patterns), the before-values this module
    recorded, and the keys excluded from globs by a '-key' line without a value."""
    settings = {}
    before = {}
    excluded = set()
    for line in (text or '').splitlines():
        stripped = line.strip()
        if stripped.startswith(BEFORE_PREFIX.strip()):
            key, value = _split_assignment(stripped[len(BEFORE_PREFIX.strip()):])
            if key and not key_problem(key):
                before[canonical_key(key)] = value
            continue
        if not stripped or stripped[0] in '#;':
            continue
        if '=' not in stripped:
            if stripped.startswith('-'):
                excluded.add(canonical_key(stripped[1:].strip()))
            continue
        key, value = _split_assignment(stripped)
        # A leading '-' only tells systemd-sysctl to ignore a failure to write the key.
        key = key[1:].strip() if key.startswith('-') else key
        if key:
            name = canonical_key(key)
            settings.pop(name, None)
            settings[name] = value
    return dict(settings=settings, before=before, excluded=excluded)


def render_config(settings, before, comment=None):
    """The file for settings (canonical key -> value), each key's before-value above it."""
    lines = ['# %s' % comment] if comment else []
    lines.append(MANAGED_LINE)
    for key, value in settings.items():
        if key in before:
            lines.append('%s%s = %s' % (BEFORE_PREFIX, key, before[key]))
        lines.append('%s = %s' % (key, value))
    return '\n'.join(lines) + '\n'


# -- sysctl.d precedence ---------------------------------------------------------------------------

def ordered_config_files(paths, ignored_path=None):
    """The sysctl configuration files among paths in the order they apply (later ones win):
    *.conf of CONFIG_DIRS by name, a name in an earlier directory shadowing the same name in a
    later one, then /etc/sysctl.conf. ignored_path (the file being removed) does not count."""
    path_set = set(paths) - set([ignored_path])
    by_name = {}
    for directory in CONFIG_DIRS:
        for path in sorted(path_set):
            name = os.path.basename(path)
            if os.path.dirname(path) == directory and name.endswith('.conf'):
                by_name.setdefault(name, path)
    order = [by_name[name] for name in sorted(by_name)]
    if SYSCTL_CONF in path_set:
        order.append(SYSCTL_CONF)
    return order


def _is_glob(key):
    return any(char in key for char in _GLOB_CHARACTERS)


def _glob_matches(pattern, key):
    pattern_parts = key_to_path(pattern).split('/')
    key_parts = key_to_path(key).split('/')
    return len(pattern_parts) == len(key_parts) and all(fnmatch.fnmatchcase(part, glob) for part, glob in zip(key_parts, pattern_parts))


def configured_value(key, parsed_files):
    """(value, path) that the files ([(path, parse_config result)] in the order they apply) give
    key, or (None, None). As in systemd-sysctl, an explicit assignment wins over any glob."""
    explicit = None
    by_glob = None
    excluded = False
    for path, parsed in parsed_files:
        for pattern, value in parsed['settings'].items():
            if pattern == key:
                explicit = (value, path)
            elif _is_glob(pattern) and _glob_matches(pattern, key):
                by_glob = (value, path)
        excluded = excluded or key in parsed['excluded']
    if explicit:
        return explicit
    if by_glob and not excluded:
        return by_glob
    return None, None


def is_overlaynet_file(path, own_path):
    """Whether path is the file of another overlaynet role (/etc/sysctl.d/*overlaynet*.conf)."""
    name = os.path.basename(path)
    return os.path.dirname(path) == SYSCTL_D and 'overlaynet' in name and name.endswith('.conf') and path != own_path


# -- plans ---------------------------------------------------------------------------------------

def plan_writes(wanted, live):
    """{key: {'before', 'after'}} for each wanted key whose live value (not None) differs."""
    writes = {}
    for key, value in wanted.items():
        if live.get(key) is not None and not same_value(live[key], value):
            writes[key] = dict(before=normalise_value(live[key]), after=value)
    return writes


def plan_before_values(wanted, live, old_settings, recorded, other_files):
    """The before-values of the new file: a recorded one is kept; a key the file did not set
    yet (not in old_settings) that is about to change records its live value (a key it set
    already that differs was changed by hand: that is no value from before); a key that is
    already right takes the record of another overlaynet file ([(path, parsed)]) that sets it
    to the same value, so that the last of two roles needing forwarding still restores what
    was there before both."""
    before = {}
    for key, value in wanted.items():
        if key in recorded:
            before[key] = recorded[key]
        elif key in old_settings:
            continue
        elif live.get(key) is not None and not same_value(live[key], value):
            before[key] = normalise_value(live[key])
        else:
            for _path, parsed in other_files:
                if key in parsed['before'] and same_value(parsed['settings'].get(key, ''), value):
                    before[key] = parsed['before'][key]
                    break
    return before


def plan_restores(old_settings, recorded, live, other_files, parsed_files):
    """What to do with the keys a file no longer sets: (restores, kept). restores maps a key to
    {'before', 'after', 'source'} where its live value changes back; kept maps a key to why it
    stays as it is. In order: a key another overlaynet file still sets to the same value stays;
    else the value the other configuration files give it; else its recorded before-value."""
    restores = {}
    kept = {}
    for key, value in old_settings.items():
        if live.get(key) is None:
            kept[key] = 'does not exist here'
            continue
        sharing = [path for path, parsed in other_files if same_value(parsed['settings'].get(key, ''), value)]
        if sharing:
            kept[key] = 'still set to %s by %s' % (value, sharing[0])
            continue
        target, source = configured_value(key, parsed_files)
        if target is None and key in recorded:
            target, source = recorded[key], 'the value recorded before this file changed it'
        if target is None:
            kept[key] = 'no other file sets it and no earlier value was recorded'
        elif same_value(live[key], target):
            kept[key] = 'already %s, as %s gives it' % (normalise_value(target), source)
        else:
            restores[key] = dict(before=normalise_value(live[key]), after=normalise_value(target), source=source)
    return restores, kept


def render_live_values(values):
    return ''.join('%s = %s\n' % (key, '(does not exist)' if value is None else normalise_value(value)) for key, value in values.items())


# -- the host --------------------------------------------------------------------------------------

class SysctlSettings(object):
    """Reads and writes the live settings under sysctl_root and the sysctl.d files (below
    config_root, '/' on a real host) for the sysctl_settings module."""

    def __init__(self, module, sysctl_root='/proc/sys', config_root='/'):
        self.module = module
        self.sysctl_root = sysctl_root
        self.config_root = config_root
        params = module.params
        self.path = os.path.normpath(params['path'])
        self.real_path = self.host_path(self.path)

    def host_path(self, path):
        return os.path.join(self.config_root, path.lstrip('/'))

    def fail(self, problems, **kwargs):
        self.module.fail_json(msg='; '.join(problems), problems=problems, **kwargs)

    # -- live values

    def proc_path(self, key):
        return os.path.join(self.sysctl_root, key_to_path(key))

    def read_live(self, key):
        """The live value of key, None when the setting does not exist."""
        path = self.proc_path(key)
        if not os.path.isfile(path):
            return None
        try:
            with open(path) as handle:
                return normalise_value(handle.read())
        except (IOError, OSError) as exc:
            self.fail(['cannot read sysctl %s from %s: %s' % (key, path, exc.strerror or exc)])

    def read_live_values(self, keys):
        return dict((key, self.read_live(key)) for key in keys)

    def live_writable(self, key):
        # access(2) reports a read-only /proc/sys (EROFS) and a setting the kernel keeps read-only.
        return os.access(self.proc_path(key), os.W_OK)

    def write_live(self, key, value):
        descriptor = os.open(self.proc_path(key), os.O_WRONLY)
        try:
            os.write(descriptor, (value + '\n').encode('utf-8'))
        finally:
            os.close(descriptor)

    def apply_writes(self, writes):
        """Write every planned value; when one cannot be written, put back all the others written and fail
        naming each, so that a failed run changes nothing."""
        written = []
        failures = []
        for key, change in writes.items():
            try:
                self.write_live(key, change['after'])
            except OSError as exc:
                failures.append(write_failure_message(key, change['before'], change['after'], exc))
            else:
                written.append(key)
        if failures:
            for key in reversed(written):
                try:
                    self.write_live(key, writes[key]['before'])
                except OSError:
                    failures.append('could not put sysctl %s back to %s' % (key, writes[key]['before']))
            self.fail(failures)
        after = self.read_live_values(writes)
        refused = ['sysctl %s is %s after writing %s: the kernel keeps another value' % (key, after[key], change['after'])
                   for key, change in writes.items() if after[key] is None or not same_value(after[key], change['after'])]
        if refused:
            self.fail(refused)

    def apply_restores(self, restores):
        """Write back each restored value; one that cannot be written is a warning, since the
        file is gone or going and the value was set from outside (a container's --sysctl)."""
        for key, change in list(restores.items()):
            try:
                self.write_live(key, change['after'])
            except OSError as exc:
                self.module.warn('cannot restore sysctl %s to %s (%s); it stays %s'
                                 % (key, change['after'], exc.strerror or exc, change['before']))
                del restores[key]

    # -- files

    def read_file(self):
        if os.path.isdir(self.real_path):
            self.fail(['path %s is a directory' % self.path])
        return read_text_or_none(self.real_path)

    def config_files(self):
        """[(path, parse_config result)] of every other sysctl configuration file, in the order they apply."""
        paths = []
        for directory in CONFIG_DIRS:
            try:
                names = os.listdir(self.host_path(directory))
            except OSError:
                continue
            paths.extend(os.path.join(directory, name) for name in names)
        if os.path.isfile(self.host_path(SYSCTL_CONF)):
            paths.append(SYSCTL_CONF)
        return [(path, parse_config(read_text_or_none(self.host_path(path)))) for path in ordered_config_files(paths, self.path)]

    def other_overlaynet_files(self, parsed_files):
        return [(path, parsed) for path, parsed in parsed_files if is_overlaynet_file(path, self.path)]

    def file_attributes_differ(self):
        info = os.stat(self.real_path)
        return stat.S_IMODE(info.st_mode) != 0o644 or (os.geteuid() == 0 and (info.st_uid, info.st_gid) != (0, 0))

    def write_file(self, text):
        directory = os.path.dirname(self.real_path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        write_private_file(self.real_path, text, mode=0o644)
        if os.geteuid() == 0:
            os.chown(self.real_path, 0, 0)

    def remove_file(self):
        try:
            os.remove(self.real_path)
        except OSError as exc:
            if os.path.lexists(self.real_path):
                self.fail(['cannot remove %s: %s' % (self.path, exc.strerror or exc)])

    # -- the run

    def validate(self):
        params = self.module.params
        problems = []
        problem = path_problem(params['path'])
        if problem:
            problems.append(problem)
        comment = params['comment']
        if comment is not None and ('\n' in comment or '\r' in comment):
            problems.append('comment must be one line')
        settings, settings_errors = settings_from_params(params['settings'], 'settings')
        live_settings, live_errors = settings_from_params(params['live_settings'], 'live_settings')
        problems.extend(settings_errors + live_errors)
        problems.extend('%s is in both settings and live_settings' % key for key in settings if key in live_settings)
        if problems:
            self.fail(problems)
        return settings, live_settings

    def run(self):
        settings, live_settings = self.validate()
        absent = self.module.params['state'] == 'absent'
        current_text = self.read_file()
        current = parse_config(current_text)
        if absent:
            settings, live_settings = {}, {}
        # What the file set before and no longer sets (all of it for state=absent) is restored.
        dropped = dict((key, value) for key, value in current['settings'].items()
                       if key not in settings and key not in live_settings and not key_problem(key))

        live = self.read_live_values(list(settings) + list(live_settings) + list(dropped))
        wanted = dict(settings)
        wanted.update((key, value) for key, value in live_settings.items() if live[key] is not None)
        writes = plan_writes(wanted, live)
        # Every problem is reported before anything is written; a write that fails anyway is undone.
        problems = settings_problems(live, dict((key, self.live_writable(key)) for key in writes), wanted)
        if problems:
            self.fail(problems)

        # Other files matter for restores and for the before-values of keys new to this file.
        need_other_files = dropped or any(key not in current['settings'] and key not in writes for key in settings)
        parsed_files = self.config_files() if need_other_files else []
        other_files = self.other_overlaynet_files(parsed_files)
        restores, kept = plan_restores(dropped, current['before'], live, other_files, parsed_files)
        if absent:
            new_text = None
        else:
            before = plan_before_values(settings, live, current['settings'], current['before'], other_files)
            new_text = render_config(settings, before, self.module.params['comment'])
        file_changed = new_text != current_text or (new_text is not None and self.file_attributes_differ())

        if not self.module.check_mode:
            self.apply_writes(writes)
            if new_text is not None and file_changed:
                self.write_file(new_text)
            self.apply_restores(restores)
            if new_text is None and file_changed:
                self.remove_file()

        changed_settings = dict(writes)
        changed_settings.update((key, dict(before=change['before'], after=change['after'])) for key, change in restores.items())
        result = dict(
            changed=bool(changed_settings) or file_changed,
            path=self.path,
            file_changed=file_changed,
            changed_settings=changed_settings,
            restored_settings=restores,
            kept_settings=kept,
            skipped_settings=[key for key in live_settings if live[key] is None],
        )
        if self.module._diff:
            result['diff'] = self.diff(current_text, new_text, live, changed_settings)
        return result

    def diff(self, current_text, new_text, live, changed_settings):
        after_live = dict(live)
        after_live.update((key, change['after']) for key, change in changed_settings.items())
        return [
            dict(before_header=self.path, after_header=self.path if new_text is not None else '%s (absent)' % self.path,
                 before=current_text or '', after=new_text or ''),
            dict(before_header='live values', after_header='live values',
                 before=render_live_values(live), after=render_live_values(after_live)),
        ]

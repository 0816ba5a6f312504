# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# What every system's apply module does with its systemd unit, whatever the daemon: run
# commands (their output scrubbed of secrets before it reaches a message), write a config
# file only after the daemon's own checker accepted it, daemon-reload, enable, start, restart
# or reload by what changed, wait for the unit with a bound, put the previous files back when
# the daemon does not come up on new ones (one file, or several a daemon reads together),
# remember what was applied (a fingerprint of what cannot be read back from the daemon), and
# take the unit and its files away (state=absent).
#
# A small class that takes the AnsibleModule, as community.crypto's backends do; the decisions
# (what changed, which action) stay in pure functions of each system's module_utils.

import hashlib
import json
import os
import shutil
import tempfile
import time

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import (
    ensure_parent_directory,
    read_text_or_none,
    write_private_file,
)

FINGERPRINT_LENGTH = 64
WAIT_TIMEOUT_SECONDS = 10.0
WAIT_POLL_SECONDS = 0.2
# `systemctl is-active` states (and ActiveState values) in which there is nothing to stop.
STOPPED_STATES = ('inactive', 'failed', 'unknown')


def fingerprint(data):
    """sha256 hex of the canonical JSON of data: what was applied, compared at the next run."""
    canonical = json.dumps(data, sort_keys=True, separators=(',', ':'), ensure_ascii=True)
    return hashlib.sha256(canonical.encode('ascii')).hexdigest()


def is_fingerprint(text):
    return len(text) == FINGERPRINT_LENGTH and all(char in '0123456789abcdef' for char in text)


def needs_stop(active_state):
    """Whether a unit in active_state must be stopped: it runs, is starting, or waits to be started again."""
    return active_state not in STOPPED_STATES


def existing_paths(paths):
    """The paths that exist (a dangling link too), each once, in their order: what state=absent removes."""
    existing = []
    for path in paths:
        if path not in existing and os.path.lexists(path):
            existing.append(path)
    return existing


def removal_diff(path):
    """The diff of a file that state=absent removes: its text before, nothing after."""
    return dict(before_header=path, after_header='%s (absent)' % path, before=read_text_or_none(path) or '', after='')


class SystemdService(object):
    """One systemd unit of an apply module.

    scrub: a function applied to every text from a command before it goes into a message
    (for example to replace keys the module knows), identity by default.
    """

    def __init__(self, module, unit, fingerprint_path=None, scrub=None):
        self.module = module
        self.unit = unit
        self.fingerprint_path = fingerprint_path
        self.scrub = scrub or (lambda text: text)
        self.systemctl = module.get_bin_path('systemctl', required=True)

    # -- messages and commands -----------------------------------------------------------------

    def clean(self, text):
        return self.scrub(to_native(text or '').strip())

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=self.clean(msg), **kwargs)

    def run(self, args, data=None, environ=None):
        """(rc, stdout, stderr) of args, with data on stdin and environ ({name: value}) added to
        the environment when given."""
        kwargs = {}
        if data is not None:
            kwargs.update(data=data, binary_data=False)
        if environ:
            kwargs['environ_update'] = environ
        return self.module.run_command(args, **kwargs)

    def run_or_fail(self, args, what, data=None):
        rc, stdout, stderr = self.run(args, data=data)
        if rc != 0:
            self.fail('%s failed (rc %d): %s' % (what, rc, self.clean(stderr) or '(no error output)'), rc=rc)
        return stdout

    # -- the unit ------------------------------------------------------------------------------

    def systemctl_or_fail(self, verb):
        self.run_or_fail([self.systemctl, verb, self.unit], 'systemctl %s %s' % (verb, self.unit))

    def daemon_reload(self):
        """systemctl daemon-reload (not in check mode), so a unit file written just before takes effect."""
        if not self.module.check_mode:
            self.run_or_fail([self.systemctl, 'daemon-reload'], 'systemctl daemon-reload')

    def is_active(self):
        return self.run([self.systemctl, 'is-active', self.unit])[0] == 0

    def active_state(self):
        """The unit's state as `systemctl is-active` prints it: active, reloading, activating,
        deactivating, inactive or failed (inactive also for a unit that does not exist)."""
        return self.run([self.systemctl, 'is-active', self.unit])[1].strip() or 'unknown'

    def is_enabled(self):
        return self.run([self.systemctl, 'is-enabled', self.unit])[1].strip() == 'enabled'

    def ensure_enabled(self, wanted):
        """Make the unit start at boot (wanted True) or not (False); None leaves it. Returns
        whether that changed (or would, in check mode)."""
        if wanted is None or self.is_enabled() == wanted:
            return False
        if not self.module.check_mode:
            self.systemctl_or_fail('enable' if wanted else 'disable')
        return True

    def wait_until(self, ready, timeout=WAIT_TIMEOUT_SECONDS):
        """Poll ready() until it is true; False after timeout seconds. Never a blind sleep."""
        deadline = time.monotonic() + timeout
        while True:
            if ready():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(WAIT_POLL_SECONDS)

    # -- what was applied -----------------------------------------------------------------------

    def read_fingerprint(self):
        """The fingerprint recorded at the last apply, or None (never recorded, or unreadable)."""
        if not self.fingerprint_path:
            return None
        text = read_text_or_none(self.fingerprint_path)
        text = (text or '').strip()
        return text if is_fingerprint(text) else None

    def write_fingerprint(self, value):
        try:
            ensure_parent_directory(self.fingerprint_path)
            write_private_file(self.fingerprint_path, value + '\n')
        except (IOError, OSError) as exc:
            self.fail('cannot record the applied configuration in %s: %s' % (self.fingerprint_path, to_native(exc.strerror or exc)))

    # -- files ----------------------------------------------------------------------------------

    def sync_file(self, path, text, check=None, mode=0o600):
        """Write text to path when it differs; returns a diff dict or None.

        check(temporary_path) runs the daemon's own checker on the new text (a file with the
        same name in a private temporary directory) and returns an error text or None; a text
        it refuses never replaces the file in place. Not written in check mode.
        """
        current = read_text_or_none(path)
        if current == text:
            return None
        if not self.module.check_mode:
            if check is not None:
                problem = self.check_text(os.path.basename(path), text, check)
                if problem:
                    self.fail('the new %s was refused by its checker, the file in place is unchanged: %s' % (path, self.clean(problem)))
            ensure_parent_directory(path)
            write_private_file(path, text, mode=mode)
        return dict(before_header=path, after_header=path, before=current or '', after=text)

    def restart_or_roll_back(self, path, text, ready, check=None, mode=0o600, timeout=WAIT_TIMEOUT_SECONDS, restart=None):
        """Put text in path (after check, as sync_file does), restart the unit and wait until ready().

        A daemon whose checker cannot catch everything (OpenVPN's parser misses what it checks
        only at start) may still refuse a new config when it starts. Then the previous text goes
        back (or the file goes, if there was none), the unit is restarted on it, and the run fails,
        saying whether the old config serves again: a config that fails never replaces a working
        one. Returns sync_file's diff (None when the text was already in place, and then nothing
        is restarted). In check mode nothing is written or restarted.

        restart(ready, timeout) restarts the unit and says how that went: True (ready), False (the
        daemon refused to start: roll back) or None (not refused, not ready within timeout, as a
        VPN client still reaching its server: the new text stays). restarted_and_ready by default.
        """
        previous = self.file_states([path])
        diff = self.sync_file(path, text, check=check, mode=mode)
        if diff is None or self.module.check_mode:
            return diff
        self.restart_or_restore(previous, ready, timeout=timeout, restart=restart, modes={path: mode})
        return diff

    # -- several files a daemon reads together ---------------------------------------------------

    def file_states(self, paths):
        """{path: its text, or None when it does not exist} of paths as they are now: what
        restore_files puts back."""
        return dict((path, read_text_or_none(path)) for path in paths)

    def put_file(self, path, text, mode=0o600):
        """Write text to path atomically (mode from the first byte); text None removes the file."""
        if text is None:
            self.remove_file(path)
            return
        try:
            ensure_parent_directory(path)
            write_private_file(path, text, mode=mode)
        except (IOError, OSError) as exc:
            self.fail('cannot write %s: %s' % (path, to_native(exc.strerror or exc)))

    def restore_files(self, previous, modes=None):
        """Put every file of previous (from file_states) back as it was: its old text, or gone
        when it did not exist. modes: {path: mode} of the files written back (0600 otherwise)."""
        for path in sorted(previous):
            self.put_file(path, previous[path], mode=(modes or {}).get(path, 0o600))

    def restart_or_restore(self, previous, ready, timeout=WAIT_TIMEOUT_SECONDS, restart=None, modes=None, status=None):
        """Restart the unit on the files changed since previous = file_states(paths) was taken
        and wait until ready(); returns restart's outcome when the daemon did not refuse them.

        When it refuses them (restart returns False), every file of previous goes back at once,
        as the daemon last ran on them: a config that names another file (a policy, a key) is only
        good together with it. Then the unit is restarted on them, or stopped when none of them
        existed before (a first install), and the run fails saying whether the old files serve
        again. restart: as for restart_or_roll_back. status(), when given, says why the daemon did
        not come up (its state, its last error); it is asked before anything is put back.
        """
        restart = restart or self.restarted_and_ready
        outcome = restart(ready, timeout)
        if outcome is not False:
            return outcome
        paths = sorted(previous)
        single = len(paths) == 1
        new = 'the new %s%s' % (' and '.join(paths), ' (%s)' % status() if status else '')
        self.restore_files(previous, modes)
        existed = [path for path in paths if previous[path] is not None]
        if not existed:
            self.run([self.systemctl, 'stop', self.unit])
            self.fail('%s did not start with %s; the %s removed and the unit stopped'
                      % (self.unit, new, 'file was' if single else 'files were'))
        if single:
            back, them = 'the previous file is back', 'it'
        else:
            back = 'the previous %s %s back' % (' and '.join(existed), 'is' if len(existed) == 1 else 'are')
            if len(existed) < len(paths):
                back += ' (%s, new in this run, removed)' % ' and '.join(path for path in paths if previous[path] is None)
            them = 'it' if len(existed) == 1 else 'them'
        outcome = restart(ready, timeout)
        if outcome is None:
            self.fail('%s did not start with %s; %s and the unit runs on %s, not ready yet' % (self.unit, new, back, them))
        if outcome:
            self.fail('%s did not start with %s; %s and %s again' % (self.unit, new, back, 'serves' if len(existed) == 1 else 'serve'))
        self.fail('%s did not start with %s, nor with the previous %s, which %s back in place'
                  % (self.unit, new, 'one' if single else 'files', 'is' if single else 'are'))
        return outcome

    def restarted_and_ready(self, ready, timeout=WAIT_TIMEOUT_SECONDS):
        """Restart the unit; whether it then became ready within timeout seconds."""
        rc = self.run([self.systemctl, 'restart', self.unit])[0]
        return rc == 0 and self.wait_until(lambda: self.is_active() and ready(), timeout)

    def check_text(self, file_name, text, check):
        temp_dir = tempfile.mkdtemp(prefix='overlaynet-check-')
        try:
            path = os.path.join(temp_dir, file_name)
            write_private_file(path, text)
            return check(path)
        finally:
            shutil.rmtree(temp_dir, ignore_errors=True)

    def remove(self, running, enabled, paths):
        """What state=absent does: stop the unit when it runs, disable it when enabled, then remove paths (see remove_path)."""
        if running:
            self.systemctl_or_fail('stop')
        if enabled:
            self.systemctl_or_fail('disable')
        for path in paths:
            self.remove_path(path)

    def remove_file(self, path):
        """Remove path; a file that is already gone is fine."""
        try:
            os.remove(path)
        except OSError as exc:
            if os.path.exists(path):
                self.fail('cannot remove %s: %s' % (path, to_native(exc.strerror or exc)))

    def remove_path(self, path):
        """Remove a file, a link or a directory with everything in it; one already gone is fine."""
        if os.path.isdir(path) and not os.path.islink(path):
            try:
                shutil.rmtree(path)
            except OSError as exc:
                self.fail('cannot remove %s: %s' % (path, to_native(exc.strerror or exc)))
        else:
            self.remove_file(path)

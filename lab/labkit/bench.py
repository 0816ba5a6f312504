# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the benches share: fresh lab hosts with their addresses, timed ansible-playbook runs
(wall-clock seconds, the full output kept in a log, the play recap parsed), and counts of the
podman calls and module runs a playbook made on each host."""
from __future__ import absolute_import, division, print_function

import collections
import json
import os
import re
import shutil
import sys
import time

from labkit.podman import run
from labkit.traffic import parse_recap

# The podman connection runs this instead of podman (ANSIBLE_PODMAN_EXECUTABLE): one line per
# call, its arguments, then podman itself. It costs one `sh` start per call, for every role alike.
PODMAN_WRAPPER = """#!/bin/sh
printf '%%s\\n' "$*" >> "$OVERLAYNET_BENCH_PODMAN_LOG"
exec %s "$@"
"""
# `podman exec HOST ... python3 .../AnsiballZ_NAME.py`: one module run on HOST.
MODULE_RUN = re.compile(r"python\S*\s+\S*/AnsiballZ_(\w+)\.py")

LAB = [sys.executable, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab.py")]


def make_workdir(root, output, name=None):
    """Make the bench's working directory (its playbooks, inventories and logs: build/bench, or
    build/bench/NAME) and output (where its report goes); the working directory."""
    workdir = os.path.join(root, "build", "bench", name) if name else os.path.join(root, "build", "bench")
    os.makedirs(workdir, exist_ok=True)
    os.makedirs(output, exist_ok=True)
    return workdir


def require_collection_link(parser, root):
    """Stop with parser's usage error unless Ansible finds overlaynet.vpn in the checkout root (make setup links it)."""
    link = os.path.join(root, "build", "collections", "ansible_collections", "overlaynet", "vpn")
    if os.path.realpath(link) != root:
        parser.error("%s does not point at this checkout; run `make setup` (or `make collection-link`)" % link)


def turn_order(contenders, run_index):
    """The contenders in the order of run run_index: the list turned by one place each run, so that no
    contender always meets the same state of the machine (two of them alternate)."""
    shift = run_index % len(contenders)
    return contenders[shift:] + contenders[:shift]


def write_json(path, data):
    """JSON is valid YAML: inventories and playbooks are written as JSON."""
    with open(path, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")


def fresh_hosts(hosts, inventory_path):
    """Remove the hosts, start them again from the lab image, write their inventory to
    inventory_path; {host: lab IPv4 address}."""
    run(LAB + ["down"] + list(hosts))
    run(LAB + ["up"] + list(hosts) + ["--inventory", inventory_path])
    with open(inventory_path) as handle:
        lab_hosts = json.load(handle)["all"]["children"]["lab"]["hosts"]
    return {host: lab_hosts[host]["lab_ipv4"] for host in hosts}


def timed_playbook(playbook, inventories, log_path, cwd, extra_env=None):
    """Run `ansible-playbook PLAYBOOK -i INVENTORY...` without colour; (seconds, recap) where
    recap is traffic.parse_recap of its output. The output (stdout then stderr) goes to
    log_path; a failed run prints its tail and stops the bench."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", **(extra_env or {}))
    command = ["ansible-playbook", playbook]
    for inventory in inventories:
        command += ["-i", inventory]
    started = time.monotonic()
    result = run(command, check=False, env=env, cwd=cwd)
    elapsed = time.monotonic() - started
    with open(log_path, "w") as handle:
        handle.write(result.stdout + result.stderr)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-6000:] + result.stderr[-2000:])
        raise SystemExit("bench: %s failed (log: %s)" % (playbook, log_path))
    return elapsed, parse_recap(result.stdout)


def write_podman_wrapper(workdir):
    """Write the podman call-logging wrapper into workdir; its path."""
    podman = shutil.which("podman")
    if not podman:
        raise SystemExit("bench: podman is not installed; run `make setup`")
    path = os.path.join(workdir, "podman-call-log")
    with open(path, "w") as handle:
        handle.write(PODMAN_WRAPPER % podman)
    os.chmod(path, 0o755)
    return path


def podman_call_log_env(wrapper, call_log, forks):
    """The environment (extra variables) of a playbook run whose podman calls go to call_log
    (emptied here), with that many forks."""
    open(call_log, "w").close()
    return {"ANSIBLE_FORKS": str(forks), "ANSIBLE_PODMAN_EXECUTABLE": wrapper, "OVERLAYNET_BENCH_PODMAN_LOG": call_log}


def parse_podman_calls(text, hosts):
    """{host: {'podman_calls': n, 'module_runs': n, 'modules': {name: n}}} from the wrapper's
    log, for the given hosts (calls naming other hosts are left out)."""
    counts = dict((host, {"podman_calls": 0, "module_runs": 0, "modules": collections.Counter()}) for host in hosts)
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        host = next((word for word in words[1:4] if word in counts), None)
        if host is None:
            continue
        counts[host]["podman_calls"] += 1
        match = MODULE_RUN.search(line) if words[0] == "exec" else None
        if match:
            counts[host]["module_runs"] += 1
            counts[host]["modules"][match.group(1)] += 1
    for host in counts:
        counts[host]["modules"] = dict(sorted(counts[host]["modules"].items()))
    return counts

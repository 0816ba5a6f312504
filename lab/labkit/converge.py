# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the converge benches share (bench/openvpn_converge.py, bench/tailnet_converge.py): one
server and N clients on fresh lab hosts per run, the converge and the rerun timed with their
task and module-run counts per host, side by side with a baseline role, the runs of every N
taking turns; the summaries, ratios, the parts of the report that are alike, and the
description of the machine and the commit measured."""
from __future__ import absolute_import, division, print_function

import datetime
import hashlib
import os
import platform
import re
import shutil
import sys

from labkit import guard
from labkit.bench import LAB, make_workdir, parse_podman_calls, podman_call_log_env, timed_playbook, turn_order, write_json, write_podman_wrapper
from labkit.podman import LabError, run
from labkit.provenance import commit_description, cpu_model
from labkit.summary import spread

# Lab hosts started per `lab.py up` call: lab.py gives a batch 60 s to boot.
UP_BATCH = 8
DEFAULT_FORKS = 32


def counted_playbook(playbook, inventories, log_path, wrapper, hosts, forks, cwd, env=None):
    """(seconds, recap, podman calls per host) of one ansible-playbook run, its podman calls logged by the wrapper.
    env: more environment variables of the run."""
    call_log = log_path[:-len(".log")] + "-podman.txt"
    extra_env = dict(env or {}, **podman_call_log_env(wrapper, call_log, forks))
    elapsed, recap = timed_playbook(playbook, inventories, log_path, cwd, extra_env)
    with open(call_log) as handle:
        return elapsed, recap, parse_podman_calls(handle.read(), hosts)


def task_count(counts):
    return sum(counts.get(key, 0) for key in ("ok", "changed", "skipped", "failed"))


def per_host(recap, calls, server, clients):
    """Tasks and module runs of the server, and the largest and smallest among the clients."""
    def host(name):
        return {"tasks": task_count(recap.get(name, {})), "module_runs": calls[name]["module_runs"],
                "podman_calls": calls[name]["podman_calls"]}
    client_rows = [host(name) for name in clients]
    return {
        "server": host(server),
        "client_max": dict((key, max(row[key] for row in client_rows)) for key in client_rows[0]),
        "client_min": dict((key, min(row[key] for row in client_rows)) for key in client_rows[0]),
        "server_modules": calls[server]["modules"],
        "client_modules": calls[clients[0]]["modules"],
    }


class Contender(object):
    """One role under test: its playbook, inventory writer (server, clients, controller state
    directory) -> inventory, lab image variant, host names, wait_ready(clients), which checks
    after the rerun that every client works (bounded polling), and more environment variables
    of its playbook runs (env)."""

    def __init__(self, label, playbook, inventory, variant, host_prefix, wait_ready, env=None):
        self.label, self.playbook, self.inventory, self.variant = label, playbook, inventory, variant
        self.host_prefix, self.wait_ready, self.env = host_prefix, wait_ready, env or {}

    def server(self):
        return self.host_prefix + "s"

    def clients(self, count):
        return ["%sc%02d" % (self.host_prefix, index) for index in range(1, count + 1)]

    def down(self, count):
        run(LAB + ["down", self.server()] + self.clients(count))

    def up(self, hosts, lab_inventory):
        """Start the hosts a batch at a time (the server with each batch): lab.py gives a batch
        60 s to boot, which 33 hosts booting at once on 2 cores do not make. Then one inventory
        of them all. Returns how many egress-guard probes the lab's self-checks sent."""
        server, clients = hosts[0], hosts[1:]
        variant = ["--variant", self.variant] if self.variant else []
        batches = [clients[start:start + UP_BATCH] for start in range(0, len(clients), UP_BATCH)]
        for batch in batches:
            try:
                run(LAB + ["up", server] + batch + variant)
            except LabError as exc:
                # Hosts already running are left as they are: a second `up` gives the slow
                # ones another 60 s; a real lab fault fails again.
                print("bench: %s; once more" % str(exc).splitlines()[-1], file=sys.stderr)
                run(LAB + ["up", server] + batch + variant)
        with open(lab_inventory, "w") as handle:
            handle.write(run(LAB + ["inventory"] + hosts).stdout)
        return len(batches)

    def run_once(self, count, run_index, workdir, wrapper, root):
        server, clients = self.server(), self.clients(count)
        hosts = [server] + clients
        lab_inventory = os.path.join(workdir, "%s-lab.json" % self.host_prefix)
        group_inventory = os.path.join(workdir, "%s-groups.json" % self.host_prefix)
        state_dir = os.path.join(workdir, "%s-controller" % self.host_prefix)
        log = os.path.join(workdir, "%s-n%d-run%d-%%s.log" % (self.host_prefix, count, run_index + 1))
        forks = max(DEFAULT_FORKS, len(hosts))
        self.down(count)
        # The controller's side starts empty too: a PKI or profiles left by an earlier run
        # would turn the converge into a partial rerun.
        shutil.rmtree(state_dir, ignore_errors=True)
        os.makedirs(state_dir)
        dropped_before = guard.dropped_packets() or 0
        probes = 0
        try:
            probes = self.up(hosts, lab_inventory)
            write_json(group_inventory, self.inventory(server, clients, state_dir))
            inventories = [lab_inventory, group_inventory]
            converge_s, converge_recap, converge_calls = counted_playbook(
                self.playbook, inventories, log % "converge", wrapper, hosts, forks, root, self.env)
            rerun_s, rerun_recap, rerun_calls = counted_playbook(
                self.playbook, inventories, log % "rerun", wrapper, hosts, forks, root, self.env)
            self.wait_ready(clients)
        finally:
            self.down(count)
        result = {
            "converge": converge_s, "rerun": rerun_s,
            "changed_on_rerun": sum(counts.get("changed", 0) for counts in rerun_recap.values()),
            "converge_counts": per_host(converge_recap, converge_calls, server, clients),
            "rerun_counts": per_host(rerun_recap, rerun_calls, server, clients),
            # Packets the lab's egress guard dropped during this run, less the self-checks' own
            # probes: anything left came from some lab host (other users of the lab included).
            "guard_drops_besides_probes": (guard.dropped_packets() or 0) - dropped_before - probes,
        }
        print("bench: %s N=%d run %d: converge %.1f s, rerun %.1f s, rerun changed=%d; server tasks %d/%d, module "
              "runs %d/%d; client tasks %d/%d, module runs %d/%d (converge/rerun)" % (
                  self.label, count, run_index + 1, converge_s, rerun_s, result["changed_on_rerun"],
                  result["converge_counts"]["server"]["tasks"], result["rerun_counts"]["server"]["tasks"],
                  result["converge_counts"]["server"]["module_runs"], result["rerun_counts"]["server"]["module_runs"],
                  result["converge_counts"]["client_max"]["tasks"], result["rerun_counts"]["client_max"]["tasks"],
                  result["converge_counts"]["client_max"]["module_runs"],
                  result["rerun_counts"]["client_max"]["module_runs"]), file=sys.stderr)
        return result


def prepare(root, output):
    """(workdir, podman wrapper, machine description) of a bench run that reports into output; makes
    build/bench (the playbooks, inventories and logs) and output."""
    workdir = make_workdir(root, output)
    return workdir, write_podman_wrapper(workdir), machine_description()


def run_all(contenders, runs_by_count, workdir, wrapper, root, samples_path, commit, client_noun="client"):
    """The summary rows of every contender for every N, from runs_by_count [(N, runs), ...] in that
    order. After each run every sample so far goes to samples_path (its N under the key
    client_noun + "s"), for a look at a bench that stops half-way. client_noun: what the report
    calls a client ("client", "node")."""
    rows = []
    for count, runs in runs_by_count:
        samples = dict((contender.label, []) for contender in contenders)
        for run_index in range(runs):
            for contender in turn_order(contenders, run_index):
                try:
                    samples[contender.label].append(contender.run_once(count, run_index, workdir, wrapper, root))
                    write_json(samples_path, {client_noun + "s": count, "commit": commit, "date": datetime.date.today().isoformat(),
                                              "samples": samples})
                except LabError as exc:
                    raise SystemExit("bench: %s, %d %ss, run %d: %s" % (contender.label, count, client_noun, run_index + 1, exc))
        rows.extend(summarise(contender.label, count, samples[contender.label]) for contender in contenders)
    return rows


def check_rerun_unchanged(rows, label, workdir, client_noun="client"):
    """Stop the bench when a rerun of label reported changes: a rerun of ours must change nothing.
    The report is written before, so the numbers are kept; the logs are in workdir."""
    changed = [row for row in rows if row["label"] == label and row["changed_on_rerun"]]
    if changed:
        raise SystemExit("bench: the rerun of ours reported changes (%s); logs in %s" % (
            ", ".join("%d %ss: changed=%d" % (row["clients"], client_noun, row["changed_on_rerun"]) for row in changed), workdir))


# --- summary and report ----------------------------------------------------------------------

def summarise(label, count, samples):
    def largest(phase, who, key):
        return max(sample[phase + "_counts"][who][key] for sample in samples)

    counts = {}
    for phase in ("converge", "rerun"):
        for who in ("server", "client_max"):
            for key in ("tasks", "module_runs", "podman_calls"):
                counts["%s_%s_%s" % (phase, who, key)] = largest(phase, who, key)
    return {
        "label": label, "clients": count, "hosts": count + 1, "runs": len(samples),
        "converge": spread([sample["converge"] for sample in samples]),
        "rerun": spread([sample["rerun"] for sample in samples]),
        "changed_on_rerun": max(sample["changed_on_rerun"] for sample in samples),
        "guard_drops_besides_probes": sum(sample["guard_drops_besides_probes"] for sample in samples),
        "counts": counts,
        "samples": samples,
    }


def seconds_per_client(rows, label, phase):
    """Seconds one more client adds to the phase, between the smallest and the largest N."""
    own = sorted((row for row in rows if row["label"] == label), key=lambda row: row["clients"])
    if len(own) < 2 or own[-1]["clients"] == own[0]["clients"]:
        return None
    return (own[-1][phase]["median"] - own[0][phase]["median"]) / (own[-1]["clients"] - own[0]["clients"])


def seconds_per_client_by_label(rows, labels):
    """{label: {"converge": s, "rerun": s}} of seconds_per_client, for the labels measured with more than one N."""
    result = {}
    for label in labels:
        converge, rerun = (seconds_per_client(rows, label, phase) for phase in ("converge", "rerun"))
        if converge is not None:
            result[label] = {"converge": converge, "rerun": rerun}
    return result


def ratios(rows, ours_label, baseline_label, targets):
    """Per N, ours / baseline of the median converge and rerun times, and whether they meet
    targets {converge_ratio, rerun_ratio}."""
    by_key = dict(((row["label"], row["clients"]), row) for row in rows)
    result = []
    for count in sorted(set(row["clients"] for row in rows)):
        ours, base = by_key.get((ours_label, count)), by_key.get((baseline_label, count))
        if not ours or not base:
            continue
        converge = ours["converge"]["median"] / base["converge"]["median"]
        rerun = ours["rerun"]["median"] / base["rerun"]["median"]
        result.append({"clients": count, "converge": converge, "rerun": rerun,
                       "converge_target_met": converge <= targets["converge_ratio"],
                       "rerun_target_met": rerun <= targets["rerun_ratio"]})
    return result


def tree_description(repo_dir):
    """The commit measured; for a tree with uncommitted changes also a digest of them (the diff
    against HEAD and the untracked files), so that two reports can tell whether they measured
    the same code."""
    description = commit_description(repo_dir)
    if "uncommitted" not in description:
        return description
    digest = hashlib.sha256(run(["git", "-C", repo_dir, "diff", "HEAD", "--binary"]).stdout.encode())
    untracked = run(["git", "-C", repo_dir, "ls-files", "-z", "--others", "--exclude-standard"]).stdout.split("\0")
    for path in sorted(name for name in untracked if name):
        digest.update(path.encode() + b"\0")
        with open(os.path.join(repo_dir, path), "rb") as handle:
            digest.update(handle.read())
    return "%s (changes sha256 %s)" % (description, digest.hexdigest()[:12])


def machine_description():
    ansible_core = run(["ansible-playbook", "--version"], check=False).stdout.splitlines()
    podman = run(["podman", "--version"], check=False).stdout.strip()
    return {"host": platform.node(), "cores": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release(),
            "python": platform.python_version(),
            "ansible_core": (re.findall(r"core ([\d.]+)", ansible_core[0]) or ["unknown"])[0] if ansible_core else "unknown",
            "podman": podman.replace("podman version ", "") or "unknown",
            "load_average_at_start": os.getloadavg()}


def modules_text(modules):
    return ", ".join("%s %d" % item for item in sorted(modules.items(), key=lambda item: (-item[1], item[0]))) or "none"


def measured_sentence(report):
    """The first sentence of a converge report: when, on what machine and tools, and the commit measured."""
    machine = report["machine"]
    return ("Measured %s on %s (%d cores, %s), kernel %s; Python %s, ansible-core %s, podman %s; load average %.2f at the "
            "start; overlaynet.vpn %s." % (
                report["date"], machine["host"], machine["cores"], machine["cpu"], machine["kernel"], machine["python"],
                machine["ansible_core"], machine["podman"], machine["load_average_at_start"][0], report["commit"]))


def module_run_lines(rows, client_noun="client"):
    """Markdown list items: per role, of its first run with its largest N, the module runs by module of
    the server and of a client, converge and rerun."""
    lines = []
    for row in rows:
        if row["clients"] != max(r["clients"] for r in rows if r["label"] == row["label"]):
            continue
        sample = row["samples"][0]
        for phase in ("converge", "rerun"):
            counts = sample[phase + "_counts"]
            lines.append("- %s, %d %ss, %s: server %s; a %s %s" % (
                row["label"], row["clients"], client_noun, phase, modules_text(counts["server_modules"]), client_noun,
                modules_text(counts["client_modules"])))
    return lines

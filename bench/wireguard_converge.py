# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time a WireGuard full-mesh converge and rerun on N fresh lab hosts.

For each N and each run: start N fresh lab hosts, time `site.yml` (converge), time it
again (rerun, which must report 0 changed), check that every host has N-1 peers with a
recent handshake, then remove the hosts. Reports medians, min/max and tasks per host as a
Markdown table. Optionally runs a baseline role on the same kind of hosts in the same
script run (--baseline-playbook), so ratios compare like with like.
"""
from __future__ import absolute_import, division, print_function

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = [sys.executable, os.path.join(ROOT, "lab", "lab.py")]
RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")

MESH_VARS = {
    "wireguard_networks": [{
        "name": "mesh",
        "interface": "wg0",
        "address_pools": ["10.77.0.0/22", "fd77:77::/64"],
        "persistent_keepalive": 25,
    }],
}


def run(args, **kwargs):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kwargs)


def write_group_inventory(path, hosts):
    inventory = {"all": {"children": {"wireguard": {"children": {"mesh": {"hosts": {h: {} for h in hosts}}}}},
                         "vars": MESH_VARS}}
    with open(path, "w") as handle:
        json.dump(inventory, handle, indent=2)


def timed_playbook(playbook, inventories, extra_env=None):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    env.update(extra_env or {})
    command = ["ansible-playbook", playbook]
    for inventory in inventories:
        command += ["-i", inventory]
    started = time.monotonic()
    result = subprocess.run(command, text=True, capture_output=True, env=env, cwd=ROOT, check=False)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-2000:])
        raise SystemExit("bench: %s failed" % playbook)
    recap = {}
    in_recap = False
    for line in result.stdout.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
        match = RECAP_LINE.match(line.strip()) if in_recap else None
        if match:
            recap[match.group("host")] = {k: int(v) for k, v in (p.split("=") for p in match.group("counts").split())}
    return elapsed, recap


def check_mesh(hosts, interface):
    """Every host lists N-1 peers, each with a handshake (the mesh really formed)."""
    for host in hosts:
        output = run(["podman", "exec", host, "wg", "show", interface, "latest-handshakes"]).stdout
        handshakes = [int(line.split("\t")[1]) for line in output.splitlines() if line.strip()]
        if len(handshakes) != len(hosts) - 1:
            raise SystemExit("bench: %s has %d peers, expected %d" % (host, len(handshakes), len(hosts) - 1))


def wait_for_handshakes(hosts, interface, timeout=60):
    deadline = time.monotonic() + timeout
    for host in hosts:
        for peer_line in run(["podman", "exec", host, "wg", "show", interface, "allowed-ips"]).stdout.splitlines():
            address = peer_line.split("\t")[1].split(",")[0].split("/")[0]
            while subprocess.run(["podman", "exec", host, "ping", "-c", "1", "-W", "1", address],
                                 capture_output=True, check=False).returncode != 0:
                if time.monotonic() > deadline:
                    raise SystemExit("bench: %s cannot reach %s through the tunnel" % (host, address))


def bench_one(label, playbook, count, runs, workdir, prefix, extra_inventory_writer, interface):
    results = []
    hosts = ["%s%02d" % (prefix, i) for i in range(1, count + 1)]
    for run_index in range(runs):
        lab_inventory = os.path.join(workdir, "%s-lab.json" % prefix)
        group_inventory = os.path.join(workdir, "%s-groups.json" % prefix)
        subprocess.run(LAB + ["down"] + hosts, check=True, capture_output=True)
        run(LAB + ["up"] + hosts + ["--inventory", lab_inventory])
        extra_inventory_writer(group_inventory, hosts)
        converge_s, converge_recap = timed_playbook(playbook, [lab_inventory, group_inventory])
        rerun_s, rerun_recap = timed_playbook(playbook, [lab_inventory, group_inventory])
        check_mesh(hosts, interface)
        wait_for_handshakes(hosts, interface)
        changed_on_rerun = sum(counts["changed"] for counts in rerun_recap.values())
        tasks_per_host = max(sum(counts[k] for k in ("ok", "changed", "skipped", "failed")) for counts in converge_recap.values())
        results.append({"converge": converge_s, "rerun": rerun_s, "changed_on_rerun": changed_on_rerun,
                        "tasks_per_host": tasks_per_host})
        print("bench: %s N=%d run %d: converge %.1f s, rerun %.1f s, rerun changed=%d, tasks/host %d" % (
            label, count, run_index + 1, converge_s, rerun_s, changed_on_rerun, tasks_per_host), file=sys.stderr)
    subprocess.run(LAB + ["down"] + hosts, check=True, capture_output=True)
    return results


def summarise(label, count, results):
    converge = [r["converge"] for r in results]
    rerun = [r["rerun"] for r in results]
    return {
        "label": label, "hosts": count, "runs": len(results),
        "converge_median": statistics.median(converge), "converge_min": min(converge), "converge_max": max(converge),
        "rerun_median": statistics.median(rerun), "rerun_min": min(rerun), "rerun_max": max(rerun),
        "tasks_per_host": max(r["tasks_per_host"] for r in results),
        "changed_on_rerun": max(r["changed_on_rerun"] for r in results),
    }


def markdown(rows, baseline_rows):
    machine = "%s, %d cores, kernel %s, Python %s" % (
        platform.node(), os.cpu_count(), platform.release(), platform.python_version())
    lines = [
        "# WireGuard full-mesh converge and rerun",
        "",
        "Measured %s on %s." % (datetime.date.today().isoformat(), machine),
        "Fresh lab hosts (podman, systemd, packages pre-installed, userspace WireGuard) for every run;",
        "`site.yml` with forks >= N; times are wall-clock seconds of the whole `ansible-playbook` run.",
        "",
        "| role | hosts | runs | converge median (min–max) | rerun median (min–max) | rerun changed | tasks per host |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows + baseline_rows:
        lines.append("| %s | %d | %d | %.1f (%.1f–%.1f) | %.1f (%.1f–%.1f) | %d | %d |" % (
            row["label"], row["hosts"], row["runs"], row["converge_median"], row["converge_min"], row["converge_max"],
            row["rerun_median"], row["rerun_min"], row["rerun_max"], row["changed_on_rerun"], row["tasks_per_host"]))
    if baseline_rows:
        lines += ["", "| hosts | converge ratio (ours / baseline) | rerun ratio (ours / baseline) |", "|---|---|---|"]
        for row in rows:
            for base in baseline_rows:
                if base["hosts"] == row["hosts"]:
                    lines.append("| %d | %.2f | %.2f |" % (row["hosts"], row["converge_median"] / base["converge_median"],
                                                           row["rerun_median"] / base["rerun_median"]))
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results"))
    parser.add_argument("--baseline-playbook", help="playbook applying another WireGuard role to group `mesh`")
    parser.add_argument("--baseline-inventory-script",
                        help="executable writing that role's group inventory: SCRIPT PATH HOST...")
    args = parser.parse_args()
    workdir = os.path.join(ROOT, "build", "bench")
    os.makedirs(workdir, exist_ok=True)
    os.makedirs(args.output, exist_ok=True)
    rows, baseline_rows = [], []
    for count in args.hosts:
        results = bench_one("overlaynet.vpn.wireguard", os.path.join(ROOT, "site.yml"), count, args.runs, workdir,
                            "bench", write_group_inventory, "wg0")
        rows.append(summarise("overlaynet.vpn.wireguard", count, results))
        if args.baseline_playbook:
            def baseline_writer(path, hosts):
                run([args.baseline_inventory_script, path] + hosts)
            results = bench_one("baseline", args.baseline_playbook, count, args.runs, workdir, "base",
                                baseline_writer, "wg0")
            baseline_rows.append(summarise("baseline", count, results))
    report = markdown(rows, baseline_rows)
    path = os.path.join(args.output, "wireguard-converge.md")
    with open(path, "w") as handle:
        handle.write(report)
    print(report)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time a WireGuard full-mesh converge and rerun on N fresh lab hosts.

For each N and each run: start N fresh lab hosts, time `site.yml` (converge), time it
again (rerun, which must report 0 changed), check that every host has N-1 peers and
reaches each of them through the tunnel, then remove the hosts. Reports medians, min/max
and tasks per host as a Markdown table (bench/results/wireguard-converge.md).

Side by side with a baseline (--baseline-role-dir): the most-used public WireGuard role,
githubixx/ansible-role-wireguard, runs in the same script run on the same kind of lab
hosts, each run right after (or before, alternating) ours, and the report gains the
ratios ours / baseline (bench/results/wireguard-converge-baseline.md). That role is
GPL-3.0-or-later and not part of this repository: get a checkout first, e.g.

    git clone --depth 1 https://github.com/githubixx/ansible-role-wireguard build/baseline-role
    # or from a local mirror (a bare git directory):
    mkdir -p build/baseline-role && git --git-dir=MIRROR archive HEAD | tar -x -C build/baseline-role

    python bench/wireguard_converge.py --hosts 4 8 --runs 3 --baseline-role-dir build/baseline-role

(`make bench-baseline` does both; BASELINE_ROLE_REPO=URL-or-path picks the source.)
Like ours, the baseline runs with its packages pre-installed: its hosts come from the lab
image variant `baseline` (lab.py up --variant baseline), which adds Debian's `wireguard`
metapackage (with a stand-in for the kernel's `wireguard-modules`, which these hosts lack),
lsb-release (its Debian tasks read the lsb fact, which ansible-core 2.19 refuses to read
when lsb_release is missing) and a wg-quick@.service drop-in naming wireguard-go, the
userspace implementation ours also runs here. The role is told not to refresh the apt
lists and not to load the kernel module; its inventory (baseline_inventory below) gives
every host the same dual-stack addresses, endpoint and keepalive as ours. Playbook,
inventories, every ansible-playbook log and the samples (JSON) go to build/bench.
"""
from __future__ import absolute_import, division, print_function

import argparse
import datetime
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lab"))

from labkit import traffic, wireguard  # noqa: E402  (after the path is set)
from labkit.bench import LAB, make_workdir, timed_playbook, turn_order, write_json  # noqa: E402
from labkit.podman import run  # noqa: E402
from labkit.provenance import commit_description, role_version  # noqa: E402

OURS_LABEL = "overlaynet.vpn.wireguard"
BASELINE_LABEL = "githubixx/ansible-role-wireguard"
BASELINE_VARIANT = "baseline"
INTERFACE = "wg0"
KEEPALIVE = 25

MESH_VARS = {
    "wireguard_networks": [{
        "name": "mesh",
        "interface": INTERFACE,
        "address_pools": ["10.77.0.0/22", "fd77:77::/64"],
        "persistent_keepalive": KEEPALIVE,
    }],
}

# Group-wide settings for the baseline role: packages are pre-installed (no apt refresh),
# the hosts cannot load a WireGuard kernel module (wg-quick starts wireguard-go instead).
BASELINE_VARS = {
    "wireguard_interface": INTERFACE,
    "wireguard_update_cache": False,
    "wireguard_install_kernel_module": False,
    "wireguard_persistent_keepalive": KEEPALIVE,
}


def ours_inventory(hosts):
    return {"all": {"children": {"wireguard": {"children": {"mesh": {"hosts": {h: {} for h in hosts}}}}},
                    "vars": MESH_VARS}}


def baseline_inventory(hosts):
    """The baseline role's inventory: its play targets group `vpn` and peers every play host
    with every other. It needs an address per host (dual stack like ours, from the same
    pools) and an endpoint per host (the lab host name, as ours uses ansible_host). The
    AllowedIPs are given explicitly because the role would otherwise derive them with
    ansible.utils.ipv4/ipv6, which need the netaddr library on the controller."""
    host_vars = {}
    for index, host in enumerate(hosts, start=1):
        ipv4, ipv6 = "10.77.0.%d" % index, "fd77:77::%x" % index
        host_vars[host] = {
            "wireguard_addresses": ["%s/22" % ipv4, "%s/64" % ipv6],
            "wireguard_allowed_ips": "%s/32, %s/128" % (ipv4, ipv6),
            "wireguard_endpoint": host,
        }
    return {"all": {"children": {"vpn": {"hosts": host_vars}}, "vars": BASELINE_VARS}}


def baseline_playbook(role_dir):
    # The role's own first task gathers facts, so the play does not (as site.yml does not).
    return [{"name": "Baseline: githubixx/ansible-role-wireguard on every host of group vpn",
             "hosts": "vpn", "gather_facts": False, "roles": [{"role": role_dir}]}]


def wait_for_tunnels(hosts, interface, timeout=60):
    """Every host pings an address of every peer through the tunnel, all within timeout seconds."""
    deadline = time.monotonic() + timeout
    for host in hosts:
        for peer in wireguard.peers(host, interface).values():
            address = peer["allowed_ips"][0].split("/")[0]
            traffic.wait_for_reply(host, address, timeout=max(0.0, deadline - time.monotonic()))


def check_mesh(hosts, interface):
    """Every host lists N-1 peers, each with a handshake (the mesh really formed)."""
    for host in hosts:
        handshakes = [peer["latest_handshake"] for peer in wireguard.peers(host, interface).values()]
        if len(handshakes) != len(hosts) - 1:
            raise SystemExit("bench: %s has %d peers, expected %d" % (host, len(handshakes), len(hosts) - 1))
        if 0 in handshakes:
            raise SystemExit("bench: %s has a peer without a handshake" % host)


def tasks_per_host(recap):
    return max(sum(counts.get(k, 0) for k in ("ok", "changed", "skipped", "failed")) for counts in recap.values())


class Contender(object):
    """One role under test: its playbook, inventory writer, lab image variant and host names."""

    def __init__(self, label, playbook, inventory, variant, host_prefix):
        self.label, self.playbook, self.inventory, self.variant = label, playbook, inventory, variant
        self.host_prefix = host_prefix

    def hosts(self, count):
        return ["%s%02d" % (self.host_prefix, i) for i in range(1, count + 1)]

    def down(self, count):
        run(LAB + ["down"] + self.hosts(count))

    def run_once(self, count, run_index, workdir):
        hosts = self.hosts(count)
        lab_inventory = os.path.join(workdir, "%s-lab.json" % self.host_prefix)
        group_inventory = os.path.join(workdir, "%s-groups.json" % self.host_prefix)
        log = os.path.join(workdir, "%s-n%d-run%d-%%s.log" % (self.host_prefix, count, run_index + 1))
        self.down(count)
        run(LAB + ["up"] + hosts + ["--inventory", lab_inventory] + (["--variant", self.variant] if self.variant else []))
        try:
            write_json(group_inventory, self.inventory(hosts))
            inventories = [lab_inventory, group_inventory]
            converge_s, converge_recap = timed_playbook(self.playbook, inventories, log % "converge", ROOT)
            rerun_s, rerun_recap = timed_playbook(self.playbook, inventories, log % "rerun", ROOT)
            wait_for_tunnels(hosts, INTERFACE)
            check_mesh(hosts, INTERFACE)
        finally:
            self.down(count)
        result = {"converge": converge_s, "rerun": rerun_s,
                  "changed_on_rerun": sum(counts["changed"] for counts in rerun_recap.values()),
                  "tasks_per_host": tasks_per_host(converge_recap),
                  "tasks_per_host_rerun": tasks_per_host(rerun_recap)}
        print("bench: %s N=%d run %d: converge %.1f s, rerun %.1f s, rerun changed=%d, tasks/host %d (rerun %d)" % (
            self.label, count, run_index + 1, converge_s, rerun_s, result["changed_on_rerun"],
            result["tasks_per_host"], result["tasks_per_host_rerun"]), file=sys.stderr)
        return result


def summarise(label, count, results):
    converge = [r["converge"] for r in results]
    rerun = [r["rerun"] for r in results]
    return {
        "label": label, "hosts": count, "runs": len(results),
        "converge_median": statistics.median(converge), "converge_min": min(converge), "converge_max": max(converge),
        "rerun_median": statistics.median(rerun), "rerun_min": min(rerun), "rerun_max": max(rerun),
        "tasks_per_host": max(r["tasks_per_host"] for r in results),
        "tasks_per_host_rerun": max(r["tasks_per_host_rerun"] for r in results),
        "changed_on_rerun": max(r["changed_on_rerun"] for r in results),
        "samples": results,
    }


def markdown(rows, baseline_rows, baseline_version=None):
    machine = "%s, %d cores, kernel %s, Python %s" % (
        platform.node(), os.cpu_count(), platform.release(), platform.python_version())
    lines = [
        "# WireGuard full-mesh converge and rerun" + (": side by side with a baseline" if baseline_rows else ""),
        "",
        "Measured %s on %s, overlaynet.vpn %s." % (datetime.date.today().isoformat(), machine, commit_description(ROOT)),
        "Fresh lab hosts (podman, systemd, packages pre-installed, userspace WireGuard) for every run;",
        "`site.yml` with forks >= N; times are wall-clock seconds of the whole `ansible-playbook` run.",
    ]
    if baseline_rows:
        lines += [
            "",
            "Baseline: [githubixx/ansible-role-wireguard](https://github.com/githubixx/ansible-role-wireguard)",
            "(%s), in the same script run, each of its runs next to one of ours (alternating which goes" % baseline_version,
            "first), on hosts of the lab image variant `baseline`: the default image plus Debian's `wireguard`",
            "metapackage, **pre-installed** (with a stand-in package providing `wireguard-modules`), `lsb-release`",
            "(the role's Debian tasks read the lsb fact) and a `wg-quick@.service` drop-in naming wireguard-go,",
            "the userspace implementation ours runs here too.",
            "It ran with **apt refresh off** (`wireguard_update_cache: false`) and",
            "`wireguard_install_kernel_module: false`, from a play on group `vpn` without fact gathering (the",
            "role's first task gathers facts); same dual-stack pools, keepalive and endpoints (host names) as ours.",
        ]
    lines += [
        "",
        "| role | hosts | runs | converge median (min–max) | rerun median (min–max) | rerun changed |"
        " tasks per host (converge / rerun) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows + baseline_rows:
        lines.append("| %s | %d | %d | %.1f (%.1f–%.1f) | %.1f (%.1f–%.1f) | %d | %d / %d |" % (
            row["label"], row["hosts"], row["runs"], row["converge_median"], row["converge_min"], row["converge_max"],
            row["rerun_median"], row["rerun_min"], row["rerun_max"], row["changed_on_rerun"], row["tasks_per_host"],
            row["tasks_per_host_rerun"]))
    if baseline_rows:
        lines += ["", "| hosts | converge ratio (ours / baseline) | rerun ratio (ours / baseline) |"
                  " tasks per host, converge (ours / baseline) | tasks per host, rerun (ours / baseline) |",
                  "|---|---|---|---|---|"]
        for row in rows:
            for base in baseline_rows:
                if base["hosts"] == row["hosts"]:
                    lines.append("| %d | %.2f | %.2f | %d / %d | %d / %d |" % (
                        row["hosts"], row["converge_median"] / base["converge_median"],
                        row["rerun_median"] / base["rerun_median"], row["tasks_per_host"], base["tasks_per_host"],
                        row["tasks_per_host_rerun"], base["tasks_per_host_rerun"]))
    lines += [
        "",
        "\"tasks per host\" is the largest per-host count of task results in the play recap (ok + changed +",
        "skipped + failed; local `set_fact`, `debug` and `run_once` steps and handlers included).",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results"),
                        help="directory for wireguard-converge.md (with a baseline: wireguard-converge-baseline.md)")
    parser.add_argument("--baseline-role-dir",
                        help="a checkout of githubixx/ansible-role-wireguard to run side by side (see above)")
    parser.add_argument("--host-prefix", default="",
                        help="prefix of the lab host names (HOST_PREFIXbenchNN, HOST_PREFIXbaseNN)")
    args = parser.parse_args()
    if any(count < 2 for count in args.hosts) or args.runs < 1:
        parser.error("--hosts needs 2 or more hosts per mesh, --runs at least 1")
    workdir = make_workdir(ROOT, args.output)

    ours = Contender(OURS_LABEL, os.path.join(ROOT, "site.yml"), ours_inventory, None, args.host_prefix + "bench")
    contenders = [ours]
    baseline_version = None
    if args.baseline_role_dir:
        role_dir = os.path.abspath(args.baseline_role_dir)
        if not os.path.isfile(os.path.join(role_dir, "tasks", "main.yml")):
            parser.error("--baseline-role-dir %s holds no role (tasks/main.yml); see --help for how to get it"
                         % role_dir)
        baseline_version = role_version(role_dir)
        playbook = os.path.join(workdir, "baseline-playbook.yml")
        write_json(playbook, baseline_playbook(role_dir))
        run(LAB + ["image", "--variant", BASELINE_VARIANT])
        contenders.append(Contender(BASELINE_LABEL, playbook, baseline_inventory, BASELINE_VARIANT,
                                    args.host_prefix + "base"))

    rows = {c.label: [] for c in contenders}
    for count in args.hosts:
        results = {c.label: [] for c in contenders}
        for run_index in range(args.runs):
            for contender in turn_order(contenders, run_index):
                results[contender.label].append(contender.run_once(count, run_index, workdir))
        for contender in contenders:
            rows[contender.label].append(summarise(contender.label, count, results[contender.label]))

    baseline_rows = rows.get(BASELINE_LABEL, [])
    report = markdown(rows[OURS_LABEL], baseline_rows, baseline_version)
    name = "wireguard-converge-baseline" if baseline_rows else "wireguard-converge"
    with open(os.path.join(args.output, name + ".md"), "w") as handle:
        handle.write(report)
    # Every sample, for a closer look (not part of the results in git).
    write_json(os.path.join(workdir, name + ".json"),
               {"baseline_version": baseline_version, "rows": rows[OURS_LABEL] + baseline_rows})
    print(report)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time an OpenVPN converge and rerun: one server and N clients on fresh lab hosts.

For each N and each run: start 1 + N fresh lab hosts, time `site.yml` (converge), time it
again (rerun, which must report 0 changed), check that every client has its tunnel (it
routes the server's tunnel address through its tun device and gets a ping answer from it,
bounded polling), then remove the hosts. The controller's side (PKI, fetched profiles) is
emptied before each run, so every converge starts from nothing, like the hosts.

Ours: `site.yml` with an inventory of one server in group `openvpn_servers` (one instance,
`bench`: udp 1194, pools 10.80.0.0/24 and fd00:80::/64, everything else at its default)
and the N clients in group `openvpn_clients`, each with one connection to it.

Side by side with a baseline (--baseline-role-dir): the public role kyl191/ansible-role-openvpn
runs in the same script run on the same kind of lab hosts, each of its runs right after (or
before, alternating) one of ours, and the report gains the ratios ours / baseline. That role
is MIT-licensed and not part of this repository: `make bench-openvpn-converge` clones it into
build/openvpn-baseline-role at the commit the results name (OPENVPN_BASELINE_ROLE_REPO may be a
local mirror), then runs

    python bench/openvpn_converge.py --clients 8 32 --runs 3 --baseline-role-dir build/openvpn-baseline-role

What a user of that role does to get the same result (baseline_playbook below): the role on
the server with the N clients in `openvpn_clients` (it makes the CA, the server's and every
client's key and certificate on the server with openssl and fetches one inline .ovpn profile
per client to the controller), then a play of their own on the clients that installs each
fetched profile as /etc/openvpn/client/SERVER.conf (0600) and starts openvpn-client@SERVER,
restarting it when the profile changed. The role reads facts, so its play gathers them (its
README's example play does); the client play needs none. Settings (baseline_inventory):

  - the same port, protocol and pools as ours (`openvpn_server_network` 10.80.0.0/255.255.255.0,
    `openvpn_server_ipv6_network` fd00:80::/64);
  - what ours does not do either is turned off: no default route pushed
    (`openvpn_redirect_gateway: ""`), no DNS servers pushed (`openvpn_set_dns: false`), no NAT
    (`openvpn_no_nat: true`; ours masquerades only out of interfaces it is given, none here);
  - `openvpn_client_register_dns: false`: a Windows-only option the role's README says to drop
    for other clients (its own CI sets it too);
  - `openvpn_use_pregenerated_dh_params: true`, as the role's own CI runs it: the default makes
    `openssl dhparam 2048` on the server at the first converge (seconds to minutes, at random).
    This favours the baseline (ours needs no DH parameters: ECDH);
  - its firewall runs (iptables backend, found by its auto-detection), like ours (nftables);
    sysctl writes run too (lab hosts have a writable /proc/sys); SELinux is absent, so its
    SELinux tasks skip on their own.

Like ours, the baseline runs with its packages pre-installed: its hosts come from the lab image
variant `openvpn-baseline` (lab.py up --variant openvpn-baseline): the default image (openvpn,
openssl) plus iptables and iptables-persistent for its firewall path. It refreshes the apt lists
only when openvpn is missing (no variable needed: openvpn is there).

Counts per host, besides the times: the task results of the PLAY RECAP (ok + changed + skipped +
failed) and the module runs on that host, counted from the podman calls Ansible makes: the
podman connection is pointed at a one-line wrapper (ANSIBLE_PODMAN_EXECUTABLE) that appends each
call's arguments to a log and runs podman; every `podman exec HOST ... python3 .../AnsiballZ_NAME.py`
is one module run on HOST. Steps delegated to the controller (ours: the PKI module) run no
podman and are not in these counts. The wrapper costs one `sh` start per podman call, for both
roles alike.

Playbooks, inventories, every ansible-playbook log and podman call log go to build/bench.
Writes OUTPUT/openvpn-converge-baseline.md and .json (without a baseline: openvpn-converge.*):
medians, min–max, ratios, seconds per added client, tasks and module runs per host, the commit
measured, every sample.
"""
from __future__ import absolute_import, division, print_function

import argparse
import datetime
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lab"))

from labkit import traffic  # noqa: E402  (after the path is set)
from labkit.bench import LAB, require_collection_link, write_json  # noqa: E402
from labkit.converge import Contender, check_rerun_unchanged, measured_sentence, module_run_lines, prepare, ratios, run_all  # noqa: E402
from labkit.converge import seconds_per_client_by_label, summarise, tree_description  # noqa: E402
from labkit.podman import run  # noqa: E402
from labkit.provenance import role_version  # noqa: E402
from labkit.summary import spread_text, write_report  # noqa: E402

OURS_LABEL = "overlaynet.vpn.openvpn_server + openvpn_client"
BASELINE_LABEL = "kyl191/ansible-role-openvpn"
BASELINE_URL = "https://github.com/kyl191/ansible-role-openvpn"
BASELINE_VARIANT = "openvpn-baseline"

INSTANCE = "bench"
PORT = 1194
PROTO = "udp"
IPV4_POOL = "10.80.0.0/24"
IPV4_NETWORK, IPV4_NETMASK = "10.80.0.0", "255.255.255.0"
IPV6_POOL = "fd00:80::/64"
# Both roles give the server the first address of the pool.
SERVER_TUNNEL_ADDRESS = "10.80.0.1"
OURS_CLIENT_DEVICE = "ovpnc-" + INSTANCE
BASELINE_CLIENT_DEVICE = "tun0"
TUNNEL_TIMEOUT_S = 120

TARGET_CONVERGE_RATIO = 0.5
TARGET_RERUN_RATIO = 0.3


# --- inventories and playbooks ---------------------------------------------------------------

def ours_inventory(server, clients, state_dir):
    return {"all": {
        "children": {
            "openvpn_servers": {"hosts": {server: {"openvpn_server_instances": [{
                "name": INSTANCE, "proto": PROTO, "port": PORT, "ipv4_pool": IPV4_POOL, "ipv6_pool": IPV6_POOL}]}}},
            "openvpn_clients": {"hosts": dict((client, {}) for client in clients),
                                "vars": {"openvpn_client_connections": [{"server": server}]}},
        },
        "vars": {
            "openvpn_server_pki_root": os.path.join(state_dir, "openvpn-pki"),
            "openvpn_client_pki_root": os.path.join(state_dir, "openvpn-pki"),
            "openvpn_server_profile_dir": os.path.join(state_dir, "openvpn-profiles"),
        },
    }}


def baseline_inventory(server, clients, state_dir):
    """The settings are explained in the module docstring."""
    return {"all": {
        "children": {
            "openvpn_baseline_servers": {"hosts": {server: {"openvpn_clients": list(clients)}}},
            "openvpn_baseline_clients": {"hosts": dict((client, {}) for client in clients)},
        },
        "vars": {
            "openvpn_port": PORT,
            "openvpn_proto": PROTO,
            "openvpn_server_network": IPV4_NETWORK,
            "openvpn_server_netmask": IPV4_NETMASK,
            "openvpn_server_ipv6_network": IPV6_POOL,
            "openvpn_redirect_gateway": "",
            "openvpn_set_dns": False,
            "openvpn_no_nat": True,
            "openvpn_client_register_dns": False,
            "openvpn_use_pregenerated_dh_params": True,
            "openvpn_fetch_client_configs_dir": os.path.join(state_dir, "profiles"),
            # Read by the client play below (not by the role).
            "openvpn_baseline_server": server,
        },
    }}


def baseline_playbook(role_dir):
    server_unit = "openvpn-client@{{ openvpn_baseline_server }}"
    return [
        {"name": "kyl191/ansible-role-openvpn on the server: PKI, server, client profiles fetched to the controller",
         "hosts": "openvpn_baseline_servers", "gather_facts": True, "roles": [{"role": role_dir}]},
        {"name": "Install each client's fetched profile and start its OpenVPN client (the user's own play)",
         "hosts": "openvpn_baseline_clients", "gather_facts": False,
         "tasks": [
             {"name": "Install the profile fetched from the server as this client's config",
              "ansible.builtin.copy": {
                  "src": "{{ openvpn_fetch_client_configs_dir }}/{{ inventory_hostname }}/"
                         "{{ openvpn_baseline_server }}.ovpn",
                  "dest": "/etc/openvpn/client/{{ openvpn_baseline_server }}.conf",
                  "owner": "root", "group": "root", "mode": "0600"},
              "notify": "Restart the OpenVPN client"},
             {"name": "Start the OpenVPN client and enable it at boot",
              "ansible.builtin.systemd_service": {"name": server_unit, "enabled": True, "state": "started"}},
         ],
         "handlers": [
             {"name": "Restart the OpenVPN client",
              "ansible.builtin.systemd_service": {"name": server_unit, "state": "restarted"}},
         ]},
    ]


# --- one playbook run ------------------------------------------------------------------------

def wait_for_tunnels(clients, device, timeout=TUNNEL_TIMEOUT_S):
    """Every client routes the server's tunnel address through its tun device, then gets a ping
    answer from it; all within timeout seconds. The route comes first, so that no probe ever
    leaves through the lab's default route."""
    deadline = time.monotonic() + timeout
    for client in clients:
        traffic.wait_until("a route to %s through %s in %s" % (SERVER_TUNNEL_ADDRESS, device, client),
                           lambda: traffic.route_device(client, SERVER_TUNNEL_ADDRESS) == device,
                           timeout=max(0.0, deadline - time.monotonic()), interval=0.5)
        traffic.wait_for_reply(client, SERVER_TUNNEL_ADDRESS, timeout=max(0.0, deadline - time.monotonic()))


def markdown(report):
    rows = report["rows"]
    baseline = report["baseline_version"] is not None
    lines = [
        "# OpenVPN converge and rerun: one server and N clients" + (", side by side with a baseline" if baseline else ""),
        "",
        measured_sentence(report),
        "",
        "Fresh lab hosts (podman, systemd, packages pre-installed) and an empty controller side (PKI, profiles) for",
        "every run; forks >= hosts; times are wall-clock seconds of the whole `ansible-playbook` run, median (min–max)",
        "of %s. After the rerun every client routed the server's tunnel address (%s) through its tun device" % (
            "; ".join("%d run%s of each role with %s clients" % (runs, "" if runs == 1 else "s", count)
                      for count, runs in sorted(report["runs"].items())), SERVER_TUNNEL_ADDRESS),
        "and got a ping answer from it.",
    ] + ([
        "",
        "The %d-client rows come from an earlier run of this script on the same machine (%s, overlaynet.vpn %s), whose"
        % (report["earlier"]["clients"], report["earlier"]["date"], report["earlier"]["commit"]),
        "samples are reported here as they were; the roles are the same in both commits.",
    ] if report.get("earlier") else []) + [
        "",
        "Ours: `site.yml`, one server in `openvpn_servers` with one instance (%s %d, pools %s and %s, defaults" % (
            PROTO, PORT, IPV4_POOL, IPV6_POOL),
        "otherwise: EC keys made on each host, tls-crypt-v2, nftables), N clients in `openvpn_clients` with one",
        "connection each.",
    ]
    if baseline:
        lines += [
            "",
            "Baseline: [%s](%s) (%s), in the same script run, each of its runs next to one of ours (alternating" % (
                BASELINE_LABEL, BASELINE_URL, report["baseline_version"]),
            "which goes first), on hosts of the lab image variant `%s` (the default image plus iptables and" % BASELINE_VARIANT,
            "iptables-persistent for its firewall path; openvpn and openssl are in the default image, so it refreshes no",
            "apt lists). What its user runs for the same result: the role on the server with the N clients in",
            "`openvpn_clients` (CA, server and client keys and certificates made there with openssl, RSA 2048, one",
            "inline profile per client fetched to the controller), then their own play on the clients that installs",
            "each profile as `/etc/openvpn/client/SERVER.conf` and starts `openvpn-client@SERVER` (restarted when the",
            "profile changed). Same port, protocol and pools as ours; off, because ours does not do them either: the",
            "pushed default route (`openvpn_redirect_gateway: \"\"`), pushed DNS (`openvpn_set_dns: false`), NAT",
            "(`openvpn_no_nat: true`), the Windows-only `register-dns` (`openvpn_client_register_dns: false`). As in",
            "the role's own CI, `openvpn_use_pregenerated_dh_params: true` (its default runs `openssl dhparam 2048` at",
            "the first converge), which favours the baseline. Its firewall (iptables) and sysctl tasks ran; SELinux",
            "is absent here, so its SELinux tasks skipped. Details: the docstring of `bench/openvpn_converge.py`.",
        ]
    lines += [
        "",
        "| role | clients | converge median (min–max) | rerun median (min–max) | rerun changed |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append("| %s | %d | %s | %s | %d |" % (row["label"], row["clients"], spread_text(row["converge"], 1),
                                                     spread_text(row["rerun"], 1), row["changed_on_rerun"]))
    if report["ratios"]:
        lines += [
            "",
            "| clients | converge ratio (ours / baseline) | target ≤ %.1f× | rerun ratio (ours / baseline) | target ≤ %.1f× |" % (
                TARGET_CONVERGE_RATIO, TARGET_RERUN_RATIO),
            "|---|---|---|---|---|",
        ]
        for entry in report["ratios"]:
            lines.append("| %d | %.2f | %s | %.2f | %s |" % (
                entry["clients"], entry["converge"], "met" if entry["converge_target_met"] else "missed",
                entry["rerun"], "met" if entry["rerun_target_met"] else "missed"))
    if report["seconds_per_client"]:
        lines += ["", "Seconds one more client adds (between the smallest and the largest N, medians): " + "; ".join(
            "%s converge %.2f, rerun %.2f" % (label, values["converge"], values["rerun"])
            for label, values in report["seconds_per_client"].items()) + "."]
    drops = sum(row["guard_drops_besides_probes"] for row in rows)
    lines += ["", "The lab's egress guard dropped %d packet(s) during these runs besides its self-checks' own probes "
              "(counted lab-wide, other users of the lab included)." % drops]
    lines += [
        "",
        "Per host, the largest over the runs (clients: the largest over the clients), converge / rerun:",
        "",
        "| role | clients | server tasks | server module runs | client tasks | client module runs |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        counts = row["counts"]
        lines.append("| %s | %d | %d / %d | %d / %d | %d / %d | %d / %d |" % (
            row["label"], row["clients"],
            counts["converge_server_tasks"], counts["rerun_server_tasks"],
            counts["converge_server_module_runs"], counts["rerun_server_module_runs"],
            counts["converge_client_max_tasks"], counts["rerun_client_max_tasks"],
            counts["converge_client_max_module_runs"], counts["rerun_client_max_module_runs"]))
    lines += [
        "",
        "\"tasks\" are the host's task results in the play recap (ok + changed + skipped + failed; local `set_fact`,",
        "`assert` and `run_once` steps and handlers included; a loop counts once). \"module runs\" are the modules",
        "Ansible ran on the host (fact gathering included, each loop item once), counted from the podman calls of",
        "the run; steps delegated to the controller (ours: the PKI) are not in them. Modules of one run by name:",
        "",
    ]
    lines += module_run_lines(rows)
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32], help="numbers of clients (N), one server each")
    parser.add_argument("--runs", type=int, nargs="+", default=[3],
                        help="runs of each role per N: one number for every N, or one per N (e.g. 3 1 for --clients 8 32)")
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results"),
                        help="directory for openvpn-converge.md/.json (with a baseline: openvpn-converge-baseline.*)")
    parser.add_argument("--baseline-role-dir",
                        help="a checkout of kyl191/ansible-role-openvpn to run side by side (see above)")
    parser.add_argument("--baseline-version",
                        help="how to name the baseline's version in the report (default: its git commit, else its "
                             "changelog's newest version)")
    parser.add_argument("--earlier-samples", metavar="FILE",
                        help="also report the samples of an earlier run of this script for another N (its "
                             "build/bench/openvpn-converge-samples.json, copied away), e.g. after a run stopped half-way")
    parser.add_argument("--host-prefix", default="bovc-",
                        help="prefix of the lab host names: PREFIXos, PREFIXocNN (ours), PREFIXks, PREFIXkcNN (baseline)")
    args = parser.parse_args()
    if len(args.runs) == 1:
        args.runs = args.runs * len(args.clients)
    if any(count < 1 for count in args.clients) or any(runs < 1 for runs in args.runs) or len(args.runs) != len(args.clients):
        parser.error("--clients needs 1 or more clients, --runs at least 1 run, once or once per N")
    require_collection_link(parser, ROOT)
    workdir, wrapper, machine = prepare(ROOT, args.output)

    ours = Contender(OURS_LABEL, os.path.join(ROOT, "site.yml"), ours_inventory, None, args.host_prefix + "o",
                     lambda clients: wait_for_tunnels(clients, OURS_CLIENT_DEVICE))
    contenders = [ours]
    baseline_version = None
    if args.baseline_role_dir:
        role_dir = os.path.abspath(args.baseline_role_dir)
        if not os.path.isfile(os.path.join(role_dir, "tasks", "main.yml")):
            parser.error("--baseline-role-dir %s holds no role (tasks/main.yml); see --help for how to get it" % role_dir)
        baseline_version = args.baseline_version or role_version(role_dir)
        playbook = os.path.join(workdir, "openvpn-baseline-playbook.yml")
        write_json(playbook, baseline_playbook(role_dir))
        run(LAB + ["image", "--variant", BASELINE_VARIANT])
        contenders.append(Contender(BASELINE_LABEL, playbook, baseline_inventory, BASELINE_VARIANT,
                                    args.host_prefix + "k", lambda clients: wait_for_tunnels(clients, BASELINE_CLIENT_DEVICE)))
    run(LAB + ["image"])

    rows, earlier = [], None
    commit = tree_description(ROOT)
    if args.earlier_samples:
        with open(args.earlier_samples) as handle:
            earlier = json.load(handle)
        if earlier["clients"] in args.clients or sorted(earlier["samples"]) != sorted(c.label for c in contenders):
            parser.error("--earlier-samples: its N (%d) must not be in --clients, and its roles must be these" % earlier["clients"])
        rows.extend(summarise(label, earlier["clients"], samples) for label, samples in earlier["samples"].items())
    # --earlier-samples reads this file, copied away.
    partial = os.path.join(workdir, "openvpn-converge-samples.json")
    rows += run_all(contenders, zip(args.clients, args.runs), workdir, wrapper, ROOT, partial, commit)
    rows.sort(key=lambda row: (row["label"] != OURS_LABEL, row["clients"]))

    runs_by_count = dict(zip(args.clients, args.runs))
    if earlier:
        runs_by_count[earlier["clients"]] = min(len(samples) for samples in earlier["samples"].values())
    report = {
        "date": datetime.date.today().isoformat(), "machine": machine, "commit": commit,
        "earlier": earlier and {"clients": earlier["clients"], "commit": earlier["commit"], "date": earlier["date"]},
        "baseline_version": baseline_version, "runs": runs_by_count, "clients": sorted(runs_by_count),
        "targets": {"converge_ratio": TARGET_CONVERGE_RATIO, "rerun_ratio": TARGET_RERUN_RATIO},
        "rows": rows, "ratios": ratios(rows, OURS_LABEL, BASELINE_LABEL, {"converge_ratio": TARGET_CONVERGE_RATIO, "rerun_ratio": TARGET_RERUN_RATIO}),
        "seconds_per_client": seconds_per_client_by_label(rows, [contender.label for contender in contenders]),
    }
    name = "openvpn-converge-baseline" if baseline_version else "openvpn-converge"
    write_report(args.output, name, report, markdown(report))
    check_rerun_unchanged(rows, OURS_LABEL, workdir)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TCP throughput between two lab hosts: the raw link and three WireGuard set-ups.

One script run, the same two hosts, in this order:
  raw          iperf3 over the lab network itself (the physical reference)
  role-distro  site.yml with the role's defaults and Debian's wireguard-go package
  role-go      site.yml with the role's defaults and wireguard-go built from its Go module
               (wireguard_userspace_source: file), the path `make demo` takes
  hand-tuned   the same Go-built binary set up by hand, with the settings that measured
               best here (see HAND_TUNED below), the reference the role is held to

Each case runs iperf3 TCP `--runs` times for `--seconds` seconds (after a 1 s warm-up that
iperf3 leaves out), with 1 and with 4 parallel streams; the tables give medians. CPU use
is the user+system time of the WireGuard daemons on both hosts during the runs, per Gbit/s
carried. Writes bench/results/wireguard-throughput.{md,json}; bench/throughput_chart.py
turns the JSON into the PNG bar chart.
"""
from __future__ import absolute_import, division, print_function

import argparse
import datetime
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lab"))

from labkit import traffic, wireguard  # noqa: E402  (after the path is set)
from labkit.bench import LAB, fresh_hosts, make_workdir, timed_playbook, write_json  # noqa: E402
from labkit.podman import on, run  # noqa: E402
from labkit.provenance import commit_description, machine_text  # noqa: E402
from labkit.summary import median, write_report  # noqa: E402

HOSTS = ("tput1", "tput2")
INTERFACE = "wg0"
IPERF_PORT = 5201
STREAM_COUNTS = (1, 4)
NETWORK = {
    "name": "bench",
    "interface": INTERFACE,
    "address_pools": ["10.99.0.0/24"],
}
# The best hand set-up found on these hosts (2 cores, podman veth, IPv4 underlay with
# MTU 1500), trying MTU 1420/1440, GOGC 100/400/off and 1 or 4 streams: MTU 1440, the
# largest that fits an IPv4 underlay (1500 - 20 IPv4 - 8 UDP - 32 WireGuard), and the Go
# garbage collector off up to a 1 GiB heap. wireguard-go turns on the TUN segmentation
# offloads (GSO/GRO) itself, so there is nothing to set there.
HAND_TUNED = {"interface": "wgt0", "mtu": 1440, "port": 51900, "network": "10.98.0.%d/24",
              "environment": {"GOGC": "off", "GOMEMLIMIT": "1GiB"}}
CASES = ("raw", "role-distro", "role-go", "hand-tuned")


# --- the role's set-ups --------------------------------------------------------------

def write_inventory(path, source, go_binary):
    hosts = {name: {} for name in HOSTS}
    group_vars = {"wireguard_networks": [NETWORK], "wireguard_userspace_source": source}
    if source == "file":
        group_vars["wireguard_userspace_file"] = go_binary
    write_json(path, {"all": {"children": {"wireguard": {"children": {NETWORK["name"]: {"hosts": hosts}}}}, "vars": group_vars}})


def tunnel_address(host, interface):
    addresses = traffic.interface_addresses(host, interface)["inet"]
    if not addresses:
        raise SystemExit("bench: %s has no IPv4 address on %s" % (host, interface))
    return addresses[0]


def daemon_pid(host, interface):
    return traffic.unix_socket_pid(host, wireguard.uapi_socket(interface))


def daemon_description(host, interface):
    daemon = wireguard.userspace_daemon(host, interface)
    if daemon is None:
        raise SystemExit("bench: no userspace daemon serves %s on %s" % (interface, host))
    return "%s (%s)" % (daemon["exe"], daemon["version"])


# --- the hand-tuned set-up -------------------------------------------------------------

def hand_tuned_up(lab_addresses, go_path):
    """Stop the role's interfaces and wire the two hosts by hand with the Go-built binary."""
    interface = HAND_TUNED["interface"]
    public_keys = {}
    for index, host in enumerate(HOSTS, start=1):
        on(host, "systemctl stop overlaynet-wireguard@%s" % INTERFACE)
        traffic.start_unit(host, "bench-wireguard-go", [go_path, interface],
                           environment=dict(HAND_TUNED["environment"], WG_PROCESS_FOREGROUND="1"))
        traffic.wait_until("wireguard-go serving %s on %s" % (interface, host),
                           lambda: daemon_pid(host, interface) is not None)
        on(host, "umask 077; wg genkey > /run/bench-wg.key && wg set %s private-key /run/bench-wg.key listen-port %d"
           " && rm /run/bench-wg.key" % (interface, HAND_TUNED["port"]))
        on(host, "ip address add %s dev %s && ip link set dev %s mtu %d up"
           % (HAND_TUNED["network"] % index, interface, interface, HAND_TUNED["mtu"]))
        public_keys[host] = wireguard.public_key(host, interface)
    for index, host in enumerate(HOSTS, start=1):
        other_index = 3 - index
        other = HOSTS[other_index - 1]
        on(host, "wg set %s peer %s endpoint %s:%d allowed-ips %s"
           % (interface, public_keys[other], lab_addresses[other], HAND_TUNED["port"],
              (HAND_TUNED["network"] % other_index).replace("/24", "/32")))
    return (HAND_TUNED["network"] % 2).split("/", 1)[0]


def hand_tuned_down():
    for host in HOSTS:
        traffic.stop_unit(host, "bench-wireguard-go")


# --- measuring ---------------------------------------------------------------------------

def measure(case, address, seconds, runs, daemon_interface):
    """{streams: [{'gbps', 'cpu_per_gbps'}...]} for each stream count; daemon_interface: the interface
    whose userspace daemon's CPU time counts (None: no daemon)."""
    def daemon_pids():
        return {host: daemon_pid(host, daemon_interface) for host in HOSTS}

    return traffic.measure_throughput(case, HOSTS[0], address, IPERF_PORT, seconds, runs, STREAM_COUNTS,
                                      daemon_pids if daemon_interface else None)


# --- report ------------------------------------------------------------------------------

def summarise(measurements, descriptions, seconds, runs):
    summary = {"date": datetime.date.today().isoformat(), "seconds": seconds, "runs": runs,
               "machine": machine_text(), "commit": commit_description(ROOT), "cases": []}
    for case in CASES:
        for streams in STREAM_COUNTS:
            samples = measurements[case][streams]
            summary["cases"].append({
                "case": case, "streams": streams, "description": descriptions[case],
                "gbps_median": median([s["gbps"] for s in samples]),
                "gbps_min": min(s["gbps"] for s in samples), "gbps_max": max(s["gbps"] for s in samples),
                "cpu_per_gbps_median": median([s["cpu_per_gbps"] for s in samples]),
            })
    return summary


def markdown(summary):
    lines = [
        "# WireGuard tunnel throughput between two lab hosts",
        "",
        "Measured %s on %s, overlaynet.vpn %s." % (summary["date"], summary["machine"], summary["commit"]),
        "iperf3 TCP from one lab host to the other (podman containers on one bridge, so both ends share the",
        "machine's cores); medians of %d runs of %d s each (after a 1 s warm-up iperf3 leaves out)."
        % (summary["runs"], summary["seconds"]),
        "CPU: user+system seconds of the WireGuard daemons on both hosts per second, per Gbit/s carried",
        "(cores per Gbit/s; lower is better; none for the raw link, which the kernel carries).",
        "",
        "| set-up | streams | Gbit/s median (min–max) | of raw | of hand-tuned | CPU cores per Gbit/s |",
        "|---|---|---|---|---|---|",
    ]
    by_key = {(row["case"], row["streams"]): row for row in summary["cases"]}
    for row in summary["cases"]:
        raw = by_key[("raw", row["streams"])]["gbps_median"]
        tuned = by_key[("hand-tuned", row["streams"])]["gbps_median"]
        cpu = row["cpu_per_gbps_median"]
        lines.append("| %s | %d | %.2f (%.2f–%.2f) | %.0f %% | %.0f %% | %s |" % (
            row["case"], row["streams"], row["gbps_median"], row["gbps_min"], row["gbps_max"],
            100 * row["gbps_median"] / raw, 100 * row["gbps_median"] / tuned,
            "%.2f" % cpu if cpu is not None else "–"))
    lines += ["", "| streams | role-go / role-distro | role-go / hand-tuned |", "|---|---|---|"]
    for streams in STREAM_COUNTS:
        go = by_key[("role-go", streams)]["gbps_median"]
        lines.append("| %d | %.1f× | %.0f %% |" % (
            streams, go / by_key[("role-distro", streams)]["gbps_median"],
            100 * go / by_key[("hand-tuned", streams)]["gbps_median"]))
    lines += ["", "Set-ups:", ""]
    for case in CASES:
        lines.append("- %s: %s" % (case, by_key[(case, STREAM_COUNTS[0])]["description"]))
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--wireguard-go", default=os.environ.get("OVERLAYNET_WIREGUARD_GO"),
                        help="the Go-built wireguard-go on the controller (make wireguard-go)")
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results"))
    parser.add_argument("--keep", action="store_true", help="leave the two lab hosts running")
    args = parser.parse_args()
    if args.runs < 3 or args.seconds < 4:
        raise SystemExit("bench: use at least 3 runs of at least 4 s")
    if not args.wireguard_go or not os.path.isfile(args.wireguard_go):
        raise SystemExit("bench: no Go-built wireguard-go (run make wireguard-go or pass --wireguard-go)")

    workdir = make_workdir(ROOT, args.output)
    lab_inventory = os.path.join(workdir, "throughput-lab.json")
    group_inventory = os.path.join(workdir, "throughput-groups.json")
    lab_addresses = fresh_hosts(HOSTS, lab_inventory)

    measurements, descriptions = {}, {}
    try:
        traffic.start_iperf_server(HOSTS[1], IPERF_PORT, "bench-iperf")
        descriptions["raw"] = "the lab network (veth pair over a Linux bridge, MTU 1500), no tunnel"
        measurements["raw"] = measure("raw", lab_addresses[HOSTS[1]], args.seconds, args.runs, None)

        for case, source in (("role-distro", "package"), ("role-go", "file")):
            write_inventory(group_inventory, source, args.wireguard_go)
            timed_playbook(os.path.join(ROOT, "site.yml"), [lab_inventory, group_inventory],
                           os.path.join(workdir, "throughput-%s-converge.log" % case), ROOT)
            address = tunnel_address(HOSTS[1], INTERFACE)
            traffic.wait_for_reply(HOSTS[0], address, timeout=30)
            descriptions[case] = "overlaynet.vpn.wireguard defaults (wg-quick MTU), daemon %s" % daemon_description(HOSTS[0], INTERFACE)
            measurements[case] = measure(case, address, args.seconds, args.runs, INTERFACE)

        go_path = "/usr/local/sbin/wireguard-go"  # where role-go installed the same binary
        address = hand_tuned_up(lab_addresses, go_path)
        traffic.wait_for_reply(HOSTS[0], address, timeout=30)
        descriptions["hand-tuned"] = "by hand, MTU %d, %s, daemon %s" % (
            HAND_TUNED["mtu"], " ".join("%s=%s" % item for item in sorted(HAND_TUNED["environment"].items())),
            daemon_description(HOSTS[0], HAND_TUNED["interface"]))
        measurements["hand-tuned"] = measure("hand-tuned", address, args.seconds, args.runs, HAND_TUNED["interface"])
        hand_tuned_down()
    finally:
        if not args.keep:
            run(LAB + ["down"] + list(HOSTS), check=False)

    summary = summarise(measurements, descriptions, args.seconds, args.runs)
    write_report(args.output, "wireguard-throughput", summary, markdown(summary))


if __name__ == "__main__":
    main()

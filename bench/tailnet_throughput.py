# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TCP throughput between two Tailscale nodes of a headscale tailnet, against the raw link.

One script run, three fresh lab hosts (a headscale server and two nodes), in this order:
  raw      iperf3 over the lab network itself between the two nodes (the physical reference)
  tailnet  site.yml with the roles' defaults (tailscaled with a kernel TUN device, the
           Go-built headscale and Tailscale of `make headscale`), iperf3 between the nodes'
           tailnet addresses, on the direct path (checked with `tailscale ping --until-direct`)

Each case runs iperf3 TCP `--runs` times for `--seconds` seconds (after a 1 s warm-up that
iperf3 leaves out), with 1 and with 4 parallel streams; the tables give medians. CPU use is
the user+system time of tailscaled on both nodes during the runs, per Gbit/s carried.

The WireGuard reference is the Go-built wireguard-go figure (role-go) of
bench/results/wireguard-throughput.json, measured by bench/wireguard_throughput.py on the same
kind of hosts in its own run (its date and commit are quoted): Tailscale's data plane is
wireguard-go too, so the gap is what the tailnet adds (its packet filter, magicsock, DERP
fallback). Writes bench/results/tailnet-throughput.{md,json}.
"""
from __future__ import absolute_import, division, print_function

import argparse
import datetime
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lab"))

from labkit import traffic  # noqa: E402  (after the path is set)
from labkit.hosts import fqdn  # noqa: E402
from labkit.bench import LAB, fresh_hosts, make_workdir, timed_playbook, write_json  # noqa: E402
from labkit.podman import on, run  # noqa: E402
from labkit.provenance import commit_description, machine_text  # noqa: E402
from labkit.summary import median, write_report  # noqa: E402

SERVER = "tnbhs1"
NODES = ("tnbts1", "tnbts2")
IPERF_PORT = 5201
STREAM_COUNTS = (1, 4)
CASES = ("raw", "tailnet")
WIREGUARD_RESULTS = os.path.join(ROOT, "bench", "results", "wireguard-throughput.json")


def write_inventory(path, binaries):
    """The tailnet of the bench: the roles' defaults but what the offline lab needs (embedded
    DERP only, the Go-built binaries through the file install path)."""
    write_json(path, {"all": {"children": {
        "headscale_servers": {"hosts": {SERVER: {
            "headscale_server_url": "https://%s" % fqdn(SERVER),
            "headscale_install_source": "file",
            "headscale_install_file": binaries["headscale"],
            "headscale_users": ["bench"],
            "headscale_derp": {"urls": []},
            "headscale_dns": {"base_domain": "tailnet.bench"},
        }}},
        "tailscale_nodes": {"hosts": dict((node, {}) for node in NODES), "vars": {
            "tailscale_user": "bench",
            "tailscale_cli_source": "file", "tailscale_cli_file": binaries["tailscale"],
            "tailscale_daemon_source": "file", "tailscale_daemon_file": binaries["tailscaled"],
        }},
    }, "vars": {
        "headscale_pki_root": os.path.join(os.path.dirname(path), "tailnet-throughput-pki"),
    }}})


def tailnet_ipv4(host):
    return on(host, "tailscale ip -4").stdout.strip()


def measure(case, address, seconds, runs, with_cpu):
    """{streams: [{'gbps', 'cpu_per_gbps'}...]} for each stream count; with_cpu: count the CPU time of tailscaled."""
    def daemon_pids():
        return dict((host, traffic.unit_pid(host, "tailscaled.service")) for host in NODES)

    return traffic.measure_throughput(case, NODES[0], address, IPERF_PORT, seconds, runs, STREAM_COUNTS, daemon_pids if with_cpu else None)


def wireguard_reference():
    """{streams: Gbit/s median} of role-go in the WireGuard bench's results, with its date and commit; None without them."""
    if not os.path.isfile(WIREGUARD_RESULTS):
        return None
    with open(WIREGUARD_RESULTS) as handle:
        results = json.load(handle)
    medians = dict((row["streams"], row["gbps_median"]) for row in results["cases"] if row["case"] == "role-go")
    raw = dict((row["streams"], row["gbps_median"]) for row in results["cases"] if row["case"] == "raw")
    # Older results name no commit.
    return {"gbps": medians, "raw_gbps": raw, "date": results["date"], "commit": results.get("commit", "commit not recorded")}


def summarise(measurements, descriptions, seconds, runs, reference):
    summary = {"date": datetime.date.today().isoformat(), "seconds": seconds, "runs": runs,
               "machine": machine_text(), "commit": commit_description(ROOT), "cases": [], "wireguard_go_reference": reference}
    for case in CASES:
        for streams in STREAM_COUNTS:
            samples = measurements[case][streams]
            summary["cases"].append({
                "case": case, "streams": streams, "description": descriptions[case], "samples": samples,
                "gbps_median": median([s["gbps"] for s in samples]),
                "gbps_min": min(s["gbps"] for s in samples), "gbps_max": max(s["gbps"] for s in samples),
                "cpu_per_gbps_median": median([s["cpu_per_gbps"] for s in samples]) if samples[0]["cpu_per_gbps"] is not None else None,
            })
    return summary


def markdown(summary):
    reference = summary["wireguard_go_reference"]
    lines = [
        "# Tailnet throughput between two Tailscale nodes (headscale)",
        "",
        "Measured %s on %s, overlaynet.vpn %s." % (summary["date"], summary["machine"], summary["commit"]),
        "iperf3 TCP from one node to the other (podman containers on one bridge, so both ends share the machine's",
        "cores); medians of %d runs of %d s each (after a 1 s warm-up iperf3 leaves out)." % (summary["runs"], summary["seconds"]),
        "CPU: user+system seconds of tailscaled on both nodes per second, per Gbit/s carried (cores per Gbit/s).",
        "",
        "| set-up | streams | Gbit/s median (min–max) | of raw | of wireguard-go | CPU cores per Gbit/s |",
        "|---|---|---|---|---|---|",
    ]
    by_key = dict(((row["case"], row["streams"]), row) for row in summary["cases"])
    for row in summary["cases"]:
        raw = by_key[("raw", row["streams"])]["gbps_median"]
        wireguard = (reference or {}).get("gbps", {}).get(row["streams"])
        cpu = row["cpu_per_gbps_median"]
        lines.append("| %s | %d | %.2f (%.2f–%.2f) | %.0f %% | %s | %s |" % (
            row["case"], row["streams"], row["gbps_median"], row["gbps_min"], row["gbps_max"], 100 * row["gbps_median"] / raw,
            "%.0f %%" % (100 * row["gbps_median"] / wireguard) if wireguard and row["case"] == "tailnet" else "–",
            "%.2f" % cpu if cpu is not None else "–"))
    lines += ["", "Set-ups:", ""]
    for case in CASES:
        lines.append("- %s: %s" % (case, by_key[(case, STREAM_COUNTS[0])]["description"]))
    if reference:
        lines.append("- wireguard-go: the role-go figure of bench/results/wireguard-throughput.md (%s, %s): %s Gbit/s with 1 and 4 streams"
                     % (reference["date"], reference["commit"],
                        " and ".join("%.2f" % reference["gbps"][streams] for streams in STREAM_COUNTS)))
        # The two runs met different machines (the raw link is the yardstick): their shares of raw compare better.
        lines += ["", "| streams | tailnet, of its raw link | wireguard-go, of its raw link (%s) |" % reference["date"], "|---|---|---|"]
        for streams in STREAM_COUNTS:
            lines.append("| %d | %.0f %% | %.0f %% |" % (
                streams, 100 * by_key[("tailnet", streams)]["gbps_median"] / by_key[("raw", streams)]["gbps_median"],
                100 * reference["gbps"][streams] / reference["raw_gbps"][streams]))
    lines.append("")
    return "\n".join(lines)


def render(path):
    """Write the report again from its JSON (after a change to the text, without measuring again)."""
    with open(path) as handle:
        summary = json.load(handle)
    summary["wireguard_go_reference"] = wireguard_reference()
    for row in summary["cases"]:
        row["streams"] = int(row["streams"])
    write_report(os.path.dirname(path), "tailnet-throughput", summary, markdown(summary))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results"))
    parser.add_argument("--keep", action="store_true", help="leave the lab hosts running")
    parser.add_argument("--render", metavar="JSON", help="only write the report again from the JSON of an earlier run")
    args = parser.parse_args()
    if args.render:
        render(args.render)
        return
    if args.runs < 3 or args.seconds < 4:
        raise SystemExit("bench: use at least 3 runs of at least 4 s")
    binaries = {"headscale": os.environ.get("OVERLAYNET_HEADSCALE"), "tailscale": os.environ.get("OVERLAYNET_TAILSCALE"),
                "tailscaled": os.environ.get("OVERLAYNET_TAILSCALED")}
    missing = sorted(name for name, path in binaries.items() if not path or not os.path.isfile(path))
    if missing:
        raise SystemExit("bench: no Go-built %s (run make headscale)" % ", ".join(missing))

    workdir = make_workdir(ROOT, args.output)
    lab_inventory = os.path.join(workdir, "tailnet-throughput-lab.json")
    group_inventory = os.path.join(workdir, "tailnet-throughput-groups.json")
    hosts = (SERVER,) + NODES
    lab_addresses = fresh_hosts(hosts, lab_inventory)
    write_inventory(group_inventory, binaries)

    measurements, descriptions = {}, {}
    try:
        traffic.start_iperf_server(NODES[1], IPERF_PORT, "bench-iperf")
        descriptions["raw"] = "the lab network (veth pair over a Linux bridge, MTU 1500), no tunnel"
        measurements["raw"] = measure("raw", lab_addresses[NODES[1]], args.seconds, args.runs, False)

        timed_playbook(os.path.join(ROOT, "site.yml"), [lab_inventory, group_inventory],
                       os.path.join(workdir, "tailnet-throughput-converge.log"), ROOT)
        address = tailnet_ipv4(NODES[1])
        traffic.wait_for_reply(NODES[0], address, timeout=30)
        pong = on(NODES[0], "tailscale ping --c 10 --until-direct %s" % address).stdout.strip().splitlines()[-1]
        if " via " not in pong or "DERP" in pong:
            raise SystemExit("bench: no direct path between the nodes: %s" % pong)
        version = on(NODES[0], "tailscale version").stdout.splitlines()[0]
        descriptions["tailnet"] = ("overlaynet.vpn.tailscale defaults (kernel TUN tailscale0), Tailscale %s, headscale %s, direct path (%s)"
                                   % (version, "0.29.3", pong))
        measurements["tailnet"] = measure("tailnet", address, args.seconds, args.runs, True)
    finally:
        if not args.keep:
            run(LAB + ["down"] + list(hosts), check=False)

    summary = summarise(measurements, descriptions, args.seconds, args.runs, wireguard_reference())
    write_report(args.output, "tailnet-throughput", summary, markdown(summary))


if __name__ == "__main__":
    main()

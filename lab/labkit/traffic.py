# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Traffic between lab hosts and what carries it: ping round-trip times, a one-shot TCP
exchange, bulk transfers and throughput runs with iperf3, routes and interface addresses, the process serving a
unix socket, and the PLAY RECAP of ansible-playbook output.

Functions that touch a host take its name and run shell commands in it with `podman exec`
(labkit.podman.on), so that testinfra tests and the benches (which run without testinfra)
use the same code. The parse_* functions are pure and unit-tested in lab/tests.
"""
from __future__ import absolute_import, division, print_function

import json
import re
import sys
import time

from labkit.podman import LabError, on, shell_quote

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")
# iputils: "rtt min/avg/max/mdev = 0.045/0.058/0.071/0.011 ms"; busybox: "round-trip min/avg/max = ...".
PING_SUMMARY = re.compile(r"= [\d.]+/([\d.]+)/")
# ss -p: users:(("wireguard-go",pid=1234,fd=7))
SOCKET_USER_PID = re.compile(r"pid=(\d+)")
POLL_INTERVAL_S = 0.1
# iperf3 runs this long before the part it reports (--omit), so that TCP has ramped up.
IPERF_WARM_UP_S = 1

# A one-connection TCP server: accepts once, answers with a token derived from what it
# read, exits. Bounded by its own timeout so that a failed test leaves nothing behind.
TCP_SERVER = (
    "import socket,sys\n"
    "family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\n"
    "s = socket.socket(family, socket.SOCK_STREAM)\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind((sys.argv[1], int(sys.argv[2])))\n"
    "s.listen(1)\n"
    "s.settimeout(30)\n"
    "c, _ = s.accept()\n"
    "c.settimeout(10)\n"
    "c.sendall(b'ack:' + c.recv(256))\n"
    "c.close()\n"
)
TCP_CLIENT = (
    "import socket,sys\n"
    "c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)\n"
    "c.sendall(sys.argv[3].encode())\n"
    "print(c.recv(256).decode())\n"
)


# --- parsers (pure) --------------------------------------------------------------------------

def parse_recap(output):
    """The PLAY RECAP of ansible-playbook output: {host: {'ok': 3, 'changed': 1, ...}}.
    Colour codes are ignored, so output of a run with forced colour parses too."""
    recap = {}
    in_recap = False
    for line in ANSI_ESCAPE.sub("", output).splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        match = RECAP_LINE.match(line.strip()) if in_recap else None
        if match:
            recap[match.group("host")] = {key: int(value) for key, value in
                                          (pair.split("=") for pair in match.group("counts").split())}
    return recap


def parse_ping_rtt(output):
    """The average round-trip time in ms from ping's summary line, or None without one."""
    match = PING_SUMMARY.search(output)
    return float(match.group(1)) if match else None


def parse_socket_pid(listing):
    """The pid (text, as /proc names it) of the first process in `ss -p` output, or None."""
    match = SOCKET_USER_PID.search(listing)
    return match.group(1) if match else None


def parse_interface_addresses(ip_json):
    """Global addresses in `ip -j addr show` output, by family: {'inet': [...], 'inet6': [...]}
    (link-local and host-scope addresses say nothing about the lab's routes)."""
    addresses = {"inet": [], "inet6": []}
    for link in json.loads(ip_json):
        for info in link.get("addr_info", []):
            if info.get("scope") == "global":
                addresses[info["family"]].append(info["local"])
    return addresses


def parse_iperf_report(output):
    """iperf3's --json report as a dict, or None when it printed none (killed, not found)."""
    try:
        report = json.loads(output)
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


# --- waiting ---------------------------------------------------------------------------------

def throughput_sample(report, cpu_seconds=None):
    """{'gbps', 'cpu_per_gbps'} of an iperf3 --json report of a run with IPERF_WARM_UP_S of warm-up:
    the Gbit/s the receiver measured and, given the CPU seconds the daemons carrying the traffic
    used during the run, the cores they kept busy per Gbit/s (None without, or when nothing arrived)."""
    received = report["end"]["sum_received"]
    gbps = received["bits_per_second"] / 1e9
    sample = {"gbps": gbps, "cpu_per_gbps": None}
    if cpu_seconds is not None:
        # The CPU seconds include the warm-up the report leaves out: this slightly overstates the CPU per Gbit/s.
        cores = cpu_seconds / (received["seconds"] + IPERF_WARM_UP_S)
        sample["cpu_per_gbps"] = cores / gbps if gbps else None
    return sample


def parse_proc_stat_cpu_ticks(stat):
    """utime + stime (clock ticks) from the text of /proc/PID/stat. The command name, field 2,
    may hold spaces and parentheses, so fields are counted after its last ')'."""
    fields = stat.rsplit(")", 1)[1].split()
    # After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return int(fields[11]) + int(fields[12])


def wait_until(what, predicate, timeout=30.0, interval=POLL_INTERVAL_S):
    """Poll predicate() until it returns true, at most timeout seconds; then a LabError
    naming what was awaited."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise LabError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def tcp_listening(host, port):
    """Whether anything in the host listens on the TCP port."""
    return on(host, "ss -Hltn %s" % shell_quote("sport = :%d" % port), check=False).stdout.strip() != ""


def wait_for_tcp_listener(host, port, timeout=10.0):
    """Readiness of a server is its listening socket, polled with a bound."""
    wait_until("a TCP listener on port %d in %s" % (port, host), lambda: tcp_listening(host, port), timeout)


# --- transient services ----------------------------------------------------------------------

def start_unit(host, unit, argv, environment=None):
    """Run argv as the transient systemd unit `unit` in the host (stopped first if a
    previous run left it); --collect so that a failed run leaves no unit behind."""
    stop_unit(host, unit)
    options = "".join(" -E %s" % shell_quote("%s=%s" % item) for item in sorted((environment or {}).items()))
    on(host, "systemd-run --quiet --collect --unit %s%s %s"
       % (shell_quote(unit), options, " ".join(shell_quote(word) for word in argv)))


def stop_unit(host, unit):
    on(host, "systemctl stop {0} 2>/dev/null; systemctl reset-failed {0} 2>/dev/null".format(shell_quote(unit)),
       check=False)


# --- routes and addresses ----------------------------------------------------------------------

def route_device(host, address):
    """The interface the host sends packets for address through."""
    output = on(host, "ip -j route get %s" % shell_quote(address)).stdout
    return json.loads(output)[0].get("dev")


def interface_addresses(host, interface):
    """Global addresses of the interface, by family: {'inet': [...], 'inet6': [...]}."""
    return parse_interface_addresses(on(host, "ip -j addr show dev %s" % shell_quote(interface)).stdout)


def rx_bytes(host, interface):
    """Bytes the interface has received since it was created."""
    return int(on(host, "cat /sys/class/net/%s/statistics/rx_bytes" % shell_quote(interface)).stdout)


# --- traffic ---------------------------------------------------------------------------------

def ping_rtt(host, address, count=3, reply_wait_s=2):
    """The average round-trip time in ms of count pings, or None when no reply came back."""
    result = on(host, "ping -n -q -c %d -i 0.2 -W %d %s" % (count, reply_wait_s, shell_quote(address)), check=False)
    if result.returncode != 0:
        return None
    return parse_ping_rtt(result.stdout)


def wait_for_reply(host, address, timeout=20.0):
    """Ping, one packet at a time, until address answers, at most timeout seconds (a tunnel
    carries nothing before its first handshake, which takes a moment)."""
    wait_until("a ping reply from %s to %s" % (address, host),
               lambda: ping_rtt(host, address, count=1, reply_wait_s=1) is not None, timeout)


def tcp_exchange(source, destination, address, port, timeout=10.0, bind=None):
    """Start a one-shot TCP server on the destination's address (or on bind, where the address
    is not the host's own: a userspace tunnel hands connections to the host's sockets), connect
    from the source to the address, and return the server's answer, 'ack:SOURCE-to-DESTINATION'
    (None when the connection failed). timeout bounds the wait for the server to listen."""
    unit = "overlaynet-test-tcp-%d" % port
    start_unit(destination, unit, ["python3", "-c", TCP_SERVER, bind or address, str(port)])
    try:
        wait_for_tcp_listener(destination, port, timeout)
        token = "%s-to-%s" % (source, destination)
        result = on(source, "python3 -c %s %s %d %s" % (shell_quote(TCP_CLIENT), shell_quote(address), port,
                                                        shell_quote(token)), check=False)
    finally:
        stop_unit(destination, unit)
    return result.stdout.strip() if result.returncode == 0 else None


def start_iperf_server(host, port, unit, bind=None, one_off=False, timeout=10.0):
    """An iperf3 server as the transient unit `unit`, ready (listening) when this returns;
    one_off: it exits after one client."""
    argv = ["iperf3", "--server", "--port", str(port)]
    if bind:
        argv += ["--bind", bind]
    if one_off:
        argv += ["--one-off"]
    start_unit(host, unit, argv)
    wait_for_tcp_listener(host, port, timeout)


def iperf_client(host, address, port, options=(), timeout=60.0, check=True):
    """Run an iperf3 client in the host against address:port with the given iperf3 options,
    bounded by timeout seconds; returns its JSON report as a dict. A failed run is a
    LabError with iperf3's reason, or None when check is false."""
    argv = ["iperf3", "--json", "--client", address, "--port", str(port)] + [str(option) for option in options]
    result = on(host, "timeout %d %s" % (int(timeout), " ".join(shell_quote(word) for word in argv)), check=False)
    report = parse_iperf_report(result.stdout)
    # iperf3 3.12 with --json exits 0 even when it could not connect: its report says so.
    if result.returncode == 0 and report is not None and "error" not in report:
        return report
    if not check:
        return None
    reason = (report or {}).get("error") or result.stderr.strip() or "no report"
    if result.returncode == 124:
        reason += " (timed out after %d s)" % timeout
    raise LabError("iperf3 from %s to %s port %d failed: %s" % (host, address, port, reason))


def bulk_transfer(source, destination, address, port, megabytes, timeout=60.0):
    """Send megabytes of TCP data with iperf3 from source to a one-off iperf3 server on the
    destination's address; returns (bytes sent, bytes the server read), zeros on failure.
    The server stops reading when the client says it is done, so it may read a little less."""
    unit = "overlaynet-test-iperf-%d" % port
    start_iperf_server(destination, port, unit, bind=address, one_off=True, timeout=timeout)
    try:
        report = iperf_client(source, address, port, ["--bytes", "%dM" % megabytes], timeout=timeout, check=False)
    finally:
        stop_unit(destination, unit)
    if report is None:
        return 0, 0
    summary = report["end"]
    return int(summary["sum_sent"]["bytes"]), int(summary["sum_received"]["bytes"])


def measure_throughput(case, client, address, port, seconds, runs, stream_counts, daemon_pids=None):
    """{streams: [throughput_sample, ...]}: for each stream count, that many runs of iperf3 TCP for
    seconds from the client to the iperf3 server at address:port. daemon_pids: a callable giving
    {host: pid} of the daemons whose CPU time counts, asked before each run; None where no daemon
    carries the traffic (the raw link)."""
    results = {}
    for streams in stream_counts:
        samples = []
        for index in range(runs):
            pids = daemon_pids() if daemon_pids else {}
            cpu_before = total_cpu_seconds(pids) if pids else None
            report = iperf_client(client, address, port, ["--time", seconds, "--omit", IPERF_WARM_UP_S, "--parallel", streams],
                                  timeout=seconds + 60)
            sample = throughput_sample(report, total_cpu_seconds(pids) - cpu_before if pids else None)
            samples.append(sample)
            print("bench: %-11s %d stream(s) run %d: %.2f Gbit/s" % (case, streams, index + 1, sample["gbps"]), file=sys.stderr)
        results[streams] = samples
    return results


# --- processes -------------------------------------------------------------------------------

def unix_socket_pid(host, path):
    """The pid (text) of the process listening on the unix socket at path, or None."""
    return parse_socket_pid(on(host, "ss -Hxlp src %s" % shell_quote(path), check=False).stdout)


def process_description(host, pid):
    """{'pid', 'exe', 'version'} of a running process; version is the first line its
    executable prints for --version (None when it prints nothing)."""
    exe = on(host, "readlink /proc/%s/exe" % shell_quote(pid)).stdout.strip()
    version = on(host, "%s --version" % shell_quote(exe), check=False).stdout.splitlines()
    return {"pid": pid, "exe": exe, "version": version[0].strip() if version else None}


def unix_socket_process(host, path):
    """{'pid', 'exe', 'version'} of the process listening on the unix socket at path, or
    None when nothing listens there."""
    pid = unix_socket_pid(host, path)
    return process_description(host, pid) if pid else None


def unit_pid(host, unit):
    """The main pid (text) of a running systemd unit in the host, or None."""
    pid = on(host, "systemctl show --property MainPID --value %s" % shell_quote(unit), check=False).stdout.strip()
    return pid if pid and pid != "0" else None


def cpu_seconds(host, pids):
    """User+system CPU seconds of the host's processes pids (texts), summed; one command."""
    if not pids:
        return 0.0
    output = on(host, "getconf CLK_TCK; for pid in %s; do cat /proc/$pid/stat; echo; done"
                % " ".join(shell_quote(pid) for pid in pids)).stdout
    lines = [line for line in output.splitlines() if line.strip()]
    ticks_per_second = int(lines[0])
    return sum(parse_proc_stat_cpu_ticks(line) for line in lines[1:]) / ticks_per_second


def total_cpu_seconds(pids_by_host):
    """User+system CPU seconds of {host: pid} processes, summed over the hosts."""
    return sum(cpu_seconds(host, [pid]) for host, pid in pids_by_host.items())

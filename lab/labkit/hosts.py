# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab networks and hosts: Debian 12 podman containers running systemd.

A host spec is NAME or NAME@NET[,NET...]. Networks are created on first use, dual stack, with
DNS so that hosts reach each other by name. `up` checks the lab before it returns, so that no
scenario or demo ever dies deep inside a role for a lab fault.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from labkit import guard
from labkit.podman import LabError, on, podman

LABEL = "io.overlaynet.lab"
DEFAULT_NETWORK = "lab"
NETWORK_PREFIX = "overlaynet-"
DNS_SERVER = "/usr/lib/podman/aardvark-dns"
# The domain under which aardvark-dns answers for lab hosts (the hosts' search domain): a fully
# qualified NAME.dns.podman, for services that want one (a TLS server name, a control URL).
DNS_DOMAIN = "dns.podman"
SETUP_HINT = "run lab/setup-host.sh (make setup) as root"

# Subnets of the lab networks: fixed so that inventories and reports are stable.
# Only our own containers live here; nothing else is ever addressed.
NETWORK_SUBNETS = {
    "lab": ("10.213.0.0/24", "fd00:213::/64"),
    "lan1": ("10.213.1.0/24", "fd00:213:1::/64"),
    "lan2": ("10.213.2.0/24", "fd00:213:2::/64"),
}

# runc because crun fails on this kernel's cgroup setup; explicit ulimits because the
# defaults need CAP_SYS_RESOURCE; NET_ADMIN/NET_RAW and /dev/net/tun for VPN daemons.
BASE_RUN_OPTIONS = [
    "--runtime", "runc",
    "--systemd", "always",
    "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW",
    "--device", "/dev/net/tun",
    "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096",
    "--sysctl", "net.ipv6.conf.all.disable_ipv6=0",
]
# The container has its own network namespace: let roles set net.* sysctls for real.
# A host started with --default-sysctl keeps a container's default, a read-only /proc/sys.
WRITABLE_SYSCTL_OPTIONS = ["--security-opt", "unmask=/proc/sys"]
# Labels recording how a host was started, so that a host asked for differently is recreated.
SYSCTL_LABEL = LABEL + ".sysctl"

READY_TIMEOUT_S = 60


def parse_host(spec):
    name, nets = spec.partition("@")[::2]
    networks = [n for n in nets.split(",") if n] or [DEFAULT_NETWORK]
    if not name or len(name) > 63:
        raise LabError("bad host name %r" % spec)
    for net in networks:
        if net not in NETWORK_SUBNETS:
            raise LabError("unknown network %r (known: %s)" % (net, ", ".join(sorted(NETWORK_SUBNETS))))
    return name, networks


def network_name(net):
    return NETWORK_PREFIX + net


def network_info(net):
    result = podman("network", "inspect", network_name(net), check=False)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)[0]


def ensure_network(net):
    """Create the network with DNS; recreate one made without DNS (made before the DNS server
    was installed), together with the lab hosts on it, which cannot resolve names there."""
    info = network_info(net)
    if info is not None and info.get("dns_enabled"):
        return info
    if not os.path.exists(DNS_SERVER):
        raise LabError("podman's DNS server %s is missing (Debian package aardvark-dns, only recommended by "
                       "podman): lab hosts could not resolve each other; %s" % (DNS_SERVER, SETUP_HINT))
    if info is not None:
        print("lab: network %s has no DNS (created before the DNS server was installed): "
              "recreating it and its hosts" % network_name(net), file=sys.stderr)
        podman("network", "rm", "-f", network_name(net))
    ipv4, ipv6 = NETWORK_SUBNETS[net]
    podman("network", "create", "--label", LABEL + "=1", "--ipv6",
           "--subnet", ipv4, "--subnet", ipv6, network_name(net))
    info = network_info(net)
    if not info.get("dns_enabled"):
        raise LabError("network %s was created without DNS although %s exists: is podman's network backend "
                       "netavark (/etc/containers/containers.conf.d/50-overlaynet-lab.conf)? %s"
                       % (network_name(net), DNS_SERVER, SETUP_HINT))
    return info


def load_guard():
    """The egress guard over every lab network that exists now."""
    bridges, ipv4, ipv6 = [], [], []
    for net in sorted(NETWORK_SUBNETS):
        info = network_info(net)
        if info is None:
            continue
        bridges.append(info["network_interface"])
        ipv4.append(NETWORK_SUBNETS[net][0])
        ipv6.append(NETWORK_SUBNETS[net][1])
    guard.load(bridges, ipv4, ipv6)


def container_state(name):
    result = podman("container", "inspect", "--format", "{{.State.Status}}", name, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def container_labels(name):
    result = podman("container", "inspect", "--format", "{{json .Config.Labels}}", name, check=False)
    return json.loads(result.stdout or "{}") or {} if result.returncode == 0 else {}


def start_host(name, networks, tag, writable_sysctl=True, sysctls=()):
    """Start the host unless it runs already as asked; returns True when it was started."""
    sysctl_label = "writable" if writable_sysctl else "default:" + ",".join(sysctls)
    state = container_state(name)
    if state == "running" and container_labels(name).get(SYSCTL_LABEL, "writable") == sysctl_label:
        return False
    if state is not None:
        podman("rm", "-f", "-t", "0", name)
    args = ["run", "-d", "--name", name, "--hostname", name, "--label", LABEL + "=1",
            "--label", "%s=%s" % (SYSCTL_LABEL, sysctl_label)]
    # Named interfaces: podman attaches several networks in no fixed order, and inventories name
    # a host's legs (eth1 is its second network's).
    for index, net in enumerate(networks):
        args += ["--network", "%s:interface_name=eth%d" % (network_name(net), index)]
    args += BASE_RUN_OPTIONS + (WRITABLE_SYSCTL_OPTIONS if writable_sysctl else [])
    for setting in sysctls:
        args += ["--sysctl", setting]
    args += [tag]
    podman(*args)
    return True


def wait_ready(names):
    """Poll systemd in each host until it reports running (or degraded: a unit we do not use
    failed, the host is still usable); bounded, never a blind sleep."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    pending = list(names)
    states = {}
    while pending:
        for name in list(pending):
            states[name] = podman("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
            if states[name] in ("running", "degraded"):
                pending.remove(name)
        if not pending:
            break
        if time.monotonic() > deadline:
            raise LabError("systemd did not come up within %ds on: %s (check: systemctl is-system-running; "
                           "is runc the runtime and are the ulimits accepted?)"
                           % (READY_TIMEOUT_S, ", ".join("%s (%s)" % (n, states.get(n) or "no answer") for n in pending)))
        time.sleep(0.3)


def host_addresses(name):
    """{network: {'ipv4': ..., 'ipv6': ...}} of a running host."""
    data = json.loads(podman("container", "inspect", name).stdout)[0]
    result = {}
    for full_name, net in sorted(data["NetworkSettings"]["Networks"].items()):
        short = full_name[len(NETWORK_PREFIX):] if full_name.startswith(NETWORK_PREFIX) else full_name
        result[short] = {"ipv4": net.get("IPAddress") or None, "ipv6": net.get("GlobalIPv6Address") or None}
    return result


def lab_hosts():
    result = podman("ps", "-a", "--filter", "label=%s=1" % LABEL, "--format", "{{.Names}}")
    return sorted(n for n in result.stdout.split() if n)


# --- the self-check -------------------------------------------------------------------------

def _check_script(peers):
    """One shell run per host: systemd, /dev/net/tun, and each peer resolved and pinged."""
    lines = ['echo "systemd $(systemctl is-system-running)"',
             'if [ -c /dev/net/tun ]; then echo "tun yes"; else echo "tun no"; fi']
    for peer in peers:
        lines.append('addrs=$(getent ahosts %s | cut -d" " -f1 | sort -u | tr "\\n" " ")' % peer)
        lines.append('echo "resolve %s $addrs"' % peer)
    for peer in peers:
        lines.append('(for a in $(getent ahosts %s | cut -d" " -f1 | sort -u); do '
                     'ping -n -c1 -W2 "$a" >/dev/null 2>&1 && { echo "reach %s $a"; exit; }; done; '
                     'echo "reach %s none") &' % (peer, peer, peer))
    lines.append("wait")
    return "\n".join(lines)


def check_host(name, peers, addresses):
    """Problems of one host: each names the host, the check and the likely missing piece."""
    output = on(name, _check_script(peers), check=False, timeout=60).stdout
    facts = {}
    for line in output.splitlines():
        kind, _sep, rest = line.partition(" ")
        facts.setdefault(kind, []).append(rest.strip())
    problems = []
    systemd = (facts.get("systemd") or ["no answer"])[0]
    if systemd not in ("running", "degraded"):
        problems.append("host %s: systemd is %s, not running (check: systemctl is-system-running)" % (name, systemd))
    if (facts.get("tun") or ["no"])[0] != "yes":
        problems.append("host %s: /dev/net/tun is missing (the lab starts hosts with --device /dev/net/tun; "
                        "does the controller have /dev/net/tun?)" % name)
    resolved = dict(line.partition(" ")[::2] for line in facts.get("resolve", []))
    reached = dict(line.partition(" ")[::2] for line in facts.get("reach", []))
    for peer in peers:
        peer_addresses = {a for net in addresses[peer].values() for a in net.values() if a}
        found = set(resolved.get(peer, "").split())
        if not found:
            problems.append("host %s: cannot resolve %s by name (check: getent ahosts %s): the lab network has no "
                            "DNS; are netavark and aardvark-dns installed and podman's network backend netavark? %s" % (name, peer, peer, SETUP_HINT))
        elif not found & peer_addresses:
            problems.append("host %s: %s resolves to %s, not to its lab addresses %s (a stale DNS entry? "
                            "lab.py down --all, then up)" % (name, peer, " ".join(sorted(found)),
                                                             " ".join(sorted(peer_addresses))))
        elif reached.get(peer, "none") == "none":
            problems.append("host %s: %s resolves but does not answer ping (check: ping %s): is the bridge "
                            "filtered by the controller's firewall?" % (name, peer, peer))
    return problems


def check_guard(probe_host):
    """Proves the egress guard drops a packet bound outside the lab (to TEST-NET-1)."""
    before = guard.dropped_packets()
    if before is None:
        return ["egress guard: nftables table inet %s is not loaded" % guard.TABLE]
    on(probe_host, "ping -n -c1 -W1 %s >/dev/null 2>&1 || true" % guard.PROBE_ADDRESS)
    after = guard.dropped_packets()
    if after is None or after <= before:
        return ["egress guard: a packet from %s to %s was not dropped (counter %s -> %s)"
                % (probe_host, guard.PROBE_ADDRESS, before, after)]
    return []


def self_check(specs):
    """Check every host of specs ([(name, networks)]) against the others on each shared network."""
    addresses = dict((name, host_addresses(name)) for name, _networks in specs)
    networks = dict(specs)
    jobs = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        for name, nets in specs:
            peers = sorted(other for other, other_nets in networks.items()
                           if other != name and set(nets) & set(other_nets))
            jobs[name] = pool.submit(check_host, name, peers, addresses)
        problems = [problem for name in sorted(jobs) for problem in jobs[name].result()]
    if specs:
        problems.extend(check_guard(specs[0][0]))
    if problems:
        raise LabError("the lab failed its self-check:\n  " + "\n  ".join(problems))
    print("lab: %d host(s) up and checked (systemd, /dev/net/tun, names and ping on shared networks); "
          "egress guard dropped %d packet(s) so far" % (len(specs), guard.dropped_packets()), file=sys.stderr)


# --- up, down, inventory --------------------------------------------------------------------

def up(specs, tag, options=None):
    """Start the hosts of specs ([(name, networks)]) from the image tag; options: name ->
    {'writable_sysctl': bool, 'sysctls': ['key=value', ...], 'tag': image} for hosts started like a
    default container (read-only /proc/sys) or from another image."""
    options = options or {}
    for net in sorted({net for _name, nets in specs for net in nets}):
        ensure_network(net)
    # Before any host starts: daemons reach out at once.
    load_guard()
    for name, networks in specs:
        host_options = options.get(name, {})
        start_host(name, networks, host_options.get("tag", tag), writable_sysctl=host_options.get("writable_sysctl", True),
                   sysctls=host_options.get("sysctls", ()))
    wait_ready([name for name, _networks in specs])
    self_check(specs)


def down(names, remove_networks=False):
    if names:
        podman("rm", "-f", "-t", "0", *names)
    if remove_networks:
        result = podman("network", "ls", "--filter", "label=%s=1" % LABEL, "--format", "{{.Name}}")
        for net in result.stdout.split():
            podman("network", "rm", "-f", net, check=False)
    dropped = guard.dropped_packets()
    if dropped is not None:
        print("lab: egress guard dropped %d packet(s) so far" % dropped, file=sys.stderr)


def inventory(names):
    """YAML inventory (JSON is valid YAML) with connection settings and lab addresses."""
    hosts = {}
    for name in names:
        addresses = host_addresses(name)
        first = addresses[sorted(addresses)[0]] if addresses else {}
        hosts[name] = {
            "ansible_connection": "containers.podman.podman",
            "ansible_host": name,
            "ansible_python_interpreter": "/usr/bin/python3",
            "lab_networks": addresses,
            "lab_ipv4": first.get("ipv4"),
            "lab_ipv6": first.get("ipv6"),
        }
    return {"all": {"children": {"lab": {"hosts": hosts}}}}


def fqdn(host):
    """The fully qualified name of a lab host, as the lab's DNS answers it."""
    return "%s.%s" % (host, DNS_DOMAIN)

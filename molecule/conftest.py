# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab helpers shared by every molecule scenario's testinfra tests.

Hosts are reached with testinfra's podman backend (one `podman exec` per command).
Traffic checks run between real lab hosts: ping and a TCP exchange to an address that
exists only on the far end of the tunnel, after checking the route goes through it.
Playbook runs (check mode, --limit, key rotation) use molecule's own inventory.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import re
import subprocess
import time

import pytest
import testinfra

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")

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


def _shell_quote(text):
    return "'" + text.replace("'", "'\"'\"'") + "'"


class Lab(object):
    """The scenario's hosts as molecule's inventory describes them."""

    def __init__(self):
        self.inventory_file = os.environ["MOLECULE_INVENTORY_FILE"]
        self.scenario_dir = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
        listing = subprocess.run(["ansible-inventory", "-i", self.inventory_file, "--list"],
                                 check=True, capture_output=True, text=True, env=self.ansible_env())
        self.inventory = json.loads(listing.stdout)
        self._hosts = {}

    def ansible_env(self):
        env = dict(os.environ)
        project = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.getcwd())
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(project, "build", "collections"))
        ephemeral_cfg = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "ansible.cfg")
        if os.path.exists(ephemeral_cfg):
            env["ANSIBLE_CONFIG"] = ephemeral_cfg
        # Molecule forces colour for its own output; the recap parser wants plain text.
        env.pop("ANSIBLE_FORCE_COLOR", None)
        env["ANSIBLE_NOCOLOR"] = "1"
        env["PY_COLORS"] = "0"
        return env

    def group(self, name):
        return sorted(self.inventory.get(name, {}).get("hosts", []))

    def host(self, name):
        if name not in self._hosts:
            self._hosts[name] = testinfra.get_host("podman://" + name)
        return self._hosts[name]

    def hostvars(self, name):
        return self.inventory["_meta"]["hostvars"].get(name, {})

    def run_playbook(self, *args, playbooks=("converge.yml",), env=None):
        """Run playbooks of the scenario in one ansible-playbook run (facts set by one are
        seen by the next); returns (returncode, recap, output)."""
        command = (["ansible-playbook", "-i", self.inventory_file]
                   + [os.path.join(self.scenario_dir, playbook) for playbook in playbooks] + list(args))
        run_env = self.ansible_env()
        run_env.update(env or {})
        result = subprocess.run(command, capture_output=True, text=True, env=run_env, timeout=900, check=False)
        recap = {}
        in_recap = False
        for line in ANSI_ESCAPE.sub("", result.stdout).splitlines():
            if line.startswith("PLAY RECAP"):
                in_recap = True
                continue
            match = RECAP_LINE.match(line.strip()) if in_recap else None
            if match:
                recap[match.group("host")] = {key: int(value) for key, value in
                                              (pair.split("=") for pair in match.group("counts").split())}
        return result.returncode, recap, result.stdout + result.stderr

    # --- the live WireGuard state of a host -------------------------------------------

    def tunnel_addresses(self, name, interface):
        """Global addresses of the interface, by family: {'inet': [...], 'inet6': [...]}."""
        output = self.host(name).check_output("ip -j addr show dev %s", interface)
        addresses = {"inet": [], "inet6": []}
        for link in json.loads(output):
            for info in link.get("addr_info", []):
                if info.get("scope") == "global":
                    addresses[info["family"]].append(info["local"])
        return addresses

    def wg_dump(self, name, interface):
        """Peers of a live interface: public key -> dict (no private material kept)."""
        lines = self.host(name).check_output("wg show %s dump", interface).splitlines()
        peers = {}
        for line in lines[1:]:
            fields = line.split("\t")
            peers[fields[0]] = {
                "endpoint": fields[2],
                "allowed_ips": sorted(fields[3].split(",")) if fields[3] != "(none)" else [],
                "latest_handshake": int(fields[4]),
                "rx": int(fields[5]),
                "tx": int(fields[6]),
            }
        return peers

    def public_key(self, name, interface):
        return self.host(name).check_output("wg show %s public-key", interface).strip()

    def userspace_daemon(self, name, interface):
        """The process listening on the interface's UAPI socket: {'pid', 'exe', 'version'},
        or None when no userspace daemon serves it."""
        host = self.host(name)
        listing = host.run("ss -Hxlp src /var/run/wireguard/%s.sock", interface).stdout
        match = re.search(r"pid=(\d+)", listing)
        if not match:
            return None
        pid = match.group(1)
        exe = host.check_output("readlink /proc/%s/exe", pid).strip()
        version = host.run("%s --version", exe).stdout.splitlines()
        return {"pid": pid, "exe": exe, "version": version[0].strip() if version else None}

    def rx_bytes(self, name, interface):
        return int(self.host(name).check_output("cat /sys/class/net/%s/statistics/rx_bytes", interface))

    # --- traffic ------------------------------------------------------------------------

    def route_device(self, source, address):
        output = self.host(source).check_output("ip -j route get %s", address)
        return json.loads(output)[0].get("dev")

    def ping(self, source, address, count=3):
        """Returns the average round-trip time in ms, or None when no reply came back."""
        result = self.host(source).run("ping -n -q -c %s -i 0.2 -W 2 %s", str(count), address)
        if result.rc != 0:
            return None
        match = re.search(r"= [\d.]+/([\d.]+)/", result.stdout)
        return float(match.group(1)) if match else None

    def tcp_exchange(self, source, destination, address, port, timeout=10.0):
        """Start a one-shot TCP server on the destination's tunnel address, connect from the
        source, and return the server's answer (None when the connection failed)."""
        unit = "overlaynet-test-tcp-%d" % port
        server = self.host(destination)
        server.run("systemctl stop %s 2>/dev/null; systemctl reset-failed %s 2>/dev/null", unit, unit)
        server.check_output("systemd-run --quiet --collect --unit %s python3 -c %s %s %s" % (
            unit, _shell_quote(TCP_SERVER), address, port))
        deadline = time.monotonic() + timeout
        # Readiness is the listening socket itself, polled with a bound.
        while not server.run("ss -Hltn 'sport = :%s'" % port).stdout.strip():
            if time.monotonic() > deadline:
                raise AssertionError("TCP server on %s did not start listening" % destination)
            time.sleep(0.1)
        token = "%s-to-%s" % (source, destination)
        result = self.host(source).run("python3 -c %s %s %s %s" % (_shell_quote(TCP_CLIENT), address, port, token))
        server.run("systemctl stop %s 2>/dev/null", unit)
        return result.stdout.strip() if result.rc == 0 else None

    def bulk_transfer(self, source, destination, address, port, megabytes, timeout=60.0):
        """Send megabytes of TCP data with iperf3 from source to an iperf3 server on the
        destination's address; returns (bytes sent, bytes the server read), zeros on failure.
        The server stops reading when the client says it is done, so it may read a little less."""
        unit = "overlaynet-test-iperf-%d" % port
        server = self.host(destination)
        server.run("systemctl stop %s 2>/dev/null; systemctl reset-failed %s 2>/dev/null", unit, unit)
        server.check_output("systemd-run --quiet --collect --unit %s iperf3 --server --one-off --bind %s --port %s"
                            % (unit, address, port))
        deadline = time.monotonic() + timeout
        while not server.run("ss -Hltn 'sport = :%s'" % port).stdout.strip():
            if time.monotonic() > deadline:
                raise AssertionError("iperf3 server on %s did not start listening" % destination)
            time.sleep(0.1)
        result = self.host(source).run("timeout %d iperf3 --json --client %s --port %s --bytes %dM"
                                       % (int(timeout), address, port, megabytes))
        server.run("systemctl stop %s 2>/dev/null", unit)
        if result.rc != 0:
            return 0, 0
        summary = json.loads(result.stdout)["end"]
        return int(summary["sum_sent"]["bytes"]), int(summary["sum_received"]["bytes"])


@pytest.fixture(scope="session")
def lab():
    return Lab()

# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab helpers shared by every molecule scenario's testinfra tests.

The helpers themselves live in lab/labkit (traffic, wireguard), shared with the benches;
`Lab` gives them to the tests under the names the tests use. Traffic checks run between
real lab hosts: ping and a TCP exchange to an address that exists only on the far end of
the tunnel, after checking the route goes through it. `lab.host(name)` is testinfra's
podman backend, for the tests' own checks of files and services. Playbook runs (check
mode, --limit, key rotation) use molecule's own inventory.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys

import pytest
import testinfra

# labkit comes from the project molecule runs (its lab/), or else from this checkout.
PROJECT_DIR = os.environ.get("MOLECULE_PROJECT_DIRECTORY") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(PROJECT_DIR, "lab"))

from labkit import traffic, wireguard  # noqa: E402  (after the path is set)


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
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(PROJECT_DIR, "build", "collections"))
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

    def assert_no_secret_printed(self, output, secrets, minimum):
        """Every scenario's leak check: none of the secrets found on its hosts (at least
        `minimum` of them, so that finding none cannot pass) appears in the output."""
        secrets = set(secret for secret in secrets if secret)
        assert len(secrets) >= minimum, "found %d secrets on the hosts, expected at least %d" % (len(secrets), minimum)
        leaked = sorted(secret[:4] + "..." for secret in secrets if secret in output)
        assert not leaked, "secrets printed (first characters): %s" % leaked

    def run_playbook(self, *args, playbooks=("converge.yml",), env=None):
        """Run playbooks of the scenario in one ansible-playbook run (facts set by one are
        seen by the next); returns (returncode, recap, output)."""
        command = (["ansible-playbook", "-i", self.inventory_file]
                   + [os.path.join(self.scenario_dir, playbook) for playbook in playbooks] + list(args))
        run_env = self.ansible_env()
        run_env.update(env or {})
        result = subprocess.run(command, capture_output=True, text=True, env=run_env, timeout=900, check=False)
        return result.returncode, traffic.parse_recap(result.stdout), result.stdout + result.stderr

    # --- the live WireGuard state of a host (lab/labkit/wireguard.py) -------------------

    def tunnel_addresses(self, name, interface):
        """Global addresses of the interface, by family: {'inet': [...], 'inet6': [...]}."""
        return traffic.interface_addresses(name, interface)

    def wg_dump(self, name, interface):
        """Peers of a live interface: public key -> dict (no private material kept)."""
        return wireguard.peers(name, interface)

    def public_key(self, name, interface):
        return wireguard.public_key(name, interface)

    def userspace_daemon(self, name, interface):
        """The process listening on the interface's UAPI socket: {'pid', 'exe', 'version'},
        or None when no userspace daemon serves it."""
        return wireguard.userspace_daemon(name, interface)

    def rx_bytes(self, name, interface):
        return traffic.rx_bytes(name, interface)

    # --- traffic (lab/labkit/traffic.py) ------------------------------------------------

    def route_device(self, source, address):
        return traffic.route_device(source, address)

    def ping(self, source, address, count=3):
        """Returns the average round-trip time in ms, or None when no reply came back."""
        return traffic.ping_rtt(source, address, count=count)

    def tcp_exchange(self, source, destination, address, port, timeout=10.0, bind=None):
        """A one-shot TCP server on the destination's address (or on bind), a client on the
        source; returns the server's answer, 'ack:SOURCE-to-DESTINATION', or None."""
        return traffic.tcp_exchange(source, destination, address, port, timeout=timeout, bind=bind)

    def bulk_transfer(self, source, destination, address, port, megabytes, timeout=60.0):
        """iperf3 from source to destination; returns (bytes sent, bytes the server read)."""
        return traffic.bulk_transfer(source, destination, address, port, megabytes, timeout=timeout)


@pytest.fixture(scope="session")
def lab():
    return Lab()

# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hub and spoke with preshared keys and a road warrior brought up from its client file."""
from __future__ import absolute_import, division, print_function

import contextlib
import functools
import hashlib
import html.parser
import http.server
import json
import os
import stat
import threading
import time

import pytest
from labkit import wireguard

INTERFACE = "wg1"
SPOKES = ["spoke1", "spoke2"]
DISTRO_PATH = "/usr/bin/wireguard-go"
GO_BUILT_PATH = "/usr/local/sbin/wireguard-go"


@pytest.fixture(scope="module")
def addresses(lab):
    return {name: lab.tunnel_addresses(name, INTERFACE)["inet"][0] for name in ["hub1"] + SPOKES}


@pytest.fixture(scope="module")
def road_warrior_dir():
    return os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "road-warriors", "branches")


def test_spokes_peer_only_with_the_hub(lab):
    hub_key = lab.public_key("hub1", INTERFACE)
    for spoke in SPOKES:
        peers = lab.wg_dump(spoke, INTERFACE)
        assert list(peers) == [hub_key]
        # The hub's entry carries the whole pool: spokes reach each other through it.
        assert "10.78.0.0/24" in peers[hub_key]["allowed_ips"]


def test_hub_peers_with_spokes_and_road_warrior_and_forwards(lab):
    peers = lab.wg_dump("hub1", INTERFACE)
    assert len(peers) == 3
    assert lab.host("hub1").check_output("sysctl -n net.ipv4.ip_forward") == "1"


def test_post_up_hook_ran(lab):
    for name in ["hub1"] + SPOKES:
        assert lab.host(name).file("/run/overlaynet-hook-%s" % INTERFACE).exists


def test_spokes_reach_each_other_through_the_hub(lab, addresses):
    for source, destination in (("spoke1", "spoke2"), ("spoke2", "spoke1")):
        assert lab.route_device(source, addresses[destination]) == INTERFACE
        assert lab.ping(source, addresses[destination]) is not None, "%s -> %s" % (source, destination)
    answer = lab.tcp_exchange("spoke1", "spoke2", addresses["spoke2"], 17101)
    assert answer == "ack:spoke1-to-spoke2"
    for spoke in SPOKES:
        assert lab.ping(spoke, addresses["hub1"]) is not None
        assert lab.tcp_exchange(spoke, "hub1", addresses["hub1"], 17102) == "ack:%s-to-hub1" % spoke


def test_spokes_reach_the_hubs_lan_through_the_tunnel(lab):
    lan_address = lab.tunnel_addresses("lanhost1", "eth0")["inet"][0]
    rules = lab.host("hub1").check_output("nft list table inet overlaynet_wireguard")
    assert "masquerade" in rules and "51821" in rules
    for index, spoke in enumerate(SPOKES):
        assert lab.route_device(spoke, lan_address) == INTERFACE
        # Bounded wait for the first reply (once seen failing on a fresh clone, not reproduced
        # since); the diagnostics say where the packets stopped if it ever fails again.
        deadline = time.monotonic() + 15
        while lab.ping(spoke, lan_address, count=1) is None:
            if time.monotonic() > deadline:
                hub = lab.host("hub1")
                raise AssertionError("%s -> lanhost1 %s: no reply\n%s\n%s\n%s" % (
                    spoke, lan_address, hub.run("ip -br addr").stdout, hub.run("sysctl net.ipv4.ip_forward").stdout,
                    hub.run("wg show %s" % INTERFACE).stdout))
        assert lab.tcp_exchange(spoke, "lanhost1", lan_address, 17110 + index) == "ack:%s-to-lanhost1" % spoke


def test_the_hubs_port_and_tunnel_pass_firewalld_through_the_roles_policy_and_zone(lab):
    # The traffic tests above cross firewalld on the hub: without this policy and zone its
    # default zone would refuse the spokes' handshakes and every TCP exchange through the hub.
    hub = lab.host("hub1")
    assert hub.check_output("firewall-cmd --state") == "running"
    assert hub.check_output("firewall-cmd --get-zone-of-interface=%s", INTERFACE) == "olnet-wireguard"
    assert hub.check_output("firewall-cmd --policy=olnet-wireguard-in --list-ports") == "51821/udp"
    assert hub.check_output("firewall-cmd --get-default-zone") == "public"
    assert "51821" not in hub.check_output("firewall-cmd --zone=public --list-all")


def test_firewalld_files_firewalld_refuses_are_put_back(lab):
    """The platform writes firewalld's files through rendered_files with firewalld's own check:
    a zone firewalld refuses never stays in place, and the running firewall keeps the role's zone."""
    zone_file = "/etc/firewalld/zones/olnet-wireguard.xml"
    hub = lab.host("hub1")
    before = hub.check_output("sha256sum %s", zone_file)
    broken_zone = '<?xml version="1.0" encoding="utf-8"?><zone target="ACCEPT"><interface name="wg 1"/></zone>'
    returncode, recap, output = lab.run_playbook(
        "--limit", "hub1", "-e", json.dumps({"zone_file": zone_file, "broken_zone": broken_zone}),
        playbooks=("firewalld_refusal.yml",))
    assert returncode != 0 and "firewall-cmd --check-config refused the new files" in output, output
    assert "INVALID_INTERFACE" in output
    assert hub.check_output("sha256sum %s", zone_file) == before
    assert hub.check_output("firewall-cmd --check-config") == "success"
    assert hub.check_output("firewall-cmd --get-zone-of-interface=%s", INTERFACE) == "olnet-wireguard"


def test_each_pair_shares_its_own_preshared_key(lab):
    def preshared_keys(name):
        lines = lab.host(name).check_output("wg show %s preshared-keys", INTERFACE).splitlines()
        return dict(line.split("\t") for line in lines)

    hub_key = lab.public_key("hub1", INTERFACE)
    on_hub = preshared_keys("hub1")
    seen = set()
    for spoke in SPOKES:
        shared = preshared_keys(spoke)[hub_key]
        assert shared != "(none)"
        assert on_hub[lab.public_key(spoke, INTERFACE)] == shared
        seen.add(shared)
    assert len(seen) == len(SPOKES)
    psk_file = lab.host("hub1").file("/etc/wireguard/%s.psk" % INTERFACE)
    assert psk_file.mode == 0o600


def test_road_warrior_files_are_private(road_warrior_dir):
    for name in ("laptop.conf", "laptop.png", "laptop.key"):
        mode = stat.S_IMODE(os.stat(os.path.join(road_warrior_dir, name)).st_mode)
        assert mode == 0o600, name
    with open(os.path.join(road_warrior_dir, "laptop.png"), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_road_warrior_connects_with_its_client_file(lab, addresses, road_warrior_dir):
    laptop = lab.host("roaming1")
    with open(os.path.join(road_warrior_dir, "laptop.conf")) as handle:
        client_file = handle.read()
    laptop.check_output("install -d -m 0700 /etc/wireguard && cat > /etc/wireguard/rw0.conf <<'EOF'\n%s\nEOF\nchmod 0600 /etc/wireguard/rw0.conf" % client_file)
    laptop.check_output("WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go wg-quick up rw0 2>/dev/null")
    try:
        assert lab.ping("roaming1", addresses["hub1"]) is not None
        # Through the hub to a spoke.
        assert lab.ping("roaming1", addresses["spoke1"]) is not None
        assert lab.tcp_exchange("roaming1", "spoke1", addresses["spoke1"], 17103) == "ack:roaming1-to-spoke1"
    finally:
        laptop.run("wg-quick down rw0")


def test_wrong_preshared_key_is_refused(lab, addresses):
    """spoke2 starts with the hub's public key but a different preshared key: every
    handshake fails and nothing crosses; the next converge restores the right key."""
    hub_key = lab.public_key("hub1", INTERFACE)
    spoke2 = lab.host("spoke2")
    spoke2.check_output("echo \"%s $(wg genpsk)\" > /etc/wireguard/%s.psk" % (hub_key, INTERFACE))
    # A restarted interface has no session left; the unit loads the wrong key at start.
    spoke2.check_output("systemctl restart overlaynet-wireguard@%s" % INTERFACE)
    assert lab.ping("spoke2", addresses["hub1"], count=3) is None
    assert lab.tcp_exchange("spoke2", "hub1", addresses["hub1"], 17104) is None

    returncode, recap, output = lab.run_playbook("--limit", "spoke2")
    assert returncode == 0, output
    assert recap["spoke2"]["changed"] >= 1
    deadline = time.monotonic() + 20
    while lab.ping("spoke2", addresses["hub1"], count=1) is None:
        assert time.monotonic() < deadline, "spoke2 did not recover after the converge"


def test_hosts_run_the_distro_daemon_by_default(lab):
    for name in ["hub1"] + SPOKES:
        daemon = lab.userspace_daemon(name, INTERFACE)
        assert daemon is not None and daemon["exe"] == DISTRO_PATH, name


@contextlib.contextmanager
def http_server_for(lab, host, path):
    """Serve the file at path over HTTP on the controller's address on the host's lab
    network (its default gateway), for the duration of the block; yields its URL."""
    gateway = json.loads(lab.host(host).check_output("ip -j route show default"))[0]["gateway"]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=os.path.dirname(path))
    server = http.server.ThreadingHTTPServer((gateway, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://%s:%d/%s" % (gateway, server.server_address[1], os.path.basename(path))
    finally:
        server.shutdown()
        server.server_close()


def test_userspace_daemon_from_a_url_is_checked_then_installed(lab, addresses):
    """spoke2 downloads the Go-built daemon from a URL: a wrong checksum is refused with
    nothing changed; the right one installs it and restarts spoke2's interface only."""
    binary = os.environ["OVERLAYNET_WIREGUARD_GO"]
    with open(binary, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    pids = {name: lab.userspace_daemon(name, INTERFACE)["pid"] for name in ["hub1"] + SPOKES}
    lab.host("spoke2").check_output("rm -f %s", GO_BUILT_PATH)
    with http_server_for(lab, "spoke2", binary) as url:
        def settings(checksum):
            return json.dumps({
                "wireguard_userspace_source": '{{ "url" if inventory_hostname == "spoke2" else "package" }}',
                "wireguard_userspace_url": url,
                "wireguard_userspace_checksum": "sha256:" + checksum,
            })

        wrong = hashlib.sha256(b"not the binary").hexdigest()
        returncode, recap, output = lab.run_playbook("-e", settings(wrong))
        assert returncode != 0 and recap["spoke2"]["failed"] == 1, output
        assert "checksum" in output.lower()
        assert not lab.host("spoke2").file(GO_BUILT_PATH).exists
        assert lab.userspace_daemon("spoke2", INTERFACE)["pid"] == pids["spoke2"]
        # The host that failed keeps its place in its peers' lists.
        assert lab.public_key("spoke2", INTERFACE) in lab.wg_dump("hub1", INTERFACE)

        returncode, recap, output = lab.run_playbook("-e", settings(digest))
        assert returncode == 0, output
    assert lab.host("spoke2").check_output("sha256sum %s", GO_BUILT_PATH).split()[0] == digest
    assert lab.host("spoke2").file(GO_BUILT_PATH).mode == 0o755
    assert lab.userspace_daemon("spoke2", INTERFACE)["exe"] == GO_BUILT_PATH
    for name in ["hub1", "spoke1"]:
        assert lab.userspace_daemon(name, INTERFACE)["pid"] == pids[name], "%s was restarted" % name
    assert lab.tcp_exchange("spoke1", "spoke2", addresses["spoke2"], 17105) == "ack:spoke1-to-spoke2"

    # Back to the inventory's source: the distro daemon again.
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0, output
    assert lab.userspace_daemon("spoke2", INTERFACE)["exe"] == DISTRO_PATH


def test_spokes_ping_each_other_without_icmp_redirects(lab, addresses):
    """The hub forwards between peers of one interface: it must not tell a spoke to send
    directly (an ICMP redirect makes `ping -c1` fail on "Redirect Host")."""
    result = lab.host("spoke1").run("ping -n -c1 -W2 %s", addresses["spoke2"])
    assert result.rc == 0 and "Redirect" not in result.stdout, result.stdout
    hub = lab.host("hub1")
    for key in ("all", "default", INTERFACE):
        assert hub.check_output("sysctl -n net.ipv4.conf.%s.send_redirects", key) == "0", key


def test_hub_with_read_only_proc_sys_uses_the_values_set_at_creation(lab):
    """hub1 runs as a default container (read-only /proc/sys) whose forwarding settings were
    set when it was created: the role reads them, finds them right and writes nothing."""
    hub = lab.host("hub1")
    assert not hub.run("sysctl -w net.ipv4.ip_forward=1").succeeded, "hub1 should have a read-only /proc/sys"
    assert hub.check_output("sysctl -n net.ipv4.ip_forward") == "1"
    assert hub.file("/etc/sysctl.d/60-overlaynet-wireguard.conf").exists


def test_setting_a_read_only_host_cannot_take_is_refused_before_any_change(lab):
    """An IPv6 pool needs IPv6 forwarding on hub1, which its read-only /proc/sys cannot
    give: refused before any host changes, naming the host, the setting and the remedy."""
    hubs_before = {name: lab.host(name).check_output("sha256sum /etc/wireguard/%s.conf" % INTERFACE) for name in ["hub1"] + SPOKES}
    network = dict(lab.hostvars("hub1")["wireguard_networks"][0])
    network["address_pools"] = network["address_pools"] + ["fd78:78::/64"]
    returncode, recap, output = lab.run_playbook("-e", json.dumps({"wireguard_networks": [network]}))
    assert returncode != 0
    assert "host hub1" in output and "net.ipv6.conf.all.forwarding" in output and "--sysctl" in output, output
    assert all(counts["changed"] == 0 for counts in recap.values()), output
    after = {name: lab.host(name).check_output("sha256sum /etc/wireguard/%s.conf" % INTERFACE) for name in ["hub1"] + SPOKES}
    assert after == hubs_before


def test_hub_reached_through_its_ipv6_literal_endpoint(lab):
    """hub1's endpoint is an IPv6 address (wireguard_endpoint): spokes write it as
    [address]:port and their handshakes go to it."""
    hub_ipv6 = lab.tunnel_addresses("hub1", "eth0")["inet6"][0]
    hub_key = lab.public_key("hub1", INTERFACE)
    for spoke in SPOKES:
        config = lab.host(spoke).file("/etc/wireguard/%s.conf" % INTERFACE).content_string
        assert "Endpoint = [%s]:51821" % hub_ipv6 in config
        assert lab.wg_dump(spoke, INTERFACE)[hub_key]["endpoint"] == "[%s]:51821" % hub_ipv6


def test_no_secret_appears_in_a_verbose_diff_run(lab, road_warrior_dir):
    """A converge that changes every interface, at -vvv with --diff, prints no private key,
    no preshared key (hosts and the controller's road-warrior files) and not the seed."""
    network = dict(lab.hostvars("hub1")["wireguard_networks"][0])
    network["persistent_keepalive"] = 30
    returncode, recap, output = lab.run_playbook("-vvv", "--diff", "-e", json.dumps({"wireguard_networks": [network]}))
    assert returncode == 0, output[-3000:]
    assert any(counts["changed"] for counts in recap.values())
    secrets = set()
    for name in ["hub1"] + SPOKES:
        secrets |= wireguard.secrets_on_host(name)
    secrets |= wireguard.secrets_in_files(os.path.dirname(road_warrior_dir))
    secrets.add(lab.hostvars("hub1")["wireguard_preshared_key_seed"])
    # Three private keys, the laptop's, three preshared keys on the hub and its copies.
    lab.assert_no_secret_printed(output, secrets, minimum=8)
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0, output


class ReportPage(html.parser.HTMLParser):
    """The connectivity report's HTML page: its summary counts and the status of each matrix cell."""

    def __init__(self):
        super(ReportPage, self).__init__()
        self.summary = {}
        self.cells = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-links" in attrs:
            self.summary = dict((key[5:], int(value)) for key, value in attrs.items() if key.startswith("data-") and value.isdigit())
        if "data-source" in attrs and "data-destination" in attrs:
            self.cells[(attrs["data-source"], attrs["data-destination"])] = attrs.get("data-status")


def run_report(lab, tmp_path):
    page = tmp_path / "report.html"
    report = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "report.yml")
    returncode, recap, output = lab.run_playbook("-e", json.dumps({"overlaynet_report_html": str(page)}), playbooks=(report,))
    parsed = ReportPage()
    if page.exists():
        parsed.feed(page.read_text())
    return returncode, output, parsed


def test_connectivity_report_passes_and_fails_both_sides_of_a_silent_spoke(lab, tmp_path):
    """The shared report: every managed pair answers (the unmanaged laptop is offline, not a
    failure); once spoke2's interface is down, the hub's row for spoke2 and spoke2's row for
    the hub both fail, and so does the run."""
    returncode, output, page = run_report(lab, tmp_path)
    assert returncode == 0, output[-3000:]
    assert page.summary["failed"] == 0 and page.summary["ok"] >= 4, page.summary
    assert page.cells[("hub1", "spoke2")] == "ok" and page.cells[("hub1", "laptop")] == "offline"

    unit = "overlaynet-wireguard@%s" % INTERFACE
    lab.host("spoke2").check_output("systemctl stop %s", unit)
    try:
        returncode, output, page = run_report(lab, tmp_path)
        assert returncode != 0
        assert page.cells[("hub1", "spoke2")] == "failed" and page.cells[("spoke2", "hub1")] == "failed", page.cells
        assert page.cells[("hub1", "spoke1")] == "ok"
    finally:
        lab.host("spoke2").check_output("systemctl start %s", unit)

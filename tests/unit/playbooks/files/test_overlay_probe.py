# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import socket
import threading

from ansible_collections.overlaynet.vpn.playbooks.files import overlay_probe

IPUTILS_PING = """PING 10.77.0.2 (10.77.0.2) 56(84) bytes of data.

--- 10.77.0.2 ping statistics ---
3 packets transmitted, 2 received, 33.3333% packet loss, time 402ms
rtt min/avg/max/mdev = 0.215/0.318/0.421/0.103 ms
"""
BUSYBOX_PING = """PING fd77::2 (fd77::2): 56 data bytes

--- fd77::2 ping statistics ---
3 packets transmitted, 3 packets received, 0% packet loss
round-trip min/avg/max = 1.100/1.250/1.400 ms
"""
NO_REPLY_PING = """PING 10.77.0.9 (10.77.0.9) 56(84) bytes of data.

--- 10.77.0.9 ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time 417ms
"""
PRIVATE_KEY = "cGFzc3dvcmRwYXNzd29yZHBhc3N3b3JkcGFzc3dvcmQ="


def test_ping_average_from_iputils_and_busybox_output():
    assert overlay_probe.ping_average_ms(IPUTILS_PING) == 0.318
    assert overlay_probe.ping_average_ms(BUSYBOX_PING) == 1.25
    assert overlay_probe.ping_average_ms(NO_REPLY_PING) is None
    assert overlay_probe.ping_average_ms("") is None


def test_route_device_from_ip_route_get_json():
    route = [{"dst": "10.77.0.2", "dev": "wg0", "prefsrc": "10.77.0.1", "flags": [], "uid": 0, "cache": []}]
    assert overlay_probe.route_device(json.dumps(route)) == "wg0"
    assert overlay_probe.route_device("") is None  # `ip` failed: "Network is unreachable"
    assert overlay_probe.route_device("[]") is None
    assert overlay_probe.route_device('[{"type": "unreachable", "dst": "10.9.0.1"}]') is None


def test_handshake_ages_by_interface_and_public_key():
    output = "wg0\tKEYA=\t1000\nwg0\tKEYB=\t0\nwg1\tKEYA=\t1090\n"
    assert overlay_probe.handshake_ages(output, 1100) == {("wg0", "KEYA="): 100, ("wg0", "KEYB="): None, ("wg1", "KEYA="): 10}


def test_handshake_ages_ignore_lines_of_other_shapes_and_keep_no_secret():
    # Lines shaped like `wg show all dump` (the interface line carries the private key) are skipped.
    output = "wg0\t%s\tPUB=\t51820\toff\nwg0\tKEYA=\t(none)\t192.0.2.1:51820\t10.77.0.2/32\t1000\t1\t2\t25\n" % PRIVATE_KEY
    ages = overlay_probe.handshake_ages(output, 1100)
    assert ages == {}
    assert PRIVATE_KEY not in repr(ages)


def test_address_family():
    assert overlay_probe.address_family("10.77.0.2") == "ipv4"
    assert overlay_probe.address_family("fd77:77::2") == "ipv6"


def write(path, content):
    path.write_text(content if isinstance(content, str) else json.dumps(content))


def test_read_peer_files_keeps_good_peers_and_names_every_problem(tmp_path):
    good = {"system": "wireguard", "network": "mesh", "interface": "wg0", "peer": "b", "addresses": ["10.77.0.2"]}
    incomplete = {"peer": "c", "system": "wireguard"}
    bad_addresses = dict(good, peer="d", addresses="10.77.0.4")
    write(tmp_path / "wireguard.json", {"system": "wireguard", "peers": [good, incomplete, bad_addresses]})
    write(tmp_path / "openvpn.json", "{not json")
    write(tmp_path / "netbird.json", {"system": "netbird"})
    write(tmp_path / "notes.txt", "ignored")
    peers, errors = overlay_probe.read_peer_files(str(tmp_path))
    assert peers == [good]
    assert [error.split(": ", 1)[0] for error in errors] == [str(tmp_path / name) for name in (
        "netbird.json", "openvpn.json", "wireguard.json", "wireguard.json")]
    assert errors[0].endswith("netbird.json: no list of peers")
    assert errors[2].endswith("wireguard.json: peer c has no network, interface, addresses")
    assert errors[3].endswith("wireguard.json: peer d: addresses is not a list of strings")


def test_read_peer_files_of_a_host_without_overlays(tmp_path):
    assert overlay_probe.read_peer_files(str(tmp_path / "absent")) == ([], [])


class FakeHost:
    """Answers the commands the probe runs, and records them."""

    def __init__(self, routes, replies, handshakes):
        self.routes, self.replies, self.handshakes = routes, replies, handshakes
        self.tailscale_status = ""
        self.commands = []
        self.lock = threading.Lock()

    def run(self, args):
        with self.lock:
            self.commands.append(args)
        if args[:3] == ["ip", "-j", "route"]:
            return json.dumps([{"dst": args[-1], "dev": self.routes[args[-1]]}])
        if args[0] == "ping":
            return IPUTILS_PING if self.replies.get(args[-1]) else NO_REPLY_PING
        if args[:2] == ["wg", "show"]:
            return self.handshakes
        if args[1:] == ["status", "--json"]:
            return self.tailscale_status
        raise AssertionError("unexpected command %s" % args)

    def tcp_echo(self, address, port, token):
        return bool(self.replies.get(address)) and port == 17999 and token.startswith(b"overlaynet-report a ")


def test_probe_checks_every_address_of_every_peer(tmp_path, monkeypatch):
    write(tmp_path / "wireguard.json", {"system": "wireguard", "peers": [
        {"system": "wireguard", "network": "mesh", "interface": "wg0", "peer": "b", "managed": True, "must_answer": True,
         "addresses": ["10.77.0.2", "fd77::2"], "extras": {"wireguard_public_key": "KEYB="}},
        {"system": "wireguard", "network": "branches", "interface": "wg1", "peer": "laptop", "managed": False,
         "must_answer": False, "addresses": ["10.78.0.9"], "extras": {"wireguard_public_key": "KEYL="}},
    ]})
    host = FakeHost(routes={"10.77.0.2": "wg0", "fd77::2": "eth0", "10.78.0.9": "wg1"},
                    replies={"10.77.0.2": True, "fd77::2": True},
                    handshakes="wg0\tKEYB=\t%d\nwg1\tKEYL=\t0\n" % (overlay_probe.time.time() - 30))
    monkeypatch.setattr(overlay_probe, "run", host.run)
    monkeypatch.setattr(overlay_probe, "tcp_echo", host.tcp_echo)
    result = overlay_probe.probe("a", str(tmp_path), 17999)
    assert result["host"] == "a" and result["errors"] == []
    mesh, laptop = result["peers"]
    assert (mesh["peer"], mesh["network"], mesh["managed"], mesh["must_answer"]) == ("b", "mesh", True, True)
    assert 29 <= mesh["extras"]["handshake_age_s"] <= 32
    assert mesh["addresses"] == [
        {"address": "10.77.0.2", "family": "ipv4", "route_device": "wg0", "through_tunnel": True, "ping_ms": 0.318, "tcp": True},
        # The route leaves through eth0: nothing is sent, an answer by that path would prove nothing.
        {"address": "fd77::2", "family": "ipv6", "route_device": "eth0", "through_tunnel": False, "ping_ms": None, "tcp": False},
    ]
    assert laptop["extras"] == {"handshake_age_s": None}
    assert laptop["addresses"][0]["ping_ms"] is None and laptop["addresses"][0]["tcp"] is False
    assert ["wg", "show", "all", "latest-handshakes"] in host.commands
    assert ["ping", "-4", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "1", "10.78.0.9"] in host.commands
    assert not any(command[0] == "ping" and command[-1] == "fd77::2" for command in host.commands)


def tailscale_peer(name, **extra):
    entry = {"system": "tailscale", "network": "hs1", "interface": "tailscale0", "peer": name, "managed": True,
             "must_answer": True, "addresses": [], "extras": {"tailscale_hostname": name},
             "resolve": {"tailscale": "/usr/local/bin/tailscale"}}
    entry.update(extra)
    return entry


def test_tailscale_peers_get_their_addresses_from_the_nodes_live_status(tmp_path, monkeypatch):
    write(tmp_path / "tailscale.json", {"system": "tailscale", "peers": [tailscale_peer("ts2"), tailscale_peer("ts9")]})
    host = FakeHost(routes={"100.64.0.2": "tailscale0", "fd7a:115c:a1e0::2": "tailscale0"},
                    replies={"100.64.0.2": True, "fd7a:115c:a1e0::2": True}, handshakes="")
    # What `tailscale status --json` lists of a peer (its key, its HostName, its addresses), besides much else.
    host.tailscale_status = json.dumps({"BackendState": "Running", "Peer": {
        "nodekey:01": {"HostName": "ts2", "DNSName": "ts2.tailnet.lab.", "TailscaleIPs": ["100.64.0.2", "fd7a:115c:a1e0::2"]},
        "nodekey:02": {"HostName": "laptop", "TailscaleIPs": ["100.64.0.7"]}}})
    monkeypatch.setattr(overlay_probe, "run", host.run)
    monkeypatch.setattr(overlay_probe, "tcp_echo", lambda address, port, token: True)
    result = overlay_probe.probe("ts1", str(tmp_path), 17999)
    ts2, ts9 = result["peers"]
    assert [check["address"] for check in ts2["addresses"]] == ["100.64.0.2", "fd7a:115c:a1e0::2"]
    assert all(check["through_tunnel"] and check["tcp"] for check in ts2["addresses"])
    # A peer this node does not know is reported with the reason, and nothing is sent to it.
    assert ts9["addresses"] == [{"address": "-", "family": None, "route_device": None, "through_tunnel": False,
                                 "ping_ms": None, "tcp": False,
                                 "problem": "not among this node's tailnet peers (/usr/local/bin/tailscale status)"}]
    # One status call for both peers.
    assert host.commands.count(["/usr/local/bin/tailscale", "status", "--json"]) == 1


def test_tailscale_peers_of_a_node_whose_cli_does_not_answer_are_all_reported(tmp_path, monkeypatch):
    write(tmp_path / "tailscale.json", {"system": "tailscale", "peers": [tailscale_peer("ts2")]})
    host = FakeHost(routes={}, replies={}, handshakes="")
    monkeypatch.setattr(overlay_probe, "run", host.run)
    (ts2,) = overlay_probe.probe("ts1", str(tmp_path), 17999)["peers"]
    assert [check["problem"] for check in ts2["addresses"]] == ["not among this node's tailnet peers (/usr/local/bin/tailscale status)"]


def test_tailscale_peer_addresses_from_status_output():
    assert overlay_probe.tailscale_peer_addresses("") == {}
    assert overlay_probe.tailscale_peer_addresses('{"Peer": null}') == {}
    assert overlay_probe.tailscale_peer_addresses('{"Peer": {"k": {"HostName": "a", "TailscaleIPs": ["100.64.0.1"]}, '
                                                  '"j": {"HostName": "b"}}}') == {"a": ["100.64.0.1"]}


def test_probe_without_wireguard_peers_does_not_call_wg(tmp_path, monkeypatch):
    host = FakeHost(routes={}, replies={}, handshakes="")
    monkeypatch.setattr(overlay_probe, "run", host.run)
    assert overlay_probe.probe("a", str(tmp_path), 17999) == {"host": "a", "peers": [], "errors": []}
    assert host.commands == []


def test_tcp_echo_against_a_loopback_listener():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def echo_once():
        connection = server.accept()[0]
        connection.sendall(connection.recv(256))
        connection.close()

    thread = threading.Thread(target=echo_once)
    thread.start()
    try:
        assert overlay_probe.tcp_echo("127.0.0.1", port, b"overlaynet-report a 127.0.0.1")
    finally:
        thread.join(5)
        server.close()
    # Nothing listens there any more: refused at once.
    assert not overlay_probe.tcp_echo("127.0.0.1", port, b"overlaynet-report a 127.0.0.1")

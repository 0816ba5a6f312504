# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A four-host dual-stack full mesh: traffic, refusals, and the run modes users rely on.

Tests run in file order; the ones that change the mesh (wrong key, rotation) come last
and leave it converged again.
"""
from __future__ import absolute_import, division, print_function

import hashlib
import itertools
import json
import os
import subprocess
import time

import pytest
from labkit import traffic, wireguard

INTERFACE = "wg0"
TCP_PORT_BASE = 17000
GO_BUILT_PATH = "/usr/local/sbin/wireguard-go"
DISTRO_PATH = "/usr/bin/wireguard-go"
BULK_MEGABYTES = 64
# A pair's first packet waits for its handshake; WireGuard sends a lost handshake initiation
# again after 5 s (REKEY_TIMEOUT), so a first reply may take two of those on a busy machine.
FIRST_REPLY_TIMEOUT_S = 12


@pytest.fixture(scope="module")
def members(lab):
    return lab.group("mesh")


def first_reply_problem(source, address):
    """Why the source got no ping reply from address within FIRST_REPLY_TIMEOUT_S; None once one came."""
    try:
        traffic.wait_for_reply(source, address, timeout=FIRST_REPLY_TIMEOUT_S)
    except traffic.LabError as error:
        return str(error)
    return None


def assert_full_mesh_traffic(lab, members, interface=INTERFACE):
    """Every ordered pair pings (over IPv4, and IPv6 where the interface has it), and every
    pair exchanges TCP, through the interface."""
    addresses = {name: lab.tunnel_addresses(name, interface) for name in members}
    failures = []
    for source, destination in itertools.permutations(members, 2):
        for family in ("inet", "inet6"):
            if not addresses[destination][family]:
                continue
            address = addresses[destination][family][0]
            device = lab.route_device(source, address)
            if device != interface:
                failures.append("%s -> %s %s routed via %s" % (source, destination, address, device))
            else:
                problem = first_reply_problem(source, address)
                if problem:
                    failures.append("%s -> %s %s: %s" % (source, destination, address, problem))
    for index, (source, destination) in enumerate(itertools.combinations(members, 2)):
        address = addresses[destination]["inet"][0]
        answer = lab.tcp_exchange(source, destination, address, TCP_PORT_BASE + index)
        if answer != "ack:%s-to-%s" % (source, destination):
            failures.append("%s -> %s TCP to %s: %r" % (source, destination, address, answer))
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def go_built():
    """The Go-built wireguard-go on the controller (make wireguard-go): its version line and SHA-256."""
    path = os.environ["OVERLAYNET_WIREGUARD_GO"]
    version = subprocess.run([path, "--version"], check=True, capture_output=True, text=True).stdout.splitlines()[0]
    with open(path, "rb") as binary:
        return {"version": version.strip(), "sha256": hashlib.sha256(binary.read()).hexdigest()}


def converge_and_record(lab, tmp_path, *args):
    """Converge, then read every host's wireguard_interfaces fact from the same run."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    returncode, recap, output = lab.run_playbook(*args, playbooks=("converge.yml", "record_interfaces.yml"),
                                                 env={"OVERLAYNET_FACTS_DIR": str(tmp_path)})
    assert returncode == 0, output
    facts = {}
    for path in tmp_path.glob("*.json"):
        facts[path.stem] = json.loads(path.read_text())
    return recap, facts, output


def test_every_member_lists_every_other_member(lab, members):
    keys = {name: lab.public_key(name, INTERFACE) for name in members}
    for name in members:
        peers = lab.wg_dump(name, INTERFACE)
        assert sorted(peers) == sorted(keys[other] for other in members if other != name)


def test_pinned_address_is_used(lab):
    assert "10.77.0.1" in lab.tunnel_addresses("mesh1", INTERFACE)["inet"]
    assert "fd77:77::1" in lab.tunnel_addresses("mesh1", INTERFACE)["inet6"]


def test_traffic_crosses_the_tunnel_between_every_pair(lab, members):
    assert_full_mesh_traffic(lab, members)


def test_interfaces_run_the_go_built_daemon(lab, members, go_built):
    for name in members:
        daemon = lab.userspace_daemon(name, INTERFACE)
        assert daemon is not None, "%s: no userspace daemon serves %s" % (name, INTERFACE)
        assert daemon["exe"] == GO_BUILT_PATH, name
        assert daemon["version"] == go_built["version"], name
        host = lab.host(name)
        assert host.check_output("sha256sum %s", GO_BUILT_PATH).split()[0] == go_built["sha256"], name
        # The role's unit helper started the daemon, not wg-quick's kernel-module fallback.
        journal = host.check_output("journalctl --no-pager -u overlaynet-wireguard@%s", INTERFACE)
        assert "Falling back" not in journal, name


def test_bulk_tcp_transfer_crosses_the_fast_path(lab):
    address = lab.tunnel_addresses("mesh2", INTERFACE)["inet"][0]
    assert lab.route_device("mesh1", address) == INTERFACE
    rx_before = lab.rx_bytes("mesh2", INTERFACE)
    sent, received = lab.bulk_transfer("mesh1", "mesh2", address, TCP_PORT_BASE + 100, BULK_MEGABYTES)
    assert sent >= BULK_MEGABYTES * 2**20
    assert received >= 0.9 * sent
    # The receiving end of the tunnel counted it all, headers included.
    assert lab.rx_bytes("mesh2", INTERFACE) - rx_before >= received


def test_handshakes_are_recent(lab, members):
    for name in members:
        now = int(lab.host(name).check_output("date +%s"))
        for key, peer in lab.wg_dump(name, INTERFACE).items():
            assert now - peer["latest_handshake"] < 180, "%s: no recent handshake with %s" % (name, key)


def test_secrets_stay_in_private_files(lab, members):
    for name in members:
        host = lab.host(name)
        key_file = host.file("/etc/wireguard/%s.key" % INTERFACE)
        assert key_file.mode == 0o600 and key_file.user == "root"
        assert host.file("/etc/wireguard").mode == 0o700
        config = host.file("/etc/wireguard/%s.conf" % INTERFACE)
        assert config.mode == 0o600
        assert "PrivateKey" not in config.content_string
        assert key_file.content_string.strip() not in config.content_string


def test_check_mode_reports_no_change_on_converged_hosts(lab, members):
    returncode, recap, output = lab.run_playbook("--check")
    assert returncode == 0, output
    assert sorted(recap) == members
    assert all(counts["changed"] == 0 for counts in recap.values()), output


def test_a_converged_host_costs_one_module_run(lab, members):
    """Nothing moved since the last converge: the probe's live digest equals what the apply
    step recorded, so the apply step is skipped on every host (the probe is the only module
    run); the wrong-key test below shows that a live change still runs it."""
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0, output
    apply_section = output.split("Bring each WireGuard interface to its configuration", 1)[1].split("TASK [", 1)[0]
    for name in members:
        assert "skipping: [%s] => (item=%s)" % (name, INTERFACE) in apply_section, apply_section
        assert recap[name]["changed"] == 0


def test_limit_run_renders_the_same_peer_lists(lab, members):
    before = {name: lab.host(name).check_output("sha256sum /etc/wireguard/%s.conf" % INTERFACE) for name in members}
    returncode, recap, output = lab.run_playbook("--limit", "mesh2")
    assert returncode == 0, output
    assert list(recap) == ["mesh2"] and recap["mesh2"]["changed"] == 0, output
    after = {name: lab.host(name).check_output("sha256sum /etc/wireguard/%s.conf" % INTERFACE) for name in members}
    assert after == before


def test_no_secret_appears_in_a_verbose_diff_run(lab, members):
    """A converge that changes every interface, at -vvv with --diff, prints none of the
    private keys found on the hosts."""
    returncode, recap, output = lab.run_playbook(
        "-vvv", "--diff", "-e", '{"wireguard_networks": [{"name": "mesh", "interface": "wg0", '
        '"address_pools": ["10.77.0.0/24", "fd77:77::/64"], "persistent_keepalive": 30}]}')
    assert returncode == 0, output[-3000:]
    assert all(counts["changed"] for counts in recap.values()), output[-3000:]
    secrets = set()
    for name in members:
        secrets |= wireguard.secrets_on_host(name)
    lab.assert_no_secret_printed(output, secrets, minimum=len(members))
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0, output


def test_diff_preview_shows_the_change_without_secrets(lab, members):
    returncode, recap, output = lab.run_playbook(
        "--check", "--diff", "-e", '{"wireguard_networks": [{"name": "mesh", "interface": "wg0", '
        '"address_pools": ["10.77.0.0/24", "fd77:77::/64"], "persistent_keepalive": 30}]}')
    assert returncode == 0, output
    assert "+PersistentKeepalive = 30" in output
    for name in members:
        private_key = lab.host(name).check_output("cat /etc/wireguard/%s.key" % INTERFACE).strip()
        assert private_key not in output
    # Check mode changed nothing on the hosts.
    assert "PersistentKeepalive = 25" in lab.host("mesh1").file("/etc/wireguard/wg0.conf").content_string


def test_bad_input_is_refused_before_any_host_changes(lab, members):
    before = {name: lab.host(name).check_output("sha256sum /etc/wireguard/%s.conf" % INTERFACE) for name in members}
    returncode, recap, output = lab.run_playbook(
        "-e", '{"wireguard_networks": [{"name": "mesh", "interface": "wg0", "address_pools": ["10.77.0.0/33"]}], '
        '"wireguard_host_networks": {"mesh": {"addresses": ["10.99.0.1"]}}}')
    assert returncode != 0
    assert "address_pools" in output and "10.77.0.0/33" in output
    assert all(counts["changed"] == 0 for counts in recap.values()), output
    after = {name: lab.host(name).check_output("sha256sum /etc/wireguard/%s.conf" % INTERFACE) for name in members}
    assert after == before


def test_malformed_imported_key_and_unknown_rotation_host_are_refused_without_echo(lab, members):
    before = {name: lab.host(name).check_output("sha256sum /etc/wireguard/%s.key" % INTERFACE) for name in members}
    returncode, recap, output = lab.run_playbook(
        "-e", '{"wireguard_private_keys": {"mesh": "not-a-key-but-maybe-a-secret"}, "wireguard_rotate_keys": ["nosuchhost"]}')
    assert returncode != 0
    assert "host mesh1: wireguard_private_keys.mesh: not a WireGuard private key" in output
    assert "wireguard_rotate_keys: nosuchhost is not a member" in output
    assert "not-a-key-but-maybe-a-secret" not in output
    after = {name: lab.host(name).check_output("sha256sum /etc/wireguard/%s.key" % INTERFACE) for name in members}
    assert after == before


def test_peer_with_a_wrong_key_gets_no_traffic_through(lab, members):
    """mesh4 swaps its live private key: its peers still hold the old public key, so the
    handshake fails and nothing crosses; the next converge repairs the drift."""
    address = lab.tunnel_addresses("mesh1", INTERFACE)["inet"][0]
    mesh4 = lab.host("mesh4")
    mesh4.check_output("wg genkey > /run/wrong.key && wg set %s private-key /run/wrong.key && rm /run/wrong.key" % INTERFACE)
    assert lab.ping("mesh4", address, count=3) is None
    assert lab.tcp_exchange("mesh4", "mesh1", address, TCP_PORT_BASE + 50) is None

    returncode, recap, output = lab.run_playbook("--limit", "mesh4")
    assert returncode == 0, output
    assert recap["mesh4"]["changed"] >= 1, "the drifted key was not detected"
    deadline = time.monotonic() + 20
    while lab.ping("mesh4", address, count=1) is None:
        assert time.monotonic() < deadline, "mesh4 did not recover after the converge"


def test_rotating_one_key_keeps_the_mesh_working(lab, members):
    old_key = lab.public_key("mesh3", INTERFACE)
    returncode, recap, output = lab.run_playbook("-e", '{"wireguard_rotate_keys": ["mesh3"]}')
    assert returncode == 0, output
    new_key = lab.public_key("mesh3", INTERFACE)
    assert new_key != old_key
    for name in members:
        if name != "mesh3":
            assert new_key in lab.wg_dump(name, INTERFACE)
            assert old_key not in lab.wg_dump(name, INTERFACE)
    assert_full_mesh_traffic(lab, members)


def test_switching_one_host_to_the_distro_binary_restarts_only_its_interface(lab, members, go_built, tmp_path):
    """mesh4 moves to Debian's wireguard-go and back: each time only mesh4's daemon is
    replaced, the facts say what runs, and the mesh carries traffic."""
    pids = {name: lab.userspace_daemon(name, INTERFACE)["pid"] for name in members}
    source = '{{ "package" if inventory_hostname == "mesh4" else "file" }}'
    recap, facts, output = converge_and_record(lab, tmp_path / "distro", "-e", json.dumps({"wireguard_userspace_source": source}))
    daemon = lab.userspace_daemon("mesh4", INTERFACE)
    assert daemon["exe"] == DISTRO_PATH and daemon["pid"] != pids["mesh4"]
    assert facts["mesh4"][INTERFACE]["userspace_binary"] == DISTRO_PATH
    assert "0.0.2022" in facts["mesh4"][INTERFACE]["userspace_version"]
    for name in members:
        assert facts[name][INTERFACE]["implementation"] == "userspace"
        if name != "mesh4":
            assert lab.userspace_daemon(name, INTERFACE)["pid"] == pids[name], "%s was restarted" % name
            assert facts[name][INTERFACE]["userspace_binary"] == GO_BUILT_PATH
            assert recap[name]["changed"] == 0, output
    assert_full_mesh_traffic(lab, members)

    recap, facts, output = converge_and_record(lab, tmp_path / "go-built")
    daemon = lab.userspace_daemon("mesh4", INTERFACE)
    assert daemon["exe"] == GO_BUILT_PATH and daemon["version"] == go_built["version"]
    assert facts["mesh4"][INTERFACE]["userspace_binary"] == GO_BUILT_PATH
    for name in members:
        if name != "mesh4":
            assert lab.userspace_daemon(name, INTERFACE)["pid"] == pids[name], "%s was restarted" % name
            assert recap[name]["changed"] == 0, output
    assert_full_mesh_traffic(lab, members)


def test_restarting_a_userspace_interface_never_waits_for_the_stop_timeout(lab, members):
    """Twenty restarts in a row each return within seconds, and the tunnel works after.
    In these containers systemd is not told when a unit's cgroup empties, so a daemon still
    alive when the stop command returned used to cost systemd's whole stop timeout (90 s) in
    about one restart of five."""
    host = lab.host("mesh2")
    unit = "overlaynet-wireguard@%s" % INTERFACE
    durations = []
    for _attempt in range(20):
        # Restarts in a row would otherwise hit systemd's start rate limit.
        host.run("systemctl reset-failed %s", unit)
        started = time.monotonic()
        result = host.run("timeout 60 systemctl restart %s", unit)
        durations.append(round(time.monotonic() - started, 1))
        assert result.rc == 0, result.stderr
    assert max(durations) < 10, "restart durations (s): %s" % durations
    address = lab.tunnel_addresses("mesh2", INTERFACE)["inet"][0]
    deadline = time.monotonic() + 20
    while lab.ping("mesh1", address, count=1) is None:
        assert time.monotonic() < deadline, "mesh2 did not answer through %s after the restarts" % INTERFACE


def test_unreachable_member_does_not_stop_the_others_and_one_rerun_heals(lab, members, tmp_path):
    """mesh4 is powered off while a new network (wg6) is rolled out: the three reachable
    members converge and talk to each other on wg6 (mesh4 left out with a warning: it never
    had a wg6 key), keep mesh4 on wg0 with its last known key, and the run reports mesh4
    unreachable. Once mesh4 is back, one rerun brings every pair of both networks up, and the
    rerun after it changes nothing."""
    mesh = lab.hostvars(members[0])["wireguard_networks"][0]
    extra = {"name": "late", "interface": "wg6", "members_group": "mesh", "address_pools": ["10.76.0.0/24"],
             "listen_port": 51826, "persistent_keepalive": 25}
    networks = json.dumps({"wireguard_networks": [mesh, extra]})
    reachable = [name for name in members if name != "mesh4"]
    subprocess.run(["podman", "stop", "-t", "5", "mesh4"], check=True, capture_output=True)
    try:
        returncode, recap, output = lab.run_playbook("-e", networks)
        assert returncode != 0 and recap["mesh4"]["unreachable"] == 1, output
        assert "mesh4" in output and "wg6" in output  # the warning names the left-out member
        for name in reachable:
            assert recap[name]["failed"] == 0, output
            assert len(lab.wg_dump(name, "wg6")) == len(reachable) - 1, name
            assert len(lab.wg_dump(name, INTERFACE)) == len(members) - 1, "%s lost mesh4 on wg0" % name
        assert_full_mesh_traffic(lab, reachable, interface="wg6")
    finally:
        subprocess.run(["podman", "start", "mesh4"], check=True, capture_output=True)
        subprocess.run(["python3", os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "lab", "lab.py"), "up", "mesh4"],
                       check=True, capture_output=True)
    returncode, recap, output = lab.run_playbook("-e", networks)
    assert returncode == 0, output
    for interface in (INTERFACE, "wg6"):
        assert_full_mesh_traffic(lab, members, interface=interface)
    returncode, recap, output = lab.run_playbook("-e", networks)
    assert returncode == 0, output
    assert all(counts["changed"] == 0 for counts in recap.values()), output
    # Back to the inventory: wg6 is torn down again.
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0, output


def test_decommissioned_host_is_cleaned_and_can_rejoin(lab, members):
    """wireguard_state: absent on mesh4 removes everything the role put there (interfaces,
    units, helper, keys, state) and takes it out of its peers' lists in the same run; back
    to present, it rejoins with a new key."""
    old_key = lab.public_key("mesh4", INTERFACE)
    state = json.dumps({"wireguard_state": '{{ "absent" if inventory_hostname == "mesh4" else "present" }}'})
    returncode, recap, output = lab.run_playbook("-e", state)
    assert returncode == 0, output
    mesh4 = lab.host("mesh4")
    assert not mesh4.run("ip link show dev %s" % INTERFACE).succeeded
    for path in ("/etc/wireguard/%s.conf" % INTERFACE, "/etc/wireguard/%s.key" % INTERFACE,
                 "/etc/systemd/system/overlaynet-wireguard@.service", "/usr/local/sbin/overlaynet-wireguard",
                 "/var/lib/overlaynet/wireguard", "/var/lib/overlaynet/peers/wireguard.json"):
        assert not mesh4.file(path).exists, path
    others = [name for name in members if name != "mesh4"]
    for name in others:
        assert old_key not in lab.wg_dump(name, INTERFACE), name
        assert len(lab.wg_dump(name, INTERFACE)) == len(others) - 1, name
    assert_full_mesh_traffic(lab, others)

    returncode, recap, output = lab.run_playbook()
    assert returncode == 0, output
    new_key = lab.public_key("mesh4", INTERFACE)
    assert new_key != old_key
    assert_full_mesh_traffic(lab, members)


def test_forwarding_changed_by_hand_is_put_back_and_goes_when_unneeded(lab, members):
    """mesh1 routes a LAN for the mesh (routed_networks): it gets IP forwarding. Switched off by
    hand, the next converge puts it back (mesh1 alone changes); once mesh1 routes nothing, its
    forwarding file goes and the value it had before is restored."""
    sysctl_file = "/etc/sysctl.d/60-overlaynet-wireguard.conf"
    mesh1 = lab.host("mesh1")
    # Lab hosts start with forwarding on; off, the restore at the end shows.
    mesh1.check_output("sysctl -w net.ipv4.ip_forward=0")
    mesh1_networks = ('{{ {"mesh": {"addresses": ["10.77.0.1", "fd77:77::1"], "routed_networks": ["192.168.77.0/24"]}}'
                      ' if inventory_hostname == "mesh1" else {} }}')
    routed = json.dumps({"wireguard_host_networks": mesh1_networks})
    returncode, recap, output = lab.run_playbook("-e", routed)
    assert returncode == 0, output
    assert mesh1.check_output("sysctl -n net.ipv4.ip_forward") == "1"
    assert mesh1.file(sysctl_file).exists

    mesh1.check_output("sysctl -w net.ipv4.ip_forward=0")
    returncode, recap, output = lab.run_playbook("-e", routed)
    assert returncode == 0, output
    assert mesh1.check_output("sysctl -n net.ipv4.ip_forward") == "1"
    assert recap["mesh1"]["changed"] >= 1 and all(recap[name]["changed"] == 0 for name in members if name != "mesh1"), output

    returncode, recap, output = lab.run_playbook()
    assert returncode == 0, output
    assert not mesh1.file(sysctl_file).exists
    assert mesh1.check_output("sysctl -n net.ipv4.ip_forward") == "0"


def test_network_removed_from_the_inventory_is_torn_down(lab, members):
    """A second network is added, then taken out of the inventory again: the next converge
    stops and disables its interface and removes its files and keys on every member,
    without touching wg0."""
    mesh = lab.hostvars(members[0])["wireguard_networks"][0]
    extra = {"name": "extra", "interface": "wg5", "members_group": "mesh", "address_pools": ["10.79.0.0/24"],
             "listen_port": 51825}
    returncode, recap, output = lab.run_playbook("-e", json.dumps({"wireguard_networks": [mesh, extra]}))
    assert returncode == 0, output
    for name in members:
        assert len(lab.wg_dump(name, "wg5")) == len(members) - 1
    pids = {name: lab.userspace_daemon(name, INTERFACE)["pid"] for name in members}

    returncode, recap, output = lab.run_playbook()
    assert returncode == 0, output
    for name in members:
        host = lab.host(name)
        assert not host.run("ip link show dev wg5").succeeded, name
        assert not host.service("overlaynet-wireguard@wg5").is_enabled, name
        for suffix in ("conf", "key", "psk"):
            assert not host.file("/etc/wireguard/wg5.%s" % suffix).exists, name
        assert lab.userspace_daemon(name, INTERFACE)["pid"] == pids[name], "%s: wg0 was restarted" % name
    assert_full_mesh_traffic(lab, members)

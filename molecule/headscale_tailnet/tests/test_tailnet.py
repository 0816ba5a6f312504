# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A headscale server and three Tailscale nodes: traffic over the tailnet on direct paths, an
ACL that denies one pair, MagicDNS, a subnet route approved in the run, refusals before any
change, idempotence in check mode, a policy reloaded in place, a config the daemon refuses
rolled back, a node deleted on the server joining again, a node on userspace networking, a node
given a tag logging in again with it, a node logged out and deleted on the server when it leaves, and no secret in a verbose run."""
from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import re

import pytest
from labkit import traffic

SERVER = "hs1"
NODES = ["ts1", "ts2", "ts3"]
ROUTER = "ts3"
LAN_HOST = "lanhost1"
BASE_DOMAIN = "tailnet.lab"
# The policy lets ts1 (tag:alpha) and ts3 (tag:router) reach everything; ts2 (user lab) reaches
# ts3 and the LAN only.
ALLOWED = [("ts1", "ts2"), ("ts1", "ts3"), ("ts3", "ts1"), ("ts3", "ts2"), ("ts2", "ts3")]
DENIED = ("ts2", "ts1")
MINTED_KEY = re.compile(r"hskey-auth-[A-Za-z0-9_-]{12}-[A-Za-z0-9_-]{8,}")


def tailnet_ipv4(lab, node):
    return lab.host(node).check_output("tailscale ip -4").strip()


def nodes_list(lab):
    return json.loads(lab.host(SERVER).check_output("headscale nodes list --output json")) or []


def lan_address(lab):
    return lab.tunnel_addresses(LAN_HOST, "eth0")["inet"][0]


def tailscaled_log(lab, node):
    """The end of the node's tailscaled journal, for a failure's message (why a login or logout did not reach the server)."""
    return "\n--- tailscaled on %s:\n%s" % (node, lab.host(node).run("journalctl -u tailscaled -n 80 --no-pager -o short-precise").stdout)


def node_tags(lab, node):
    return sorted([entry for entry in nodes_list(lab) if entry["given_name"] == node][0].get("tags") or [])


def sqlite_rows(lab, path, query):
    """The rows of a read-only query on a sqlite database of the server (Python's sqlite3: the lab image has no sqlite3 CLI)."""
    script = "import json, sqlite3, sys; print(json.dumps(sqlite3.connect('file:%s?mode=ro' % sys.argv[1], uri=True).execute(sys.argv[2]).fetchall()))"
    return json.loads(lab.host(SERVER).check_output("python3 -c %s %s %s", script, path, query))


def main_pid(lab):
    return lab.host(SERVER).check_output("systemctl show -p MainPID --value headscale.service").strip()


def test_allowed_pairs_exchange_icmp_and_tcp_over_the_tailnet_on_a_direct_path(lab):
    for index, (source, destination) in enumerate(ALLOWED):
        address = tailnet_ipv4(lab, destination)
        assert lab.route_device(source, address) == "tailscale0"
        traffic.wait_for_reply(source, address)
        assert lab.tcp_exchange(source, destination, address, 7100 + index) == "ack:%s-to-%s" % (source, destination)
        # A direct path, not the DERP relay: tailscale ping says "via <ip:port>" for a direct pong.
        pong = lab.host(source).check_output("tailscale ping --c 5 --until-direct %s", address)
        assert " via " in pong and "DERP" not in pong.splitlines()[-1], pong


def test_the_acl_denies_the_one_pair_it_does_not_allow(lab):
    source, destination = DENIED
    address = tailnet_ipv4(lab, destination)
    assert lab.route_device(source, address) == "tailscale0"
    assert lab.ping(source, address, count=2) is None
    assert lab.tcp_exchange(source, destination, address, 7190) is None
    # The other direction is allowed: the tunnel itself works.
    assert lab.ping(destination, tailnet_ipv4(lab, source), count=2) is not None


def test_magicdns_names_resolve_to_tailnet_addresses(lab):
    for node in NODES:
        other = NODES[(NODES.index(node) + 1) % len(NODES)]
        resolved = lab.host(node).check_output("getent hosts %s.%s", other, BASE_DOMAIN).split()[0]
        assert resolved == tailnet_ipv4(lab, other)


def test_the_lan_host_answers_through_the_approved_route(lab):
    router = [node for node in nodes_list(lab) if node["given_name"] == ROUTER][0]
    assert router.get("approved_routes") == ["10.213.1.0/24"]
    address = lan_address(lab)
    for index, node in enumerate(["ts1", "ts2"]):
        assert lab.route_device(node, address) == "tailscale0"
        traffic.wait_for_reply(node, address)
        assert lab.tcp_exchange(node, LAN_HOST, address, 7200 + index) == "ack:%s-to-%s" % (node, LAN_HOST)


def test_the_exit_node_is_approved_and_offered_to_the_others(lab):
    exit_node = [node for node in nodes_list(lab) if node["given_name"] == "ts1"][0]
    assert sorted(exit_node.get("approved_routes") or []) == ["0.0.0.0/0", "::/0"]
    # ts3 may reach anything ("*:*"); the exit node is offered to the nodes the policy lets use it.
    peers = json.loads(lab.host("ts3").check_output("tailscale status --json"))["Peer"].values()
    offered = [peer["HostName"] for peer in peers if peer.get("ExitNodeOption")]
    assert offered == ["ts1"]


def test_the_server_upgraded_from_the_previous_release_with_a_backup_and_every_node_kept(lab):
    """prepare.yml started hs1 on the minor release before the pinned one, and every node joined it
    there; the converge upgraded it. The database was copied first, named after the release that
    wrote it, before the new binary migrated it, and every node kept its registration. prepare.yml
    then crashed headscale with a user made only in its write-ahead log: the backup holds that
    user too (the log is copied beside it), and the upgraded server dropped it (listed absent)."""
    server = lab.host(SERVER)
    backup_path = "/var/lib/headscale/db.sqlite.%s.backup" % os.environ["OVERLAYNET_HEADSCALE_PREVIOUS_VERSION"]
    backup = server.file(backup_path)
    assert backup.exists and backup.mode == 0o600
    with open(os.environ["OVERLAYNET_HEADSCALE"], "rb") as pinned:
        assert server.check_output("sha256sum /usr/local/bin/headscale").split()[0] == hashlib.sha256(pinned.read()).hexdigest()
    nodes_before = sqlite_rows(lab, backup_path, "SELECT id, given_name, machine_key FROM nodes WHERE deleted_at IS NULL ORDER BY id")
    nodes_now = [[node["id"], node["given_name"], node["machine_key"]] for node in sorted(nodes_list(lab), key=lambda node: node["id"])]
    assert sorted(name for _id, name, _key in nodes_now) == sorted(NODES)
    assert nodes_before == nodes_now
    migrations_before = set(row[0] for row in sqlite_rows(lab, backup_path, "SELECT id FROM migrations"))
    migrations_now = set(row[0] for row in sqlite_rows(lab, "/var/lib/headscale/db.sqlite", "SELECT id FROM migrations"))
    assert migrations_before < migrations_now, "the backup is not the database as the previous release left it"
    users_query = "SELECT name FROM users WHERE deleted_at IS NULL ORDER BY name"
    users_in_backup = [row[0] for row in sqlite_rows(lab, backup_path, users_query)]
    users_now = [row[0] for row in sqlite_rows(lab, "/var/lib/headscale/db.sqlite", users_query)]
    assert "crash-witness" in users_in_backup and "lab" in users_in_backup
    assert [name for name in users_in_backup if name != "crash-witness"] == users_now


def test_an_upgrade_that_skips_a_minor_release_is_refused_before_any_change(lab):
    """headscale migrates a database from the previous minor release only: a record of an older
    one is refused with nothing changed."""
    server = lab.host(SERVER)
    record_path = "/var/lib/overlaynet/headscale.json"
    record_text = server.check_output("cat %s", record_path)
    server.check_output("printf '%%s' %s > %s", json.dumps(dict(json.loads(record_text), version="0.27.1")), record_path)
    try:
        returncode, recap, output = lab.run_playbook("--limit", SERVER)
    finally:
        server.check_output("printf '%%s' %s > %s", record_text, record_path)
    assert returncode != 0 and "upgrade one minor version at a time" in output, output
    assert recap[SERVER]["changed"] == 0, output
    assert server.service("headscale").is_running


def test_a_user_deleted_by_hand_comes_back_on_the_next_run(lab):
    server = lab.host(SERVER)

    def ops_users():
        return [user for user in json.loads(server.check_output("headscale users list --output json")) if user["name"] == "ops"]

    server.check_output("headscale users destroy --identifier %s --force", str(ops_users()[0]["id"]))
    assert ops_users() == []
    returncode, recap, output = lab.run_playbook("--limit", SERVER)
    assert returncode == 0, output
    assert recap[SERVER]["changed"] == 1, output
    assert len(ops_users()) == 1


def test_keys_and_state_are_private(lab):
    server = lab.host(SERVER)
    key = server.file("/etc/headscale/tls/headscale.key")
    assert (key.mode, key.user, key.group) == (0o640, "root", "headscale")
    for path in ("/var/lib/headscale/noise_private.key", "/var/lib/headscale/derp_server_private.key"):
        assert server.file(path).mode == 0o600 and server.file(path).user == "headscale"
    assert server.user("headscale").shell == "/usr/sbin/nologin"
    assert server.process.get(comm="headscale").user == "headscale"
    for node in NODES:
        state = lab.host(node).file("/var/lib/tailscale/tailscaled.state")
        assert state.mode == 0o600 and state.user == "root"
        assert not lab.host(node).file("/run/tailscale/overlaynet-auth-key").exists


def test_the_https_and_stun_ports_are_open_in_the_roles_nftables_table(lab):
    rules = lab.host(SERVER).check_output("nft list table inet overlaynet_headscale")
    assert re.search(r"tcp dport 443 accept", rules) and re.search(r"udp dport 3478 accept", rules), rules
    # Loaded at boot by its own unit, as the rules file on the host says.
    assert lab.host(SERVER).service("overlaynet-nftables@headscale").is_enabled


def test_the_servers_ports_pass_ufw_through_rules_of_the_role(lab):
    # Every node joined through these rules: ufw on hs1 refuses any other incoming connection.
    server = lab.host(SERVER)
    assert "Status: active" in server.check_output("ufw status")
    added = server.check_output("ufw show added")
    for rule in ("ufw allow 3478/udp", "ufw allow 443/tcp"):
        assert "%s comment 'overlaynet.vpn headscale'" % rule in added, added


def test_the_subnet_router_lets_the_tailnet_through_firewalld_by_the_roles_zone(lab):
    # The traffic tests above reach ts3 and its LAN through firewalld, whose default zone would
    # refuse their TCP connections and the routed traffic.
    router = lab.host(ROUTER)
    assert router.check_output("firewall-cmd --state") == "running"
    assert router.check_output("firewall-cmd --get-zone-of-interface=tailscale0") == "olnet-tailscale"
    assert router.check_output("firewall-cmd --policy=olnet-tailscale-in --list-ports") == "41641/udp"


def test_check_mode_on_the_converged_tailnet_changes_nothing(lab):
    returncode, recap, output = lab.run_playbook("--check")
    assert returncode == 0, output
    assert all(counts["changed"] == 0 for counts in recap.values()), output


def test_a_new_policy_is_previewed_then_reloaded_in_place(lab):
    policy = dict(lab.hostvars(SERVER)["headscale_policy"])
    policy["acls"] = policy["acls"] + [{"action": "accept", "src": ["lab"], "dst": ["tag:alpha:22"]}]
    before = lab.host(SERVER).check_output("cat /etc/headscale/policy.json")
    returncode, recap, output = lab.run_playbook("--check", "--diff", "-e", json.dumps({"headscale_policy": policy}))
    assert returncode == 0, output
    assert recap[SERVER]["changed"] >= 1 and '"tag:alpha:22"' in output, output
    assert lab.host(SERVER).check_output("cat /etc/headscale/policy.json") == before
    pid = main_pid(lab)
    returncode, recap, output = lab.run_playbook("-e", json.dumps({"headscale_policy": policy}))
    assert returncode == 0, output
    assert '"tag:alpha:22"' in lab.host(SERVER).check_output("cat /etc/headscale/policy.json")
    assert main_pid(lab) == pid, "a policy change restarted headscale instead of reloading it"
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0 and main_pid(lab) == pid, output


def test_a_rebuilt_binary_of_the_same_version_restarts_headscale(lab, tmp_path):
    """The same version with another SHA-256 (here the build with one byte appended, which an ELF
    file runs with): the new binary is put in place and runs."""
    rebuilt = tmp_path / "headscale"
    with open(os.environ["OVERLAYNET_HEADSCALE"], "rb") as original:
        rebuilt.write_bytes(original.read() + b"\0")
    rebuilt.chmod(0o755)
    digest = hashlib.sha256(rebuilt.read_bytes()).hexdigest()
    pid = main_pid(lab)
    returncode, recap, output = lab.run_playbook("-e", json.dumps({"headscale_install_file": str(rebuilt)}))
    assert returncode == 0, output
    assert lab.host(SERVER).check_output("sha256sum /usr/local/bin/headscale").split()[0] == digest
    assert main_pid(lab) != pid, "the new binary was put in place but the old one still runs"
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0 and recap[SERVER]["changed"] >= 1, output
    traffic.wait_for_reply("ts1", tailnet_ipv4(lab, "ts3"))


@pytest.mark.parametrize("settings, expected", [
    # Keys older headscale versions read, which 0.29 refuses or silently ignores.
    ({"headscale_extra_config": {"dns_config": {"magic_dns": True}, "ip_prefixes": ["100.64.0.0/10"]}},
     ["host hs1: headscale_extra_config.dns_config", "host hs1: headscale_extra_config.ip_prefixes"]),
    ({"headscale_dns": {"base_domain": "hs1"}}, ["host hs1: headscale_dns.base_domain"]),
    ({"headscale_policy": {"acls": [{"action": "deny", "src": ["lab"], "dst": ["*:*"]}]}}, ["host hs1: headscale_policy.acls[0].action"]),
    ({"headscale_policy": {"acls": [{"action": "accept", "src": ["group:nope"], "dst": ["*:*"]}]}}, ["host hs1: headscale_policy", "group:nope"]),
    ({"tailscale_user": "mallory"}, ["host ts1: tailscale_user", "host ts2: tailscale_user"]),
])
def test_bad_inputs_are_refused_before_any_change(lab, settings, expected):
    returncode, recap, output = lab.run_playbook("-e", json.dumps(settings))
    assert returncode != 0
    for text in expected:
        assert text in output, (text, output)
    assert all(counts["changed"] == 0 for counts in recap.values()), output


def test_a_config_headscale_refuses_at_start_is_rolled_back(lab):
    """configtest does not load the TLS files; serve does, and refuses missing ones: the
    previous config comes back and serves again."""
    before = lab.host(SERVER).check_output("cat /etc/headscale/config.yaml")
    tls = {"mode": "files", "cert_path": "/etc/headscale/missing.crt", "key_path": "/etc/headscale/missing.key"}
    returncode, recap, output = lab.run_playbook("-e", json.dumps({"headscale_tls": tls}))
    assert returncode != 0
    assert "previous" in output and "serve" in output, output
    assert lab.host(SERVER).check_output("cat /etc/headscale/config.yaml") == before
    assert lab.host(SERVER).service("headscale").is_running
    traffic.wait_for_reply("ts1", tailnet_ipv4(lab, "ts2"))


def test_a_node_deleted_on_the_server_joins_again_on_the_next_run(lab):
    """tailscaled keeps showing a node its server deleted as running, without peers: the role
    compares the node's key with the server's nodes, and the node logs in anew."""
    node = "ts1"
    entry = [item for item in nodes_list(lab) if item["given_name"] == node][0]
    lab.host(SERVER).check_output("headscale nodes delete --identifier=%s --force", str(entry["id"]))
    returncode, recap, output = lab.run_playbook("--check")
    assert returncode == 0, output
    assert recap[node]["changed"] >= 1, output
    assert [item["given_name"] for item in nodes_list(lab) if item["name"] == node] == []
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0, output + tailscaled_log(lab, node)
    assert recap[node]["changed"] >= 1, output
    assert [item["given_name"] for item in nodes_list(lab) if item["name"] == node] == [node]
    traffic.wait_for_reply("ts3", tailnet_ipv4(lab, node))
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0 and recap[node]["changed"] == 0, output


def test_a_node_on_userspace_networking_stays_joined_and_answers_icmp_and_tcp(lab):
    """ts2 moves to userspace networking, as where a container has no TUN device: tailscaled
    restarts with it, the node keeps its tailnet address without a tailscale0 device and answers
    ICMP and TCP (Tailscale's netstack hands inbound connections to the host's own sockets); a
    rerun changes nothing; then back to TUN."""
    node = "ts2"
    address = tailnet_ipv4(lab, node)
    userspace = ("-e", json.dumps({"tailscale_networking": '{{ "userspace" if inventory_hostname == "%s" else "tun" }}' % node}))
    returncode, recap, output = lab.run_playbook(*userspace)
    assert returncode == 0 and recap[node]["changed"] >= 1, output + tailscaled_log(lab, node)
    assert all(recap[other]["changed"] == 0 for other in NODES if other != node), output
    host = lab.host(node)
    assert "--tun=userspace-networking" in host.check_output("ps -o args= -C tailscaled")
    assert not host.interface("tailscale0").exists
    assert tailnet_ipv4(lab, node) == address
    traffic.wait_for_reply("ts3", address)
    assert lab.tcp_exchange("ts3", node, address, 7196, bind="0.0.0.0") == "ack:ts3-to-ts2"
    returncode, recap, output = lab.run_playbook(*userspace)
    assert returncode == 0 and recap[node]["changed"] == 0, output
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0 and recap[node]["changed"] >= 1, output + tailscaled_log(lab, node)
    assert host.interface("tailscale0").exists and tailnet_ipv4(lab, node) == address
    traffic.wait_for_reply("ts3", address)


def test_a_node_given_a_tag_logs_in_again_with_it_and_the_acl_follows(lab):
    """ts2 gets tag:alpha in the inventory: --check --diff previews it and changes nothing; the run
    logs ts2 in again with a key minted with the tag, and the policy then lets ts2 reach ts1, the
    pair it denied. (The next test takes ts2 out of the tailnet and back in, untagged.)"""
    node = "ts2"
    tags = {"ts1": ["tag:alpha"], "ts2": ["tag:alpha"], "ts3": ["tag:router"]}
    tagged = ("-e", json.dumps({"tailscale_tags": "{{ %s[inventory_hostname] | default([]) }}" % json.dumps(tags)}))
    returncode, recap, output = lab.run_playbook("--check", "--diff", *tagged)
    assert returncode == 0 and recap[node]["changed"] >= 1, output
    assert all(recap[other]["changed"] == 0 for other in NODES if other != node), output
    assert node_tags(lab, node) == []
    returncode, recap, output = lab.run_playbook(*tagged)
    assert returncode == 0, output + tailscaled_log(lab, node)
    assert node_tags(lab, node) == ["tag:alpha"]
    address = tailnet_ipv4(lab, "ts1")
    traffic.wait_for_reply(node, address)
    assert lab.tcp_exchange(node, "ts1", address, 7195) == "ack:ts2-to-ts1"
    returncode, recap, output = lab.run_playbook(*tagged)
    assert returncode == 0 and recap[node]["changed"] == 0, output


def test_a_node_that_leaves_is_logged_out_installed_only_then_rejoins_with_a_new_key_printing_no_secret(lab):
    node = "ts2"
    returncode, recap, output = lab.run_playbook("--limit", "%s,%s" % (SERVER, node), "-e", json.dumps({"tailscale_state": "absent"}))
    assert returncode == 0, output + tailscaled_log(lab, node)
    # Its entry is deleted on the server: an expired one would keep the name, and the node joining
    # again would be given another one (ts2-xxxxxxxx) while MagicDNS resolved ts2 to the old entry.
    assert [entry["given_name"] for entry in nodes_list(lab) if entry["name"] == node] == []
    assert not lab.host(node).service("tailscaled").is_running
    assert not lab.host(node).file("/var/lib/tailscale").exists
    assert not lab.host(node).file("/etc/overlaynet/tailscale-ca").exists
    # Installed only, as for an image to clone: the binaries, unit and CA, tailscaled enabled but
    # not started, so no node state (no node key) is made; a second run changes nothing.
    installed = ("--limit", "%s,%s" % (SERVER, node), "-e", json.dumps({"tailscale_state": "installed"}))
    returncode, recap, output = lab.run_playbook(*installed)
    assert returncode == 0 and recap[node]["changed"] >= 1, output
    host = lab.host(node)
    assert host.file("/usr/local/sbin/tailscaled").is_file and host.file("/etc/systemd/system/tailscaled.service").is_file
    # The server's CA for tailscaled alone, named in its environment.
    assert host.file("/etc/overlaynet/tailscale-ca/headscale-%s.crt" % SERVER).is_file
    assert "SSL_CERT_DIR=\"/etc/ssl/certs:/etc/overlaynet/tailscale-ca\"" in host.file("/etc/default/tailscaled").content_string
    assert host.service("tailscaled").is_enabled and not host.service("tailscaled").is_running
    assert not host.file("/var/lib/tailscale/tailscaled.state").exists
    returncode, recap, output = lab.run_playbook(*installed)
    assert returncode == 0 and recap[node]["changed"] == 0, output
    assert [entry["given_name"] for entry in nodes_list(lab) if entry["name"] == node] == []
    # Back in: a key is minted on the server for this node; nothing secret may be printed.
    returncode, recap, output = lab.run_playbook("-vvv", "--diff")
    assert returncode == 0, output + tailscaled_log(lab, node)
    assert recap[node]["changed"] >= 1
    secrets = []
    server = lab.host(SERVER)
    for path in ("/etc/headscale/tls/headscale.key", "/var/lib/headscale/noise_private.key", "/var/lib/headscale/derp_server_private.key"):
        secrets.extend(line for line in server.check_output("cat %s", path).splitlines() if line and not line.startswith("-----"))
    for each in NODES:
        state = json.loads(lab.host(each).check_output("cat /var/lib/tailscale/tailscaled.state"))
        secrets.extend(value for value in state.values() if len(value) > 20)
    lab.assert_no_secret_printed(output, secrets, minimum=6)
    assert not MINTED_KEY.search(output), "a pre-auth key was printed"
    address = tailnet_ipv4(lab, node)
    traffic.wait_for_reply("ts3", address)
    assert [entry["given_name"] for entry in nodes_list(lab) if entry["name"] == node] == [node]
    assert lab.host("ts3").check_output("getent hosts %s.%s", node, BASE_DOMAIN).split()[0] == address


def test_connectivity_report_lists_the_tailscale_peers(lab, tmp_path):
    report = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "report.yml")
    page = tmp_path / "report.html"
    returncode, recap, output = lab.run_playbook("-e", json.dumps({"overlaynet_report_html": str(page)}), playbooks=(report,))
    assert returncode == 0, output
    for node in NODES:
        assert "| %s | tailscale | tailscale0 | " % node in output, output
    assert "ts1" in page.read_text()


def test_last_a_server_moved_to_postgres_serves_the_tailnet_from_it_printing_no_password(lab):
    """Last, as it leaves the tailnet on another database: hs1 moves from sqlite to the postgres
    database on db1 (which prepare.yml made). headscale has no migration between databases and
    starts empty there, so every node joins again in that run, with a key minted for it. The
    password goes to the service's 0600 environment file only, and the -vvv --diff run prints it nowhere.
    A move refused first (a wrong password) changes neither the server nor its record. A rerun and a
    --check run on postgres change nothing."""
    database = lab.hostvars(SERVER)["lab_postgres_database"]
    password = database["postgres"]["password"]
    server = lab.host(SERVER)
    # First with a wrong password: configtest, which opens the database as the server does, refuses the
    # move. hs1 keeps serving from sqlite, and its record still names sqlite, so the next run sees the move.
    wrong_password = "pg-wrong-password-not-a-secret-0002"
    wrong_database = dict(database, postgres=dict(database["postgres"], password=wrong_password))
    returncode, recap, output = lab.run_playbook("-vvv", "--diff", "-e", json.dumps({"headscale_database": wrong_database}))
    assert returncode != 0 and "headscale configtest refuses the new /etc/headscale/config.yaml" in output, output
    assert "password authentication failed" in output, output
    lab.assert_no_secret_printed(output, [wrong_password], minimum=1)
    assert "type: sqlite" in server.check_output("cat /etc/headscale/config.yaml")
    assert json.loads(server.check_output("cat /var/lib/overlaynet/headscale.json"))["database"].startswith("sqlite:")
    assert set(NODES) <= set(node["given_name"] for node in nodes_list(lab))

    returncode, recap, output = lab.run_playbook("-vvv", "--diff", "-e", json.dumps({"headscale_database": database}))
    assert returncode == 0, output
    lab.assert_no_secret_printed(output, [password], minimum=1)
    environment = server.file("/etc/headscale/headscale.env")
    assert environment.mode == 0o600 and password in server.check_output("cat /etc/headscale/headscale.env")
    config = server.check_output("cat /etc/headscale/config.yaml")
    assert "type: postgres" in config and password not in config
    query = "SELECT given_name FROM nodes WHERE deleted_at IS NULL ORDER BY given_name"
    names = lab.host("db1").check_output("runuser --user=postgres -- psql --dbname=headscale --tuples-only --no-align --command=%s", query)
    assert names.split() == sorted(NODES)
    assert sorted(node["given_name"] for node in nodes_list(lab)) == sorted(NODES)
    for index, (source, target) in enumerate(ALLOWED):
        address = tailnet_ipv4(lab, target)
        traffic.wait_for_reply(source, address)
        assert lab.tcp_exchange(source, target, address, 17441 + index) == "ack:%s-to-%s" % (source, target)
    for check in ([], ["--check"]):
        returncode, recap, output = lab.run_playbook("-e", json.dumps({"headscale_database": database}), *check)
        assert returncode == 0 and all(counts["changed"] == 0 for counts in recap.values()), output

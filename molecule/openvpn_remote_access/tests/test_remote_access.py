# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An OpenVPN server with managed clients, an unmanaged laptop from its profile, and refusals:
a wrong password, a certificate from another CA, a revoked client, a config the daemon refuses."""
from __future__ import absolute_import, division, print_function

import datetime
import glob
import json
import os
import re
import stat

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from labkit import traffic

SERVER = "vpn1"
INSTANCE = "office"
SERVER_DEVICE = "ovpn-office"
CLIENT_DEVICE = "ovpnc-office"
CLIENTS = ["site1", "site2", "site3"]
SERVER_UNIT = "openvpn-server@office"
LAN_HOST = "lanhost1"
CLIENT_CONFIG = "/etc/openvpn/client/office.conf"
READY_LINE = "Initialization Sequence Completed"
CRL_CHECK_UNIT = "overlaynet-openvpn-crl-check"
# The second instance: TCP on office's port number; site2 is connected to both.
TCP_INSTANCE = "field"
TCP_SERVER_DEVICE = "ovpn-field"
TCP_CLIENT = "site2"
TCP_CLIENT_DEVICE = "ovpnc-field"
# site1, a client of vpn1, is the server of instance branch too, with its own CA; site2 is its client.
BRANCH_SERVER = "site1"
BRANCH_SERVER_DEVICE = "ovpn-branch"
BRANCH_CLIENT = "site2"
BRANCH_CLIENT_DEVICE = "ovpnc-branch"


@pytest.fixture(scope="module")
def pki_dir():
    return os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "openvpn-pki", SERVER)


@pytest.fixture(scope="module")
def server_addresses(lab):
    return lab.tunnel_addresses(SERVER, SERVER_DEVICE)


@pytest.fixture(scope="module")
def lan_address(lab):
    return lab.tunnel_addresses(LAN_HOST, "eth0")["inet"][0]


def read(path):
    with open(path) as handle:
        return handle.read()


def server_log_since(lab, cursor):
    """The server instance's journal after the cursor (a `journalctl --show-cursor` position)."""
    return lab.host(SERVER).check_output("journalctl -u %s --no-pager -o cat --after-cursor=%s", SERVER_UNIT, cursor)


def journal_cursor(lab):
    output = lab.host(SERVER).check_output("journalctl -u %s -n 0 --show-cursor --no-pager", SERVER_UNIT)
    return output.rsplit("-- cursor: ", 1)[1].strip()


def wait_for_server_log(lab, cursor, text, timeout=40.0):
    traffic.wait_until("'%s' in the log of %s" % (text, SERVER_UNIT), lambda: text in server_log_since(lab, cursor), timeout)
    return server_log_since(lab, cursor)


def start_openvpn(lab, host, unit, config_path):
    """openvpn by hand on a host (a laptop, an intruder), as the transient unit `unit`."""
    traffic.start_unit(host, unit, ["openvpn", "--config", config_path])


def unit_log(lab, host, unit):
    return lab.host(host).run("journalctl -u %s --no-pager -o cat" % unit).stdout


def put_file(lab, host, path, text, mode="0600"):
    lab.host(host).check_output("install -d -m 0700 %s && cat > %s <<'OVERLAYNET_EOF'\n%s\nOVERLAYNET_EOF\nchmod %s %s"
                                % (os.path.dirname(path), path, text.rstrip("\n"), mode, path))


def other_ca_client(common_name):
    """(certificate PEM, key PEM) of a client certificate for common_name from a CA the server does not know."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone else's CA")])
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
                   .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                   .sign(ca_key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def client_config_with(lab, host, replacements, extra=()):
    """The config of a managed client with some of its lines replaced (option name -> new line)."""
    lines = []
    for line in lab.host(host).check_output("cat %s", CLIENT_CONFIG).splitlines():
        option = line.split(" ", 1)[0]
        lines.append(replacements.get(option, line))
    return "\n".join(lines + list(extra)) + "\n"


def server_instances(lab, **office_changes):
    """The server's instances as in the inventory, office's with some settings changed: an -e of
    openvpn_server_instances replaces the whole list, and an instance left out of it would be removed."""
    instances = lab.hostvars(SERVER)["openvpn_server_instances"]
    return [dict(instances[0], **office_changes)] + instances[1:]


def run_with_server_instances(lab, instances, *args):
    """A run in which vpn1 has these instances: server_instances.yml sets them as its fact, since an
    -e of openvpn_server_instances would give them to site1 as well, a server too."""
    return lab.run_playbook("-e", json.dumps({"overlaynet_test_server_instances": instances}), *args,
                            playbooks=("server_instances.yml", "converge.yml"))


# --- traffic ---------------------------------------------------------------------------------

def test_every_managed_client_reaches_the_server_and_its_lan_through_the_tunnel(lab, server_addresses, lan_address):
    for index, client in enumerate(CLIENTS):
        for address in (server_addresses["inet"][0], server_addresses["inet6"][0], lan_address):
            assert lab.route_device(client, address) == CLIENT_DEVICE, (client, address)
            assert lab.ping(client, address) is not None, "%s -> %s" % (client, address)
        assert lab.tcp_exchange(client, SERVER, server_addresses["inet"][0], 17201 + index) == "ack:%s-to-%s" % (client, SERVER)
        assert lab.tcp_exchange(client, LAN_HOST, lan_address, 17211 + index) == "ack:%s-to-%s" % (client, LAN_HOST)


def test_the_instance_tunnel_mtu_is_on_both_ends_and_a_full_size_packet_crosses_whole(lab, server_addresses):
    """tun_mtu 1400: the server's device and every client's have it; a ping of exactly 1400 bytes that may not be
    fragmented crosses, one byte more does not fit the client's device."""
    def mtu(host, device):
        return int(lab.host(host).check_output("cat /sys/class/net/%s/mtu", device))
    assert mtu(SERVER, SERVER_DEVICE) == 1400
    for client in CLIENTS:
        assert mtu(client, CLIENT_DEVICE) == 1400, client
    address = server_addresses["inet"][0]
    # ICMP payload + 8 bytes of ICMP header + 20 of IPv4 header.
    assert lab.host("site1").run("ping -c 1 -W 2 -M do -s 1372 %s", address).rc == 0
    assert lab.host("site1").run("ping -c 1 -W 2 -M do -s 1373 %s", address).rc != 0


def test_a_tcp_instance_beside_a_udp_one_on_the_same_port_carries_traffic_without_nagle_delays(lab):
    server = lab.host(SERVER)
    # Nothing else listens on the server (the process names are hidden from ss once OpenVPN drops privileges).
    assert server.check_output("ss -Hltn 'sport = :1194'").strip() != ""
    assert server.check_output("ss -Hlun 'sport = :1194'").strip() != ""
    address = lab.tunnel_addresses(SERVER, TCP_SERVER_DEVICE)["inet"][0]
    assert lab.route_device(TCP_CLIENT, address) == TCP_CLIENT_DEVICE
    assert lab.ping(TCP_CLIENT, address) is not None
    assert lab.tcp_exchange(TCP_CLIENT, SERVER, address, 17221) == "ack:%s-to-%s" % (TCP_CLIENT, SERVER)
    # The tunnel rides one TCP connection to the server's port.
    assert lab.host(TCP_CLIENT).check_output("ss -Htn state established 'dport = :1194'").strip() != ""
    # tcp-nodelay: the server sets TCP_NODELAY on its sockets and pushes the same to the client.
    client_log = unit_log(lab, TCP_CLIENT, "openvpn-client@%s" % TCP_INSTANCE)
    assert "socket-flags TCP_NODELAY" in client_log, client_log


def test_a_client_that_is_also_a_server_serves_its_own_client_with_its_own_ca(lab, server_addresses, pki_dir):
    """site1 keeps its tunnel to vpn1 while it serves branch: site2 reaches site1's tunnel address
    through branch. site1's server certificate comes from its own CA, its client certificate from vpn1's."""
    address = lab.tunnel_addresses(BRANCH_SERVER, BRANCH_SERVER_DEVICE)["inet"][0]
    assert lab.route_device(BRANCH_CLIENT, address) == BRANCH_CLIENT_DEVICE
    assert lab.ping(BRANCH_CLIENT, address) is not None
    assert lab.tcp_exchange(BRANCH_CLIENT, BRANCH_SERVER, address, 17241) == "ack:%s-to-%s" % (BRANCH_CLIENT, BRANCH_SERVER)
    assert lab.route_device(BRANCH_SERVER, server_addresses["inet"][0]) == CLIENT_DEVICE
    assert lab.ping(BRANCH_SERVER, server_addresses["inet"][0]) is not None
    own_ca, vpn1_ca = (x509.load_pem_x509_certificate(read(os.path.join(server_pki, "ca.crt")).encode())
                       for server_pki in (os.path.join(os.path.dirname(pki_dir), BRANCH_SERVER), pki_dir))
    site1 = lab.host(BRANCH_SERVER)
    server_certificate = x509.load_pem_x509_certificate(site1.check_output("cat /etc/openvpn/server/pki/server.crt").encode())
    client_certificate = x509.load_pem_x509_certificate(site1.check_output("cat /etc/openvpn/client/office/client.crt").encode())
    server_certificate.verify_directly_issued_by(own_ca)
    client_certificate.verify_directly_issued_by(vpn1_ca)
    with pytest.raises((ValueError, InvalidSignature)):
        server_certificate.verify_directly_issued_by(vpn1_ca)


# One datagram, sent out of one device (SO_BINDTODEVICE: through that tunnel, whatever the routes),
# and a listener on the LAN host that writes down the address it came from. One way: the lab
# drops any answer to a tunnel address, which lies outside the lab's networks.
SOURCE_RECORDER = ("import socket, sys\n"
                   "listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                   "listener.bind((sys.argv[1], int(sys.argv[2])))\n"
                   "data, peer = listener.recvfrom(100)\n"
                   "open(sys.argv[3], 'w').write(peer[0])\n")
BOUND_SENDER = ("import socket, sys\n"
                "sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "sender.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[3].encode())\n"
                "sender.sendto(b'source?', (sys.argv[1], int(sys.argv[2])))\n")


def source_seen_by_the_lan_host(lab, lan_address, client, device, port):
    unit, record = "overlaynet-test-source-%d" % port, "/tmp/source-%d" % port
    lan_host = lab.host(LAN_HOST)
    lan_host.check_output("rm -f %s", record)
    traffic.start_unit(LAN_HOST, unit, ["python3", "-c", SOURCE_RECORDER, lan_address, str(port), record])
    try:
        traffic.wait_until("a UDP listener on port %d of %s" % (port, LAN_HOST),
                           lambda: lan_host.check_output("ss -Hlun 'sport = :%d'" % port).strip() != "", 10)
        lab.host(client).check_output("python3 -c %s %s %s %s", BOUND_SENDER, lan_address, str(port), device)
        traffic.wait_until("the datagram from %s at %s" % (client, LAN_HOST), lambda: lan_host.file(record).exists, 10)
        return lan_host.check_output("cat %s", record)
    finally:
        traffic.stop_unit(LAN_HOST, unit)


def test_only_instances_with_masquerade_leave_the_server_with_its_address(lab, lan_address):
    server_lan_address = lab.tunnel_addresses(SERVER, "eth1")["inet"][0]
    rules = lab.host(SERVER).check_output("nft list chain inet overlaynet_openvpn_server postrouting")
    assert re.search(r'iifname (\{ )?"%s"( \})? oifname (\{ )?"eth1"( \})? masquerade' % SERVER_DEVICE, rules), rules
    assert TCP_SERVER_DEVICE not in rules, rules
    # office (masquerade, the default): the LAN host sees the server's LAN address.
    assert source_seen_by_the_lan_host(lab, lan_address, TCP_CLIENT, CLIENT_DEVICE, 17231) == server_lan_address
    # field (masquerade: false): it sees the client's own tunnel address.
    field_address = lab.tunnel_addresses(TCP_CLIENT, TCP_CLIENT_DEVICE)["inet"][0]
    assert source_seen_by_the_lan_host(lab, lan_address, TCP_CLIENT, TCP_CLIENT_DEVICE, 17232) == field_address


def test_the_servers_ports_and_tunnels_pass_ufw_through_rules_of_the_role(lab):
    # Every traffic test above crosses ufw on the server, whose defaults deny what comes in and
    # what is routed: only these rules let the clients connect and reach the LAN.
    status = lab.host(SERVER).check_output("ufw status verbose")
    assert "Status: active" in status and "deny (incoming)" in status and "deny (routed)" in status
    added = lab.host(SERVER).check_output("ufw show added").splitlines()
    comment = "comment 'overlaynet.vpn openvpn_server'"
    for rule in ("ufw allow 1194/udp", "ufw allow 1194/tcp", "ufw allow in on %s" % SERVER_DEVICE,
                 "ufw route allow in on %s" % SERVER_DEVICE, "ufw route allow in on %s" % TCP_SERVER_DEVICE):
        assert "%s %s" % (rule, comment) in added, added


def test_a_ufw_rule_of_your_own_for_the_servers_port_stays_yours(lab):
    """You open the TCP instance's port yourself (a rule without the role's comment): a converge
    adds no rule of the role's for it, so yours keeps no comment and is never the role's to delete;
    taken away, the role's own rule comes back."""
    server = lab.host(SERVER)
    server.check_output("ufw delete allow 1194/tcp && ufw allow 1194/tcp")
    try:
        returncode, recap, output = lab.run_playbook()
        assert returncode == 0 and recap[SERVER]["changed"] == 0, output
        added = server.check_output("ufw show added").splitlines()
        assert "ufw allow 1194/tcp" in added, added
        assert lab.ping(TCP_CLIENT, lab.tunnel_addresses(SERVER, TCP_SERVER_DEVICE)["inet"][0]) is not None
    finally:
        server.check_output("ufw delete allow 1194/tcp")
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0 and recap[SERVER]["changed"] == 1, output
    assert "ufw allow 1194/tcp comment 'overlaynet.vpn openvpn_server'" in server.check_output("ufw show added").splitlines()


def test_clients_have_the_fixed_addresses_of_their_client_config_files(lab):
    for client in CLIENTS:
        ccd = lab.host(SERVER).check_output("cat /etc/openvpn/server/office/ccd/%s", client)
        pushed = ccd.split("ifconfig-push ", 1)[1].split()[0]
        assert lab.tunnel_addresses(client, CLIENT_DEVICE)["inet"] == [pushed]


def test_keys_and_secrets_are_private(lab, pki_dir):
    server = lab.host(SERVER)
    for path in ("/etc/openvpn/server/keys/server.key", "/etc/openvpn/server/keys/tls-crypt-v2-server.key"):
        assert (server.file(path).mode, server.file(path).user) == (0o600, "root"), path
    users = server.file("/etc/openvpn/server/users")
    assert (users.mode, users.user, users.group) == (0o640, "root", "nogroup")
    for client in CLIENTS:
        for path in ("/etc/openvpn/client/pki/vpn1.key", "/etc/openvpn/client/office/tls-crypt-v2.key",
                     "/etc/openvpn/client/office/credentials"):
            assert lab.host(client).file(path).mode == 0o600, (client, path)
    # Managed clients' keys never left their hosts: the controller's PKI has none of them.
    assert sorted(os.listdir(os.path.join(pki_dir, "private"))) == ["alice-laptop.key"]
    assert stat.S_IMODE(os.stat(pki_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(pki_dir, "ca.key")).st_mode) == 0o600
    # The unprivileged daemon reads the CRL again at each connection: it must be able to reach it.
    assert server.file("/etc/openvpn/server/pki").mode == 0o755 and server.file("/etc/openvpn/server/keys").mode == 0o700
    assert "Failed to stat CRL" not in server.check_output("journalctl -u %s --no-pager -o cat", SERVER_UNIT)


def test_a_daily_timer_on_the_server_checks_the_crl_next_update(lab):
    """The CA is on the controller: if runs of the play stop, the server's own check fails well
    before the CRL and the CRLs signed ahead run out (after which OpenVPN would refuse every client)."""
    server = lab.host(SERVER)
    assert server.check_output("systemctl is-enabled %s.timer", CRL_CHECK_UNIT) == "enabled"
    assert server.check_output("systemctl is-active %s.timer", CRL_CHECK_UNIT) == "active"
    # A oneshot unit: `start` returns once it has run, and fails when the check failed.
    server.check_output("systemctl start %s.service", CRL_CHECK_UNIT)
    log = server.check_output("journalctl -u %s.service --no-pager -o cat", CRL_CHECK_UNIT)
    # 180 days for the CRL, then 3 CRLs signed ahead 90 days apart.
    assert re.search(r"/etc/openvpn/server/pki/crl\.pem: next update \S+ \S+ UTC, CRLs signed ahead until \S+ \S+ UTC, in 4[45]\d days",
                     log), log
    # The same check, run as the unit runs it, with more warning days than the CRL has left.
    command = server.check_output("systemctl show -p ExecStart --value %s.service", CRL_CHECK_UNIT)
    argv = command.split("argv[]=", 1)[1].split(" ;", 1)[0].split()
    assert argv[2:4] == ["--warn-days", "45"], argv
    result = server.run(" ".join(argv[:3] + ["500"] + argv[4:]))
    assert result.rc == 1, result.stdout
    assert "run the play of overlaynet.vpn.openvpn_server" in result.stderr and "refuses every client" in result.stderr


def crls_in(text):
    marker = "-----END X509 CRL-----"
    return [x509.load_pem_x509_crl((block + marker + "\n").encode()) for block in text.split(marker)[:-1]]


def test_the_daily_timer_puts_the_crl_signed_ahead_for_today_in_place_and_the_server_enforces_it(lab, pki_dir, server_addresses):
    """A server no run reaches keeps accepting clients: its timer puts each CRL signed ahead in place on its day, and
    OpenVPN reads it at the next connection."""
    server = lab.host(SERVER)
    crl_path, ahead_path = "/etc/openvpn/server/pki/crl.pem", "/etc/openvpn/server/pki/crl-ahead.pem"
    crl = crls_in(server.check_output("cat %s", crl_path))[0]
    ahead = crls_in(server.check_output("cat %s", ahead_path))
    assert [item.last_update_utc - crl.last_update_utc for item in ahead] == [datetime.timedelta(days=days) for days in (90, 180, 270)]
    assert server.file(ahead_path).mode == 0o644

    # The lab's clock cannot move 90 days: the CA signs one more CRL ahead, valid from a few seconds ago (later than
    # the CRL of the converge: the timer never puts an older one in place), as the play would have, except that it
    # also lists site1's certificate, so that the server's refusal shows it read the new CRL.
    with open(os.path.join(pki_dir, "ca.key"), "rb") as handle:
        ca_key = serialization.load_pem_private_key(handle.read(), None)
    ca_certificate = x509.load_pem_x509_certificate(read(os.path.join(pki_dir, "ca.crt")).encode())
    site1_serial = json.loads(read(os.path.join(pki_dir, "state.json")))["certificates"]["site1"]["serial"]
    valid_from = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    assert valid_from > crl.last_update_utc
    revoked = x509.RevokedCertificateBuilder().serial_number(int(site1_serial, 16)).revocation_date(valid_from).build()
    due = (x509.CertificateRevocationListBuilder().issuer_name(ca_certificate.subject)
           .last_update(valid_from).next_update(valid_from + datetime.timedelta(days=180))
           .add_revoked_certificate(revoked).sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    server.check_output("cp -p %s /root/crl.saved && cp -p %s /root/crl-ahead.saved", crl_path, ahead_path)
    try:
        server.check_output("cat /root/crl-ahead.saved - > %s <<'OVERLAYNET_EOF'\n%sOVERLAYNET_EOF" % (ahead_path, due))
        cursor = journal_cursor(lab)
        server.check_output("systemctl start %s.service", CRL_CHECK_UNIT)
        assert server.check_output("cat %s", crl_path) + "\n" == due
        assert server.file(crl_path).mode == 0o644 and server.file(crl_path).user == "root"
        log = server.check_output("journalctl -u %s.service --no-pager -o cat -n 5", CRL_CHECK_UNIT)
        assert "%s: put in place the CRL signed ahead for" % crl_path in log, log
        lab.host("site1").check_output("systemctl restart openvpn-client@%s", INSTANCE)
        wait_for_server_log(lab, cursor, "certificate revoked")
    finally:
        # Undoing the test's revocation takes a restart: OpenVPN 2.6 with OpenSSL 3 keeps refusing a serial that a
        # CRL it read listed, even once the file holds a CRL without it (seen here). The PKI never un-revokes.
        server.check_output("cp -p /root/crl.saved %s.new && mv %s.new %s && cp -p /root/crl-ahead.saved %s",
                            crl_path, crl_path, crl_path, ahead_path)
        server.check_output("systemctl restart %s", SERVER_UNIT)
    lab.host("site1").check_output("systemctl restart openvpn-client@%s", INSTANCE)
    traffic.wait_for_reply("site1", server_addresses["inet"][0], timeout=60)


def test_unmanaged_laptop_connects_with_its_exported_profile(lab, server_addresses, lan_address):
    profile_path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "openvpn-profiles", SERVER, INSTANCE, "alice-laptop.ovpn")
    assert stat.S_IMODE(os.stat(profile_path).st_mode) == 0o600
    profile = read(profile_path)
    for block in ("<ca>", "<cert>", "<key>", "<tls-crypt-v2>", "auth-user-pass"):
        assert block in profile
    laptop = "roaming1"
    put_file(lab, laptop, "/root/alice/alice-laptop.ovpn", profile
             + "auth-user-pass /root/alice/credentials\n")
    put_file(lab, laptop, "/root/alice/credentials", "alice-laptop\npw-alice-not-a-secret-0001\n")
    start_openvpn(lab, laptop, "alice-vpn", "/root/alice/alice-laptop.ovpn")
    try:
        traffic.wait_until("alice-laptop connected", lambda: READY_LINE in unit_log(lab, laptop, "alice-vpn"), 40)
        for address in (server_addresses["inet"][0], lan_address):
            traffic.wait_for_reply(laptop, address)
        assert lab.tcp_exchange(laptop, SERVER, server_addresses["inet"][0], 17221) == "ack:roaming1-to-vpn1"
        assert lab.tcp_exchange(laptop, LAN_HOST, lan_address, 17222) == "ack:roaming1-to-lanhost1"
    finally:
        traffic.stop_unit(laptop, "alice-vpn")


def test_networkmanager_imports_the_exported_profile_as_is_and_connects(lab, server_addresses, lan_address):
    """What a laptop user does: `nmcli connection import` of the .ovpn file, the password given
    to NetworkManager, then `nmcli connection up`; traffic crosses the tunnel it made."""
    profile_path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "openvpn-profiles", SERVER, INSTANCE, "alice-laptop.ovpn")
    laptop = lab.host("roaming1")
    put_file(lab, "roaming1", "/root/nm/alice-laptop.ovpn", read(profile_path))
    traffic.wait_until("NetworkManager running on roaming1",
                       lambda: laptop.run("nmcli -t -f RUNNING general").stdout.strip() == "running", 30)
    laptop.run("nmcli connection delete alice-laptop")
    imported = laptop.run("nmcli connection import type openvpn file /root/nm/alice-laptop.ovpn")
    assert imported.rc == 0, imported.stdout + imported.stderr
    try:
        data = laptop.check_output("nmcli -g vpn.data connection show alice-laptop")
        # Imported, not dropped: the options that make this profile safe.
        for option in ("tls-crypt-v2", "verify-x509-name", "remote-cert-tls = server", "connection-type = password-tls"):
            assert option in data, (option, data)
        laptop.check_output("nmcli connection modify alice-laptop vpn.user-name alice-laptop +vpn.data password-flags=0 "
                            "vpn.secrets password=pw-alice-not-a-secret-0001")
        # On eth0: NetworkManager took the lab's interface over as it found it ("connected
        # (externally)"), which it does not count as the default connection a VPN rides on.
        up = laptop.run("nmcli --wait 60 connection up alice-laptop ifname eth0")
        assert up.rc == 0, up.stdout + up.stderr
        device = lab.route_device("roaming1", server_addresses["inet"][0])
        assert device != "eth0", device
        for address in (server_addresses["inet"][0], lan_address):
            traffic.wait_for_reply("roaming1", address)
        assert lab.tcp_exchange("roaming1", SERVER, server_addresses["inet"][0], 17223) == "ack:roaming1-to-vpn1"
        assert lab.tcp_exchange("roaming1", LAN_HOST, lan_address, 17224) == "ack:roaming1-to-lanhost1"
    finally:
        laptop.run("nmcli connection down alice-laptop")
        laptop.run("nmcli connection delete alice-laptop")


# --- refusals ----------------------------------------------------------------------------------

def test_a_wrong_password_is_refused(lab):
    client = lab.host("site1")
    put_file(lab, "site1", "/root/wrong/credentials", "site1\nnot-the-password\n")
    config = client_config_with(lab, "site1", {"dev": "dev ovpn-wrongpw", "auth-user-pass": "auth-user-pass /root/wrong/credentials"},
                                extra=["auth-retry none"])
    put_file(lab, "site1", "/root/wrong/client.conf", config)
    cursor = journal_cursor(lab)
    # With auth-retry none the client exits on AUTH_FAILED; timeout only bounds a hang.
    result = client.run("timeout 60 openvpn --config /root/wrong/client.conf")
    assert "AUTH_FAILED" in result.stdout and READY_LINE not in result.stdout, result.stdout[-2000:]
    log = wait_for_server_log(lab, cursor, "refused user 'site1'")
    assert "not-the-password" not in log
    assert lab.ping("site1", lab.tunnel_addresses(SERVER, SERVER_DEVICE)["inet"][0]) is not None, "the real tunnel of site1 stays up"


def test_a_certificate_from_another_ca_is_refused(lab, pki_dir):
    """The intruder holds a valid tls-crypt-v2 key of an allowed client and the right password,
    so only its certificate, issued by another CA for the same name, stands in its way."""
    certificate, key = other_ca_client("site1")
    intruder = "intruder1"
    put_file(lab, intruder, "/root/intruder/ca.crt", read(os.path.join(pki_dir, "ca.crt")), "0644")
    put_file(lab, intruder, "/root/intruder/client.crt", certificate, "0644")
    put_file(lab, intruder, "/root/intruder/client.key", key)
    put_file(lab, intruder, "/root/intruder/tls-crypt-v2.key", read(os.path.join(pki_dir, "tls-crypt-v2", "clients", "site1.key")))
    put_file(lab, intruder, "/root/intruder/credentials", "site1\npw-site1-not-a-secret-0001\n")
    config = client_config_with(lab, "site1", {
        "ca": "ca /root/intruder/ca.crt", "cert": "cert /root/intruder/client.crt", "key": "key /root/intruder/client.key",
        "tls-crypt-v2": "tls-crypt-v2 /root/intruder/tls-crypt-v2.key", "auth-user-pass": "auth-user-pass /root/intruder/credentials"})
    put_file(lab, intruder, "/root/intruder/client.conf", config)
    cursor = journal_cursor(lab)
    start_openvpn(lab, intruder, "intruder-vpn", "/root/intruder/client.conf")
    try:
        log = wait_for_server_log(lab, cursor, "VERIFY ERROR")
        assert "CN=site1" in log
        assert READY_LINE not in unit_log(lab, intruder, "intruder-vpn")
    finally:
        traffic.stop_unit(intruder, "intruder-vpn")


def test_a_config_the_daemon_refuses_is_not_applied_and_the_old_tunnel_keeps_working(lab):
    """Port 1195 is taken on the server, so OpenVPN cannot bind it when it starts: the
    previous config goes back and serves the clients again, through ufw's rule for its port
    (ufw changes only once the new config runs)."""
    server = lab.host(SERVER)
    before = server.check_output("sha256sum /etc/openvpn/server/office.conf")
    traffic.start_unit(SERVER, "port-taker", ["python3", "-c",
                                              "import socket, signal; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); "
                                              "s.bind(('::', 1195)); signal.pause()"])
    try:
        traffic.wait_until("UDP port 1195 taken", lambda: server.run("ss -Hlun 'sport = :1195'").stdout.strip() != "", 10)
        instances = server_instances(lab, port=1195)
        returncode, recap, output = run_with_server_instances(lab, instances, "--limit", SERVER)
    finally:
        traffic.stop_unit(SERVER, "port-taker")
    assert returncode != 0 and recap[SERVER]["failed"] == 1, output
    assert "the previous file is back and serves again" in output, output
    assert server.check_output("sha256sum /etc/openvpn/server/office.conf") == before
    added = server.check_output("ufw show added")
    assert "ufw allow 1194/udp" in added and "1195" not in added, added
    server_address = lab.tunnel_addresses(SERVER, SERVER_DEVICE)["inet"][0]
    for client in CLIENTS:
        traffic.wait_for_reply(client, server_address, timeout=60)


def test_a_revoked_client_is_refused_by_the_verify_hook_and_by_the_crl(lab, pki_dir, tmp_path):
    site3 = lab.host("site3")
    site3.check_output("rm -rf /root/saved && mkdir -p /root/saved && cp -a /etc/openvpn/client/office /etc/openvpn/client/pki/vpn1.key "
                       "%s /root/saved/", CLIENT_CONFIG)
    overlay = tmp_path / "revoke.yml"
    overlay.write_text(json.dumps({"all": {"hosts": {"site3": {"openvpn_client_state": "absent"}}}}))
    instances = server_instances(lab, revoked_clients=["site3"])
    returncode, recap, output = run_with_server_instances(lab, instances, "-i", str(overlay))
    assert returncode == 0, output
    assert not site3.file(CLIENT_CONFIG).exists and not site3.file("/etc/openvpn/client/pki").exists
    state = json.loads(read(os.path.join(pki_dir, "state.json")))
    assert state["certificates"]["site3"]["status"] == "revoked"
    assert "site3" not in lab.host(SERVER).check_output("cat /etc/openvpn/server/office/clients.allowed").split()

    def attempt(tls_crypt_v2_key, expected_log):
        config = client_config_with(lab, "site1", {
            "ca": "ca /root/saved/office/ca.crt", "cert": "cert /root/saved/office/client.crt", "key": "key /root/saved/vpn1.key",
            "tls-crypt-v2": "tls-crypt-v2 %s" % tls_crypt_v2_key, "auth-user-pass": "auth-user-pass /root/saved/office/credentials"})
        put_file(lab, "site3", "/root/saved/revoked.conf", config)
        cursor = journal_cursor(lab)
        start_openvpn(lab, "site3", "revoked-vpn", "/root/saved/revoked.conf")
        try:
            wait_for_server_log(lab, cursor, expected_log)
            assert READY_LINE not in unit_log(lab, "site3", "revoked-vpn")
        finally:
            traffic.stop_unit("site3", "revoked-vpn")

    # Its own tls-crypt-v2 key names it: the hook refuses it before any TLS.
    attempt("/root/saved/office/tls-crypt-v2.key", "tls-crypt-v2-verify")
    # With the key of a current client it gets to TLS, where the CRL refuses its certificate.
    put_file(lab, "site3", "/root/saved/borrowed.key", read(os.path.join(pki_dir, "tls-crypt-v2", "clients", "site1.key")))
    attempt("/root/saved/borrowed.key", "certificate revoked")

    # Back in the inventory, site3 gets a new certificate (and key pair) and connects again.
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0, output
    traffic.wait_for_reply("site3", lab.tunnel_addresses(SERVER, SERVER_DEVICE)["inet"][0], timeout=60)


# --- runs ------------------------------------------------------------------------------------

def test_bad_inputs_are_refused_before_any_change(lab):
    """Every semantic problem at once, from the inventory checks; a value outside a variable's
    choices from the role's argument specification. Either way no host changes."""
    base = lab.hostvars(SERVER)["openvpn_server_instances"][0]
    instances = server_instances(lab, port=70000, push_routes=["10.79.0.0/16"]) + [
        dict(base, name="second", ipv4_pool="10.79.0.128/25", ipv6_pool=None, unmanaged_clients=[]),
    ]
    for bad_instances, expected in (
            (instances,
             ["host vpn1: openvpn_server_instances[0].port", "host vpn1: openvpn_server_instances[0].push_routes",
              "host vpn1: openvpn_server_instances[2].ipv4_pool"]),
            (server_instances(lab, data_ciphers=["BF-CBC"]), ["[vpn1]", "data_ciphers", "BF-CBC"])):
        returncode, recap, output = run_with_server_instances(lab, bad_instances)
        assert returncode != 0
        for text in expected:
            assert text in output, (text, output)
        assert all(counts["changed"] == 0 for counts in recap.values()), output
        assert "pw-site1" not in output


def test_an_unknown_name_to_revoke_is_refused_before_any_host_changes(lab):
    instances = server_instances(lab, revoked_clients=["nobody-we-know"])
    returncode, recap, output = run_with_server_instances(lab, instances)
    assert returncode != 0 and "nobody-we-know" in output, output
    assert all(counts["changed"] == 0 for counts in recap.values()), output


def test_check_mode_on_the_converged_fleet_changes_nothing(lab):
    returncode, recap, output = lab.run_playbook("--check")
    assert returncode == 0, output
    assert all(counts["changed"] == 0 for counts in recap.values()), output


def test_check_diff_previews_a_change_without_making_it(lab):
    before = lab.host(SERVER).check_output("cat /etc/openvpn/server/office.conf")
    instances = server_instances(lab, push_routes=["10.213.1.0/24", "10.213.2.0/24"])
    returncode, recap, output = run_with_server_instances(lab, instances, "--check", "--diff")
    assert returncode == 0, output
    assert recap[SERVER]["changed"] >= 1
    assert '+push "route 10.213.2.0 255.255.255.0"' in output, output
    assert lab.host(SERVER).check_output("cat /etc/openvpn/server/office.conf") == before


def test_limit_to_a_client_changes_nothing_on_the_server(lab):
    before = lab.host(SERVER).check_output("sha256sum /etc/openvpn/server/office.conf /etc/openvpn/server/pki/crl.pem")
    returncode, recap, output = lab.run_playbook("--limit", "site2")
    assert returncode == 0, output
    assert list(recap) == ["site2"] and recap["site2"]["changed"] == 0, output
    assert lab.host(SERVER).check_output("sha256sum /etc/openvpn/server/office.conf /etc/openvpn/server/pki/crl.pem") == before


def test_a_client_set_up_anew_gets_a_new_certificate_and_the_server_refuses_the_old_one_at_once(lab, pki_dir):
    """A client host whose key is gone (a host set up anew) gets a new key and certificate in a run limited to it; the
    certificate it supersedes is revoked, and the server gets the new CRL in that same run."""
    site2 = lab.host("site2")
    site2.check_output("rm -rf /root/old && mkdir -p /root/old && cp -a /etc/openvpn/client/office /etc/openvpn/client/pki/vpn1.key "
                       "/root/old/")
    old_serial = json.loads(read(os.path.join(pki_dir, "state.json")))["certificates"]["site2"]["serial"]
    site2.check_output("rm /etc/openvpn/client/pki/vpn1.key")
    returncode, recap, output = lab.run_playbook("--limit", "site2")
    assert returncode == 0, output
    assert list(recap) == ["site2"] and recap["site2"]["changed"] >= 1, output
    assert json.loads(read(os.path.join(pki_dir, "state.json")))["certificates"]["site2"]["serial"] != old_serial
    crl = x509.load_pem_x509_crl(lab.host(SERVER).check_output("cat /etc/openvpn/server/pki/crl.pem").encode() + b"\n")
    assert crl.get_revoked_certificate_by_serial_number(int(old_serial, 16)) is not None
    # The old certificate and key, with the client's own tls-crypt-v2 key, get to TLS, where the CRL refuses them.
    config = client_config_with(lab, "site1", {
        "ca": "ca /root/old/office/ca.crt", "cert": "cert /root/old/office/client.crt", "key": "key /root/old/vpn1.key",
        "tls-crypt-v2": "tls-crypt-v2 /root/old/office/tls-crypt-v2.key", "auth-user-pass": "auth-user-pass /root/old/office/credentials"})
    put_file(lab, "site2", "/root/old/old.conf", config)
    cursor = journal_cursor(lab)
    start_openvpn(lab, "site2", "old-certificate-vpn", "/root/old/old.conf")
    try:
        wait_for_server_log(lab, cursor, "certificate revoked")
        assert READY_LINE not in unit_log(lab, "site2", "old-certificate-vpn")
    finally:
        traffic.stop_unit("site2", "old-certificate-vpn")
    # With its new certificate the client is back on both its tunnels.
    traffic.wait_for_reply("site2", lab.tunnel_addresses(SERVER, SERVER_DEVICE)["inet"][0], timeout=60)
    traffic.wait_for_reply("site2", lab.tunnel_addresses(SERVER, TCP_SERVER_DEVICE)["inet"][0], timeout=60)


def pem_bodies(text):
    """Every base64 line of the PEM blocks in text: a secret counts as printed if any of its lines is."""
    return [line for line in text.splitlines() if line and not line.startswith("-----") and not line.startswith("#") and len(line) >= 40]


def test_no_secret_appears_in_a_verbose_diff_run(lab, pki_dir):
    instances = server_instances(lab, unmanaged_clients=["alice-laptop", "bob-phone"])
    returncode, recap, output = run_with_server_instances(lab, instances, "-vvv", "--diff")
    assert returncode == 0, output
    assert recap[SERVER]["changed"] >= 1, output
    secrets = []
    # Every key file on the managed hosts (site1's server keys and site2's branch keys too), the servers' password
    # files, the clients' passwords, and every private key of both PKIs on the controller.
    for host in [SERVER] + CLIENTS:
        key_paths = lab.host(host).check_output("find /etc/openvpn -type f -name '*.key'").split()
        assert key_paths, host
        for path in key_paths:
            secrets.extend(pem_bodies(lab.host(host).check_output("cat %s", path)))
    for line in lab.host(SERVER).check_output("cat /etc/openvpn/server/users").splitlines():
        secrets.append(line.split()[-1])
    secrets.extend("pw-%s-not-a-secret-0001" % client for client in CLIENTS)
    secrets.append("pw-alice-not-a-secret-0001")
    for server_pki in (pki_dir, os.path.join(os.path.dirname(pki_dir), BRANCH_SERVER)):
        for path in [os.path.join(server_pki, "ca.key")] + glob.glob(os.path.join(server_pki, "private", "*.key")) + \
                glob.glob(os.path.join(server_pki, "tls-crypt-v2", "clients", "*.key")):
            secrets.extend(pem_bodies(read(path)))
    lab.assert_no_secret_printed(output, secrets, minimum=30)
    returncode, recap, output = lab.run_playbook()
    assert returncode == 0, output


def test_connectivity_report_lists_the_openvpn_peers(lab, tmp_path):
    report = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "report.yml")
    page = tmp_path / "report.html"
    returncode, recap, output = lab.run_playbook("-e", json.dumps({"overlaynet_report_html": str(page)}), playbooks=(report,))
    assert returncode == 0, output
    for client in CLIENTS:
        assert "| %s | openvpn | %s | %s |" % (client, CLIENT_DEVICE, SERVER) in output
        assert "| %s | openvpn | %s | %s |" % (SERVER, SERVER_DEVICE, client) in output
        assert client in page.read_text()
    assert "| %s | openvpn | %s | %s |" % (TCP_CLIENT, TCP_CLIENT_DEVICE, SERVER) in output
    assert "| %s | openvpn | %s | %s |" % (SERVER, TCP_SERVER_DEVICE, TCP_CLIENT) in output
    assert "| %s | openvpn | %s | %s |" % (BRANCH_CLIENT, BRANCH_CLIENT_DEVICE, BRANCH_SERVER) in output
    assert "| %s | openvpn | %s | %s |" % (BRANCH_SERVER, BRANCH_SERVER_DEVICE, BRANCH_CLIENT) in output

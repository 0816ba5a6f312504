# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of labkit (parsers of command output), without a lab: the samples are
output of the real commands, as the lab hosts (Debian 12) print it."""
from __future__ import absolute_import, division, print_function

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labkit import hosts, traffic, wireguard  # noqa: E402  (after the path is set)

RECAP_OUTPUT = """\
PLAY [Mesh] ********************************************************************

TASK [overlaynet.vpn.wireguard : Check the networks] ***************************
ok: [mesh1]
fatal: [mesh2]: FAILED! => {"changed": false, "msg": "bad pool"}

TASK [Print what a task printed] *******************************************
mesh9 : ok=1 changed=1


PLAY RECAP *********************************************************************
mesh1                      : ok=12   changed=3    unreachable=0    failed=0    skipped=4    rescued=0    ignored=0
mesh2                      : ok=2    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0

"""

# Molecule forces colour; the same recap with ANSI colour codes around the counts.
COLOURED_RECAP_OUTPUT = (
    "PLAY RECAP *********************************************************************\n"
    "\x1b[0;33mhub1\x1b[0m                       : \x1b[0;32mok=5   \x1b[0m \x1b[0;33mchanged=2   \x1b[0m "
    "unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   \n"
)

PING_OUTPUT = """\
PING 10.77.0.2 (10.77.0.2) 56(84) bytes of data.

--- 10.77.0.2 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 404ms
rtt min/avg/max/mdev = 0.412/0.527/0.703/0.126 ms
"""

PING_NO_REPLY_OUTPUT = """\
PING 10.77.0.2 (10.77.0.2) 56(84) bytes of data.

--- 10.77.0.2 ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time 2043ms

"""

# Keys are made up for the test; the first line (the interface) carries a private key field.
HUB_KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
SPOKE_KEY = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="
ROAMING_KEY = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
WG_DUMP = (
    "PRIVATE-KEY-NOT-KEPT=\t%s\t51821\toff\n" % HUB_KEY
    + "%s\tPRESHARED-KEY-NOT-KEPT=\t10.213.0.3:51821\t10.78.0.2/32,fd78::2/128\t1767225600\t92\t180\t25\n" % SPOKE_KEY
    + "%s\t(none)\t(none)\t(none)\t0\t0\t0\toff\n" % ROAMING_KEY
)

# wireguard-go listens on its UAPI socket from several threads: one process, several fds.
SS_UNIX_LISTENING = ('u_str LISTEN 0      4096   /var/run/wireguard/wg0.sock 366740 * 0 users:(("wireguard-go",pid=412,fd=12),'
                     '("wireguard-go",pid=412,fd=11),("wireguard-go",pid=412,fd=10))\n')

IP_ADDR_JSON = """[{"ifindex":5,"ifname":"wg0","flags":["POINTOPOINT","NOARP","UP","LOWER_UP"],"mtu":1420,
"addr_info":[{"family":"inet","local":"10.77.0.1","prefixlen":24,"scope":"global","label":"wg0"},
{"family":"inet6","local":"fd77:77::1","prefixlen":64,"scope":"global"},
{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]}]"""


def test_recap_counts_per_host_only_after_the_recap_header():
    assert traffic.parse_recap(RECAP_OUTPUT) == {
        "mesh1": {"ok": 12, "changed": 3, "unreachable": 0, "failed": 0, "skipped": 4, "rescued": 0, "ignored": 0},
        "mesh2": {"ok": 2, "changed": 0, "unreachable": 0, "failed": 1, "skipped": 0, "rescued": 0, "ignored": 0},
    }


def test_recap_ignores_colour_codes():
    assert traffic.parse_recap(COLOURED_RECAP_OUTPUT) == {
        "hub1": {"ok": 5, "changed": 2, "unreachable": 0, "failed": 0, "skipped": 1, "rescued": 0, "ignored": 0},
    }


def test_recap_of_a_run_that_never_reached_it_is_empty():
    assert traffic.parse_recap("ERROR! the playbook: site.yml could not be found\n") == {}


def test_ping_rtt_is_the_average():
    assert traffic.parse_ping_rtt(PING_OUTPUT) == 0.527


def test_ping_rtt_of_busybox_summary():
    assert traffic.parse_ping_rtt("round-trip min/avg/max = 0.101/0.250/0.399 ms\n") == 0.25


def test_ping_without_reply_has_no_rtt():
    assert traffic.parse_ping_rtt(PING_NO_REPLY_OUTPUT) is None


def test_wg_dump_peers_without_secrets():
    peers = wireguard.parse_dump(WG_DUMP)
    assert peers == {
        SPOKE_KEY: {"endpoint": "10.213.0.3:51821", "allowed_ips": ["10.78.0.2/32", "fd78::2/128"],
                    "latest_handshake": 1767225600, "rx": 92, "tx": 180},
        ROAMING_KEY: {"endpoint": "(none)", "allowed_ips": [], "latest_handshake": 0, "rx": 0, "tx": 0},
    }
    assert "NOT-KEPT" not in repr(peers)


def test_wg_dump_allowed_ips_are_sorted():
    dump = "PRIVATE\tPUBLIC\t51820\toff\nPEER\t(none)\t(none)\tfd00::/64,10.0.0.0/24\t0\t0\t0\toff\n"
    assert wireguard.parse_dump(dump)["PEER"]["allowed_ips"] == ["10.0.0.0/24", "fd00::/64"]


def test_wg_dump_of_an_interface_without_peers():
    assert wireguard.parse_dump("PRIVATE\tPUBLIC\t51820\toff\n") == {}


def test_uapi_socket_path():
    assert wireguard.uapi_socket("wg0") == "/var/run/wireguard/wg0.sock"


def test_ss_listing_gives_the_serving_pid():
    assert traffic.parse_socket_pid(SS_UNIX_LISTENING) == "412"


def test_ss_listing_without_a_listener_has_no_pid():
    assert traffic.parse_socket_pid("") is None


def test_interface_addresses_are_global_only_by_family():
    assert traffic.parse_interface_addresses(IP_ADDR_JSON) == {"inet": ["10.77.0.1"], "inet6": ["fd77:77::1"]}


def test_iperf_report_is_parsed_or_none():
    assert traffic.parse_iperf_report('{"end": {"sum_sent": {"bytes": 1024}}}') == {"end": {"sum_sent": {"bytes": 1024}}}
    # Killed by timeout before it printed its report.
    assert traffic.parse_iperf_report("") is None
    assert traffic.parse_iperf_report("iperf3: error - unable to connect to server") is None


def test_throughput_sample_of_an_iperf_report():
    # What iperf3 3.12 --json reports at its end (shortened): the receiver's side counts.
    report = {"end": {"sum_sent": {"seconds": 4.0, "bits_per_second": 2.1e9, "retransmits": 12},
                      "sum_received": {"seconds": 4.0, "bits_per_second": 2.0e9}}}
    assert traffic.throughput_sample(report) == {"gbps": 2.0, "cpu_per_gbps": None}
    # 5 s of CPU over the 4 s reported and the 1 s warm-up: 1 core busy, for 2 Gbit/s.
    assert traffic.throughput_sample(report, cpu_seconds=5.0) == {"gbps": 2.0, "cpu_per_gbps": 0.5}


def test_throughput_sample_of_a_run_where_nothing_arrived():
    report = {"end": {"sum_received": {"seconds": 4.0, "bits_per_second": 0.0}}}
    assert traffic.throughput_sample(report, cpu_seconds=1.0) == {"gbps": 0.0, "cpu_per_gbps": None}


def test_parse_secrets_of_each_file_kind():
    key = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
    psk = "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE="
    public = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
    assert wireguard.parse_secrets(key + "\n", "key") == {key}
    assert wireguard.parse_secrets("# peer public key, preshared key\n%s %s\n" % (public, psk), "psk") == {psk}
    client = "[Interface]\nPrivateKey = %s\nAddress = 10.0.0.2/32\n[Peer]\nPublicKey = %s\nPresharedKey=%s\n" % (key, public, psk)
    assert wireguard.parse_secrets(client, "client") == {key, psk}


def test_secrets_in_files_reads_keys_and_client_files(tmp_path):
    key = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "laptop.key").write_text(key + "\n")
    (tmp_path / "net" / "laptop.conf").write_text("[Interface]\nPrivateKey = %s\n" % key)
    (tmp_path / "net" / "laptop.png").write_bytes(b"\x89PNG")
    assert wireguard.secrets_in_files(str(tmp_path)) == {key}


def test_fqdn_is_the_name_the_lab_dns_answers():
    assert hosts.fqdn("hs1") == "hs1.dns.podman"

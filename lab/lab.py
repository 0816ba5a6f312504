# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The overlaynet.vpn lab: Debian 12 hosts as podman containers running systemd.

One implementation (lab/labkit) used by `make demo`, the molecule scenarios and the benches.

    lab.py image [--variant V]          build the host image once (cached by recipe hash)
    lab.py up HOST [HOST ...]           start hosts (idempotent), then check the lab
    lab.py up --variant V HOST ...      the same from an image variant (lab/images.yml)
    lab.py up --host-variant NAME=V ... one host from a variant, the others as above
    lab.py inventory HOST [HOST ...]    print a YAML inventory for those hosts
    lab.py address HOST [--network N] [--ipv6]   print a host's lab address
    lab.py guard                        print what the egress guard has dropped
    lab.py down [HOST ...] [--all]      remove hosts (and the lab networks with --all)
    lab.py list                         running lab hosts

A HOST is NAME or NAME@NET[,NET...]: hosts can sit on several networks, e.g. a VPN server on
`lab` and `lan1`, and a LAN host only on `lan1`. Networks are created on first use, dual
stack, with DNS so that hosts reach each other by name. `up` returns only once every host
runs systemd, has /dev/net/tun, and resolves and pings every other host it shares a network
with, and once the egress guard has dropped a test packet bound outside the lab; otherwise
it stops with a message naming the host, the check and the likely missing piece.

`--default-sysctl NAME` starts NAME like a default container, with a read-only /proc/sys
(other hosts may set net.* sysctls); `--sysctl NAME:KEY=VALUE` presets a sysctl for it, as
`podman run --sysctl` does.

Names are also container names, so Ansible connects with `ansible_connection:
containers.podman.podman` and `ansible_host: NAME`.
"""
from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from labkit import guard, hosts, images  # noqa: E402  (after the path is set)
from labkit.podman import LabError  # noqa: E402


def host_options(args):
    options = {}
    for name in args.default_sysctl or []:
        options.setdefault(name, {"writable_sysctl": True, "sysctls": []})["writable_sysctl"] = False
    for item in args.sysctl or []:
        name, separator, setting = item.partition(":")
        if not separator or "=" not in setting:
            raise LabError("--sysctl wants NAME:KEY=VALUE, got %r" % item)
        options.setdefault(name, {"writable_sysctl": True, "sysctls": []})["sysctls"].append(setting)
    for item in args.host_variant or []:
        name, separator, variant = item.partition("=")
        if not separator or variant not in images.variant_names():
            raise LabError("--host-variant wants NAME=VARIANT with a variant of lab/images.yml (%s), got %r"
                           % (", ".join(images.variant_names()), item))
        options.setdefault(name, {"writable_sysctl": True, "sysctls": []})["tag"] = images.build(variant)
    return options


def write_inventory(path, names):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(hosts.inventory(names), handle, indent=2, sort_keys=True)
        handle.write("\n")


def cmd_image(args):
    print(images.build(args.variant, force=args.force))


def cmd_up(args):
    tag = images.build(args.variant)
    specs = [hosts.parse_host(spec) for spec in args.hosts]
    hosts.up(specs, tag, host_options(args))
    if args.inventory:
        write_inventory(args.inventory, [name for name, _networks in specs])


def cmd_inventory(args):
    json.dump(hosts.inventory(args.hosts or hosts.lab_hosts()), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def cmd_address(args):
    addresses = hosts.host_addresses(args.host)
    network = args.network or sorted(addresses)[0]
    if network not in addresses:
        raise LabError("host %s is not on network %s" % (args.host, network))
    print(addresses[network]["ipv6" if args.ipv6 else "ipv4"])


def cmd_guard(_args):
    dropped = guard.dropped_packets()
    if dropped is None:
        raise LabError("the egress guard (nftables table inet %s) is not loaded: lab.py up loads it" % guard.TABLE)
    print("lab: egress guard dropped %d packet(s) so far" % dropped)


def cmd_down(args):
    names = hosts.lab_hosts() if args.all else [hosts.parse_host(s)[0] for s in args.hosts]
    hosts.down(names, remove_networks=args.all)


def cmd_list(_args):
    for name in hosts.lab_hosts():
        print(name, hosts.container_state(name), json.dumps(hosts.host_addresses(name)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    variants = images.variant_names()
    p = sub.add_parser("image")
    p.add_argument("--force", action="store_true", help="rebuild (with --variant: only the variant)")
    p.add_argument("--variant", choices=variants, help="an image variant instead of the base image")
    p.set_defaults(func=cmd_image)
    p = sub.add_parser("up")
    p.add_argument("hosts", nargs="+")
    p.add_argument("--inventory", help="also write the inventory of these hosts to this file")
    p.add_argument("--variant", choices=variants,
                   help="start new hosts from this image variant (running hosts are left as they are)")
    p.add_argument("--default-sysctl", action="append", metavar="NAME",
                   help="start NAME with a container's default, read-only /proc/sys")
    p.add_argument("--sysctl", action="append", metavar="NAME:KEY=VALUE", help="preset a sysctl of NAME")
    p.add_argument("--host-variant", action="append", metavar="NAME=VARIANT",
                   help="start NAME from this image variant (the others from --variant or the base image)")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("inventory")
    p.add_argument("hosts", nargs="*")
    p.set_defaults(func=cmd_inventory)
    p = sub.add_parser("address")
    p.add_argument("host")
    p.add_argument("--network", help="the lab network (default: the first the host is on)")
    p.add_argument("--ipv6", action="store_true")
    p.set_defaults(func=cmd_address)
    p = sub.add_parser("guard")
    p.set_defaults(func=cmd_guard)
    p = sub.add_parser("down")
    p.add_argument("hosts", nargs="*")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=cmd_down)
    p = sub.add_parser("list")
    p.set_defaults(func=cmd_list)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()

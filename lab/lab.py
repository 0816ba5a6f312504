# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The overlaynet.vpn lab: Debian 12 hosts as podman containers running systemd.

One implementation used by `make demo`, the molecule scenarios and the benchmarks.

    lab.py image [--variant V]          build the host image once (cached by content hash)
    lab.py up HOST [HOST ...]           start hosts (idempotent), wait until systemd runs
    lab.py up --variant V HOST ...      the same from an image variant (see VARIANTS)
    lab.py inventory HOST [HOST ...]    print a YAML inventory for those hosts
    lab.py down [HOST ...] [--all]      remove hosts (and the lab networks with --all)
    lab.py list                         running lab hosts

A HOST is NAME or NAME@NET[,NET...]: hosts can sit on several networks, e.g. a VPN
server on `lab` and `lan1`, and a LAN host only on `lan1`. Networks are created on
first use, dual stack, with DNS so that hosts reach each other by name.

Names are also container names, so Ansible connects with `ansible_connection: podman`
and `ansible_host: NAME`. Extra binaries for roles (e.g. a Go-built wireguard-go) are
handed to roles as controller-side files; see build/bin.

An image variant is the default image plus a few layers, tagged on its own
(localhost/overlaynet-lab-VARIANT:HASH, the hash covering the default tag and the
variant's recipe): adding or changing a variant never changes the default tag.
"""
from __future__ import absolute_import, division, print_function

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

LABEL = "io.overlaynet.lab"
IMAGE_NAME = "localhost/overlaynet-lab"
DEFAULT_NETWORK = "lab"

# What the image holds: enough for Ansible (python3, python3-apt), systemd as PID 1,
# and the packages the roles install, so that converges exercise the roles' own
# install tasks without downloading (the install task then finds them present).
IMAGE_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "python3", "python3-apt", "iproute2",
    "iputils-ping", "procps", "kmod", "nftables", "netcat-openbsd", "iperf3",
    "wireguard-tools", "wireguard-go", "ca-certificates",
]
IMAGE_SUITE = "bookworm"
IMAGE_RECIPE_VERSION = "1"

# Subnets of the lab networks: fixed so that inventories and reports are stable.
# Only our own containers live here; nothing else is ever addressed.
NETWORK_SUBNETS = {
    "lab": ("10.213.0.0/24", "fd00:213::/64"),
    "lan1": ("10.213.1.0/24", "fd00:213:1::/64"),
    "lan2": ("10.213.2.0/24", "fd00:213:2::/64"),
}

# runc because crun fails on this kernel's cgroup setup; explicit ulimits because the
# defaults need CAP_SYS_RESOURCE; NET_ADMIN/NET_RAW and /dev/net/tun for VPN daemons.
RUN_OPTIONS = [
    "--runtime", "runc",
    "--systemd", "always",
    "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW",
    "--device", "/dev/net/tun",
    "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096",
    # The container has its own network namespace: let roles set net.* sysctls
    # (forwarding) for real instead of faking them from outside.
    "--security-opt", "unmask=/proc/sys",
    "--sysctl", "net.ipv6.conf.all.disable_ipv6=0",
]

READY_TIMEOUT_S = 60

# The stand-in for a kernel's WireGuard module: Debian's kernel images provide
# `wireguard-modules`, which the `wireguard` metapackage needs. These hosts run the
# userspace implementation, so the package only records that; dpkg-deb builds it at image
# build time.
LAB_MODULES_PACKAGE = "overlaynet-lab-wireguard-modules"
LAB_MODULES_CONTROL = """Package: %s
Version: 1.0
Architecture: all
Maintainer: overlaynet.vpn lab <lab@overlaynet.invalid>
Section: kernel
Priority: optional
Provides: wireguard-modules (= 1.0.0)
Description: lab stand-in for the kernel WireGuard module
 Lab hosts share a kernel without WireGuard; wg-quick runs wireguard-go instead.
""" % LAB_MODULES_PACKAGE

# wg-quick falls back to a userspace implementation when the kernel cannot create the
# interface; name it explicitly for units started through Debian's wg-quick@.service, as
# overlaynet.vpn's own unit does.
WG_QUICK_USERSPACE_DROPIN = """[Service]
Environment=WG_QUICK_USERSPACE_IMPLEMENTATION=/usr/bin/wireguard-go
"""

# Image variants: name -> files to add to the build context and the Containerfile body
# applied on top of the default image. `baseline` is for other WireGuard roles (bench/):
# their package task finds Debian's `wireguard` metapackage installed, wg-quick@.service
# starts wireguard-go, and lsb_release exists (githubixx/ansible-role-wireguard reads the
# lsb fact on Debian, which ansible-core 2.19 refuses when the fact is empty).
VARIANTS = {
    "baseline": {
        "files": {
            "lab-modules/DEBIAN/control": LAB_MODULES_CONTROL,
            "wg-quick-userspace.conf": WG_QUICK_USERSPACE_DROPIN,
        },
        "debs": {"lab-modules.deb": "lab-modules"},
        "containerfile": [
            "COPY lab-modules.deb /tmp/lab-modules.deb",
            "COPY wg-quick-userspace.conf /etc/systemd/system/wg-quick@.service.d/overlaynet-lab-userspace.conf",
            # From the package lists kept in the image; only these two small packages are downloaded.
            "RUN dpkg -i /tmp/lab-modules.deb && rm /tmp/lab-modules.deb"
            " && apt-get install -y --no-install-recommends wireguard lsb-release && apt-get clean"
            " && dpkg-query -W wireguard lsb-release %s" % LAB_MODULES_PACKAGE,
        ],
    },
}
VARIANT_RECIPE_VERSION = "1"


def run(args, check=True, capture=True, input_text=None):
    result = subprocess.run(args, check=False, text=True, input=input_text,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.PIPE if capture else None)
    if check and result.returncode != 0:
        raise SystemExit("lab: command failed (%d): %s\n%s" % (
            result.returncode, " ".join(args), (result.stderr or "").strip()))
    return result


def podman(*args, **kwargs):
    return run(["podman"] + list(args), **kwargs)


def image_tag():
    recipe = json.dumps([IMAGE_SUITE, IMAGE_PACKAGES, IMAGE_RECIPE_VERSION])
    return "%s:%s" % (IMAGE_NAME, hashlib.sha256(recipe.encode()).hexdigest()[:12])


def variant_tag(variant):
    recipe = json.dumps([image_tag(), VARIANTS[variant], VARIANT_RECIPE_VERSION], sort_keys=True)
    return "%s-%s:%s" % (IMAGE_NAME, variant, hashlib.sha256(recipe.encode()).hexdigest()[:12])


def image_exists(tag):
    return podman("image", "exists", tag, check=False).returncode == 0


def build_image(force=False):
    tag = image_tag()
    if image_exists(tag) and not force:
        return tag
    with tempfile.TemporaryDirectory(prefix="overlaynet-lab-") as tmp:
        rootfs = os.path.join(tmp, "rootfs.tar")
        hooks = [
            # A container has no consoles or udev to manage; these units only slow boot.
            'chroot "$1" systemctl mask getty@tty1.service console-getty.service '
            'systemd-udevd.service systemd-udev-trigger.service systemd-networkd-wait-online.service',
            # Containers share the host's kernel clock.
            'chroot "$1" systemctl mask systemd-timesyncd.service',
            # The apt lists stay in the image so that roles can resolve packages offline.
            'rm -f "$1/etc/machine-id" && touch "$1/etc/machine-id"',
        ]
        cmd = ["mmdebstrap", "--variant=apt", "--include=" + ",".join(IMAGE_PACKAGES),
               "--skip=cleanup/apt/lists"]
        for hook in hooks:
            cmd += ["--customize-hook", hook]
        cmd += [IMAGE_SUITE, rootfs]
        print("lab: building image %s (mmdebstrap, about a minute)" % tag, file=sys.stderr)
        run(cmd, capture=False)
        podman("import", "--change", 'CMD ["/sbin/init"]', "--change", "STOPSIGNAL SIGRTMIN+3",
               rootfs, tag)
    return tag


def build_variant(variant, force=False):
    """The default image (built if missing) plus the variant's layers, under its own tag."""
    base = build_image()
    tag = variant_tag(variant)
    if image_exists(tag) and not force:
        return tag
    recipe = VARIANTS[variant]
    with tempfile.TemporaryDirectory(prefix="overlaynet-lab-") as tmp:
        for relative, text in recipe["files"].items():
            path = os.path.join(tmp, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as handle:
                handle.write(text)
        for deb, root in recipe["debs"].items():
            run(["dpkg-deb", "--root-owner-group", "--build", os.path.join(tmp, root), os.path.join(tmp, deb)])
        with open(os.path.join(tmp, "Containerfile"), "w") as handle:
            handle.write("\n".join(["FROM %s" % base] + recipe["containerfile"]) + "\n")
        print("lab: building image %s (default image plus variant %s)" % (tag, variant), file=sys.stderr)
        # The same runtime and limits as the hosts (see RUN_OPTIONS).
        podman("build", "--runtime", "runc", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096",
               "--layers=false", "-f", os.path.join(tmp, "Containerfile"), "-t", tag, tmp, capture=False)
    return tag


def build_any(variant=None, force=False):
    return build_variant(variant, force=force) if variant else build_image(force=force)


def parse_host(spec):
    name, nets = spec.partition("@")[::2]
    networks = [n for n in nets.split(",") if n] or [DEFAULT_NETWORK]
    if not name or len(name) > 63:
        raise SystemExit("lab: bad host name %r" % spec)
    for net in networks:
        if net not in NETWORK_SUBNETS:
            raise SystemExit("lab: unknown network %r (known: %s)" % (net, ", ".join(sorted(NETWORK_SUBNETS))))
    return name, networks


def network_name(net):
    return "overlaynet-%s" % net


def ensure_network(net):
    if podman("network", "exists", network_name(net), check=False).returncode == 0:
        return
    ipv4, ipv6 = NETWORK_SUBNETS[net]
    podman("network", "create", "--label", LABEL + "=1", "--ipv6",
           "--subnet", ipv4, "--subnet", ipv6, network_name(net))


def container_state(name):
    result = podman("container", "inspect", "--format", "{{.State.Status}}", name, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def start_host(name, networks, tag):
    state = container_state(name)
    if state == "running":
        return False
    if state is not None:
        podman("rm", "-f", name)
    args = ["run", "-d", "--name", name, "--hostname", name, "--label", LABEL + "=1"]
    for net in networks:
        args += ["--network", network_name(net)]
    args += RUN_OPTIONS + [tag]
    podman(*args)
    return True


def wait_ready(names):
    """Poll systemd in each host until it reports running (or degraded: a unit we do not
    use failed, the host is still usable); bounded, never a blind sleep."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    pending = list(names)
    while pending:
        for name in list(pending):
            result = podman("exec", name, "systemctl", "is-system-running", check=False)
            if result.stdout.strip() in ("running", "degraded"):
                pending.remove(name)
        if not pending:
            break
        if time.monotonic() > deadline:
            raise SystemExit("lab: hosts not ready after %ds: %s" % (READY_TIMEOUT_S, ", ".join(pending)))
        time.sleep(0.3)


def host_addresses(name):
    data = json.loads(podman("container", "inspect", name).stdout)[0]
    result = {}
    for full_name, net in sorted(data["NetworkSettings"]["Networks"].items()):
        short = full_name[len("overlaynet-"):] if full_name.startswith("overlaynet-") else full_name
        result[short] = {"ipv4": net.get("IPAddress") or None, "ipv6": net.get("GlobalIPv6Address") or None}
    return result


def lab_hosts():
    result = podman("ps", "-a", "--filter", "label=%s=1" % LABEL, "--format", "{{.Names}}")
    return sorted(n for n in result.stdout.split() if n)


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


def cmd_image(args):
    print(build_any(args.variant, force=args.force))


def cmd_up(args):
    tag = build_any(args.variant)
    specs = [parse_host(s) for s in args.hosts]
    for net in sorted({net for host_spec in specs for net in host_spec[1]}):
        ensure_network(net)
    for name, networks in specs:
        start_host(name, networks, tag)
    names = [host_spec[0] for host_spec in specs]
    wait_ready(names)
    if args.inventory:
        write_inventory(args.inventory, names)


def write_inventory(path, names):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(inventory(names), handle, indent=2, sort_keys=True)
        handle.write("\n")


def cmd_inventory(args):
    json.dump(inventory(args.hosts or lab_hosts()), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def cmd_down(args):
    names = lab_hosts() if args.all else [parse_host(s)[0] for s in args.hosts]
    if names:
        podman("rm", "-f", "-t", "0", *names)
    if args.all:
        result = podman("network", "ls", "--filter", "label=%s=1" % LABEL, "--format", "{{.Name}}")
        for net in result.stdout.split():
            podman("network", "rm", "-f", net, check=False)


def cmd_list(args):
    for name in lab_hosts():
        print(name, container_state(name), json.dumps(host_addresses(name)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("image")
    p.add_argument("--force", action="store_true", help="rebuild (with --variant: only the variant)")
    p.add_argument("--variant", choices=sorted(VARIANTS), help="an image variant instead of the default image")
    p.set_defaults(func=cmd_image)
    p = sub.add_parser("up")
    p.add_argument("hosts", nargs="+")
    p.add_argument("--inventory", help="also write the inventory of these hosts to this file")
    p.add_argument("--variant", choices=sorted(VARIANTS),
                   help="start new hosts from this image variant (running hosts are left as they are)")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("inventory")
    p.add_argument("hosts", nargs="*")
    p.set_defaults(func=cmd_inventory)
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

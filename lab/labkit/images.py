# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab images from the recipes in lab/images.yml.

The base image is a Debian root file system made by mmdebstrap and imported into podman; a
variant is the base plus a few layers built by `podman build`. Each tag ends in a hash of its
recipe (a variant's hash also covers the base tag), so changing a recipe builds a new image
and adding a variant never changes the base tag.
"""
from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import sys
import tempfile

import yaml

from labkit.podman import LabError, podman, run

IMAGE_NAME = "localhost/overlaynet-lab"
RECIPES_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "images.yml")


def load_recipes(path=RECIPES_FILE):
    with open(path) as handle:
        return yaml.safe_load(handle)


def base_packages(recipes):
    """Every package of the base image, in recipe order, without repeats."""
    seen = []
    for group in recipes["base"]["packages"].values():
        seen.extend(package for package in group if package not in seen)
    return seen


def _digest(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def base_tag(recipes):
    base = recipes["base"]
    return "%s:%s" % (IMAGE_NAME, _digest([base["suite"], base_packages(recipes), base["masked_units"],
                                           base["recipe_version"]]))


def variant_tag(recipes, variant):
    return "%s-%s:%s" % (IMAGE_NAME, variant, _digest([base_tag(recipes), recipes["variants"][variant]]))


def image_exists(tag):
    return podman("image", "exists", tag, check=False).returncode == 0


def build_base(recipes, force=False):
    tag = base_tag(recipes)
    if image_exists(tag) and not force:
        return tag
    base = recipes["base"]
    with tempfile.TemporaryDirectory(prefix="overlaynet-lab-") as tmp:
        rootfs = os.path.join(tmp, "rootfs.tar")
        hooks = [
            'chroot "$1" systemctl mask ' + " ".join(base["masked_units"]),
            # Each host gets its own machine id at first boot.
            'rm -f "$1/etc/machine-id" && touch "$1/etc/machine-id"',
        ]
        # The apt lists stay in the image so that roles can resolve packages offline.
        cmd = ["mmdebstrap", "--variant=apt", "--include=" + ",".join(base_packages(recipes)),
               "--skip=cleanup/apt/lists"]
        for hook in hooks:
            cmd += ["--customize-hook", hook]
        cmd += [base["suite"], rootfs]
        print("lab: building image %s (mmdebstrap, about a minute)" % tag, file=sys.stderr)
        run(cmd, capture=False)
        podman("import", "--change", 'CMD ["/sbin/init"]', "--change", "STOPSIGNAL SIGRTMIN+3", rootfs, tag)
    return tag


def build_variant(recipes, variant, force=False):
    if variant not in recipes["variants"]:
        raise LabError("unknown image variant %r (known: %s)" % (variant, ", ".join(sorted(recipes["variants"]))))
    base = build_base(recipes)
    tag = variant_tag(recipes, variant)
    if image_exists(tag) and not force:
        return tag
    recipe = recipes["variants"][variant]
    with tempfile.TemporaryDirectory(prefix="overlaynet-lab-") as tmp:
        for relative, text in recipe.get("files", {}).items():
            path = os.path.join(tmp, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as handle:
                handle.write(text)
        for deb, root in recipe.get("debs", {}).items():
            run(["dpkg-deb", "--root-owner-group", "--build", os.path.join(tmp, root), os.path.join(tmp, deb)])
        with open(os.path.join(tmp, "Containerfile"), "w") as handle:
            handle.write("\n".join(["FROM %s" % base] + recipe["containerfile"]) + "\n")
        print("lab: building image %s (base image plus variant %s)" % (tag, variant), file=sys.stderr)
        # The same runtime and limits as the hosts (see hosts.RUN_OPTIONS).
        podman("build", "--runtime", "runc", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096",
               "--layers=false", "-f", os.path.join(tmp, "Containerfile"), "-t", tag, tmp, capture=False)
    return tag


def build(variant=None, force=False):
    recipes = load_recipes()
    return build_variant(recipes, variant, force=force) if variant else build_base(recipes, force=force)


def variant_names():
    return sorted(load_recipes()["variants"])

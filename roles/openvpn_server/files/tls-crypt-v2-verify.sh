#!/bin/sh
# OpenVPN sets metadata_type and metadata_file in the environment of the hook.
# shellcheck disable=SC2154
# Managed by overlaynet.vpn (role openvpn_server).
# OpenVPN --tls-crypt-v2-verify hook: `tls-crypt-v2-verify ALLOWED_LIST` lets a client past its
# first packet only when the name wrapped in its tls-crypt-v2 key (user metadata) is a line of
# ALLOWED_LIST, the current clients of the instance. A revoked or removed client is refused
# before any TLS, so the server spends nothing on it. OpenVPN runs this without PATH, as the
# unprivileged user: absolute paths only, and the list is world-readable (names, no secret).
allowed="$1"
[ "$metadata_type" = 0 ] || exit 1
[ -r "$metadata_file" ] || exit 1
IFS= read -r name < "$metadata_file" || [ -n "$name" ] || exit 1
case "$name" in
  ''|*[!A-Za-z0-9._-]*) exit 1 ;;
esac
exec /usr/bin/grep -Fxq -- "$name" "$allowed"

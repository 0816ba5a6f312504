# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The names of the files in a certificate authority's directory on the controller (_x509_ca's
# store). The filters that read a store's public files import these names from here: this file
# imports nothing, where _x509_ca needs the cryptography library.

CA_CERTIFICATE = 'ca.crt'
CA_PRIVATE_KEY = 'ca.key'
CRL = 'crl.pem'
# The CRLs signed ahead, each valid from the day the one before it is due for renewal (PEM blocks in order).
CRL_AHEAD = 'crl-ahead.pem'
# Enough to keep a server accepting its clients for years without a run at the default CRL days.
MAX_CRL_SIGNED_AHEAD = 20
STATE = 'state.json'
ISSUED_DIRECTORY = 'issued'
PRIVATE_DIRECTORY = 'private'


def issued_certificate(name):
    """The path of name's certificate, relative to the store's directory."""
    return '%s/%s.crt' % (ISSUED_DIRECTORY, name)


def private_key_file(name):
    """The path of the private key the store made for name (an unmanaged client's), relative to the store's directory."""
    return '%s/%s.key' % (PRIVATE_DIRECTORY, name)

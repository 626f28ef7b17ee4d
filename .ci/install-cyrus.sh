#!/usr/bin/env bash
# Install Cyrus IMAP 3.6 (with the JMAP-capable httpd from cyrus-caldav) for the
# integration tests. Idempotent: does nothing when httpd is already present.
# A temporary policy-rc.d stops the maintainer scripts from starting the
# system-wide cyrus and exim4 daemons (the tests run their own throwaway instance).
set -euo pipefail

if [[ -x /usr/lib/cyrus/bin/httpd ]]; then
    echo "cyrus already installed"
    exit 0
fi

policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=1
fi
cleanup() {
    if [[ "$created_policy" == 1 ]]; then
        rm -f "$policy"
    fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends cyrus-common cyrus-imapd cyrus-caldav sasl2-bin

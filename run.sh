#!/usr/bin/env bash
# Sets up and runs hearthd in the foreground on its embedded demo defaults:
# UDP, TCP, TLS and one port for both TCP and TLS (4443, as 443 in production) on
# 127.0.0.1, a demo session, ready-to-paste RTCIceServer JSON.
set -euo pipefail
cd "$(dirname "$0")"
. tests/install-deps.sh
install_packages run

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target hearthd hearthctl >/dev/null

# A self-signed certificate for the demo's turns: URL, made once and kept in build/.
tls_dir=build/demo-tls
if [ ! -s "$tls_dir/cert.pem" ]; then
    mkdir -p "$tls_dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$tls_dir/key.pem" -out "$tls_dir/cert.pem" 2>/dev/null
fi
exec ./build/admin/hearthd --demo --tls-certificate "$tls_dir/cert.pem" \
    --tls-private-key "$tls_dir/key.pem" "$@"

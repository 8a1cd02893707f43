# Shared by scripts/test. Source it after common.sh.

# make_test_certs DIR — a throwaway certificate authority for the tests' services on 127.0.0.1:
# ca.pem; server.pem + server-key.pem (for 127.0.0.1 and localhost); client.pem + client-key.pem;
# and other-ca.pem, an unrelated authority whose trust must fail. Exported: WHAGO_TEST_TLS_DIR.
make_test_certs() {
  local dir=$1
  command -v openssl >/dev/null || die "openssl not found (the openssl package installs it)"
  mkdir -p "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=whago test CA" \
      -keyout ca-key.pem -out ca.pem 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=unrelated CA" \
      -keyout other-ca-key.pem -out other-ca.pem 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    for who in server client; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=whago test $who" -keyout "$who-key.pem" -out "$who.csr" 2>/dev/null
      openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
        -extfile "$who.ext" -out "$who.pem" 2>/dev/null
    done
    chmod 600 ./*-key.pem
  ) || die "cannot make the tests' certificates in $dir"
  export WHAGO_TEST_TLS_DIR="$dir"
}

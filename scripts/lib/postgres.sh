# Shared by scripts/test and scripts/bench/store. Source it after common.sh; it uses
# $WHAGO_TEST_DIR (a directory the postgres user can enter) and $PG_CTL_SCRIPT.

# start_postgres [NAME] — a private PostgreSQL cluster in the temp dir, on 127.0.0.1 and a free port,
# with a password-protected role; exported as WHAGO_TEST_POSTGRES_URL. WHAGO_TEST_POSTGRES_CTL is a
# script ($PG_CTL_SCRIPT) that stops, kills (immediate shutdown) and starts it. When
# $WHAGO_TEST_TLS_DIR holds the tests' certificates (make_test_certs), the server also speaks TLS,
# and the role whago_tls may only connect over it: WHAGO_TEST_POSTGRES_TLS_URL.
# With NAME (e.g. CRASH), a second cluster of its own, without TLS, exported as
# WHAGO_TEST_POSTGRES_<NAME>_URL and _CTL (script $PG_CTL_SCRIPT_<NAME>): the tests that stop or
# kill the server use it, so that no other test ever finds its server down.
start_postgres() {
  local name=${1:-} bin port data="$WHAGO_TEST_DIR/postgres" ctl="$PG_CTL_SCRIPT" prefix=WHAGO_TEST_POSTGRES
  if [ -n "$name" ]; then
    data="$WHAGO_TEST_DIR/postgres-${name,,}"
    ctl="$WHAGO_TEST_DIR/postgres-${name,,}-ctl"
    prefix="WHAGO_TEST_POSTGRES_$name"
  fi
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$bin/initdb" ] || die "PostgreSQL's initdb not found under /usr/lib/postgresql"
  port=$(free_port)
  mkdir -p "$data"
  chown postgres "$data"
  printf 'whago-test-pw\n' >"$WHAGO_TEST_DIR/pgpass"
  chown postgres "$WHAGO_TEST_DIR/pgpass"
  runuser -u postgres -- "$bin/initdb" -D "$data/cluster" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$WHAGO_TEST_DIR/pgpass" >"$data/initdb.log" 2>&1 || die "initdb failed (see $data/initdb.log)"
  local tls_options=""
  if [ -n "${WHAGO_TEST_TLS_DIR:-}" ] && [ -z "$name" ]; then
    install -o postgres -m 600 "$WHAGO_TEST_TLS_DIR/server.pem" "$data/server.pem"
    install -o postgres -m 600 "$WHAGO_TEST_TLS_DIR/server-key.pem" "$data/server-key.pem"
    tls_options="-c ssl=on -c ssl_cert_file=$data/server.pem -c ssl_key_file=$data/server-key.pem"
    # First match wins: whago_tls over TLS only, everyone else as before.
    local hba="$data/cluster/pg_hba.conf"
    { printf 'hostssl all whago_tls 127.0.0.1/32 scram-sha-256\nhostnossl all whago_tls 127.0.0.1/32 reject\n'; cat "$hba"; } >"$hba.new"
    mv "$hba.new" "$hba" && chown postgres "$hba"
  fi
  cat >"$ctl" <<CTL
#!/usr/bin/env bash
# stop | kill | start the tests' PostgreSQL cluster (kill: an immediate shutdown, as a crash, recovered at start)
case "\$1" in
  stop) exec runuser -u postgres -- "$bin/pg_ctl" -D "$data/cluster" -m fast -w stop ;;
  kill) exec runuser -u postgres -- "$bin/pg_ctl" -D "$data/cluster" -m immediate -w stop ;;
  start) exec runuser -u postgres -- "$bin/pg_ctl" -D "$data/cluster" -w -l "$data/server.log" \
           -o "-p $port -c listen_addresses=127.0.0.1 -k $data $tls_options" start ;;
esac
CTL
  chmod +x "$ctl"
  "$ctl" start >/dev/null || die "PostgreSQL did not start (see $data/server.log)"
  runuser -u postgres -- psql -h "$data" -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE whago LOGIN CREATEDB PASSWORD 'whago-test-pw'" -c "CREATE DATABASE whago OWNER whago" >/dev/null \
    || die "cannot create the test database"
  export "${prefix}_URL=postgres://whago:whago-test-pw@127.0.0.1:$port/whago"
  export "${prefix}_CTL=$ctl"
  [ -z "$name" ] || return 0
  if [ -n "$tls_options" ]; then
    runuser -u postgres -- psql -h "$data" -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE whago_tls LOGIN PASSWORD 'whago-test-pw'" -c "GRANT CREATE ON DATABASE whago TO whago_tls" >/dev/null \
      || die "cannot create the test database's TLS role"
    export WHAGO_TEST_POSTGRES_TLS_URL="postgres://whago_tls:whago-test-pw@127.0.0.1:$port/whago"
  fi
}

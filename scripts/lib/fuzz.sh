# fuzz_api — schemathesis (pinned, in a venv kept under .build/) against a running `whago serve`'s
# /openapi.json: every generated request must get no 5xx, and every answer must match the
# documented status codes, content types and schemas. Two runs: the admin operations with the
# admin token, then the tenant operations with a tenant's key (made after the first run, which may
# delete or re-key tenants). Fails the test run on any failure.

SCHEMATHESIS_VERSION=4.32.5

ensure_schemathesis() {
  local venv=.build/schemathesis-venv
  if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    say "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  SCHEMATHESIS="$PWD/$venv/bin/st"
}

fuzz_api() {
  ensure_schemathesis
  local dir="$WHAGO_TEST_DIR/fuzz" port worker_port token key status=0 pid
  mkdir -p "$dir"
  port=$(free_port)
  worker_port=$(free_port)
  token="fuzz-admin-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d " \n")"
  printf '%s\n' "$token" >"$dir/admin-token" && chmod 600 "$dir/admin-token"
  "$(swift build --show-bin-path)/whago" serve --set "server.dataDir=$dir/data" --set "server.listen=127.0.0.1:$port" \
    --set "server.adminToken=file:$dir/admin-token" --set "runtime.local.ports=$worker_port-$worker_port" \
    --set limits.apiRequestsPerSecond=100000 --set limits.apiBurst=100000 --set limits.http.authFailuresPerMinute=100000 --log-level warning >"$dir/serve.log" 2>&1 &
  pid=$!
  wait_for_port "$port" 30 || { cat "$dir/serve.log" >&2; die "whago serve did not start for the fuzz run"; }
  local common=(--checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
                --generation-with-security-parameters false --max-examples 20 --request-timeout 10 --workers 1
                --suppress-health-check all --no-color --seed 1)
  say "fuzzing the admin API (schemathesis $SCHEMATHESIS_VERSION)"
  (cd "$dir" && "$SCHEMATHESIS" run "http://127.0.0.1:$port/openapi.json" --include-tag tenants --include-tag workers \
      -H "Authorization: Bearer $token" "${common[@]}") || status=1
  key=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/tenants" -H "Authorization: Bearer $token" \
          -H 'Content-Type: application/json' -d '{"name": "fuzz"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["apiKey"])')
  say "fuzzing the tenant API"
  (cd "$dir" && "$SCHEMATHESIS" run "http://127.0.0.1:$port/openapi.json" --exclude-tag tenants --exclude-tag workers \
      --exclude-tag hooks -H "Authorization: Bearer $key" "${common[@]}") || status=1
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || { echo "whago serve did not stop cleanly after the fuzz run:" >&2; tail -20 "$dir/serve.log" >&2; status=1; }
  # The fuzzed chips' worker: whago leaves workers running on purpose; this run is over.
  local environ worker
  for environ in /proc/[0-9]*/environ; do
    worker=${environ#/proc/}; worker=${worker%/environ}
    { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -q "^WHAGO_WORKER_DIR=$dir/" && kill "$worker" 2>/dev/null || true
  done
  if grep -q " error " "$dir/serve.log"; then
    echo "whago logged errors during the fuzz run:" >&2; grep " error " "$dir/serve.log" | head -20 >&2; status=1
  fi
  [ "$status" -eq 0 ] || die "the API fuzz run failed (see above)"
}

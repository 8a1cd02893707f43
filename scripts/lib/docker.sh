# Shared by scripts/test and scripts/bench/docker. Source it after common.sh; it uses
# $WHAGO_TEST_DIR and appends to nothing: call stop_dockerd from your cleanup.

# Written into the control scripts: stop_pidfile PIDFILE TENTHS — SIGTERM to the daemon whose pid
# the file holds, SIGKILL if it still runs after TENTHS tenths of a second.
# shellcheck disable=SC2016
STOP_PIDFILE='stop_pidfile() {
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 "$2"); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null; return 0
}'

# start_dockerd — a private Docker daemon on a unix socket in the temp dir, with no bridge and no
# iptables rules (containers use host networking, so all traffic stays on 127.0.0.1); when
# $WHAGO_TEST_TLS_DIR holds the tests' certificates (make_test_certs), also on a TCP port of
# 127.0.0.1 with mutual TLS (--tlsverify). Exported: WHAGO_TEST_DOCKER_SOCKET, WHAGO_TEST_DOCKER_TCP
# (tcp://127.0.0.1:N, TLS only),
# DOCKER_HOST (for the docker CLI), and WHAGO_TEST_DOCKER_CTL, a script taking stop | start |
# restart (the events-reconnection test restarts the daemon).
start_dockerd() {
  local dir="$WHAGO_TEST_DIR/dockerd" tcp_port tcp_options=""
  tcp_port=$(free_port)
  if [ -n "${WHAGO_TEST_TLS_DIR:-}" ]; then
    tcp_options="--host tcp://127.0.0.1:$tcp_port --tlsverify --tlscacert $WHAGO_TEST_TLS_DIR/ca.pem"
    tcp_options+=" --tlscert $WHAGO_TEST_TLS_DIR/server.pem --tlskey $WHAGO_TEST_TLS_DIR/server-key.pem"
  fi
  command -v dockerd >/dev/null || die "dockerd not found (the docker.io package installs it)"
  [ "$(id -u)" -eq 0 ] || die "the tests' private dockerd must be started as root"
  mkdir -p "$dir"
  DOCKER_CTL_SCRIPT="$WHAGO_TEST_DIR/docker-ctl"
  cat >"$DOCKER_CTL_SCRIPT" <<CTL
#!/usr/bin/env bash
# stop | start | restart the tests' private dockerd
set -u
start() {
  dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    --host "unix://$dir/docker.sock" $tcp_options --bridge=none --iptables=false --ip6tables=false \
    --ip-masq=false --userland-proxy=false >>"$dir/dockerd.log" 2>&1 &
  for _ in \$(seq 1 300); do
    curl -fsS --unix-socket "$dir/docker.sock" http://localhost/_ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS --unix-socket "$dir/docker.sock" http://localhost/_ping >/dev/null 2>&1 || { echo "dockerd did not start (see $dir/dockerd.log)" >&2; return 1; }
  # Once it manages a swarm, started means the swarm is back too.
  [ -f "$dir/swarm" ] || return 0
  for _ in \$(seq 1 600); do
    curl -fsS --unix-socket "$dir/docker.sock" http://localhost/info 2>/dev/null | grep -q '"ControlAvailable":true' && return 0
    sleep 0.1
  done
  echo "dockerd started but its swarm did not come back (see $dir/dockerd.log)" >&2
  return 1
}
$STOP_PIDFILE
stop() { stop_pidfile "$dir/docker.pid" 300; }
case "\$1" in
  start) start ;;
  stop) stop ;;
  restart) stop && start ;;
  *) echo "usage: \$0 stop|start|restart" >&2; exit 2 ;;
esac
CTL
  chmod +x "$DOCKER_CTL_SCRIPT"
  "$DOCKER_CTL_SCRIPT" start || die "the private dockerd did not start (see $dir/dockerd.log)"
  # A single-node swarm for the swarm runtime's tests, on the loopback only: its control port
  # and its data-path (VXLAN) port are free ports, so two test runs on one machine do not meet.
  local swarm_port data_port
  swarm_port=$(free_port)
  # Docker takes a data-path port in 1024-49151 (ephemeral ports may lie above): a free UDP one there.
  data_port=$(python3 -c 'import random, socket
for _ in range(200):
    port = random.randint(20000, 49151)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("0.0.0.0", port)); s.close(); print(port); break
    except OSError:
        s.close()')
  # Heartbeats every second: a lost node is noticed in seconds (the default is 5 s).
  docker -H "unix://$dir/docker.sock" swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$swarm_port" \
    --data-path-port "$data_port" --dispatcher-heartbeat 1s >>"$dir/dockerd.log" 2>&1 \
    || die "docker swarm init failed on the private dockerd (see $dir/dockerd.log)"
  touch "$dir/swarm"
  write_swarm_node_ctl "$dir" "$swarm_port"
  export WHAGO_TEST_DOCKER_SOCKET="$dir/docker.sock"
  [ -n "$tcp_options" ] && export WHAGO_TEST_DOCKER_TCP="tcp://127.0.0.1:$tcp_port"
  export DOCKER_HOST="unix://$dir/docker.sock"
  export WHAGO_TEST_DOCKER_CTL="$DOCKER_CTL_SCRIPT"
  export WHAGO_TEST_SWARM_NODE_CTL="$WHAGO_TEST_DIR/swarm-node-ctl"
}

# write_swarm_node_ctl DIR SWARM_PORT — the script that gives the swarm of the private dockerd a
# second node for the tests that lose one: another dockerd on this machine (its own data, exec
# root and containerd), joined as a worker that advertises 127.0.0.2, with the node label
# whago.address=127.0.0.2 (its workers listen there, so the two nodes share no port), and the
# simulator image imported from $WHAGO_TEST_DIR/sim-image.tar (scripts/make-sim-image --save).
#   start   — start and join it; prints its node id
#   stop    — stop its dockerd (its containers stop with it): the node is lost
#   remove  — stop it, remove it from the swarm and delete its files
write_swarm_node_ctl() {
  local manager="$1" swarm_port="$2" node="$WHAGO_TEST_DIR/swarm-node"
  cat >"$WHAGO_TEST_DIR/swarm-node-ctl" <<CTL
#!/usr/bin/env bash
set -u
manager() { docker -H "unix://$manager/docker.sock" "\$@"; }
node() { docker -H "unix://$node/docker.sock" "\$@"; }
start() {
  mkdir -p "$node"
  dockerd --data-root "$node/data" --exec-root "$node/exec" --pidfile "$node/docker.pid" \
    --host "unix://$node/docker.sock" --bridge=none --iptables=false --ip6tables=false \
    --ip-masq=false --userland-proxy=false >>"$node/dockerd.log" 2>&1 &
  for _ in \$(seq 1 300); do
    curl -fsS --unix-socket "$node/docker.sock" http://localhost/_ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  node info >/dev/null 2>&1 || { echo "the second node's dockerd did not start (see $node/dockerd.log)" >&2; return 1; }
  node image inspect whago/waha-sim:dev >/dev/null 2>&1 || node import \
    --change 'CMD ["/usr/local/bin/whago", "waha-sim"]' \
    --change 'ENV WAHA_SIM_HOST=0.0.0.0 WAHA_LOCAL_STORE_BASE_DIR=/app/.sessions' \
    --change 'WORKDIR /app' "$WHAGO_TEST_DIR/sim-image.tar" whago/waha-sim:dev >/dev/null \
    || { echo "could not import $WHAGO_TEST_DIR/sim-image.tar into the second node" >&2; return 1; }
  local id
  id=\$(node info --format '{{.Swarm.NodeID}}')
  if [ -z "\$id" ]; then
    node swarm join --token "\$(manager swarm join-token -q worker)" --advertise-addr 127.0.0.2 \
      --listen-addr "127.0.0.2:$swarm_port" "127.0.0.1:$swarm_port" >>"$node/dockerd.log" 2>&1 \
      || { echo "the second node could not join the swarm (see $node/dockerd.log)" >&2; return 1; }
    id=\$(node info --format '{{.Swarm.NodeID}}')
  fi
  manager node update --label-add whago.address=127.0.0.2 "\$id" >/dev/null || return 1
  for _ in \$(seq 1 300); do
    [ "\$(manager node inspect --format '{{.Status.State}}' "\$id")" = ready ] && { echo "\$id"; return 0; }
    sleep 0.1
  done
  echo "the second node never became ready" >&2
  return 1
}
$STOP_PIDFILE
stop() { stop_pidfile "$node/docker.pid" 600; }
remove() {
  local id=""
  [ -S "$node/docker.sock" ] && id=\$(node info --format '{{.Swarm.NodeID}}' 2>/dev/null)
  if [ -n "\$id" ]; then
    node rm -f \$(node ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  fi
  stop
  for known in \$(manager node ls -q --filter role=worker 2>/dev/null); do manager node rm --force "\$known" >/dev/null 2>&1 || true; done
  grep -o " $node/[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r mountpoint; do umount -l "\$mountpoint" 2>/dev/null || true; done
  rm -rf "$node"
}
case "\$1" in
  start) start ;;
  stop) stop ;;
  remove) remove ;;
  *) echo "usage: \$0 start|stop|remove" >&2; exit 2 ;;
esac
CTL
  chmod +x "$WHAGO_TEST_DIR/swarm-node-ctl"
}

# stop_dockerd — removes every container of the private daemon, stops it and its containerd, and
# unmounts what it left mounted, so the temp dir can be deleted.
stop_dockerd() {
  local dir="$WHAGO_TEST_DIR/dockerd"
  [ -n "${DOCKER_CTL_SCRIPT:-}" ] && [ -x "$DOCKER_CTL_SCRIPT" ] || return 0
  if [ -x "$WHAGO_TEST_DIR/swarm-node-ctl" ]; then "$WHAGO_TEST_DIR/swarm-node-ctl" remove >/dev/null 2>&1 || true; fi
  if [ -S "$dir/docker.sock" ]; then
    # Services first, or Swarm starts their tasks again as they are removed.
    local services; services=$(docker -H "unix://$dir/docker.sock" service ls -q 2>/dev/null || true)
    [ -n "$services" ] && docker -H "unix://$dir/docker.sock" service rm $services >/dev/null 2>&1 || true
    local ids; ids=$(docker -H "unix://$dir/docker.sock" ps -aq 2>/dev/null || true)
    [ -n "$ids" ] && docker -H "unix://$dir/docker.sock" rm -f $ids >/dev/null 2>&1 || true
  fi
  "$DOCKER_CTL_SCRIPT" stop
  # Mounts dockerd leaves behind (overlay, shm) would keep the directory busy.
  grep -o " $dir/[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r mountpoint; do
    umount -l "$mountpoint" 2>/dev/null || true
  done
}

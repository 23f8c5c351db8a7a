#!/usr/bin/env bash
# A real Apache Kafka broker (KRaft, one node, loopback) for trying Riffle and
# for its tests. The jars come from Maven Central (services/kafka/pom.xml) and
# are cached in $RIFFLE_CACHE/kafka/<version>/libs, outside the clone.
#
#   scripts/kafka.sh start     fetch the jars once, format storage once, start, wait until ready
#   scripts/kafka.sh stop      stop it (the data stays)
#   scripts/kafka.sh restart   stop, then start on the same data
#   scripts/kafka.sh status    exit 0 when it is running
#   scripts/kafka.sh reset     stop and delete its data
#
# KAFKA_PORT (default 9092) picks the client port; the controller uses
# KAFKA_PORT+1. Each port has its own state directory, so several brokers can
# run side by side (the tests use that to restart one without disturbing others).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${RIFFLE_CACHE:-$HOME/.cache/riffle}"
port="${KAFKA_PORT:-9092}"
controller_port="$((port + 1))"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/services/kafka/pom.xml")"
libs="$cache/kafka/$version/libs"
state="${KAFKA_STATE:-$cache/kafka-run/$port}"
pidfile="$state/broker.pid"
log="$state/broker.log"

say() { printf '[kafka] %s\n' "$*" >&2; }

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

fetch() {
  [ -f "$libs/.complete" ] && return
  say "fetching Apache Kafka $version from Maven Central into $libs"
  command -v mvn >/dev/null || { say "mvn not found: run scripts/bootstrap.sh first"; exit 1; }
  rm -rf "$libs.tmp"
  mvn -q -B -Dstyle.color=never -f "$here/services/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs.tmp"
  rm -rf "$libs" && mkdir -p "$(dirname "$libs")" && mv "$libs.tmp" "$libs"
  touch "$libs/.complete"
}

java_opts=(-Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$here/services/kafka/log4j2.properties" -cp "$libs/*")
java_cmd() { java "${java_opts[@]}" "$@"; }

configure() {
  mkdir -p "$state/data"
  cat > "$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$state/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  if [ ! -f "$state/data/meta.properties" ]; then
    local id
    id="$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    java_cmd kafka.tools.StorageTool format -t "$id" -c "$state/server.properties" >"$state/format.log" 2>&1 \
      || { cat "$state/format.log" >&2; say "could not format $state/data"; exit 1; }
  fi
}

start() {
  if running; then say "already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; return; fi
  fetch
  configure
  local t0=$SECONDS
  : >"$log"
  nohup java "${java_opts[@]}" kafka.Kafka "$state/server.properties" >>"$log" 2>&1 &
  echo $! >"$pidfile"
  local limit="${KAFKA_START_TIMEOUT:-120}"
  until grep -q "Kafka Server started" "$log"; do
    if ! running; then tail -30 "$log" >&2; say "the broker exited during start; its log is $log"; exit 1; fi
    if (( SECONDS - t0 > limit )); then tail -30 "$log" >&2; say "not ready after ${limit}s; its log is $log"; exit 1; fi
    sleep 0.2
  done
  say "Apache Kafka $version ready on 127.0.0.1:$port in $((SECONDS - t0))s (log: $log)"
}

stop() {
  running || { rm -f "$pidfile"; return; }
  local pid; pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  say "stopped the broker on 127.0.0.1:$port"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) running ;;
  reset) stop; rm -rf "$state" ;;
  fetch) fetch ;;
  *) echo "usage: $0 start|stop|restart|status|reset|fetch" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A real Apache Spark Connect server (local[2], loopback) for trying Riffle's
# "on spark" cells and for their tests. Spark comes from PyPI
# (pyspark[connect]), installed once into a virtual environment in
# $RIFFLE_CACHE/spark-venv, outside the clone; the spark-sql-kafka connector
# comes from Maven Central (services/spark-kafka/pom.xml, fetched with mvn into
# $RIFFLE_CACHE/spark-kafka) and is put on the server's classpath with --jars.
#
#   scripts/spark.sh start     install once, start, wait until the port answers
#   scripts/spark.sh stop      stop it
#   scripts/spark.sh status    exit 0 when it is running
#   scripts/spark.sh reset     stop it and delete its logs and warehouse (the venv and jars stay)
#   scripts/spark.sh install   only install (idempotent)
#
# SPARK_CONNECT_PORT (default 15002) picks the port; each port has its own
# state directory. SPARK_UI_PORT (default 4040) is Spark's web UI and its REST
# API (/api/v1/applications/<id>/jobs), on 127.0.0.1 too. SPARK_HDFS
# (e.g. hdfs://127.0.0.1:8020) makes that HDFS Spark's default file system, so
# hdfs:///path names the same file in Spark as in Riffle's browser engine.
# SPARK_KAFKA=none starts without the Kafka connector. Needs Java 17, python3
# with venv, and mvn (scripts/bootstrap.sh installs them).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${RIFFLE_CACHE:-$HOME/.cache/riffle}"
port="${SPARK_CONNECT_PORT:-15002}"
PYSPARK_VERSION="4.3.0"
venv="$cache/spark-venv"
python="$venv/bin/python"
state="${SPARK_STATE:-$cache/spark-run/$port}"
ui_port="${SPARK_UI_PORT:-4040}"
kafka_pom="$here/services/spark-kafka/pom.xml"
kafka_version="$(sed -n 's:.*<spark.kafka.version>\(.*\)</spark.kafka.version>.*:\1:p' "$kafka_pom")"
kafka_libs="$cache/spark-kafka/$kafka_version/libs"

say() { printf '[spark] %s\n' "$*" >&2; }
fail() { printf '[spark] error: %s\n' "$*" >&2; exit 1; }

installed() {
  [ -x "$python" ] && "$python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" 2>/dev/null
}

install() {
  installed && return
  command -v python3 >/dev/null 2>&1 || fail "python3 is not on PATH; run scripts/bootstrap.sh"
  local t0=$SECONDS
  if [ ! -x "$python" ]; then
    say "creating a virtual environment in $venv"
    python3 -m venv "$venv" || fail "python3 -m venv failed; install python3-venv, delete $venv and run this again"
  fi
  say "installing pyspark[connect]==$PYSPARK_VERSION (pandas<3) into $venv"
  "$python" -m pip install --quiet --disable-pip-version-check "pyspark[connect]==$PYSPARK_VERSION" "pandas<3" \
    || fail "pip could not install pyspark[connect]==$PYSPARK_VERSION into $venv; PyPI must be reachable the first time"
  installed || fail "pyspark $PYSPARK_VERSION does not import in $venv after pip install; delete $venv and run this again"
  say "installed in $((SECONDS - t0))s"
}

# The Kafka connector's four jars (see services/spark-kafka/pom.xml).
fetch_kafka() {
  [ "${SPARK_KAFKA:-}" = none ] && return
  [ -f "$kafka_libs/.complete" ] && return
  command -v mvn >/dev/null 2>&1 || fail "mvn is not on PATH; run scripts/bootstrap.sh"
  say "fetching spark-sql-kafka-0-10 $kafka_version from Maven Central into $kafka_libs"
  rm -rf "$kafka_libs.tmp"
  mvn -q -B -Dstyle.color=never -f "$kafka_pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$kafka_libs.tmp" \
    || fail "mvn could not fetch the Kafka connector; Maven Central must be reachable the first time (SPARK_KAFKA=none starts without it)"
  rm -rf "$kafka_libs" && mkdir -p "$(dirname "$kafka_libs")" && mv "$kafka_libs.tmp" "$kafka_libs"
  touch "$kafka_libs/.complete"
}

spark_home() { "$python" -c 'import pyspark, os; print(os.path.dirname(pyspark.__file__))'; }

# The Spark Connect server runs as a daemon: sbin/spark-daemon.sh writes its pid here.
pidfile() { echo "$state/pids/spark-$(id -un)-org.apache.spark.sql.connect.service.SparkConnectServer-1.pid"; }

running() { local f; f="$(pidfile)"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

launch() {
  local home="$1"
  local extra=()
  if [ "${SPARK_KAFKA:-}" != none ]; then
    extra+=(--jars "$(ls "$kafka_libs"/*.jar | paste -sd, -)")
  fi
  # One DataNode in the local HDFS: Spark's writes ask for one replica, not three.
  [ -z "${SPARK_HDFS:-}" ] || extra+=(--conf "spark.hadoop.fs.defaultFS=$SPARK_HDFS" --conf spark.hadoop.dfs.replication=1)
  rm -f "$state"/logs/*.out*
  export SPARK_HOME="$home" SPARK_LOG_DIR="$state/logs" SPARK_PID_DIR="$state/pids" SPARK_LOCAL_IP=127.0.0.1
  export SPARK_LOCAL_DIRS="$state/tmp" SPARK_IDENT_STRING="$(id -un)" PYSPARK_PYTHON="$python"
  "$home/sbin/start-connect-server.sh" \
    --master 'local[2]' \
    --driver-memory "${SPARK_DRIVER_MEMORY:-1g}" \
    "${extra[@]}" \
    --conf spark.driver.host=127.0.0.1 \
    --conf spark.driver.bindAddress=127.0.0.1 \
    --conf spark.connect.grpc.binding.address=127.0.0.1 \
    --conf "spark.connect.grpc.binding.port=$port" \
    --conf "spark.ui.port=$ui_port" \
    --conf spark.ui.showConsoleProgress=false \
    --conf spark.sql.shuffle.partitions=4 \
    --conf "spark.sql.warehouse.dir=file://$state/warehouse" \
    --conf "spark.driver.extraJavaOptions=-Dderby.system.home=$state/tmp" \
    >"$state/start.out" 2>&1 || { cat "$state/start.out" >&2; fail "start-connect-server.sh failed"; }
}

# Waits until the port answers; returns 1 when the server exited, with its log's tail shown.
wait_ready() {
  local t0="$1" log="" limit="${SPARK_START_TIMEOUT:-300}"
  until answers; do
    [ -n "$log" ] || log="$(ls -t "$state"/logs/*.out 2>/dev/null | head -1 || true)"
    if ! running && (( SECONDS - t0 > 3 )); then
      [ -n "$log" ] && tail -40 "$log" >&2
      say "the Spark Connect server exited during start; its log is ${log:-in $state/logs}"
      return 1
    fi
    if (( SECONDS - t0 > limit )); then
      [ -n "$log" ] && tail -40 "$log" >&2
      fail "sc://127.0.0.1:$port does not answer after ${limit}s; its log is ${log:-in $state/logs}"
    fi
    sleep 0.5
  done
}

start() {
  if running; then say "already running on sc://127.0.0.1:$port (pid $(cat "$(pidfile)"))"; return; fi
  if answers; then fail "something else already listens on 127.0.0.1:$port; pick another SPARK_CONNECT_PORT"; fi
  install
  fetch_kafka
  command -v java >/dev/null 2>&1 || fail "java is not on PATH; Spark needs Java 17 (scripts/bootstrap.sh installs it)"
  local home; home="$(spark_home)"
  [ -x "$home/sbin/start-connect-server.sh" ] || fail "$home/sbin/start-connect-server.sh is missing from the pyspark install"
  mkdir -p "$state/logs" "$state/pids" "$state/warehouse" "$state/tmp"
  local t0=$SECONDS
  launch "$home"
  wait_ready "$t0" || fail "the Spark Connect server did not start"
  local pid rss; pid="$(cat "$(pidfile)")"
  rss="$(awk '/VmRSS/ {print int($2/1024) " MiB"}' "/proc/$pid/status" 2>/dev/null || echo "?")"
  local kafka="spark-sql-kafka $kafka_version"
  [ "${SPARK_KAFKA:-}" != none ] || kafka="no Kafka connector"
  say "Spark Connect $PYSPARK_VERSION ($kafka${SPARK_HDFS:+, default FS $SPARK_HDFS}) ready on sc://127.0.0.1:$port" \
    "in $((SECONDS - t0))s (pid $pid, RSS $rss, UI http://127.0.0.1:$ui_port, logs in $state/logs)"
}

stop() {
  running || { rm -f "$(pidfile)"; return 0; }
  local pid; pid="$(cat "$(pidfile)")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$(pidfile)"
  say "stopped the Spark Connect server on 127.0.0.1:$port"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) running ;;
  reset) stop; rm -rf "$state" ;;
  install) install; fetch_kafka ;;
  *) echo "usage: $0 start|stop|restart|status|reset|install" >&2; exit 2 ;;
esac

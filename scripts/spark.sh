#!/usr/bin/env bash
# A real Apache Spark Connect server (local[2], loopback) for trying Riffle's
# "on spark" cells and for their tests. Spark comes from PyPI
# (pyspark[connect]), installed once into a virtual environment in
# $RIFFLE_CACHE/spark-venv, outside the clone; the spark-sql-kafka connector
# comes from Maven Central through --packages (Ivy cache in $RIFFLE_CACHE/spark-ivy).
#
#   scripts/spark.sh start     install once, start, wait until the port answers
#   scripts/spark.sh stop      stop it
#   scripts/spark.sh status    exit 0 when it is running
#   scripts/spark.sh reset     stop it and delete its logs and warehouse (the venv and jars stay)
#   scripts/spark.sh install   only install (idempotent)
#
# SPARK_CONNECT_PORT (default 15002) picks the port; each port has its own
# state directory. Needs Java 17 and python3 with venv.
set -euo pipefail

cache="${RIFFLE_CACHE:-$HOME/.cache/riffle}"
port="${SPARK_CONNECT_PORT:-15002}"
PYSPARK_VERSION="4.3.0"
venv="$cache/spark-venv"
python="$venv/bin/python"
ivy="$cache/spark-ivy"
state="${SPARK_STATE:-$cache/spark-run/$port}"
# The Kafka connector should match Spark's version. When Maven Central (as
# reached from here) cannot resolve it (in Nov 2026 neither 4.3.0 nor the
# 4.2.0 token provider it needs were there), the start retries once with
# SPARK_KAFKA_FALLBACK (default: none, no connector: Spark then cannot read
# Kafka) and says so loudly. SPARK_KAFKA_VERSION=none starts without it.
kafka_version="${SPARK_KAFKA_VERSION:-$PYSPARK_VERSION}"
kafka_fallback="${SPARK_KAFKA_FALLBACK:-none}"

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

spark_home() { "$python" -c 'import pyspark, os; print(os.path.dirname(pyspark.__file__))'; }

# The Spark Connect server runs as a daemon: sbin/spark-daemon.sh writes its pid here.
pidfile() { echo "$state/pids/spark-$(id -un)-org.apache.spark.sql.connect.service.SparkConnectServer-1.pid"; }

running() { local f; f="$(pidfile)"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

launch() {
  local home="$1" kversion="$2"
  local packages=()
  [ "$kversion" = none ] || packages=(--packages "org.apache.spark:spark-sql-kafka-0-10_2.13:$kversion")
  rm -f "$state"/logs/*.out*
  export SPARK_HOME="$home" SPARK_LOG_DIR="$state/logs" SPARK_PID_DIR="$state/pids" SPARK_LOCAL_IP=127.0.0.1
  export SPARK_LOCAL_DIRS="$state/tmp" SPARK_IDENT_STRING="$(id -un)" PYSPARK_PYTHON="$python"
  "$home/sbin/start-connect-server.sh" \
    --master 'local[2]' \
    --driver-memory "${SPARK_DRIVER_MEMORY:-1g}" \
    "${packages[@]}" \
    --conf "spark.jars.ivy=$ivy" \
    --conf spark.driver.host=127.0.0.1 \
    --conf spark.driver.bindAddress=127.0.0.1 \
    --conf spark.connect.grpc.binding.address=127.0.0.1 \
    --conf "spark.connect.grpc.binding.port=$port" \
    --conf spark.ui.enabled=false \
    --conf "spark.sql.warehouse.dir=$state/warehouse" \
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
  command -v java >/dev/null 2>&1 || fail "java is not on PATH; Spark needs Java 17 (scripts/bootstrap.sh installs it)"
  local home; home="$(spark_home)"
  [ -x "$home/sbin/start-connect-server.sh" ] || fail "$home/sbin/start-connect-server.sh is missing from the pyspark install"
  mkdir -p "$state/logs" "$state/pids" "$state/warehouse" "$state/tmp" "$ivy"
  local t0=$SECONDS kversion="$kafka_version"
  launch "$home" "$kversion"
  if ! wait_ready "$t0"; then
    if [ "$kversion" != none ] && [ "$kversion" != "$kafka_fallback" ] \
      && grep -q "unresolved dependency: org.apache.spark#spark-" "$state"/logs/*.out 2>/dev/null; then
      say "WARNING: spark-sql-kafka $kversion is not on Maven Central as reached from here;" \
        "retrying with $kafka_fallback (SPARK_KAFKA_VERSION picks another, none starts without it)"
      kversion="$kafka_fallback"
      launch "$home" "$kversion"
      wait_ready "$t0" || fail "the Spark Connect server did not start"
    else
      fail "the Spark Connect server did not start"
    fi
  fi
  local pid rss; pid="$(cat "$(pidfile)")"
  rss="$(awk '/VmRSS/ {print int($2/1024) " MiB"}' "/proc/$pid/status" 2>/dev/null || echo "?")"
  echo "$kversion" >"$state/kafka-connector-version"
  say "Spark Connect $PYSPARK_VERSION (spark-sql-kafka $kversion) ready on sc://127.0.0.1:$port" \
    "in $((SECONDS - t0))s (pid $pid, RSS $rss, logs in $state/logs)"
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
  install) install ;;
  *) echo "usage: $0 start|stop|restart|status|reset|install" >&2; exit 2 ;;
esac

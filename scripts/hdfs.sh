#!/usr/bin/env bash
# A real Apache Hadoop HDFS (one NameNode, one DataNode, WebHDFS on,
# replication 1, loopback only) for trying Riffle and for its tests. The jars
# come from Maven Central (services/hadoop/pom.xml) and are cached in
# $RIFFLE_CACHE/hadoop/<version>/libs, outside the clone.
#
#   scripts/hdfs.sh start     fetch the jars once, format the NameNode once, start both daemons, wait until ready
#   scripts/hdfs.sh stop      stop them (the data stays)
#   scripts/hdfs.sh restart   stop, then start on the same data
#   scripts/hdfs.sh status    exit 0 when both daemons are running
#   scripts/hdfs.sh reset     stop and delete its data
#   scripts/hdfs.sh selftest  check a running HDFS end to end over WebHDFS with curl
#
# HDFS_HTTP_PORT (default 9870) is the NameNode's HTTP port (WebHDFS, JMX, UI);
# every other port derives from it, as in Hadoop's defaults at 9870:
#   NameNode RPC        HDFS_PORT, default HDFS_HTTP_PORT - 1850 (8020)
#   DataNode HTTP       HDFS_HTTP_PORT - 6 (9864), where WebHDFS redirects reads and writes
#   DataNode data       HDFS_HTTP_PORT - 4 (9866)
#   DataNode IPC        HDFS_HTTP_PORT - 3 (9867)
# Each HDFS_HTTP_PORT has its own state directory, so several can run side by
# side when their HTTP ports are at least 10 apart (HDFS_HTTP_PORT=19870 gives
# 18020, 19864, 19866, 19867). Everything listens on 127.0.0.1 only; the DataNode
# also has an internal HTTP server on a random loopback port.
#
# WebHDFS: http://127.0.0.1:9870/webhdfs/v1/<path>?op=...&user.name=<anyone>
# (permissions are off). CREATE and OPEN answer 307 to the DataNode at
# 127.0.0.1:9864, where the bytes go.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${RIFFLE_CACHE:-$HOME/.cache/riffle}"
http_port="${HDFS_HTTP_PORT:-9870}"
port="${HDFS_PORT:-$((http_port - 1850))}"
dn_http_port="$((http_port - 6))"
dn_data_port="$((http_port - 4))"
dn_ipc_port="$((http_port - 3))"
version="$(sed -n 's:.*<hadoop.version>\(.*\)</hadoop.version>.*:\1:p' "$here/services/hadoop/pom.xml")"
libs="$cache/hadoop/$version/libs"
state="${HDFS_STATE:-$cache/hdfs-run/$http_port}"
webhdfs="http://127.0.0.1:$http_port/webhdfs/v1"

say() { printf '[hdfs] %s\n' "$*" >&2; }

alive() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }
running() { alive namenode && alive datanode; }

fetch() {
  [ -f "$libs/.complete" ] && return
  say "fetching Apache Hadoop $version from Maven Central into $libs"
  command -v mvn >/dev/null || { say "mvn not found: run scripts/bootstrap.sh first"; exit 1; }
  rm -rf "$libs.tmp"
  # The NameNode's and DataNode's HTTP servers look for webapps/hdfs and
  # webapps/datanode on the classpath; only hadoop-hdfs's tests jar has them, so
  # the pom's webapps execution unpacks just that folder into libs/web.
  mvn -q -B -Dstyle.color=never -f "$here/services/hadoop/pom.xml" dependency:copy-dependencies \
    dependency:unpack@webapps -DincludeScope=runtime -DoutputDirectory="$libs.tmp" -Dwebapps.dir="$libs.tmp/web"
  [ -d "$libs.tmp/web/webapps/hdfs" ] || { say "no webapps/ unpacked from hadoop-hdfs-$version-tests.jar"; exit 1; }
  rm -rf "$libs.tmp/web/.markers"
  rm -rf "$libs" && mkdir -p "$(dirname "$libs")" && mv "$libs.tmp" "$libs"
  touch "$libs/.complete"
}

# On Java 17 WebHDFS answers 500 without --add-opens java.base/java.lang: its
# Jersey 1 / JAXB JSON writer defines classes through ClassLoader.defineClass.
# C1 only and the serial GC: a warm start takes ~4.5s instead of ~7s on two busy
# cores, each daemon holds ~150 MB instead of ~220 MB, and WebHDFS moves 200 MB
# as fast as with C2 and G1.
java_opts=(-Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true
  --add-opens=java.base/java.lang=ALL-UNNAMED
  -Dlog4j.configuration="file:$here/services/hadoop/log4j.properties"
  -Dhadoop.log.dir="$state/logs"
  -cp "$state/conf:$libs/web:$libs/*")
java_cmd() { java "${java_opts[@]}" "$@"; }

configure() {
  mkdir -p "$state/conf" "$state/logs" "$state/name" "$state/data" "$state/tmp"
  cat > "$state/conf/core-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>fs.defaultFS</name><value>hdfs://127.0.0.1:$port</value></property>
  <property><name>hadoop.tmp.dir</name><value>$state/tmp</value></property>
  <property><name>hadoop.http.authentication.signature.secret.file</name><value>$state/conf/http-signature-secret</value></property>
</configuration>
XML
  cat > "$state/conf/hdfs-site.xml" <<XML
<?xml version="1.0"?>
<configuration>
  <property><name>dfs.namenode.name.dir</name><value>file://$state/name</value></property>
  <property><name>dfs.datanode.data.dir</name><value>file://$state/data</value></property>
  <property><name>dfs.replication</name><value>1</value></property>
  <property><name>dfs.webhdfs.enabled</name><value>true</value></property>
  <property><name>dfs.permissions.enabled</name><value>false</value></property>
  <property><name>dfs.namenode.safemode.extension</name><value>0</value></property>
  <property><name>dfs.namenode.rpc-address</name><value>127.0.0.1:$port</value></property>
  <property><name>dfs.namenode.http-address</name><value>127.0.0.1:$http_port</value></property>
  <property><name>dfs.datanode.address</name><value>127.0.0.1:$dn_data_port</value></property>
  <property><name>dfs.datanode.http.address</name><value>127.0.0.1:$dn_http_port</value></property>
  <property><name>dfs.datanode.ipc.address</name><value>127.0.0.1:$dn_ipc_port</value></property>
  <property><name>dfs.datanode.hostname</name><value>127.0.0.1</value></property>
  <property><name>dfs.client.use.datanode.hostname</name><value>true</value></property>
  <property><name>dfs.datanode.use.datanode.hostname</name><value>true</value></property>
  <property><name>dfs.namenode.datanode.registration.ip-hostname-check</name><value>false</value></property>
</configuration>
XML
  # the HTTP servers sign their auth cookies with this; without it they warn and make one up
  [ -s "$state/conf/http-signature-secret" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state/conf/http-signature-secret"
  # the metrics system looks for this file and warns when there is none
  echo "# no metrics sinks" > "$state/conf/hadoop-metrics2.properties"
  if [ ! -f "$state/name/current/VERSION" ]; then
    java_cmd org.apache.hadoop.hdfs.server.namenode.NameNode -format -nonInteractive >"$state/format.log" 2>&1 \
      || { tail -30 "$state/format.log" >&2; say "could not format $state/name"; exit 1; }
  fi
}

# FSState is "Operational" once the NameNode has left safe mode.
ready() {
  local jmx
  jmx="$(curl -sf --max-time 2 "http://127.0.0.1:$http_port/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState")" || return 1
  grep -q '"FSState" *: *"Operational"' <<<"$jmx" && grep -Eq '"NumLiveDataNodes" *: *[1-9]' <<<"$jmx" \
    && curl -sf --max-time 2 -o /dev/null "$webhdfs/?op=LISTSTATUS"
}

failed() {
  local d
  for d in namenode datanode; do
    [ -f "$state/$d.log" ] && { echo "--- $state/$d.log" >&2; tail -30 "$state/$d.log" >&2; }
  done
  say "$*"
  stop
  exit 1
}

start() {
  if running; then say "already running: webhdfs http://127.0.0.1:$http_port (pids $(cat "$state/namenode.pid") $(cat "$state/datanode.pid"))"; return; fi
  stop
  fetch
  local t0=$SECONDS
  configure
  local d
  for d in namenode datanode; do
    : >"$state/$d.log"
    local class=org.apache.hadoop.hdfs.server.namenode.NameNode
    [ "$d" = datanode ] && class=org.apache.hadoop.hdfs.server.datanode.DataNode
    nohup java "${java_opts[@]}" -Dproc_$d "$class" >>"$state/$d.log" 2>&1 &
    echo $! >"$state/$d.pid"
  done
  local limit="${HDFS_START_TIMEOUT:-180}"
  until ready; do
    alive namenode || failed "the NameNode exited during start; its log is $state/namenode.log"
    alive datanode || failed "the DataNode exited during start; its log is $state/datanode.log"
    (( SECONDS - t0 > limit )) && failed "not ready after ${limit}s; the logs are in $state"
    sleep 0.5
  done
  say "HDFS $version ready: webhdfs http://127.0.0.1:$http_port in $((SECONDS - t0))s (logs: $state/namenode.log, $state/datanode.log)"
}

stop() {
  local d pids=()
  for d in datanode namenode; do
    alive "$d" && pids+=("$(cat "$state/$d.pid")")
  done
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    local pid
    for pid in "${pids[@]}"; do
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    done
    say "stopped HDFS on 127.0.0.1:$port (webhdfs http://127.0.0.1:$http_port)"
  fi
  rm -f "$state/namenode.pid" "$state/datanode.pid"
}

# End to end over WebHDFS with curl only: the two-step CREATE (the NameNode
# answers 307 with the DataNode's address, the bytes go there), OPEN, MKDIRS,
# LISTSTATUS, RENAME, DELETE.
selftest() {
  running || { say "not running: scripts/hdfs.sh start"; exit 1; }
  dir="/riffle-selftest-$$" user="user.name=riffle" passed=0
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"; curl -s -o /dev/null -X DELETE "$webhdfs$dir?op=DELETE&recursive=true&$user" || true' EXIT
  check() { say "ok: $*"; passed=$((passed + 1)); }
  fail() { say "FAILED: $*"; say "selftest: $passed passed, 1 failed"; exit 1; }
  head -c 300000 /dev/urandom >"$tmp/in"
  local code loc
  code="$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$webhdfs$dir?op=MKDIRS&$user")"
  [ "$code" = 200 ] || fail "MKDIRS $dir answered $code"
  check "MKDIRS $dir"
  read -r code loc < <(curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' -X PUT \
    "$webhdfs$dir/a.bin?op=CREATE&overwrite=true&$user")
  [ "$code" = 307 ] || fail "CREATE on the NameNode answered $code, not 307"
  [[ "$loc" == "http://127.0.0.1:$dn_http_port/webhdfs/v1$dir/a.bin?"* ]] || fail "CREATE redirected to $loc"
  check "CREATE step 1: 307 to $loc"
  code="$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "@$tmp/in" "$loc")"
  [ "$code" = 201 ] || fail "CREATE on the DataNode answered $code, not 201"
  check "CREATE step 2: 201 from the DataNode, $(wc -c <"$tmp/in") bytes"
  curl -sfL -o "$tmp/out" "$webhdfs$dir/a.bin?op=OPEN&$user" || fail "OPEN failed"
  cmp -s "$tmp/in" "$tmp/out" || fail "OPEN read back different bytes"
  check "OPEN -L read the same bytes back"
  curl -sf "$webhdfs$dir?op=LISTSTATUS&$user" >"$tmp/ls" || fail "LISTSTATUS failed"
  { grep -q '"pathSuffix":"a.bin"' "$tmp/ls" && grep -q '"length":300000' "$tmp/ls"; } \
    || fail "LISTSTATUS does not list a.bin with 300000 bytes: $(cat "$tmp/ls")"
  check "LISTSTATUS lists a.bin, 300000 bytes"
  curl -sf -X PUT "$webhdfs$dir/a.bin?op=RENAME&destination=$dir/b.bin&$user" | grep -q '"boolean":true' \
    || fail "RENAME a.bin to b.bin failed"
  code="$(curl -s -o /dev/null -w '%{http_code}' "$webhdfs$dir/a.bin?op=GETFILESTATUS&$user")"
  [ "$code" = 404 ] || fail "a.bin still there after RENAME ($code)"
  { curl -sfL -o "$tmp/out" "$webhdfs$dir/b.bin?op=OPEN&$user" && cmp -s "$tmp/in" "$tmp/out"; } \
    || fail "b.bin does not hold the bytes after RENAME"
  check "RENAME a.bin to b.bin"
  curl -sf -X DELETE "$webhdfs$dir?op=DELETE&recursive=true&$user" | grep -q '"boolean":true' \
    || fail "DELETE $dir failed"
  code="$(curl -s -o /dev/null -w '%{http_code}' "$webhdfs$dir?op=GETFILESTATUS&$user")"
  [ "$code" = 404 ] || fail "$dir still there after DELETE ($code)"
  check "DELETE $dir (recursive)"
  say "selftest: $passed passed, 0 failed"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) running ;;
  reset) stop; rm -rf "$state" ;;
  fetch) fetch ;;
  selftest) selftest ;;
  *) echo "usage: $0 start|stop|restart|status|reset|fetch|selftest" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A throwaway single-node Ceph cluster with an S3 endpoint (radosgw), for tests and bench/:
# one monitor, one OSD on memstore (bytes in RAM, nothing on disk but logs), pool size 1,
# no cephx, radosgw's beast frontend on 127.0.0.1:<port>. Everything lives in <dir>; nothing
# touches /etc/ceph or /var/lib/ceph. Never binds anything but 127.0.0.1, never stops a
# process it did not start (stop reads the PIDs this script wrote).
#
#   scripts/ceph-rgw.sh start <dir> <port> [memstore MiB]   prints "pid <name> <pid>" lines,
#                                                           then "endpoint http://127.0.0.1:<port>"
#   scripts/ceph-rgw.sh user <dir> <uid>                   creates an S3 user, prints
#                                                           "access_key <k>" / "secret_key <s>"
#   scripts/ceph-rgw.sh stop <dir>                         SIGTERM, then SIGKILL, by PID
#
# Needs the Debian packages ceph-mon ceph-osd radosgw ceph-common (scripts/install-test-deps.sh).
set -euo pipefail

usage() { echo "usage: $0 start <dir> <port> [memstore-MiB] | user <dir> <uid> | stop <dir>" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
dir=$(realpath -m "$2")

conf="$dir/ceph.conf"
ceph_() { ceph -c "$conf" --connect-timeout 20 "$@"; }

wait_for() { # <seconds> <description> <command...>
  local deadline=$(( $(date +%s) + $1 )) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "ceph-rgw: timed out waiting for $what; logs in $dir/log" >&2
      tail -n 20 "$dir"/log/*.log >&2 || true
      return 1
    fi
    sleep 0.1
  done
}

start() {
  local port=$1 mib=${2:-1024}
  for tool in ceph-mon ceph-osd radosgw ceph monmaptool ceph-authtool; do
    command -v "$tool" >/dev/null || {
      echo "ceph-rgw: $tool is missing: run scripts/install-test-deps.sh" >&2; exit 1; }
  done
  if [ -e "$dir/pids" ]; then echo "ceph-rgw: $dir already holds a cluster (stop it first)" >&2; exit 1; fi
  mkdir -p "$dir"/{mon,osd,log,run,rgw}
  chmod 700 "$dir"
  local fsid monport
  fsid=$(cat /proc/sys/kernel/random/uuid)
  monport=$(free_port)
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$monport
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms bind ipv6 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pg warn min per osd = 0
mon allow pool size one = true
mon allow pool delete = true
mon pg warn min per osd = 0
mon warn on pool no redundancy = false
mon_allow_insecure_global_id_reclaim_warn = false
auth allow insecure global id reclaim = false
mon data avail warn = 1
mon data avail crit = 0
paxos propose interval = 0.05
osd crush chooseleaf type = 0
run dir = $dir/run
log file = $dir/log/\$name.log
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
[mon.a]
mon data = $dir/mon
[osd.0]
osd data = $dir/osd
osd objectstore = memstore
memstore device bytes = $(( mib * 1024 * 1024 ))
osd op num shards = 1
osd op num threads per shard = 2
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
rgw enable usage log = false
rgw gc processor period = 60
rgw init timeout = 60
CONF
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$monport]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >/dev/null 2>"$dir/log/mkfs-mon.err"
  ceph-mon -c "$conf" -i a 2>>"$dir/log/daemons.err"
  wait_for 30 "the monitor" test -s "$dir/run/mon.a.pid"
  echo "pid mon $(cat "$dir/run/mon.a.pid")" | tee -a "$dir/pids"
  local uuid
  uuid=$(cat /proc/sys/kernel/random/uuid)
  ceph_ osd new "$uuid" 0 >/dev/null
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" >/dev/null 2>"$dir/log/mkfs-osd.err"
  ceph-osd -c "$conf" -i 0 2>>"$dir/log/daemons.err"
  wait_for 30 "the OSD pid file" test -s "$dir/run/osd.0.pid"
  echo "pid osd $(cat "$dir/run/osd.0.pid")" | tee -a "$dir/pids"
  wait_for 60 "the OSD to come up" osd_up
  radosgw -c "$conf" -n client.rgw 2>>"$dir/log/daemons.err"
  wait_for 30 "radosgw's pid file" test -s "$dir/run/client.rgw.pid"
  echo "pid rgw $(cat "$dir/run/client.rgw.pid")" | tee -a "$dir/pids"
  wait_for 90 "radosgw on 127.0.0.1:$port" curl -sf -o /dev/null "http://127.0.0.1:$port/"
  echo "endpoint http://127.0.0.1:$port"
}

osd_up() { ceph_ osd dump 2>/dev/null | grep -q '^osd.0 up'; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

user() {
  local uid=$1 out
  out=$(radosgw-admin -c "$conf" -n client.rgw user create --uid="$uid" --display-name="$uid" 2>/dev/null ||
        radosgw-admin -c "$conf" -n client.rgw user info --uid="$uid")
  python3 -c 'import json,sys; k=json.load(sys.stdin)["keys"][0]; print("access_key", k["access_key"]); print("secret_key", k["secret_key"])' <<<"$out"
}

# Alive and not a zombie (a daemonised child may wait for a parent that never reaps it).
running() { [ -r "/proc/$1/stat" ] && [ "$(cut -d" " -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }

stop() {
  [ -e "$dir/pids" ] || { echo "ceph-rgw: no cluster in $dir" >&2; return 0; }
  local pids=() pid
  while read -r _ _ pid; do pids+=("$pid"); done < <(tac "$dir/pids")
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 20); do
    local alive=0
    for pid in "${pids[@]}"; do running "$pid" && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$dir/pids"
}

case "$cmd" in
  start) [ $# -ge 3 ] || usage; start "$3" "${4:-}" ;;
  user) [ $# -ge 3 ] || usage; user "$3" ;;
  stop) stop ;;
  *) usage ;;
esac

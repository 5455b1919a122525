# shellcheck shell=bash
# Process handling shared by scripts/run and scripts/ims-standin (sourced):
# every process is started in the background with its PID in a pid file,
# and stopped by that PID only, then waited for.

# True while PID runs (a zombie, exited but not yet waited for, does not).
alive() {
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# The command line of PID, NULs as spaces ("" once it is gone).
cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# True when PID ends within $2 seconds.
gone_within() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    alive "$1" || return 0
    sleep 0.1
  done
  ! alive "$1"
}

# stop_pid NAME PID [SECONDS]: SIGTERM, SIGKILL when it is still there after
# SECONDS (default 10); reaps it when it is a child of this shell.
stop_pid() {
  local name=$1 pid=$2 t=${3:-10}
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! gone_within "$pid" "$t"; then
      echo "$name (pid $pid) did not stop within $t s: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      gone_within "$pid" 5 || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

# stop_stale PIDFILE MATCH [SECONDS]: a process left by an earlier run that
# was killed: the PID in PIDFILE, stopped if it still runs and its command
# line contains MATCH (so a recycled PID is never touched).
stop_stale() {
  local f=$1 match=$2 pid
  [ -s "$f" ] || { rm -f "$f"; return 0; }
  pid=$(cat "$f")
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && [[ "$(cmdline "$pid")" == *"$match"* ]]; then
    echo "stopping $(basename "$f" .pid) (pid $pid) left by an earlier run" >&2
    stop_pid "$(basename "$f" .pid)" "$pid" "${3:-10}"
  fi
  rm -f "$f"
}

# spawn NAME LOG PIDFILE CMD...: CMD in the background, in a session of its
# own (so that Ctrl-C in the terminal reaches the script alone, which then
# stops everything in order), stdout and stderr appended to LOG ("-": the
# script's own). Its PID goes to PIDFILE and to the arrays procs/proc_names
# (in start order).
procs=()
proc_names=()
spawn() {
  local name=$1 log=$2 pidfile=$3
  shift 3
  if [ "$log" = - ]; then
    setsid "$@" </dev/null &
  else
    setsid "$@" >>"$log" 2>&1 </dev/null &
  fi
  echo $! >"$pidfile"
  procs+=($!)
  proc_names+=("$name")
}

# stop_all [SECONDS]: what spawn started, last first.
stop_all() {
  local i
  if [ -n "$nap_pid" ]; then kill "$nap_pid" 2>/dev/null || true; fi
  for ((i = ${#procs[@]} - 1; i >= 0; i--)); do
    stop_pid "${proc_names[$i]}" "${procs[$i]}" "${1:-10}"
  done
}

# The first of the spawned processes that is no longer running (its name),
# or false when all run.
first_exited() {
  local i
  for i in "${!procs[@]}"; do
    if ! alive "${procs[$i]}"; then
      echo "${proc_names[$i]} (pid ${procs[$i]})"
      return 0
    fi
  done
  return 1
}

# wait_until SECONDS PID TEST...: until TEST succeeds; false when PID ends
# first or SECONDS pass.
wait_until() {
  local t=$1 pid=$2 i
  shift 2
  for ((i = 0; i < t * 10; i++)); do
    "$@" && return 0
    alive "$pid" || return 1
    sleep 0.1
  done
  "$@"
}

# Sleeps in a way a trapped signal interrupts at once (stop_all ends the
# sleep too).
nap_pid=
nap() {
  sleep "$1" &
  nap_pid=$!
  wait "$nap_pid" 2>/dev/null || true
  nap_pid=
}

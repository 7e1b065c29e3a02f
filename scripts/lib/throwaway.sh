# Sourced by the scripts that run a command against a throwaway server built from Go
# (with-dns.sh, with-ferretdb.sh, with-mailpit.sh) and by the build itself (mongo-test.sh).

# The Go toolchain: on PATH, or where CI installs it; empty when there is none.
go_command() {
  command -v go && return 0
  if [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; fi
  return 0
}

# Whether the Go module in $1 must be built into the binary $2: missing, or older than one of the
# module's own files (it pins its dependencies, so nothing else decides whether the binary is current).
needs_go_build() {
  [[ -x "$2" ]] || return 0
  local f
  for f in "$1/main.go" "$1/go.mod" "$1/go.sum"; do
    [[ "$f" -nt "$2" ]] && return 0
  done
  return 1
}

# A work folder ($work) for the server's data and its log ($log), and traps that stop the server
# ($server_pid, once it is started) and remove the folder on any exit, a signal's included.
throwaway_start() {
  work="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  log="$work/$1.log"
  # Created here, not by the background job's redirect, so a wait loop never reads it before it exists.
  : >"$log"
  server_pid=""
  trap throwaway_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

throwaway_stop() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
  rm -rf "$work"
}

# Stops the script with the server's log when it never came up: $1 says who, $2 names the server, $3 is what it answered (empty: nothing).
throwaway_up_or_fail() {
  if [[ -n "$3" ]]; then return 0; fi
  echo "$1: $2 did not come up; its log:" >&2
  sed 's/^/  /' "$log" >&2
  exit 1
}

# Runs the command while the server is up and exits with its status (not exec: the server must be stopped after).
run_then_exit() {
  set +e
  "$@"
  local status=$?
  set -e
  exit "$status"
}

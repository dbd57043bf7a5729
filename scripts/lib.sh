# shellcheck shell=bash
# Sourced by the scripts in this folder, never run: Go on PATH at the one version go.mod names,
# steps with a timer, processes stopped and folders removed at exit, an Xvfb display of one's own.
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# It sets `set -euo pipefail`, cds to the repository root ($repo) and installs the exit trap.

set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
script="$(basename "$0")"

# die MSG: an error in the calling script's name, exit 1.
die() {
	echo "$script: $*" >&2
	exit 1
}

# use_go: puts Go on PATH (/usr/local/go/bin when none is there) and pins GOTOOLCHAIN to go.mod's
# toolchain line, so every go command of these scripts, in any folder (tool installs run outside
# the module), runs that one release; go fetches it from the module proxy on first use, even
# where the installed Go defaults to GOTOOLCHAIN=local. Sets go_version (e.g. go1.26.10).
use_go() {
	if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
		export PATH="$PATH:/usr/local/go/bin"
	fi
	command -v go >/dev/null ||
		die "no Go toolchain: install Go 1.26 or newer (https://go.dev/dl/) into /usr/local/go or PATH"
	go_version="$(sed -n 's/^toolchain \(go[0-9][0-9a-z.]*\)$/\1/p' "$repo/go.mod")"
	[[ -n "$go_version" ]] || die "go.mod has no toolchain line"
	export GOTOOLCHAIN="$go_version"
}

# Fyne's build dependencies (cgo, OpenGL, X11): every build of the window needs them.
gui_pkgs=(gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
	libxinerama-dev libxi-dev libxxf86vm-dev)

# tools_dir: where the Go tools and other downloads of these scripts are cached.
tools_dir="${FCGISCOPE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/fcgiscope/tools}"

# ---- cleanup at exit ------------------------------------------------------------------------

_at_exit=()
# at_exit CMD: run CMD (a string, evaluated then) when the script exits, latest first.
at_exit() { _at_exit+=("$1"); }
_run_at_exit() {
	local i
	for ((i = ${#_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_at_exit[i]}" || true
	done
}
trap _run_at_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop_pid PID: SIGTERM, up to 5 s of grace, then SIGKILL; reaps the process.
stop_pid() {
	local pid="$1" i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# make_tmp NAME: a new temporary folder (path in $tmp), removed at exit.
make_tmp() {
	tmp="$(mktemp -d "${TMPDIR:-/tmp}/fcgiscope-$1.XXXXXX")"
	at_exit "rm -rf '$tmp'"
}

# ---- steps with a timer ---------------------------------------------------------------------

_steps=()      # "name|seconds|result|cpu seconds" of the finished steps
_step=""       # the running step
_step_t0=""    # its start ($EPOCHREALTIME)
_t0="$EPOCHREALTIME"

# since T0: seconds since T0 (an $EPOCHREALTIME), one decimal.
since() {
	local now="$EPOCHREALTIME"
	awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

# mmss SECONDS: "1m05s" / "42s" / "4.2s".
mmss() {
	awk -v s="$1" 'BEGIN { if (s >= 60) printf "%dm%02ds", int(s / 60), int(s) % 60; else if (s >= 10) printf "%ds", s; else printf "%.1fs", s }'
}

# cpu_times FILE: writes the CPU seconds (user + system) of the calling (sub)shell's finished
# children to FILE. Run in a subshell that ran the step's commands, it is their CPU time.
cpu_times() {
	# In this shell, not in a pipe's or $(...)'s subshell, whose children are none.
	times >"$1.times"
	# The second line, the children's: "XmY.YYYs XmY.YYYs".
	awk 'function sec(t, a) { split(t, a, /[ms]/); return a[1] * 60 + a[2] }
		NR == 2 { printf "%.1f\n", sec($1) + sec($2) }' "$1.times" >"$1"
	rm -f "$1.times"
}

# timed NAME CMD...: runs CMD in a subshell (it cannot set the caller's variables) and keeps its
# CPU time for step_end; returns CMD's status.
_cpu_dir=""
timed() {
	local name="$1" rc=0
	shift
	[[ -n "$_cpu_dir" ]] || { _cpu_dir="$(mktemp -d "${TMPDIR:-/tmp}/fcgiscope-cpu.XXXXXX")"; at_exit "rm -rf '$_cpu_dir'"; }
	(
		rc=0
		"$@" || rc=$?
		cpu_times "$_cpu_dir/$name"
		exit "$rc"
	) || rc=$?
	return "$rc"
}

# step NAME [DESCRIPTION]: ends the running step (as passed unless step_end said otherwise) and
# starts the next.
step() {
	[[ -n "$_step" ]] && step_end ok
	_step="$1"
	_step_t0="$EPOCHREALTIME"
	printf '\n==> %s\n' "${2:-$1}"
}

# step_end RESULT: ends the running step with RESULT (ok, FAILED, skipped, ...).
step_end() {
	[[ -n "$_step" ]] || return 0
	local s
	s="$(since "$_step_t0")"
	local cpu=""
	[[ -n "$_cpu_dir" && -f "$_cpu_dir/$_step" ]] && cpu="$(cat "$_cpu_dir/$_step")"
	_steps+=("$_step|$s|$1|$cpu")
	printf -- '--- %s: %s in %s%s (load %s)\n' "$_step" "$1" "$(mmss "$s")" "${cpu:+, CPU $(mmss "$cpu")}" "$(loadavg)"
	_step=""
}

# step_summary: the table of steps and their times, and the total.
step_summary() {
	[[ -n "$_step" ]] && step_end "${1:-ok}"
	local row name s result cpu total=0
	printf '\n%-22s %8s %8s  %s\n' step time CPU result
	for row in "${_steps[@]}"; do
		IFS='|' read -r name s result cpu <<<"$row"
		printf '%-22s %8s %8s  %s\n' "$name" "$(mmss "$s")" "${cpu:+$(mmss "$cpu")}" "$result"
		total="$(awk -v a="$total" -v b="${cpu:-0}" 'BEGIN { print a + b }')"
	done
	local tc f
	f="$(mktemp "${TMPDIR:-/tmp}/fcgiscope-cpu.XXXXXX")"
	cpu_times "$f" # here: in a $(...) it would count none
	tc="$(cat "$f")"
	rm -f "$f"
	printf '%-22s %8s %8s  (load average now %s; CPU: of the steps %s, of the whole run %s)\n' total \
		"$(mmss "$(since "$_t0")")" "$(mmss "$tc")" "$(loadavg)" "$(mmss "$total")" "$(mmss "$tc")"
}

# loadavg: the 1-minute load average (the machine's, not only this run's).
loadavg() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }


# Steps in the background: their output goes to a log that step_wait prints when they are done,
# so the output still reads one step after the other.
_bg_dir=""
declare -A _bg_pid=() _bg_t0=()

# step_bg NAME DESCRIPTION CMD...: starts CMD in the background as step NAME.
step_bg() {
	local name="$1" desc="$2"
	shift 2
	if [[ -z "$_bg_dir" ]]; then
		_bg_dir="$(mktemp -d "${TMPDIR:-/tmp}/fcgiscope-steps.XXXXXX")"
		at_exit "rm -rf '$_bg_dir'"
		at_exit '_bg_stop_all'
	fi
	printf '==> %s (in the background)\n' "$desc" >"$_bg_dir/$name.log"
	_bg_t0[$name]="$EPOCHREALTIME"
	(
		rc=0
		"$@" || rc=$?
		echo "$EPOCHREALTIME" >"$_bg_dir/$name.end"
		cpu_times "$_bg_dir/$name.cpu"
		exit "$rc"
	) >>"$_bg_dir/$name.log" 2>&1 &
	_bg_pid[$name]=$!
}

# step_wait NAME: waits for the background step NAME, prints its output and time; returns its
# exit status.
step_wait() {
	local name="$1" rc=0 s
	[[ -n "${_bg_pid[$name]:-}" ]] || die "step_wait: no background step $name"
	wait "${_bg_pid[$name]}" || rc=$?
	unset "_bg_pid[$name]"
	# Its own time, from its start to its end, not to this wait.
	s="$(awk -v a="${_bg_t0[$name]}" -v b="$(cat "$_bg_dir/$name.end" 2>/dev/null || echo "$EPOCHREALTIME")" \
		'BEGIN { printf "%.1f", b - a }')"
	echo
	cat "$_bg_dir/$name.log"
	local result=ok cpu=""
	((rc == 0)) || result=FAILED
	[[ -f "$_bg_dir/$name.cpu" ]] && cpu="$(cat "$_bg_dir/$name.cpu")"
	_steps+=("$name|$s|$result|$cpu")
	printf -- '--- %s: %s in %s%s (load %s)\n' "$name" "$result" "$(mmss "$s")" "${cpu:+, CPU $(mmss "$cpu")}" "$(loadavg)"
	return "$rc"
}

# _bg_stop_all: at exit (an interrupt or a failed step), stops the background steps still
# running, with every process they started.
_bg_stop_all() {
	local name
	for name in "${!_bg_pid[@]}"; do
		stop_tree "${_bg_pid[$name]}"
		echo "---- $name was still running; its output so far:" >&2
		cat "$_bg_dir/$name.log" >&2
	done
}

# stop_tree PID: stop_pid on PID's descendants (found by parent id, deepest first), then on PID.
stop_tree() {
	local pid="$1" child
	for child in $(pgrep -P "$pid" 2>/dev/null); do
		stop_tree "$child"
	done
	stop_pid "$pid"
}

# ---- an X display of one's own ---------------------------------------------------------------

xvfb_pid=""
# start_xvfb FIRST-LAST LOG: starts Xvfb (1600x1000x24) on the first free display number in the
# range and exports DISPLAY; it is stopped at exit. Skips numbers in use; if another server wins
# the race for a number, ours exits (the lock file names the winner) and the next one is tried.
# Needs Xvfb and xdotool (scripts/deps test).
start_xvfb() {
	local range="$1" log="$2" first last n i display=""
	[[ "$range" =~ ^([0-9]+)-([0-9]+)$ ]] || die "display range '$range' is not FIRST-LAST (e.g. 91-99)"
	first="${BASH_REMATCH[1]}" last="${BASH_REMATCH[2]}"
	for ((n = first; n <= last; n++)); do
		[[ -e "/tmp/.X11-unix/X$n" || -e "/tmp/.X$n-lock" ]] && continue
		Xvfb ":$n" -screen 0 1600x1000x24 -nolisten tcp -noreset >"$log" 2>&1 &
		xvfb_pid=$!
		for ((i = 0; i < 100; i++)); do
			kill -0 "$xvfb_pid" 2>/dev/null || break
			if [[ "$(tr -d ' \n' 2>/dev/null <"/tmp/.X$n-lock")" == "$xvfb_pid" ]] &&
				DISPLAY=":$n" xdotool getdisplaygeometry >/dev/null 2>&1; then
				display=":$n"
				break
			fi
			sleep 0.1
		done
		[[ -n "$display" ]] && break
		stop_xvfb
	done
	[[ -n "$display" ]] || return 1
	export DISPLAY="$display"
}

# stop_xvfb: stops the Xvfb of start_xvfb, if any (also at exit, after everything else).
stop_xvfb() {
	[[ -n "$xvfb_pid" ]] && stop_pid "$xvfb_pid"
	xvfb_pid=""
}
at_exit stop_xvfb

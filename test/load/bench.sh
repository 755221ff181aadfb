#!/usr/bin/env bash
# Load benchmarks of Gatehouse on Postgres; `make bench` and `make soak` run
# this script from the repository root.
#
# Usage: test/load/bench.sh bench|soak
#
# bench  measures the in-process argon2id verify rate (the login ceiling),
#        starts Postgres (the test image, plain docker run on the host's
#        network, listening on a free port of 127.0.0.1) and Gatehouse (bin/gatehouse on 127.0.0.1, rate limits
#        off, a fresh secret), times its start-up on a migrated database,
#        reads its idle memory, then for every concurrency runs pgbench -N
#        and -S (the database's ceiling, inside the container) and every
#        scenario of cmd/gatehouse-bench, then a burst of concurrent logins,
#        and writes $BENCH_OUT (docs/BENCHMARKS.md).
# soak   runs the mixed scenario for $SOAK_DURATION at $SOAK_CONCURRENCY,
#        sampling Gatehouse's memory over time, and writes $SOAK_OUT
#        (docs/SOAK.md).
#
# Settings (environment) and their defaults:
#   BENCH_DURATION=20s          every timed run: scenarios and pgbench (whole seconds or minutes)
#   BENCH_WARMUP=2s             load before each timed window, discarded
#   BENCH_CONCURRENCY="16 64"   the concurrencies of every scenario and pgbench run
#   BENCH_USERS=100             accounts the login, refresh, me and mixed scenarios share
#   BENCH_BURST_CONCURRENCY=200 BENCH_BURST_DURATION=5s   the login burst
#   BENCH_PGBENCH_SCALE=10      pgbench -i -s
#   BENCH_HASH_BENCHTIME=5s     go test -benchtime of BenchmarkVerifyParallel
#   BENCH_LOG_LEVEL=info        Gatehouse's GATEHOUSE_LOG_LEVEL
#   BENCH_NOTE=                 a sentence for the document's header
#   BENCH_OUT=docs/BENCHMARKS.md
#   BENCH_NOTES=test/load/notes.md  hand-written markdown (profiles, before and
#                               after of each change) included in $BENCH_OUT if it exists
#   SOAK_DURATION=5m SOAK_CONCURRENCY=64 SOAK_SAMPLE=10s SOAK_OUT=docs/SOAK.md
#   GO=go
#
# With the defaults, bench takes about 7 minutes on a 2-CPU machine and
# soak about 6. A phase that fails is named in the document, which is
# written all the same (unless the run is interrupted), and the script then
# exits 1. The Postgres container and the Gatehouse process are removed on
# every exit.
set -euo pipefail

MODE="${1:-bench}"
case "$MODE" in
bench | soak) ;;
*)
	echo "usage: $0 bench|soak" >&2
	exit 2
	;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

GO="${GO:-go}"
BENCH_DURATION="${BENCH_DURATION:-20s}"
BENCH_WARMUP="${BENCH_WARMUP:-2s}"
BENCH_CONCURRENCY="${BENCH_CONCURRENCY:-16 64}"
BENCH_USERS="${BENCH_USERS:-100}"
BENCH_BURST_CONCURRENCY="${BENCH_BURST_CONCURRENCY:-200}"
BENCH_BURST_DURATION="${BENCH_BURST_DURATION:-5s}"
BENCH_PGBENCH_SCALE="${BENCH_PGBENCH_SCALE:-10}"
BENCH_HASH_BENCHTIME="${BENCH_HASH_BENCHTIME:-5s}"
BENCH_LOG_LEVEL="${BENCH_LOG_LEVEL:-info}"
BENCH_NOTE="${BENCH_NOTE:-}"
BENCH_OUT="${BENCH_OUT:-docs/BENCHMARKS.md}"
BENCH_NOTES="${BENCH_NOTES:-test/load/notes.md}"
SOAK_DURATION="${SOAK_DURATION:-5m}"
SOAK_CONCURRENCY="${SOAK_CONCURRENCY:-64}"
SOAK_SAMPLE="${SOAK_SAMPLE:-10s}"
SOAK_OUT="${SOAK_OUT:-docs/SOAK.md}"

BIN=bin/gatehouse
TOOL=bin/gatehouse-bench

log() { printf 'bench: %s\n' "$*" >&2; }

# seconds DURATION: whole seconds of 20s, 2m, 1m30s or 20, for pgbench -T.
seconds() {
	if [[ $1 =~ ^([0-9]+)m([0-9]+)s$ ]]; then
		echo $((10#${BASH_REMATCH[1]} * 60 + 10#${BASH_REMATCH[2]}))
	elif [[ $1 =~ ^([0-9]+)m$ ]]; then
		echo $((10#${BASH_REMATCH[1]} * 60))
	elif [[ $1 =~ ^([0-9]+)s?$ ]]; then
		echo $((10#${BASH_REMATCH[1]}))
	else
		return 1
	fi
}

for var in BENCH_DURATION BENCH_BURST_DURATION SOAK_DURATION; do
	if ! secs="$(seconds "${!var}")" || [ "$secs" -lt 1 ]; then
		echo "bench: $var=${!var}: give whole seconds or minutes, such as 20s, 2m or 1m30s" >&2
		exit 2
	fi
done
DURATION_S="$(seconds "$BENCH_DURATION")"
for c in $BENCH_CONCURRENCY; do
	[[ $c =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_CONCURRENCY: $c is not a number" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "bench: $BIN is missing: run make build (make bench does)" >&2; exit 2; }
command -v docker >/dev/null || { echo "bench: docker is not installed" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")"
results="$work/results.jsonl"
: >"$results"
pg_cid=""
gh_pid=""
child=""
failed=0

# stop_gatehouse ends the server this script started, by its pid.
stop_gatehouse() {
	[ -n "$gh_pid" ] || return 0
	if kill -TERM "$gh_pid" 2>/dev/null; then
		for _ in $(seq 1 200); do
			alive || break
			sleep 0.1
		done
		kill -KILL "$gh_pid" 2>/dev/null || true
	fi
	wait "$gh_pid" 2>/dev/null || true
	gh_pid=""
}

# in_child CMD... runs CMD in the background and waits for it, so that a
# signal reaches the traps at once rather than when CMD is done.
in_child() {
	local status=0
	"$@" &
	child=$!
	wait "$child" || status=$?
	child=""
	return "$status"
}

cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	stop_gatehouse
	if [ -n "$pg_cid" ]; then
		docker rm -f -v "$pg_cid" >/dev/null 2>&1 || log "could not remove container $pg_cid"
	fi
	if [ "$status" -eq 130 ] || [ "$status" -eq 143 ]; then
		log "interrupted: no document written"
	elif [ "$status" -ne 0 ] && [ -s "$work/gatehouse.log" ]; then
		log "the last lines of Gatehouse's log:"
		tail -n 15 "$work/gatehouse.log" >&2 || true
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# json_str S: S as a JSON string.
json_str() {
	local s
	s="$(printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037')"
	s="${s//\\/\\\\}"
	s="${s//\"/\\\"}"
	s="${s//$'\t'/\\t}"
	s="${s//$'\r'/}"
	s="${s//$'\n'/\\n}"
	printf '"%s"' "$s"
}
emit() { printf '%s\n' "$1" >>"$results"; }
meta() { emit "{\"kind\":\"meta\",\"section\":$(json_str "$1"),\"key\":$(json_str "$2"),\"value\":$(json_str "$3")}"; }
record_command() { emit "{\"kind\":\"command\",\"phase\":$(json_str "$1"),\"cmd\":$(json_str "$2")}"; }
fail() {
	failed=1
	log "FAILED: $1: $2"
	emit "{\"kind\":\"failure\",\"phase\":$(json_str "$1"),\"error\":$(json_str "$2")}"
}

# alive: the Gatehouse this script started still runs (a zombie does not).
alive() {
	[ -n "$gh_pid" ] && [ -r "/proc/$gh_pid/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$gh_pid/status"
}

machine_meta() {
	local cpu mem
	cpu="$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
	mem="$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)"
	meta machine "CPUs (nproc)" "$(nproc)"
	meta machine "memory" "${mem:-unknown}"
	meta machine "CPU" "${cpu:-$(uname -m)}"
	meta machine "kernel" "$(uname -sr)"
	meta machine "Go" "$($GO version)"
	meta machine "Gatehouse" "$("$BIN" version 2>&1)"
	meta machine "load average at the start (1, 5, 15 min)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# argon2 measures the login ceiling: parallel argon2id verifications in
# process, as many goroutines as GOMAXPROCS.
argon2() {
	local out line ns procs
	local cmd=("$GO" test -run '^$' -bench '^BenchmarkVerifyParallel$' -benchtime "$BENCH_HASH_BENCHTIME" -count 1 ./adapters/password/)
	record_command argon2id "$GO test -run '^\$' -bench '^BenchmarkVerifyParallel\$' -benchtime $BENCH_HASH_BENCHTIME -count 1 ./adapters/password/"
	log "argon2id: BenchmarkVerifyParallel for $BENCH_HASH_BENCHTIME"
	if ! out="$("${cmd[@]}" 2>&1)"; then
		fail argon2id "$(tail -n 5 <<<"$out")"
		return 0
	fi
	line="$(grep -E '^BenchmarkVerifyParallel' <<<"$out" | tail -n 1 || true)"
	ns="$(awk '{ for (i = 2; i <= NF; i++) if ($i == "ns/op") print $(i - 1) }' <<<"$line")"
	procs="$(sed -n 's/^BenchmarkVerifyParallel-\([0-9]*\).*/\1/p' <<<"$line")"
	if [ -z "$ns" ]; then
		fail argon2id "no ns/op in the benchmark's output: $(tail -n 3 <<<"$out")"
		return 0
	fi
	log "argon2id: $line"
	emit "{\"kind\":\"argon2\",\"ns_per_op\":$ns,\"procs\":${procs:-1}}"
}

# free_port prints a TCP port that nothing listens on at 127.0.0.1.
free_port() {
	local port
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
	done
	echo "$port"
}

# start_postgres runs the test image and waits for it; it sets pg_cid,
# DATABASE_URL, PGPASS and PGBENCH. The container runs on the host's
# network, listening on 127.0.0.1 only: a published port would put
# Docker's userland proxy between Gatehouse and Postgres, a process copying
# every byte, which pgbench (inside the container) never pays. Measured
# here, the proxy cost refresh a fifth to a third of its rate. PGPORT sets
# the server's port and every client's in the container.
start_postgres() {
	local image port version
	if ! image="$(test/pgtest/image/ensure.sh)" || [ -z "$image" ]; then
		fail postgres "no Postgres image: test/pgtest/image/ensure.sh found none (is Docker running?)"
		return 1
	fi
	PGPASS="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
	port="$(free_port)"
	record_command postgres "docker run -d --label io.gatehouse.bench=1 --network host -e PGPORT=$port -e POSTGRES_PASSWORD -e POSTGRES_DB=gatehouse -e POSTGRES_INITDB_ARGS=--auth-host=scram-sha-256 $image -c listen_addresses=127.0.0.1"
	log "postgres: starting $image"
	# --auth-host: the official image trusts TCP from its own localhost,
	# which on the host's network is every local user's.
	if ! pg_cid="$(docker run -d --label io.gatehouse.bench=1 --network host -e PGPORT="$port" \
		-e POSTGRES_PASSWORD="$PGPASS" -e POSTGRES_DB=gatehouse -e POSTGRES_INITDB_ARGS=--auth-host=scram-sha-256 \
		"$image" -c listen_addresses=127.0.0.1 2>&1)"; then
		fail postgres "docker run: $pg_cid"
		pg_cid=""
		return 1
	fi
	for _ in $(seq 1 240); do
		docker exec "$pg_cid" pg_isready -q -h 127.0.0.1 -U postgres >/dev/null 2>&1 && break
		sleep 0.25
	done
	if ! docker exec "$pg_cid" pg_isready -q -h 127.0.0.1 -U postgres >/dev/null 2>&1; then
		fail postgres "not ready within 60 s: $(docker logs --tail 5 "$pg_cid" 2>&1 | tr '\n' ' ')"
		return 1
	fi
	DATABASE_URL="postgres://postgres:$PGPASS@127.0.0.1:$port/gatehouse?sslmode=disable"
	PGBENCH="$(docker exec "$pg_cid" sh -c 'command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench' 2>/dev/null | head -n 1 || true)"
	version="$(docker exec "$pg_cid" psql -U postgres -tAc 'SHOW server_version' 2>&1 || true)"
	meta machine "Postgres" "$version (image $image, default settings, container on the host's network, 127.0.0.1:$port)"
	log "postgres: $version on 127.0.0.1:$port"
}

# start_gatehouse LABEL starts bin/gatehouse serve and records the time
# from the process's start to the first 200 of /readyz; it sets gh_pid.
start_gatehouse() {
	local label=$1 t0 out
	t0="${EPOCHREALTIME//[.,]/}000"
	"$BIN" serve >>"$work/gatehouse.log" 2>&1 &
	gh_pid=$!
	if ! out="$("$TOOL" -wait-ready -url "$URL" -since "$t0" -ready-timeout 60s 2>&1)"; then
		fail "start-up ($label)" "$out"
		return 1
	fi
	log "gatehouse ($label): $(head -n 1 <<<"$out")"
	emit "{\"kind\":\"startup\",\"label\":$(json_str "$label"),\"ready\":$(tail -n 1 <<<"$out")}"
}

# run_gatehouse migrates the database, starts Gatehouse twice (timing both
# start-ups), leaves the second running and records its idle memory.
run_gatehouse() {
	local port out rss hwm
	port="$(free_port)"
	URL="http://127.0.0.1:$port"
	export GATEHOUSE_DATABASE_URL="$DATABASE_URL"
	GATEHOUSE_SECRET="$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
	export GATEHOUSE_SECRET
	export GATEHOUSE_HTTP_ADDR="127.0.0.1:$port" GATEHOUSE_PUBLIC_URL="$URL"
	export GATEHOUSE_RATE_LIMITS=off GATEHOUSE_LOG_LEVEL="$BENCH_LOG_LEVEL" GATEHOUSE_SHUTDOWN_DELAY=0s
	record_command gatehouse "GATEHOUSE_DATABASE_URL=postgres://…@127.0.0.1:…/gatehouse GATEHOUSE_SECRET=<generated> GATEHOUSE_HTTP_ADDR=127.0.0.1:$port GATEHOUSE_RATE_LIMITS=off GATEHOUSE_LOG_LEVEL=$BENCH_LOG_LEVEL GATEHOUSE_SHUTDOWN_DELAY=0s $BIN migrate up, then $BIN serve"

	log "gatehouse: migrate up"
	if ! out="$("$BIN" migrate up 2>&1)"; then
		fail migrate "$(tail -n 3 <<<"$out")"
		return 1
	fi
	start_gatehouse "first start, migrated database" || return 1
	stop_gatehouse
	start_gatehouse "restart" || return 1
	sleep 2
	if ! read -r rss hwm < <(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r, h }' "/proc/$gh_pid/status"); then
		fail "idle RSS" "cannot read /proc/$gh_pid/status"
		return 0
	fi
	log "gatehouse: idle VmRSS ${rss} kB, VmHWM ${hwm} kB"
	emit "{\"kind\":\"idle\",\"rss_kib\":$rss,\"hwm_kib\":$hwm}"
}

# run_pgbench MODE C runs pgbench -MODE with C clients for BENCH_DURATION on
# the pgbench database of the same cluster.
run_pgbench() {
	local mode=$1 c=$2 phase="pgbench -$1 c=$2" out tps lat failed_tx
	local j=$((c < $(nproc) ? c : $(nproc)))
	local args=(-h 127.0.0.1 -U postgres -M prepared "-$mode" -c "$c" -j "$j" -T "$DURATION_S" pgbench)
	record_command "$phase" "docker exec -e PGPASSWORD \$PG_CONTAINER pgbench ${args[*]}"
	if [ -z "$PGBENCH" ]; then
		fail "$phase" "no pgbench in the Postgres image"
		return 0
	fi
	log "$phase: ${DURATION_S}s"
	if ! out="$(docker exec -e PGPASSWORD="$PGPASS" "$pg_cid" "$PGBENCH" "${args[@]}" 2>&1)"; then
		fail "$phase" "$(tail -n 3 <<<"$out")"
		return 0
	fi
	tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | tail -n 1)"
	lat="$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' <<<"$out")"
	failed_tx="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")"
	if [ -z "$tps" ]; then
		fail "$phase" "no tps in pgbench's output: $(tail -n 3 <<<"$out")"
		return 0
	fi
	log "$phase: $tps TPS, average latency ${lat:-?} ms"
	emit "{\"kind\":\"pgbench\",\"mode\":\"$mode\",\"clients\":$c,\"tps\":$tps,\"latency_ms\":${lat:-0},\"failed\":${failed_tx:-0}}"
}

pgbench_init() {
	local out
	record_command "pgbench init" "docker exec \$PG_CONTAINER createdb -U postgres pgbench && docker exec \$PG_CONTAINER pgbench -i -q -s $BENCH_PGBENCH_SCALE -U postgres pgbench"
	log "pgbench: initialising scale $BENCH_PGBENCH_SCALE"
	if [ -z "$PGBENCH" ]; then
		fail "pgbench init" "no pgbench in the Postgres image"
		return 1
	fi
	if ! out="$(docker exec "$pg_cid" createdb -U postgres pgbench 2>&1 &&
		docker exec "$pg_cid" "$PGBENCH" -i -q -s "$BENCH_PGBENCH_SCALE" -U postgres pgbench 2>&1)"; then
		fail "pgbench init" "$(tail -n 3 <<<"$out")"
		return 1
	fi
}

# scenario KIND PHASE C DURATION WARMUP SCENARIO [FLAG...] runs the load
# tool against Gatehouse and records its JSON line as a KIND record.
scenario() {
	local kind=$1 phase=$2 c=$3 duration=$4 warmup=$5 sc=$6 out
	shift 6
	local args=(-scenario "$sc" -c "$c" -duration "$duration" -warmup "$warmup" -users "$BENCH_USERS" "$@")
	record_command "$phase" "$TOOL -url $URL ${args[*]} -pid \$GATEHOUSE_PID"
	if ! alive; then
		fail "$phase" "Gatehouse is no longer running"
		return 0
	fi
	log "$phase: $duration after ${warmup} of warm-up"
	out="$work/$kind-$sc-$c"
	if ! in_child "$TOOL" -url "$URL" "${args[@]}" -pid "$gh_pid" >"$out.out" 2>"$out.err"; then
		fail "$phase" "$(tail -n 3 "$out.err")"
		return 0
	fi
	sed '$d' "$out.out" >&2
	local line
	line="$(tail -n 1 "$out.out")"
	if [[ $line != \{* ]]; then
		fail "$phase" "the tool printed no JSON line"
		return 0
	fi
	emit "{\"kind\":\"$kind\",\"phase\":$(json_str "$phase"),\"result\":$line}"
}

bench() {
	argon2
	start_postgres || return 0
	pgbench_init || true
	run_gatehouse || return 0
	for c in $BENCH_CONCURRENCY; do
		run_pgbench N "$c"
		run_pgbench S "$c"
		for sc in register login refresh me mixed; do
			scenario scenario "$sc c=$c" "$c" "${DURATION_S}s" "$BENCH_WARMUP" "$sc"
		done
	done
	scenario burst burst "$BENCH_BURST_CONCURRENCY" "$BENCH_BURST_DURATION" 0s login
}

soak() {
	start_postgres || return 0
	run_gatehouse || return 0
	scenario soak soak "$SOAK_CONCURRENCY" "$SOAK_DURATION" "$BENCH_WARMUP" mixed \
		-sample "$SOAK_SAMPLE" -max-requests 20000000
}

log "building the load tool and the report"
"$GO" build -o "$TOOL" ./cmd/gatehouse-bench
"$GO" build -o "$work/report" ./test/load/report

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta run "date" "$started"
[ -z "$BENCH_NOTE" ] || meta run "note" "$BENCH_NOTE"
if [ "$MODE" = bench ]; then
	for var in BENCH_DURATION BENCH_WARMUP BENCH_CONCURRENCY BENCH_USERS BENCH_BURST_CONCURRENCY \
		BENCH_BURST_DURATION BENCH_PGBENCH_SCALE BENCH_HASH_BENCHTIME BENCH_LOG_LEVEL; do
		meta settings "$var" "${!var}"
	done
	out="$BENCH_OUT"
else
	for var in SOAK_DURATION SOAK_CONCURRENCY SOAK_SAMPLE BENCH_WARMUP BENCH_USERS BENCH_LOG_LEVEL; do
		meta settings "$var" "${!var}"
	done
	out="$SOAK_OUT"
fi
machine_meta

start_s=$SECONDS
"$MODE"
meta machine "load average at the end (1, 5, 15 min)" "$(cut -d' ' -f1-3 /proc/loadavg)"
meta run "wall time" "$(((SECONDS - start_s) / 60)) min $(((SECONDS - start_s) % 60)) s"

mkdir -p "$(dirname "$out")"
if [ "$MODE" = bench ] && [ -f "$BENCH_NOTES" ]; then
	"$work/report" -mode "$MODE" -in "$results" -out "$out" -notes "$BENCH_NOTES"
else
	"$work/report" -mode "$MODE" -in "$results" -out "$out"
fi
log "wrote $out"
if [ "$failed" -ne 0 ]; then
	log "some phases failed; $out says which"
	exit 1
fi

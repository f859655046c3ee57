#!/usr/bin/env bash
# readme-test.sh runs the examples of README.md against a real server, so the
# README cannot drift from what Silt does. `make test-readme` runs it after
# building bin/silt and installing the pinned buf; it builds nothing itself.
#
# The marker: every fenced block tagged ```sh in README.md is run, in order.
# Each line is one command (a line ending in "\" continues on the next; blank
# lines and "# comments" are skipped). Blocks tagged anything else (```bash,
# ```ts, ...) are for reading only. Commands run with bash -o pipefail in an
# empty scratch directory, with bin/ and sdk/ts/node_modules/.bin first on
# PATH, so the README says plain `silt` and `buf`. The README's address
# 127.0.0.1:4437 is replaced by the test server's, and SILT_SERVER points the
# CLI at it.
#
# A command fails the test when it exits non-zero, except that a command that
# starts with `timeout ` may end with 124 (that is how the README bounds
# Subscribe and tail). Every command is killed after 60 s. Afterwards a few
# outputs are checked, and the README must still show each kind of example.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readme="$root/README.md"
export PATH="$root/bin:$root/sdk/ts/node_modules/.bin:$PATH"

for tool in silt buf node; do
	if ! command -v "$tool" >/dev/null; then
		echo "readme-test: $tool not found (run make build tools)" >&2
		exit 1
	fi
done
[[ -x "$root/bin/silt" ]] || { echo "readme-test: $root/bin/silt missing (run make build)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/silt-readme.XXXXXX")"
server_pid=""
cleanup() {
	local rc=$?
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ $rc -ne 0 && -s "$work/server.log" ]]; then
		echo "--- server log (last 40 lines) ---" >&2
		tail -n 40 "$work/server.log" >&2
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- extract the commands ------------------------------------------------
commands=()
in_block=0
pending=""
while IFS= read -r line || [[ -n "$line" ]]; do
	if [[ $in_block -eq 0 ]]; then
		[[ "$line" == '```sh' ]] && in_block=1
		continue
	fi
	if [[ "$line" == '```' ]]; then
		in_block=0
		[[ -z "$pending" ]] || { echo "readme-test: a \\ continuation runs past the end of a block" >&2; exit 1; }
		continue
	fi
	if [[ "$line" == *\\ ]]; then
		pending+="${line%\\} "
		continue
	fi
	line="$pending$line"
	pending=""
	[[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
	commands+=("$line")
done <"$readme"
[[ $in_block -eq 0 ]] || { echo "readme-test: unterminated \`\`\`sh block" >&2; exit 1; }
if [[ ${#commands[@]} -lt 10 ]]; then
	echo "readme-test: found only ${#commands[@]} commands in \`\`\`sh blocks of README.md" >&2
	exit 1
fi

# --- start a server --------------------------------------------------------
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
addr="127.0.0.1:$port"
mkdir -p "$work/data" "$work/cwd"
silt serve --addr "$addr" --data "$work/data" >"$work/server.log" 2>&1 &
server_pid=$!
healthy=0
for _ in $(seq 150); do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "readme-test: silt serve exited early" >&2
		exit 1
	fi
	if node -e 'fetch(process.argv[1]).then(async r => process.exit(r.status === 200 && (await r.text()).trim() === "ok" ? 0 : 1), () => process.exit(1))' "http://$addr/healthz"; then
		healthy=1
		break
	fi
	sleep 0.1
done
[[ $healthy -eq 1 ]] || { echo "readme-test: server not healthy on $addr after 15 s" >&2; exit 1; }
echo "readme-test: server on $addr, running ${#commands[@]} commands from README.md"

# --- run them ----------------------------------------------------------------
export SILT_SERVER="http://$addr"
outputs=()
for i in "${!commands[@]}"; do
	cmd="${commands[$i]//127.0.0.1:4437/$addr}"
	if [[ "$cmd" == *4437* ]]; then
		echo "readme-test: command $((i + 1)) names port 4437 in a form this script does not rewrite: $cmd" >&2
		exit 1
	fi
	out="$work/out.$i"
	outputs+=("$out")
	echo
	echo "\$ ${commands[$i]}"
	start=$SECONDS
	set +e
	(cd "$work/cwd" && timeout -s KILL 60 bash -o pipefail -c "$cmd") >"$out" 2>&1
	rc=$?
	set -e
	head -n 60 "$out"
	if [[ $(wc -l <"$out") -gt 60 ]]; then echo "... ($(wc -l <"$out") lines)"; fi
	if [[ $rc -eq 124 && "${commands[$i]}" == timeout\ * ]]; then
		echo "(stopped by timeout after $((SECONDS - start)) s, as the README says)"
	elif [[ $rc -ne 0 ]]; then
		echo "readme-test: FAIL: command $((i + 1)) exited $rc: ${commands[$i]}" >&2
		exit 1
	fi
done

# --- check outputs -----------------------------------------------------------
failures=0
# check DESCRIPTION COMMAND_REGEX OUTPUT_REGEX...: some command matching
# COMMAND_REGEX (extended regex) exists, and the output of the first one
# matches every OUTPUT_REGEX.
check() {
	local what="$1" cre="$2"
	shift 2
	local i
	for i in "${!commands[@]}"; do
		if grep -Eq -- "$cre" <<<"${commands[$i]}"; then
			local re
			for re in "$@"; do
				if ! grep -Eq -- "$re" "${outputs[$i]}"; then
					echo "readme-test: FAIL: $what: output of \`${commands[$i]}\` does not match /$re/" >&2
					failures=$((failures + 1))
				fi
			done
			return 0
		fi
	done
	echo "readme-test: FAIL: $what: README.md has no \`\`\`sh command matching /$cre/" >&2
	failures=$((failures + 1))
}

check "buf curl CreateStream" '^buf curl .*StreamService/CreateStream' '"name": "orders"'
check "buf curl Append" '^buf curl .*"events".*EventService/Append' '"firstSeq": "1"' '"lastSeq": "1"'
check "buf curl Read" '^buf curl .*"fromSeq":"0".*EventService/Read' '"seq": "1"' '"type": "order.created"' '"n": 1'
check "idempotent producer, sent twice" '"producer".*EventService/Append' '"duplicate": true'
check "buf curl GetStream" '^buf curl -d .*StreamService/GetStream' '"lastSeq": "2"' '"eventCount": "2"'
check "buf curl ListStreams" '^buf curl .*StreamService/ListStreams' '"name": "orders"'
check "buf curl over gRPC" '--protocol grpc .*EventService/Read' '"seq": "2"' '"id": "order-1001"'
check "buf curl over gRPC-Web" '--protocol grpcweb ' '"name": "orders"'
check "gRPC health" 'grpc.health.v1.Health/Check' '"status": "SERVING"'
check "buf curl Subscribe" '^timeout [0-9]+ buf curl .*EventService/Subscribe' '"batch"' '"caughtUp"' '"lastSeq": "2"' '"heartbeat"'
check "silt streams create" '^silt streams create ' 'acme/clicks'
check "silt streams get" '^silt streams get ' 'acme/clicks'
check "silt append --type" '^silt append .*--type ' 'appended acme/clicks seq 2\.\.3'
check "silt append NDJSON from stdin" '\| *silt append -p acme clicks$' 'appended 2 events to acme/clicks \(seq 4\.\.5\) in 1 request'
check "silt read" '^silt read -p acme clicks$' '^1 .*page\.view' '^4 .*signup.*\[ms=840\]' 'next seq 6'
check "silt read --from" '^silt read .*--from 3' '^3 .*page\.view.*/docs' '^4 .*signup'
check "silt read --json" '^silt read .*--json$' '^\{"stream":"clicks","seq":1,"id":"[0-9A-Z]+","type":"page\.view",'
check "silt read --json | silt append" '^silt read .*--json \| silt append ' 'appended 5 events to acme/clicks-copy \(seq 1\.\.5\)'
check "silt tail" '^timeout [0-9]+ silt tail ' '^5 .*page\.view.*/welcome'
check "silt rotate" '^silt rotate$' '^SEGMENT +PROJECT +EVENTS' 'project=acme/date=[0-9-]+/[0-9A-Z]+\.parquet'
check "silt compact" '^silt compact$' 'nothing to compact|project=acme'
check "silt segments" '^silt segments$' 'project=acme/date='
check "silt read after rotation" '^silt read .*--from 1 --limit 2' '^1 .*page\.view' '^2 .*page\.view'
check "silt streams update" '^silt streams update ' '^retention +30d, 1\.0 GiB$'
check "silt streams list" '^silt streams list -p acme$' '^STREAM +EVENTS' '^clicks ' '^clicks-copy +5 ' '^orders '
check "silt projects list" '^silt projects list$' '^PROJECT +STREAMS +AUTO-CREATE' '^acme +[0-9]+ +server +none '
check "silt streams list --json, after delete" '^silt streams list .*--json' '"name":"orders"'

# Every line of `silt read --json` and `silt streams list --json` is one JSON object.
for i in "${!commands[@]}"; do
	if [[ "${commands[$i]}" =~ ^silt\ [^\|]*--json[^\|]*$ ]]; then
		if ! node -e 'const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean); if (lines.length === 0) process.exit(1); for (const l of lines) JSON.parse(l);' "${outputs[$i]}"; then
			echo "readme-test: FAIL: \`${commands[$i]}\` did not print JSON lines" >&2
			failures=$((failures + 1))
		fi
	fi
done
# The stream deleted by `silt streams delete` is gone from the listing after it.
deleted=-1
for i in "${!commands[@]}"; do
	if [[ "${commands[$i]}" =~ ^silt\ streams\ delete\ .*\ clicks$ ]]; then
		deleted=$i
	elif [[ $deleted -ge 0 && "${commands[$i]}" =~ ^silt\ streams\ list\ .*--json ]]; then
		if grep -q '"name":"clicks"' "${outputs[$i]}"; then
			echo "readme-test: FAIL: clicks still listed after silt streams delete" >&2
			failures=$((failures + 1))
		fi
		deleted=-2
	fi
done
if [[ $deleted -ne -2 ]]; then
	echo "readme-test: FAIL: README.md should delete clicks and then list the streams with --json" >&2
	failures=$((failures + 1))
fi

if [[ $failures -gt 0 ]]; then
	echo "readme-test: $failures check(s) failed" >&2
	exit 1
fi
echo
echo "readme-test: OK: ${#commands[@]} README commands ran and their outputs check out"

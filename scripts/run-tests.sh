#!/usr/bin/env bash
# Runs the whole test suite and, when it fails, ends with a summary of the
# failing tests and their first messages: CI keeps only the head and the tail
# of a long log, and a failure in the middle would otherwise be cut away.
set -uo pipefail
log=$(mktemp /tmp/shoal-test.XXXXXX.log)
trap 'rm -f "$log"' EXIT
go test -count=1 -timeout "${TEST_TIMEOUT:-20m}" "$@" ./... 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
	echo
	echo "=== summary of failures (exit $status) ==="
	grep -E -A4 -- '^\s*--- FAIL|^panic:|^FAIL|build failed|\[setup failed\]' "$log" | grep -vE 'level=(INFO|DEBUG|info|debug)' | head -80
fi
exit "$status"

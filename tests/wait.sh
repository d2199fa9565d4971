# Waiting helpers for the shell tests (sourced by tests/lib.sh and by the
# tests that keep their own harness).
# wait_grep FILE PATTERN [SECONDS]: true once PATTERN is in FILE.
wait_grep() {
	i=0
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $((${3:-10} * 20)) ] && return 1
		sleep 0.05
	done
}

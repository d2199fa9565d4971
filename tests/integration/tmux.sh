# The console driven through tmux, for the console tests (sourced after
# tests/lib.sh): the caller sets SOCK, a tmux server of its own, and may
# redefine screen.  Every wait polls the screen for explicit content with
# a deadline (no bare sleeps).

tm() { tmux -L "$SOCK" -f /dev/null "$@"; }

# The screen as text.
screen() { tm capture-pane -p; }

# wait_for TEXT [TIMEOUT]: true once TEXT is on the screen.
# Deadlines are generous: a sanitizer build on a busy machine is slow, and
# a wait that succeeds returns as soon as the text is there.
wait_for() {
	local deadline=$(($(date +%s) + ${2:-10}))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		screen | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	echo "# waited for '$1'; the screen:" >&2
	screen | sed 's/^/#   /' >&2
	return 1
}

# wait_re REGEX [TIMEOUT]: like wait_for, for an extended regular expression.
wait_re() {
	local deadline=$(($(date +%s) + ${2:-10}))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		screen | grep -qE -- "$1" && return 0
		sleep 0.05
	done
	echo "# waited for /$1/; the screen:" >&2
	screen | sed 's/^/#   /' >&2
	return 1
}

# wait_gone TEXT [TIMEOUT]
wait_gone() {
	local deadline=$(($(date +%s) + ${2:-10}))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		screen | grep -qF -- "$1" || return 0
		sleep 0.05
	done
	return 1
}

keys() { tm send-keys "$@"; }

# search TEXT: / TEXT Enter, and wait until the prompt has gone (while it
# is open the text is on the screen anyway).
search() {
	keys / && wait_for "Search:" 15 && keys "$1" Enter && wait_gone "Search:" 15
}

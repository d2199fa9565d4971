#!/bin/sh
# A client-go exec credential plugin for the tests: prints an
# ExecCredential of the apiVersion KUBERNETES_EXEC_INFO asks for.
# Its state is in $PLUGIN_DIR (from the kubeconfig's exec env list):
#   runs       one line appended per run (the test counts them)
#   info.N     KUBERNETES_EXEC_INFO of run N;  args.N  its arguments
#   stdin.N    "tty" or "not a tty", and what reading stdin gave
#   tokens     the token of run N is line N (the last line once past it)
#   mode       ok (default) | expired (expirationTimestamp in the past) |
#              fail (a line on stderr, exit 3) | sleep (never answers) |
#              garbage (not JSON) | cert (a client certificate, no token)
set -u
: "${PLUGIN_DIR:?PLUGIN_DIR is not set}"
echo run >>"$PLUGIN_DIR/runs"
n=$(wc -l <"$PLUGIN_DIR/runs")
printf '%s\n' "${KUBERNETES_EXEC_INFO:-}" >"$PLUGIN_DIR/info.$n"
printf '%s\n' "$@" >"$PLUGIN_DIR/args.$n"
if [ -t 0 ]; then tty=tty; else tty="not a tty"; fi
input=$(cat)
printf '%s, stdin gave %d bytes\n' "$tty" "${#input}" >"$PLUGIN_DIR/stdin.$n"
mode=$(cat "$PLUGIN_DIR/mode" 2>/dev/null || echo ok)
api=$(printf '%s' "${KUBERNETES_EXEC_INFO:-}" | sed -n 's/.*"apiVersion":"\([^"]*\)".*/\1/p')
token=$(sed -n "${n}p" "$PLUGIN_DIR/tokens" 2>/dev/null)
[ -n "$token" ] || token=$(tail -n 1 "$PLUGIN_DIR/tokens" 2>/dev/null)
case $mode in
fail)
	echo "exec-plugin: login required (run $n)" >&2
	exit 3 ;;
sleep)
	sleep 30
	exit 0 ;;
garbage)
	echo "this is not JSON"
	exit 0 ;;
expired)
	exp=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ) ;;
*)
	exp=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ) ;;
esac
echo "exec-plugin: run $n" >&2
if [ "$mode" = cert ]; then
	cert=$(awk '{printf "%s\\n", $0}' "$PLUGIN_DIR/client.crt")
	key=$(awk '{printf "%s\\n", $0}' "$PLUGIN_DIR/client.key")
	printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"clientCertificateData":"%s","clientKeyData":"%s","expirationTimestamp":"%s"}}\n' \
		"$api" "$cert" "$key" "$exp"
else
	printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' \
		"$api" "$token" "$exp"
fi

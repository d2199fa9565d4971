# The TLS API server peer (tests/peers/apiserver.py) for the shell tests:
# its certificates, starting and stopping it, a kubeconfig for it.  Sourced
# after tests/lib.sh.  Its files are in $TEST_TMP: ca.*, server.* (and
# client.*), objects.json (written by the test), port, log (one JSON line
# per request).  The test sets TOKEN, the bearer token the server accepts.
APISERVER=$top_srcdir/tests/peers/apiserver.py
CERTS=$TEST_TMP
. "$top_srcdir/tests/certs.sh"
SPID=""
PORT=""
trap 'stop_apiserver; rm -rf "$TEST_TMP"' EXIT
trap 'exit 1' INT TERM

# isolate_from_cluster [VAR...]: nothing from the caller's environment (nor
# these variables) may point amdvirt at a real cluster; HOME is a fresh one.
isolate_from_cluster() {
	unset KUBECONFIG KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT NODE_NAME AMDVIRT_API_TIMEOUT "$@"
	HOME=$TEST_TMP/home
	export HOME
	mkdir -p "$HOME"
}

# make_certs [client]: a CA and a server certificate for 127.0.0.1, with
# `client` also a client certificate (CN amdvirt-admin); bails out when
# openssl cannot make them.
make_certs() {
	if ! { mkcert ca "amdvirt test CA" && mkcert server 127.0.0.1 ca &&
		{ [ "${1:-}" != client ] || mkcert client amdvirt-admin ca; }; }; then
		bail "openssl could not make the test certificates"
	fi
}

# launch_apiserver [apiserver.py ARGS...]: stops the running server, starts
# a new one with the certificates, objects.json, a fresh log and TOKEN, and
# waits (20 s at most) until it listens: SPID its process, PORT its port.
# False when it exits or does not listen in time.
launch_apiserver() {
	stop_apiserver
	rm -f "$TEST_TMP/port" "$TEST_TMP/log"
	"$PY" "$APISERVER" --cert "$TEST_TMP/server.crt" --key "$TEST_TMP/server.key" \
		--objects "$TEST_TMP/objects.json" --log "$TEST_TMP/log" \
		--port-file "$TEST_TMP/port" --token "$TOKEN" "$@" &
	SPID=$!
	local i=0
	while [ ! -s "$TEST_TMP/port" ]; do
		i=$((i + 1))
		if [ $i -gt 400 ] || ! kill -0 "$SPID" 2>/dev/null; then
			return 1
		fi
		sleep 0.05
	done
	PORT=$(cat "$TEST_TMP/port")
}

# start_apiserver [apiserver.py ARGS...]: launch_apiserver, bailing out
# when the server does not start.
start_apiserver() {
	launch_apiserver "$@" || bail "the fake API server did not start"
}

# stop_apiserver [SIGNAL]: ends the server (SIGTERM unless named) and reaps
# it; nothing when none runs.  PORT is kept, for a restart on it.
stop_apiserver() {
	if [ -n "$SPID" ]; then
		kill -s "${1:-TERM}" "$SPID" 2>/dev/null || true
		wait "$SPID" 2>/dev/null || true
		SPID=""
	fi
	return 0
}

# write_kubeconfig FILE CA CONTEXT USER [EXEC-YAML]: a kubeconfig for the
# running server whose only context CONTEXT has the user USER, trusting the
# CA file CA (relative to FILE's directory when not absolute).  The user
# sends TOKEN, or with EXEC-YAML runs an exec credential plugin: the lines
# under `exec:`, indented by six spaces.  KC_CLUSTER_EXTRA, when set, is
# more of the cluster's lines (indented by four spaces).
write_kubeconfig() {
	if [ $# -gt 4 ]; then
		set -- "$1" "$2" "$3" "$4" "    exec:
$5"
	else
		set -- "$1" "$2" "$3" "$4" "    token: $TOKEN"
	fi
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
current-context: $3
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority: $2${KC_CLUSTER_EXTRA:+
$KC_CLUSTER_EXTRA}
contexts:
- name: $3
  context: {cluster: test, user: $4}
users:
- name: $4
  user:
$5
EOF
}

# api_q EXPR SETUP [NAME...]: true when the Python expression EXPR holds.
# SETUP (Python) runs first, with t ($TEST_TMP), load(FILE, DEFAULT) (a JSON
# file in t, DEFAULT when there is none), log (the server's requests, one
# dict each), patches and gets (those with that method).  On a failure
# EXPR, the log and each NAME SETUP defined are shown on stderr.
api_q() {
	"$PY" - "$TEST_TMP" "$@" <<'EOF'
import json, os, sys
t, expr, setup, shown = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def load(name, default):
    path = os.path.join(t, name)
    return json.load(open(path)) if os.path.exists(path) else default
log = [json.loads(l) for l in open(os.path.join(t, "log"))] if os.path.exists(os.path.join(t, "log")) else []
patches = [e for e in log if e["method"] == "PATCH"]
gets = [e for e in log if e["method"] == "GET"]
exec(setup)
ok = eval(expr)
if not ok:
    print("  failed: " + expr, file=sys.stderr)
    print("  log: " + json.dumps(log), file=sys.stderr)
    for name in shown:
        print("  %s: %s" % (name, json.dumps(globals()[name])), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

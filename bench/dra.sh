#!/bin/sh
# DRA driver figures (amdvirt daemon --dra) on the device plugin's benchmark
# host (bench/plugin-host.json, 64 VFs), with the test suite's kubelet DRA
# peer and fake API server: start to registration and to the ResourceSlice
# published, Prepare and Unprepare latency of a one-GPU claim.  Compare with
# bench/plugin.sh's start to Register and Allocate on the same host.
#   bench/dra.sh [BUILDDIR]
# Not a test: the numbers depend on the machine.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src}" && pwd)
out=$build/bench-out/dra
rm -rf "$out"
mkdir -p "$out"
"$build/tests/mkhost" "$src/bench/plugin-host.json" "$out/host" >/dev/null
CERTS=$out
. "$src/tests/certs.sh"
mkcert ca "amdvirt bench CA" && mkcert server 127.0.0.1 ca
echo '{"nodes": [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node1", "uid": "node1-uid"}}]}' \
	>"$out/objects.json"
/usr/bin/python3 "$src/tests/peers/apiserver.py" --cert "$out/server.crt" --key "$out/server.key" \
	--objects "$out/objects.json" --log /dev/null --port-file "$out/port" --token bench-token &
spid=$!
trap 'kill $spid 2>/dev/null || true' EXIT
i=0
while [ ! -s "$out/port" ]; do
	i=$((i + 1)); [ $i -lt 400 ] || { echo "the API server did not start" >&2; exit 1; }
	sleep 0.05
done
port=$(cat "$out/port")
cat >"$out/kubeconfig" <<KC
apiVersion: v1
kind: Config
current-context: b
clusters: [{name: b, cluster: {server: "https://127.0.0.1:$port", certificate-authority: "$out/ca.crt"}}]
contexts: [{name: b, context: {cluster: b, user: u}}]
users: [{name: u, user: {token: bench-token}}]
KC
/usr/bin/python3 "$src/bench/dra.py" "$build/amdvirt" "$out/host" "$out" "https://127.0.0.1:$port"

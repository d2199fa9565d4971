#!/bin/sh
# The shipped manifests as an API server would receive them: `kubectl
# kustomize k8s/` in both variants, each object checked by
# tests/integration/kustomize.py.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v kubectl >/dev/null 2>&1; then
	echo "SKIP: kubectl not found; the rendered manifests are not checked"
	exit 77
fi
exec /usr/bin/python3 "$top_srcdir/tests/integration/kustomize.py" "$top_srcdir"
